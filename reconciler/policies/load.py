"""Load and validate policies/: YAML files → the desired state, or every problem at once.

Parsing reads the event stream of ruamel's libyaml-backed parser (`CSafeLoader`) and builds
plain data from it, iteratively, in one pass. Nothing in a file can hurt the process that reads
it (docs/security.md): the size is capped before parsing and the nesting depth while parsing
(ruamel's own composer recurses and segfaults on deep brackets); no object is ever constructed,
so no tag can run code, and explicit tags are refused outright (`!!bool yes` would otherwise be
false); aliases are refused before they can expand. The line and column of every key and value are
kept, so a pydantic error deep in a partner file is reported as `file:line:col: message`.
Nothing here talks to Graph: bad input never reaches the tenant.
"""

from __future__ import annotations

import difflib
import functools
import gc
import multiprocessing as mp
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAMLError
from ruamel.yaml.cyaml import CParser
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import Resolver

from reconciler.check.builtin import BUILTIN_IDS
from reconciler.core import signals
from reconciler.core.address import Address, PropertyPath
from reconciler.core.desired import Desired, DesiredInstance, Prune
from reconciler.core.models import ODATA_TYPE, REFUSED, GraphModel
from reconciler.core.registry import PARTNER, REGISTRY_BY_NAME, SINGLETON_FILES, ResourceType
from reconciler.core.rules import ToolKey
from reconciler.core.settings import Settings

PARTNERS_DIR = PARTNER.folder or ""  # the one folder of one file per instance
# The one reserved key for tool-only data; never sent to Graph.
TOOL_KEY = "xtap"
TOOL_KEYS = frozenset(ToolKey.model_fields)
YAML_SUFFIXES = (".yaml", ".yml")
# xtap's own settings (docs/policies.md); the keys a later version reads are named, so the error
# is clear.
SETTINGS_FILE = "xtap.yaml"
LATER_SETTINGS = frozenset({"ignore"})
# A folder at least this large is read in worker processes (`workers`): below it, starting them
# costs more than they save (measured: 10,000 files, 2 cores, 1.8 s alone, 1.0 s in two).
PARALLEL_FILES = 2000
MAX_WORKERS = 8

YAML_TAG = "tag:yaml.org,2002:"
PLAIN_TAGS = frozenset({"str", "int", "float", "bool", "null"})
TAGS_REFUSED = "explicit YAML tags are not allowed: write the plain value"
# Bounds checked while reading, before any structure is built (docs/security.md). A partner file
# is 1-5 KB and five levels deep; these leave ample room and still stop a hostile pull request.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 20
# How deep a first reading keeps positions: the top-level keys, which a change's source names.
TOP_LEVEL = 1
# A symbolic link is read through only where it resolves inside the policies folder (`_listing`).
LINK_OUTSIDE = (
    "symbolic link that leads outside the policies folder; xtap reads nothing outside it: copy the file "
    "or folder in, or link to one inside the folder"
)
# The safe loader's resolver: YAML 1.2's core types, so `yes` and `on` are strings.
_RESOLVER = Resolver()


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
    """A parsed file: plain data plus the position of its keys and values, down to `kept` levels
    deep (the top-level keys, which sources point at, on a first reading; all of them when the
    file is read again to report problems inside it)."""

    file: str
    text: str
    kept: int
    data: Any = None
    key_marks: dict[PropertyPath, tuple[int, int]] = field(default_factory=dict)
    value_marks: dict[PropertyPath, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: PropertyPath, message: str, on_key: bool = False) -> Problem:
        """A problem at `path`, or at its nearest ancestor that has a position."""
        return Problem(self.file, *self.position(path, on_key), message)

    def position(self, path: PropertyPath, on_key: bool = False) -> tuple[int, int]:
        marks = self.key_marks if on_key else self.value_marks
        while path and path not in marks:
            path = path[:-1]
        return marks.get(path, self.value_marks.get((), (1, 1)))


def load_policies(root: Path | str, bodies: bool = True, pool: Executor | None = None) -> Desired:
    """Read every policy file under `root`; raise PolicyError listing all problems.

    `bodies=False` is `xtap validate`'s reading: every problem and every declaration, but
    instances without their properties. `pool` (from `workers`) reads the files in worker
    processes, a few chunks each: files are independent, and that halves the reading on two
    cores."""
    root = _folder(root)
    problems: list[Problem] = []
    instances: dict[Address, DesiredInstance] = {}
    layout = _layout(root, problems)
    settings, prune, sources = _settings(layout.settings, problems)
    own = None if settings.tenant is None else Address(PARTNER.name, settings.tenant)
    for loaded in _load_files(layout.files, bodies, pool):
        problems.extend(loaded.problems)
        for address, instance, key_at in loaded.declared:
            if address == own:
                problems.append(Problem(loaded.file, *key_at, _own_tenant_message(address.id)))
            else:
                _add(instances, address, instance, (loaded.file, *key_at), problems)
    problems.extend(_waiver_problems(instances.values(), {*BUILTIN_IDS, *settings.rules}, settings.waiverMaxDays))
    if problems:
        raise PolicyError(problems)
    return Desired(
        instances,
        tenant=settings.tenant,
        prune=prune,
        rules=settings.rules,
        settings=settings,
        setting_sources=sources,
    )


@contextmanager
def workers(root: Path | str, reserve: int = 0) -> Iterator[Executor | None]:
    """Processes to read `root` in, one per CPU but `reserve` (left to the caller's own work);
    None where they would not pay (fewer than PARALLEL_FILES partner files, one CPU) or not be
    safe. They are forked, which is cheap (they inherit the imported models), so only from a
    process with no other thread yet: a thread holding a lock at the fork would leave it held
    forever in the worker. Graph commands fork them before their first request and keep a CPU
    for reading the tenant meanwhile: each page must be turned around at once, and with every
    CPU loading, pages came 20% slower.

    On the way out, work not yet started is dropped and what runs finishes (a chunk of files):
    a load cancelled by Ctrl-C ends within that, never waits on a worker that is gone."""
    cpus = os.cpu_count() or 1
    count = min(cpus - reserve, MAX_WORKERS)
    forkable = threading.active_count() == 1 and "fork" in mp.get_all_start_methods()
    if cpus < 2 or count < 1 or not forkable or _partner_files(Path(root)) < PARALLEL_FILES:
        yield None
        return
    pool = ProcessPoolExecutor(count, mp_context=mp.get_context("fork"), initializer=_worker_started)
    pool.submit(int).result()  # forks every worker now, while this is the only thread
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _partner_files(root: Path) -> int:
    """How many names partners/ holds; none when it is a link that leads outside the folder,
    which loading refuses without listing it (so it forks no worker for another folder)."""
    partners = root / PARTNERS_DIR
    if not _resolves_inside(partners, os.path.realpath(root)):
        return 0
    try:
        return len(os.listdir(partners))
    except OSError:
        return 0  # no partners/ folder: loading says what is wrong, if anything


def _worker_started() -> None:
    """A worker's first step: signals are the parent's (`signals.worker_signals`; on Ctrl-C it
    drops what the workers have not started), and the heap it inherits is frozen, so the
    collector does not walk every imported model again and again."""
    signals.worker_signals()
    gc.freeze()


def _load_files(files: list[tuple[Path, ResourceType]], bodies: bool, pool: Executor | None) -> Iterable[_Loaded]:
    """Each file's outcome, in `files`' order."""
    if pool is None or len(files) < PARALLEL_FILES:
        return (_load_file(path, rtype) for path, rtype in files)
    size = -(-len(files) // (8 * (os.cpu_count() or 1)))  # a few chunks a worker: none waits long on the last
    # Names, not objects, cross the pipe: cheaper, and a ResourceType may hold what cannot be pickled.
    named = [(str(path), rtype.name) for path, rtype in files]
    chunks = [named[start : start + size] for start in range(0, len(named), size)]
    read = functools.partial(_declarations, bodies=bodies)
    return [_unpacked(packed) for chunk in pool.map(read, chunks) for packed in chunk]


# A worker's outcome for one file, in plain tuples: its problems, then each declaration as
# (resource, id, properties, source, key line, key column, the `xtap:` key or None when it is
# empty). Plain data crosses the pipe five times faster than the dataclasses and pydantic
# models (unpickling those was a third of validate's wall time at 10,000 files).
_Declared = tuple[str, str, dict[str, Any], str, int, int, ToolKey | None]
_Packed = tuple[str, list[tuple[str, int, int, str]], list[_Declared]]


def _declarations(files: list[tuple[str, str]], bodies: bool) -> list[_Packed]:
    """A worker's share, (path, resource type) each: each file's problems and declarations, with
    their properties if `bodies`."""
    return [_packed(_load_file(Path(path), REGISTRY_BY_NAME[name]), bodies) for path, name in files]


def _packed(loaded: _Loaded, bodies: bool) -> _Packed:
    declared = [
        (address.resource, address.id, instance.written if bodies else {}, instance.source, *key_at, _tool(instance))
        for address, instance, key_at in loaded.declared
    ]
    return loaded.file, [astuple(problem) for problem in loaded.problems], declared


def _tool(instance: DesiredInstance) -> ToolKey | None:
    return instance.tool if instance.tool.model_fields_set else None


def _unpacked(packed: _Packed) -> _Loaded:
    file, problems, declared = packed
    instances = [
        (Address(resource, id_), DesiredInstance(written, source, tool or ToolKey()), (line, col))
        for resource, id_, written, source, line, col, tool in declared
    ]
    return _Loaded(file, [Problem(*problem) for problem in problems], instances)


def load_settings(root: Path | str) -> Settings:
    """xtap.yaml alone: the tenant binding, which Graph commands need before their first request,
    while the policy files are still loading. Raises PolicyError like `load_policies`.

    A link that leads out of the folder is refused here too, before xtap.yaml is read: the
    files load while the tenant is read, and a file from elsewhere on the machine (a runner's
    credentials, another tenant's folder) must never get as far as a request to Graph."""
    root = _folder(root)
    problems = _links_outside(root)
    if problems:
        raise PolicyError(problems)
    settings, _, _ = _settings(root / SETTINGS_FILE, problems)
    if problems:
        raise PolicyError(problems)
    return settings


def _folder(root: Path | str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise PolicyError([Problem.whole(root, "policies directory not found (use --policies DIR)")])
    return root


@dataclass(frozen=True)
class _Loaded:
    """One policy file's outcome: its problems, or the instances it declares, each with where its
    key stands (a duplicate is reported there)."""

    file: str
    problems: list[Problem]
    declared: list[tuple[Address, DesiredInstance, tuple[int, int]]]


def _load_file(path: Path, rtype: ResourceType) -> _Loaded:
    problems: list[Problem] = []
    # A singleton's file with only comments declares its unconfigured state (`reset_action`).
    doc = _parse(path, problems, empty_means={} if rtype.singleton_id is not None else None)
    valid = None if doc is None else _validate(doc, rtype.model, problems)
    if doc is None or valid is None:
        return _Loaded(str(path), problems, [])
    model, tool = valid
    declared = [
        (address, instance, doc.position((REGISTRY_BY_NAME[address.resource].key or "",)))
        for address, instance in _instances(rtype, model.wire(), doc, tool)
    ]
    return _Loaded(str(path), problems, declared)


def _settings(path: Path | None, problems: list[Problem]) -> tuple[Settings, Prune | None, dict[str, str]]:
    """xtap.yaml, strict like every policy file, with where each of its keys stands; absent, or
    only comments, it binds nothing and prunes nothing."""
    if path is None or not path.is_file():
        return Settings(), None, {}
    doc = _parse(path, problems, empty_means={})
    if doc is None:
        return Settings(), None, {}
    unknown = [key for key in doc.data if key not in Settings.model_fields]
    found = [doc.at((key,), _settings_key_message(key), on_key=True) for key in unknown]
    if not found:
        try:
            settings = Settings.model_validate(doc.data)
        except ValidationError as exc:
            marked = _every_position(doc)  # a bad tenant id may sit in a list: point at it
            found = [_named_rule(_problem(marked, error), error["loc"]) for error in exc.errors()]
        else:
            wrong = list(_rule_id_problems(settings))
            if not wrong:
                return settings, _prune(settings, doc), {key: _source(doc, key) for key in doc.data}
            marked = _every_position(doc)
            found = [marked.at(("rules", rule_id), message, on_key=True) for rule_id, message in wrong]
    problems.extend(found)
    return Settings(), None, {}


def _named_rule(problem: Problem, loc: tuple[Any, ...]) -> Problem:
    """A problem with a rule's expression names the rule: it may be one of many, and the one that
    does not compile, or is over a bound of its size or shape (`cel_expr.bounded`), is the one
    to fix or split."""
    if len(loc) == 3 and loc[0] == "rules" and loc[2] == "expression":
        return replace(problem, message=f"rule {loc[1]!r}: {problem.message}")
    return problem


def _rule_id_problems(settings: Settings) -> Iterator[tuple[str, str]]:
    """An entry of `rules:` adjusts a built-in rule or, with an expression, is a rule of your
    own; a typo in a built-in's id must not leave the rule silently on."""
    for rule_id, rule in settings.rules.items():
        if rule.expression is None and rule_id not in BUILTIN_IDS:
            known = ", ".join(sorted(BUILTIN_IDS))
            yield rule_id, f"no built-in rule {rule_id!r} (built-in: {known}); a rule of your own needs an expression"
        elif rule.expression is not None and rule_id in BUILTIN_IDS:
            yield rule_id, f"{rule_id!r} is a built-in rule; give your rule another id"


def _waiver_problems(instances: Iterable[DesiredInstance], known: set[str], max_days: int) -> Iterator[Problem]:
    """Each waiver that cannot stand, said where it is written: one of a rule that does not
    exist waives nothing; one that expires more than `max_days` from today would let an
    exception granted in one pull request outlive anyone's memory of why."""
    latest = date.today() + timedelta(days=max_days)
    files = {instance.file: instance.tool for instance in instances}
    for file, tool in files.items():
        wrong: dict[PropertyPath, str] = {}
        for i, waiver in enumerate(tool.waivers):
            if waiver.rule not in known:
                wrong[(TOOL_KEY, "waivers", i, "rule")] = f"waiver of unknown rule {waiver.rule!r}"
            if waiver.expires > latest:
                wrong[(TOOL_KEY, "waivers", i, "expires")] = (
                    f"waiver of {waiver.rule!r} expires {waiver.expires.isoformat()}, more than {max_days} days "
                    f"from today: set it to {latest.isoformat()} at the latest and renew it then "
                    f"(waiverMaxDays in {SETTINGS_FILE} sets the limit)"
                )
        for path, at in positions(file, wrong).items():
            yield Problem(file, *at, wrong[path])


def positions(file: str, paths: Iterable[PropertyPath]) -> dict[PropertyPath, tuple[int, int]]:
    """Where each property path of a valid policy file is written (its key, or that of its
    nearest written ancestor), read again keeping every position: only for the few files a
    report points into, since keeping them costs a third of reading a file."""
    wanted = list(paths)
    if not wanted:
        return {}
    doc = _parse(Path(file), [])
    marked = None if doc is None else _every_position(doc)
    return {path: (1, 1) if marked is None else marked.position(path, on_key=True) for path in wanted}


def _prune(settings: Settings, doc: _Doc) -> Prune | None:
    if not settings.prune:
        return None
    return Prune(
        _source(doc, "prune"),
        frozenset(settings.protected),
        frozenset(settings.pruneServiceMade),
        settings.pruneLimit,
    )


def _settings_key_message(key: str) -> str:
    allowed = ", ".join(Settings.model_fields)
    if key in LATER_SETTINGS:
        return f"{key!r} is not supported yet in {SETTINGS_FILE} (supported: {allowed})"
    return f"unknown setting {key!r} in {SETTINGS_FILE} (supported: {allowed})"


def _instances(
    rtype: ResourceType, written: dict[str, Any], doc: _Doc, tool: ToolKey
) -> Iterator[tuple[Address, DesiredInstance]]:
    """The instance a file declares, then the nested ones it holds (a partner's identity sync),
    which share the file's `xtap:` key."""
    nested = {
        REGISTRY_BY_NAME[child]: written.pop(REGISTRY_BY_NAME[child].nested_key or "", None) for child in rtype.children
    }
    resource_id = rtype.singleton_id or str(written[rtype.key or ""]).lower()
    yield Address(rtype.name, resource_id), DesiredInstance(written, _source(doc, rtype.key), tool)
    for child, body in nested.items():
        if body is not None:
            yield Address(child.name, resource_id), DesiredInstance(body, _source(doc, child.nested_key), tool)


def _own_tenant_message(tenant: str) -> str:
    """A partner configuration is about another tenant: one for the folder's own is a file
    copied from the wrong folder, or a `tenant:` naming the wrong tenant. Either way it is the
    author's mistake, so it is said offline, at the file, and nothing of it reaches Graph."""
    return (
        f"tenantId {tenant} is this folder's own tenant (tenant: in {SETTINGS_FILE}); a tenant is never "
        f"its own partner: remove this file, or correct the tenant id here or in {SETTINGS_FILE}"
    )


def _add(
    instances: dict[Address, DesiredInstance],
    address: Address,
    instance: DesiredInstance,
    key_at: tuple[str, int, int],
    problems: list[Problem],
) -> None:
    """Declare `instance`, or report a second declaration at `key_at` (file, line, column): the
    key of the file that makes it."""
    if address in instances:
        key = REGISTRY_BY_NAME[address.resource].key or ""
        where = instances[address].source
        message = f"{key} {address.id} is already declared in {where}; one file per {address.resource}"
        problems.append(Problem(*key_at, message))
        return
    instances[address] = instance


@dataclass
class _Layout:
    """The files a policies folder holds: each policy file with the resource type it declares,
    in a stable order, and xtap.yaml if there is one."""

    files: list[tuple[Path, ResourceType]] = field(default_factory=list)
    settings: Path | None = None


def _layout(root: Path, problems: list[Problem]) -> _Layout:
    inside = os.path.realpath(root)
    layout = _Layout()
    partners = False
    for path, is_dir in _entries(root, inside, problems):
        if is_dir:
            if path.name == PARTNERS_DIR:
                partners = True
            else:
                problems.append(Problem.whole(path, f"unknown folder; partner files go in {PARTNERS_DIR}/"))
        elif path.name in SINGLETON_FILES:
            layout.files.append((path, SINGLETON_FILES[path.name]))
        elif path.name == SETTINGS_FILE:
            layout.settings = path
        elif path.suffix.lower() in YAML_SUFFIXES:
            expected = f"expected {', '.join([*SINGLETON_FILES, SETTINGS_FILE])} or a partner file in {PARTNERS_DIR}/"
            problems.append(Problem.whole(path, f"unknown policy file; {expected}"))
    if partners:
        for path, is_dir in _entries(root / PARTNERS_DIR, inside, problems):
            if is_dir:  # never silently skip a partner someone filed in a subfolder
                message = f"folders inside {PARTNERS_DIR}/ are not read; put partner files directly in it"
                problems.append(Problem.whole(path, message))
            elif path.suffix.lower() in YAML_SUFFIXES:
                layout.files.append((path, PARTNER))
    return layout


def _links_outside(root: Path) -> list[Problem]:
    """The links `_layout` refuses (in the folder and in partners/, the one folder in it that is
    read), found from the listings alone, before any file is read."""
    found: list[Problem] = []
    inside = os.path.realpath(root)
    if (PARTNERS_DIR, True) in _listing(root, inside, found):
        _listing(root / PARTNERS_DIR, inside, found)
    return found


def _listing(folder: Path, inside: str, problems: list[Problem]) -> list[tuple[str, bool]]:
    """The names in `folder` that may be policies, each with whether it is a folder (from the
    directory listing: a `stat` per file was a tenth of validating 10,000). Hidden names
    (`.git`, `.DS_Store`, emacs's `.#x.yaml` lock, vim's `.x.yaml.swp`) and backups (`x.yaml~`)
    are never policies, so they are skipped silently.

    A symbolic link must resolve inside the policies folder, whose real path is `inside`: a
    folder is reviewed as what it holds, and a link to `/proc/self/environ` or
    `~/.azure/msal_token_cache.json` would otherwise be read, and its content quoted in the
    problems a pull request's plan posts. Such a link is a problem and is left out, so nothing
    is read through it. The listing tells a link without a `stat`; only links are resolved."""
    names: list[tuple[str, bool]] = []
    with os.scandir(folder) as listing:
        for entry in listing:
            name = entry.name
            if name.startswith(".") or name.endswith("~"):
                continue
            if entry.is_symlink() and not _resolves_inside(folder / name, inside):
                problems.append(Problem.whole(folder / name, LINK_OUTSIDE))
                continue
            names.append((name, entry.is_dir()))
    return names


def _resolves_inside(path: Path, inside: str) -> bool:
    """Whether `path`, every link along it followed (links to links, `..` after a link), ends in
    the folder `inside` or below it."""
    real = os.path.realpath(path)
    return real == inside or real.startswith(inside.rstrip(os.sep) + os.sep)


def _entries(folder: Path, inside: str, problems: list[Problem]) -> Iterator[tuple[Path, bool]]:
    """The folder's entries that may be policies (`_listing`), by name; a JSON file is a
    problem, since its author surely meant it as one."""
    for name, is_dir in sorted(_listing(folder, inside, problems)):
        path = folder / name
        if path.suffix.lower() == ".json":
            problems.append(
                Problem.whole(path, f"xtap reads YAML files only; JSON is YAML, so rename it to {path.stem}.yaml")
            )
            continue
        yield path, is_dir


def _parse(path: Path, problems: list[Problem], empty_means: dict[str, Any] | None = None) -> _Doc | None:
    file = str(path)
    try:
        raw = _bounded_read(path)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem.whole(file, f"cannot read: {exc}"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem.whole(file, f"larger than {MAX_FILE_BYTES >> 20} MiB, the limit for a policy file"))
        return None
    doc = _Doc(file, text, TOP_LEVEL)
    found = _read(doc)
    if doc.data is None and empty_means is not None:
        doc.data = empty_means
    if not found and not isinstance(doc.data, dict):
        line, col = doc.value_marks.get((), (1, 1))
        found.append(Problem(file, line, col, "a policy file must be a mapping of Graph property names to values"))
    problems.extend(found)
    return None if found else doc  # validating half-read data would only add noise


def _bounded_read(path: Path) -> bytes:
    """The file's bytes, at most one past the cap: a partners/x.yaml may be a device or a pipe
    (a link to /dev/zero is refused before, as it leads outside the folder; this holds anyway).
    A regular file is read at its own size (`read(cap)` allocates the whole cap first, which
    was a tenth of validating 10,000 files); anything else only up to the cap."""
    with path.open("rb", buffering=0) as stream:
        info = os.fstat(stream.fileno())
        small = stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES
        wanted = info.st_size + 1 if small else MAX_FILE_BYTES + 1
        raw = stream.read(wanted)
        if len(raw) == wanted and small:  # it grew since: read on, still up to the cap
            raw += stream.read(MAX_FILE_BYTES + 1 - wanted)
        return raw


def _every_position(doc: _Doc) -> _Doc:
    """The file read again keeping the position of every node. Only a file with a problem inside
    needs them, and keeping them costs a third of reading a valid one."""
    marked = _Doc(doc.file, doc.text, MAX_DEPTH)
    _read(marked)
    return marked


def _read(doc: _Doc) -> list[Problem]:
    """Fill `doc` from its text; the problems found in it."""
    found: list[Problem] = []
    parser = CParser(doc.text)  # the bare parser: a loader's constructor and resolver go unused
    try:
        _Reader(doc, found).read(parser)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = " ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
        found.append(Problem(doc.file, line, col, f"YAML syntax error: {detail or exc}"))
    finally:
        parser.dispose()
    return found


@dataclass(slots=True)
class _Open:
    """A mapping or sequence being read; in a mapping, the key whose value comes next."""

    data: dict[str, Any] | list[Any]
    is_list: bool
    path: PropertyPath  # () below the depth whose positions are kept
    start: NodeEvent
    key: str | None = None
    skip: bool = False  # the pending key was refused: its value is read and dropped


class _Reader:
    """Builds a file's data from libyaml's event stream, iteratively, so no nesting can exhaust a
    stack. ruamel's own composer recurses in C (deep brackets segfault it) and builds the whole
    tree before any limit could be checked; here reading stops at the first collection past the
    depth cap, and explicit tags and aliases are refused where they stand.

    This runs for every node of every file, so it is written for speed: one loop that handles
    scalars, by far the most frequent event, inline; a node's position is worked out only where
    it is kept (recorded when the node is attached: a collection's path and depth are the same
    then as at its start) or where a problem needs it."""

    def __init__(self, doc: _Doc, problems: list[Problem]) -> None:
        self.doc = doc
        self.problems = problems
        self.stack: list[_Open] = []

    def read(self, parser: CParser) -> None:
        documents = 0
        attach, stack, get_event = self._attach, self.stack, parser.get_event
        while (event := get_event()) is not None:
            kind = type(event)
            if kind is ScalarEvent:
                if event.ctag is not None:
                    self._problem(event, TAGS_REFUSED)
                if event.implicit[0]:
                    tag, value = _plain(event.value)
                    if tag not in PLAIN_TAGS:  # a date or `<<`: YAML 1.1 types that no Graph property takes
                        self._problem(event, f"unsupported YAML value {event.value!r}: quote it to make it a string")
                    attach(value, tag == "str", event)
                else:  # quoted or block: a string
                    attach(event.value, True, event)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                done = stack.pop()
                attach(done.data, False, done.start)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if not self._open(event, kind is SequenceStartEvent):
                    return
            elif kind is AliasEvent:
                # Refused, since nested aliases expand exponentially (a few hundred bytes can exhaust
                # memory on the CI runner that plans a pull request) and may even be recursive.
                self._problem(event, "YAML aliases (*name) are not supported: write the value out")
                attach(None, False, event)
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self._problem(event, "a policy file is a single document: remove the second one")
                    return

    def _open(self, event: CollectionStartEvent, is_list: bool) -> bool:
        """Start a collection; False, with a problem, if it is nested past the cap."""
        if event.ctag is not None:
            self._problem(event, TAGS_REFUSED)
        depth = len(self.stack)
        if depth == MAX_DEPTH:
            self._problem(event, f"nested deeper than {MAX_DEPTH} levels, the limit for a policy file")
            return False
        path = (self._path() or ()) if depth < self.doc.kept else ()
        self.stack.append(_Open([] if is_list else {}, is_list, path, event))
        return True

    def _path(self) -> PropertyPath | None:
        """The path of the node that comes next, or None for a key or a dropped value."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if top.is_list:
            return (*top.path, len(top.data))
        return None if top.key is None else (*top.path, top.key)

    def _attach(self, value: Any, plain: bool, start: Event) -> None:
        """Put a finished node where it belongs: the document, a sequence, a mapping's key or value.
        `plain`: the node was a string scalar, the only kind of key a property name can be."""
        stack = self.stack
        kept = len(stack) <= self.doc.kept
        if not stack:
            self.doc.data = value
            self.doc.value_marks[()] = _mark(start)
            return
        top = stack[-1]
        if top.is_list:
            if kept:
                self.doc.value_marks[(*top.path, len(top.data))] = _mark(start)
            top.data.append(value)  # type: ignore[union-attr]
        elif top.key is not None:
            if kept:
                self.doc.value_marks[(*top.path, top.key)] = _mark(start)
            top.data[top.key] = value  # type: ignore[call-overload]
            top.key = None
        elif top.skip:
            top.skip = False
        elif not plain:
            self._problem(start, "keys must be plain property names")
            top.skip = True
        elif value in top.data:
            self._problem(start, f"duplicate key {value!r}")
            top.skip = True
        else:
            top.key = value
            if kept:
                self.doc.key_marks[(*top.path, value)] = _mark(start)

    def _problem(self, event: Event, message: str) -> None:
        self.problems.append(Problem(self.doc.file, *_mark(event), message))


@functools.lru_cache(maxsize=4096)
def _plain(text: str) -> tuple[str, Any]:
    """The type YAML gives a plain scalar, and its value. Cached: the same few keys and values
    recur in every file, and ruamel's resolver tries a regex per candidate type."""
    kind = str(_RESOLVER.resolve(ScalarNode, text, (True, False)).suffix).removeprefix(YAML_TAG)
    return kind, _value(kind, text)


def _mark(event: Event) -> tuple[int, int]:
    """1-based line and column, as editors and `file:line:col` links count them."""
    return event.start_mark.line + 1, event.start_mark.column + 1


def _value(kind: str, text: str) -> Any:
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


def _validate(doc: _Doc, model: type[GraphModel], problems: list[Problem]) -> tuple[Any, ToolKey] | None:
    data = dict(doc.data)
    tool = data.pop(TOOL_KEY, None)
    try:
        instance, errors = model.model_validate(data), []
    except ValidationError as exc:
        instance, errors = None, exc.errors()
    tool_key, tool_errors = _tool_key(tool)
    if errors or tool_errors or any(_tool_key_problems(doc, tool)):
        marked = _every_position(doc)  # a problem may sit at any depth: point at it exactly
        found = [*_tool_key_problems(marked, tool)] or [_problem(marked, error) for error in tool_errors]
        problems.extend([*found, *(_problem(marked, error) for error in errors)])
        return None
    return instance, tool_key


def _tool_key(tool: Any) -> tuple[ToolKey, list[Any]]:
    """The `xtap:` key's values, or pydantic's errors located from the file's top."""
    if not isinstance(tool, dict):
        return ToolKey(), []
    try:
        return ToolKey.model_validate(tool), []
    except ValidationError as exc:
        return ToolKey(), [{**error, "loc": (TOOL_KEY, *error["loc"])} for error in exc.errors()]


def _tool_key_problems(doc: _Doc, tool: Any) -> Iterator[Problem]:
    """The shape of the `xtap:` key, said in its own words before its values are checked."""
    if tool is None:
        return
    if not isinstance(tool, dict):
        yield doc.at((TOOL_KEY,), f"'{TOOL_KEY}' holds tool-only settings and must be a mapping")
        return
    for key in tool:
        if key not in TOOL_KEYS:
            allowed = ", ".join(sorted(TOOL_KEYS))
            yield doc.at((TOOL_KEY, key), f"unknown key {key!r} under '{TOOL_KEY}' (allowed: {allowed})", True)


def _problem(doc: _Doc, error: Any) -> Problem:
    path: PropertyPath = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return doc.at(path, _unknown_key_message(path), on_key=True)
    if kind == "missing":
        return doc.at(path, f"'{path[-1]}' is required")
    if kind == "value_error":  # our own validators: the message already names the value
        refused = path and str(path[-1]) in REFUSED
        return doc.at(path, error["msg"].removeprefix("Value error, "), on_key=bool(refused))
    if kind == "odata_type":
        return doc.at((*path, ODATA_TYPE), error["msg"])
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


def _unknown_key_message(path: PropertyPath) -> str:
    key = str(path[-1])
    where = f" of '{path[-2]}'" if len(path) > 1 and isinstance(path[-2], str) else ""
    known = _known_names()
    if key in known:
        return f"{key!r} is not a property{where} (it belongs to another object)"
    hint = [name for name in known if name.lower() == key.lower()] or difflib.get_close_matches(key, known, n=1)
    suggestion = f"; did you mean '{hint[0]}'? (names are Graph's, case-sensitive)" if hint else ""
    return f"unknown property {key!r}{where}{suggestion}"


def _source(doc: _Doc, key: str | None = None) -> str:
    """`file:line` of `key`, or of the first key in the file (after any leading comments)."""
    line, _ = doc.key_marks.get((key,), (1, 1)) if key else min(doc.key_marks.values(), default=(1, 1))
    return f"{doc.file}:{line}"
