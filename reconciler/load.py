"""Load and validate policies/: YAML files → the desired state, or every problem at once.

Parsing uses ruamel's libyaml-backed composer, `CSafeLoader.get_single_node` (0.09 ms for a
typical partner file here, against 0.25 ms for `YAML(typ="safe").compose`, which resolves tags
in Python, and 2.3 ms for the round-trip loader). It builds nodes only, never objects, so no
YAML tag can run code; and it keeps the line and column of every key and value, so a pydantic error deep in a
partner file is reported as `file:line:col: message`. Nothing here talks to Graph: bad input
never reaches the tenant.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAMLError
from ruamel.yaml.cyaml import CSafeLoader
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.desired import Desired, DesiredPartner, DesiredTemplate
from reconciler.models import READ_ONLY, GraphModel, MtoPartnerTemplate, Partner

PARTNERS_DIR = "partners"
MTO_PARTNER_TEMPLATE_FILE = "mto-partner-template.yaml"
# The one reserved key for tool-only data; never sent to Graph.
TOOL_KEY = "xtap"
TOOL_KEYS = frozenset({"name", "notes"})
YAML_SUFFIXES = (".yaml", ".yml")
# Files DESIGN §2 reserves for resources a later version manages: named, so the error is clear.
NOT_YET_SUPPORTED = ("mto-identity-sync-template.yaml", "default.yaml", "xtap.yaml")

Path_ = tuple[str | int, ...]
YAML_TAG = "tag:yaml.org,2002:"
PLAIN_TAGS = frozenset({"map", "seq", "str", "int", "float", "bool", "null"})


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"

    @classmethod
    def whole(cls, path: Path | str, message: str) -> Problem:
        """A problem with a file or folder as such, pointed at its start."""
        return cls(str(path), 1, 1, message)


class PolicyError(Exception):
    """policies/ is invalid; `problems` holds every problem found, sorted by file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass
class _Doc:
    """A parsed file: plain data plus the position of every key and value in it."""

    file: str
    data: Any
    key_marks: dict[Path_, tuple[int, int]]
    value_marks: dict[Path_, tuple[int, int]]
    seen: set[int] = field(default_factory=set)  # ids of the nodes read, to catch aliases

    def at(self, path: Path_, message: str, on_key: bool = False) -> Problem:
        """A problem at `path`, or at its nearest ancestor that has a position."""
        marks = self.key_marks if on_key else self.value_marks
        while path and path not in marks:
            path = path[:-1]
        line, col = marks.get(path, self.value_marks.get((), (1, 1)))
        return Problem(self.file, line, col, message)


def load_policies(root: Path | str) -> Desired:
    """Read every policy file under `root`; raise PolicyError listing all problems."""
    root = Path(root)
    if not root.is_dir():
        raise PolicyError([Problem.whole(root, "policies directory not found (use --policies DIR)")])
    problems: list[Problem] = []
    partners: dict[str, DesiredPartner] = {}
    template: DesiredTemplate | None = None
    for path in _policy_files(root, problems):
        doc = _parse(path, problems)
        if doc is None:
            continue
        if path.parent.name == PARTNERS_DIR:
            partner = _validate(doc, Partner, problems)
            if partner is not None:
                _add_partner(partners, DesiredPartner(partner, _source(doc, "tenantId")), doc, problems)
        else:
            model = _validate(doc, MtoPartnerTemplate, problems)
            if model is not None:
                template = DesiredTemplate(model, _source(doc))
    if problems:
        raise PolicyError(problems)
    return Desired(partners=partners, mto_partner_template=template)


def _policy_files(root: Path, problems: list[Problem]) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.is_dir():
            if path.name != PARTNERS_DIR:
                problems.append(Problem.whole(path, f"unknown folder; partner files go in {PARTNERS_DIR}/"))
        elif path.name == MTO_PARTNER_TEMPLATE_FILE:
            yield path
        elif path.name in NOT_YET_SUPPORTED:
            problems.append(Problem.whole(path, "this file is reserved for a later version of xtap"))
        elif path.suffix.lower() in YAML_SUFFIXES:
            expected = f"expected {MTO_PARTNER_TEMPLATE_FILE} or a partner file in {PARTNERS_DIR}/"
            problems.append(Problem.whole(path, f"unknown policy file; {expected}"))
    partners_dir = root / PARTNERS_DIR
    if partners_dir.is_dir():
        for path in sorted(partners_dir.iterdir()):
            if path.is_dir():  # never silently skip a partner someone filed in a subfolder
                message = f"folders inside {PARTNERS_DIR}/ are not read; put partner files directly in it"
                problems.append(Problem.whole(path, message))
            elif path.suffix.lower() in YAML_SUFFIXES:
                yield path


def _parse(path: Path, problems: list[Problem]) -> _Doc | None:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem.whole(file, f"cannot read: {exc}"))
        return None
    loader = CSafeLoader(text)
    try:
        node = loader.get_single_node()
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = " ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
        problems.append(Problem(file, line, col, f"YAML syntax error: {detail or exc}"))
        return None
    finally:
        loader.dispose()
    if not isinstance(node, MappingNode):
        line, col = _mark(node) if node else (1, 1)
        problems.append(Problem(file, line, col, "a policy file must be a mapping of Graph property names to values"))
        return None
    doc = _Doc(file, None, {}, {})
    found: list[Problem] = []
    doc.data = _to_data(node, (), doc, found)
    problems.extend(found)
    return None if found else doc  # validating half-read data would only add noise


def _to_data(node: Node, path: Path_, doc: _Doc, problems: list[Problem]) -> Any:
    """Plain Python data from a YAML node, recording positions; duplicate keys, aliases and any
    tag beyond YAML's plain types (`!!python/...` and friends) are problems."""
    if id(node) in doc.seen:
        # An alias: refused, since nested aliases expand exponentially (a few hundred bytes can
        # exhaust memory on the CI runner that plans a pull request) and may even be recursive.
        problems.append(doc.at(path, "YAML aliases (*name) are not supported: write the value out"))
        return None
    doc.seen.add(id(node))
    doc.value_marks[path] = _mark(node)
    kind = _tag(node).removeprefix(YAML_TAG)
    if kind not in PLAIN_TAGS:
        problems.append(Problem(doc.file, *_mark(node), f"unsupported YAML tag '{_tag(node)}': use plain values"))
        return None
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and _tag(key_node) == YAML_TAG + "str"):
                problems.append(Problem(doc.file, *_mark(key_node), "keys must be plain property names"))
                continue
            key, key_path = key_node.value, (*path, key_node.value)
            if key in result:
                problems.append(Problem(doc.file, *_mark(key_node), f"duplicate key '{key}'"))
                continue
            doc.key_marks[key_path] = _mark(key_node)
            result[key] = _to_data(value_node, key_path, doc, problems)
        return result
    if isinstance(node, SequenceNode):
        return [_to_data(item, (*path, index), doc, problems) for index, item in enumerate(node.value)]
    return _scalar(kind, node.value)


def _tag(node: Node) -> str:
    """The resolved tag. libyaml hands over full tags (no handle), so read them as they are:
    `Node.tag` re-decodes the URI on every call, a third of all parsing time."""
    return str(node.ctag.suffix) if node.ctag.handle is None else str(node.tag)


def _mark(node: Node) -> tuple[int, int]:
    """1-based line and column, as editors and `file:line:col` links count them."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _scalar(kind: str, text: str) -> Any:
    if kind == "null":
        return None
    if kind == "bool":
        return text.lower() == "true"
    if kind in ("int", "float"):
        try:
            return int(text.replace("_", ""), 0) if kind == "int" else float(text)
        except ValueError:
            return text
    return text


def _validate(doc: _Doc, model: type[GraphModel], problems: list[Problem]) -> Any:
    data = dict(doc.data)
    tool = data.pop(TOOL_KEY, None)
    found = list(_tool_key_problems(doc, tool))
    try:
        instance = model.model_validate(data)
    except ValidationError as exc:
        found.extend(_problem(doc, error) for error in exc.errors())
        instance = None
    problems.extend(found)
    return None if found else instance


def _tool_key_problems(doc: _Doc, tool: Any) -> Iterator[Problem]:
    if tool is None:
        return
    if not isinstance(tool, dict):
        yield doc.at((TOOL_KEY,), f"'{TOOL_KEY}' holds tool-only settings and must be a mapping")
        return
    for key in tool:
        if key not in TOOL_KEYS:
            allowed = ", ".join(sorted(TOOL_KEYS))
            yield doc.at((TOOL_KEY, key), f"unknown key '{key}' under '{TOOL_KEY}' (allowed: {allowed})", True)


def _problem(doc: _Doc, error: Any) -> Problem:
    path: Path_ = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return doc.at(path, _unknown_key_message(path), on_key=True)
    if kind == "missing":
        return doc.at(path, f"'{path[-1]}' is required")
    if kind == "value_error":  # our own validators: the message already names the value
        read_only = path and str(path[-1]) in READ_ONLY
        return doc.at(path, error["msg"].removeprefix("Value error, "), on_key=bool(read_only))
    got = error.get("input")
    shown = f", got {got!r}" if got is None or isinstance(got, (str, int, float, bool)) else ""
    return doc.at(path, f"{'.'.join(map(str, path))}: {error['msg']}{shown}")


def _known_names() -> set[str]:
    """Every property name of every Graph type, for "did you mean" hints."""
    names: set[str] = set()
    stack: list[type[BaseModel]] = [GraphModel]
    while stack:
        model = stack.pop()
        names.update(model.model_fields)
        stack.extend(model.__subclasses__())
    return names


def _unknown_key_message(path: Path_) -> str:
    key = str(path[-1])
    where = f" of '{path[-2]}'" if len(path) > 1 and isinstance(path[-2], str) else ""
    known = _known_names()
    if key in known:
        return f"'{key}' is not a property{where} (it belongs to another object)"
    hint = [name for name in known if name.lower() == key.lower()] or difflib.get_close_matches(key, known, n=1)
    suggestion = f"; did you mean '{hint[0]}'? (names are Graph's, case-sensitive)" if hint else ""
    return f"unknown property '{key}'{where}{suggestion}"


def _source(doc: _Doc, key: str | None = None) -> str:
    """`file:line` of `key`, or of the first key in the file (after any leading comments)."""
    line, _ = doc.key_marks.get((key,)) if key else min(doc.key_marks.values(), default=(1, 1))
    return f"{doc.file}:{line}"


def _add_partner(
    partners: dict[str, DesiredPartner], partner: DesiredPartner, doc: _Doc, problems: list[Problem]
) -> None:
    key = partner.model.tenantId.lower()
    if key in partners:
        problems.append(
            doc.at(
                ("tenantId",),
                f"tenantId {partner.model.tenantId} is already declared in "
                f"{partners[key].source}; one file per partner",
            )
        )
        return
    partners[key] = partner
