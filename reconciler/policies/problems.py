"""What the loader reports: a `Problem` at `file:line:col`, every one of a folder at once in a
`PolicyError`, and pydantic's errors said in the words of whoever writes the file.

A policy file is written by hand and reviewed in a pull request, so a problem must say where it
is and what to write instead; pydantic's own messages name its types (`extra_forbidden`) and
its locations (a tuple). Here they become a property path and a sentence, and the reader, which
knows where each path is written, turns them into a position (`reader.Doc.at`). Kept apart from
the reader so both it and the validators can report without importing each other.

The layout reports its problems here too, before a Graph command's first request: pydantic and
the models are imported by what describes pydantic's errors, which have come from them already,
so that request does not wait for them.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, get_args

from reconciler.core.address import PropertyPath
from reconciler.core.escape import written
from reconciler.core.wire import ODATA_TYPE

if TYPE_CHECKING:
    from pydantic import BaseModel


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


class Placed(NamedTuple):
    """A problem before it has a position: the property it is about, what to say, and whether
    to point at its key (an unknown or refused name) rather than at its value."""

    path: PropertyPath
    message: str
    on_key: bool = False


def described(error: Any) -> Placed:
    """One of pydantic's errors (an item of `ValidationError.errors()`) as a policy file's author
    reads it: the property, what it must be, and what the file wrote instead, never pydantic's
    own words ("Input should be a valid dictionary or instance of InboundTrust")."""
    from reconciler.core.models import REFUSED

    path: PropertyPath = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return Placed(path, _unknown_key_message(path), on_key=True)
    if kind == "missing":
        return Placed(path, f"'{path[-1]}' is required")
    if kind == "value_error":  # our own validators: the message already names the value
        refused = path and str(path[-1]) in REFUSED
        return Placed(path, error["msg"].removeprefix("Value error, "), on_key=bool(refused))
    if kind == "odata_type":
        return Placed((*path, ODATA_TYPE), error["msg"])
    got = error.get("input")
    expected = _expected(kind, error.get("ctx") or {})
    if expected is not None:
        return Placed(path, f"{_named(path)} must be {expected}, not {written(got)}{_hint(kind, got)}")
    shown = f", got {written(got)}" if got is None or isinstance(got, (str, int, float, bool)) else ""
    return Placed(path, f"{'.'.join(map(str, path))}: {error['msg']}{shown}")


# What a property of each plain type must be, in YAML's words, by pydantic's error type.
_PLAIN_TYPES = {
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "int_type": "a whole number",
    "float_type": "a number",
    "date_type": "a date (YYYY-MM-DD)",
}
# Strings YAML 1.1 reads as booleans; xtap's reader is YAML 1.2, where they stay strings.
_YAML_11_BOOLEANS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}


def _expected(kind: str, ctx: dict[str, Any]) -> str | None:
    """What the property must be, or None for an error said in pydantic's words."""
    if kind in _PLAIN_TYPES:
        return _PLAIN_TYPES[kind]
    if kind == "literal_error" and "expected" in ctx:
        return str(ctx["expected"])
    if kind in ("model_type", "model_attributes_type"):
        return f"a mapping{_of_fields(_models().get(str(ctx.get('class_name'))))}"
    return None


def _of_fields(model: type[BaseModel] | None) -> str:
    """ " of <its writable fields>", from the model itself, so every object says the same, and
    a new property is listed without anyone writing it here; "(true/false)" when all are."""
    from reconciler.core.models import REFUSED

    if model is None:
        return ""
    fields = {
        name: info.annotation
        for name, info in model.model_fields.items()
        if name not in REFUSED and info.annotation is not Any
    }
    if not fields:
        return ""
    booleans = all(set(get_args(kind) or (kind,)) <= {bool, type(None)} for kind in fields.values())
    return f" of {', '.join(fields)}{' (true/false)' if booleans else ''}"


@functools.cache
def _models() -> dict[str, type[BaseModel]]:
    """xtap's pydantic models by class name, which is all a "model_type" error names: the
    Graph types first, then the settings of xtap.yaml and the `xtap:` key."""
    from pydantic import BaseModel

    from reconciler.core.models import GraphModel

    found: dict[str, type[BaseModel]] = {}
    stack: list[type[BaseModel]] = [GraphModel, BaseModel]
    while stack:
        model = stack.pop(0)
        if model.__module__.startswith("reconciler."):
            found.setdefault(model.__name__, model)
        stack.extend(model.__subclasses__())
    return found


def _named(path: PropertyPath) -> str:
    """The property a problem is about, as its key is written (its position says where): a list
    item is "an item of <the list>"."""
    keys = [part for part in path if isinstance(part, str)]
    name = keys[-1] if keys else "the file"
    return f"an item of {name}" if path and isinstance(path[-1], int) else name


def _hint(kind: str, got: Any) -> str:
    """What to write instead, where the mistake is a usual one."""
    if kind == "bool_type" and isinstance(got, str):
        if got.lower() in ("true", "false"):
            return f" (quoted, so a string: write {got.lower()} without quotes)"
        meant = _YAML_11_BOOLEANS.get(got.lower())
        if meant is not None:
            return f" (xtap reads YAML 1.2, where {got} is a string, not a boolean: write {meant})"
    if kind == "string_type" and isinstance(got, (int, float)) and not isinstance(got, bool):
        return " (quote it to make it a string)"
    return ""


def _unknown_key_message(path: PropertyPath) -> str:
    """An unknown property, with the known one it most likely means: names are Graph's, and a
    wrong case or a typo is the usual mistake."""
    key = str(path[-1])
    where = f" of '{path[-2]}'" if len(path) > 1 and isinstance(path[-2], str) else ""
    known = _known_names()
    if key in known:
        return f"{key!r} is not a property{where} (it belongs to another object)"
    hint = [name for name in known if name.lower() == key.lower()] or difflib.get_close_matches(key, known, n=1)
    suggestion = f"; did you mean '{hint[0]}'? (names are Graph's, case-sensitive)" if hint else ""
    return f"unknown property {key!r}{where}{suggestion}"


def _known_names() -> set[str]:
    """Every property name of every Graph type, for "did you mean" hints."""
    from reconciler.core.models import GraphModel

    names: set[str] = set()
    stack: list[type[BaseModel]] = [GraphModel]
    while stack:
        model = stack.pop()
        names.update(model.model_fields)
        stack.extend(model.__subclasses__())
    return names
