"""What the loader reports: a `Problem` at `file:line:col`, every one of a folder at once in a
`PolicyError`, and pydantic's errors said in the words of whoever writes the file.

A policy file is written by hand and reviewed in a pull request, so a problem must say where it
is and what to write instead; pydantic's own messages name its types (`extra_forbidden`) and
its locations (a tuple). Here they become a property path and a sentence, and the reader, which
knows where each path is written, turns them into a position (`reader.Doc.at`). Kept apart from
the reader so both it and the validators can report without importing each other.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from reconciler.core.address import PropertyPath
from reconciler.core.models import ODATA_TYPE, REFUSED, GraphModel


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
    reads it."""
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
    shown = f", got {got!r}" if got is None or isinstance(got, (str, int, float, bool)) else ""
    return Placed(path, f"{'.'.join(map(str, path))}: {error['msg']}{shown}")


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
    names: set[str] = set()
    stack: list[type[BaseModel]] = [GraphModel]
    while stack:
        model = stack.pop()
        names.update(model.model_fields)
        stack.extend(model.__subclasses__())
    return names
