"""One file of the policies folder read into plain data, with the line and column of its keys
and values: its bytes, bounded, then the event stream of ruamel's libyaml-backed parser
(`CParser`), built into dicts and lists in one iterative pass. The two shapes nearly every
policy file has are read without libyaml's Python event objects, which were most of the cost:
one JSON object by Python's JSON decoder (`_as_json`), and the block-YAML subset authors write
(indented mappings and lists, one-line scalars, comments) line by line (`_as_block`). Either
takes a file only where it reads exactly as the YAML reader would, positions included, and
leaves anything else (valid or not) to it.

Nothing in a file can hurt the process that reads it (docs/security.md): the size is capped
before parsing and the nesting depth while parsing (ruamel's own composer recurses and
segfaults on deep brackets); no object is ever constructed, so no tag can run code, and
explicit tags are refused outright (`!!bool yes` would otherwise be false); aliases are refused
before they can expand. The positions kept are what lets a problem deep in a file be reported
as `file:line:col`. Reading the events directly is ten times faster than ruamel's composer, and
this runs for every node of every file: `_Reader` is written for speed.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from ruamel.yaml.resolver import Resolver

from reconciler.core.address import PropertyPath
from reconciler.core.escape import written
from reconciler.policies.problems import Problem

YAML_TAG = "tag:yaml.org,2002:"
PLAIN_TAGS = frozenset({"str", "int", "float", "bool", "null"})
TAGS_REFUSED = "explicit YAML tags are not allowed: write the plain value"
# What a file must be, said with what it is instead (a list, a lone value, null).
NOT_A_MAPPING = "a policy file holds one mapping (key: value lines)"
# A file with nothing in it, where its type needs something: what it must hold at least.
EMPTY = f"empty: {NOT_A_MAPPING}"
TAB_REFUSED = "YAML indents with spaces; replace the tab with spaces"
# Bounds checked while reading, before any structure is built (docs/security.md). A partner file
# is 1-5 KB and five levels deep; these leave ample room and still stop a hostile pull request.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 20
# How deep a first reading keeps positions: the top-level keys, which a change's source names.
TOP_LEVEL = 1
# The safe loader's resolver: YAML 1.2's core types, so `yes` and `on` are strings.
_RESOLVER = Resolver()


@dataclass
class Doc:
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
        """Where `path` is written: its key (`on_key`) or its value, else its nearest ancestor's.
        A list item has no key, so on its key it is where the item starts: a finding about the
        second of three targets points at that target, not at the list."""
        marks = self.key_marks if on_key else self.value_marks
        while path and path not in marks:
            if on_key and isinstance(path[-1], int) and path in self.value_marks:
                return self.value_marks[path]
            path = path[:-1]
        return marks.get(path, self.value_marks.get((), (1, 1)))

    def source(self, key: str | None = None) -> str:
        """`file:line` of `key`, or of the first key in the file (after any leading comments)."""
        line, _ = self.key_marks.get((key,), (1, 1)) if key else min(self.key_marks.values(), default=(1, 1))
        return f"{self.file}:{line}"


def parse(
    path: str | Path, problems: list[Problem], empty_means: dict[str, Any] | None = None, empty: str = EMPTY
) -> Doc | None:
    """The file as a mapping with its top-level positions, or None with its problems added to
    `problems`. `empty_means` is what a file with no document (only comments) holds; without
    one, such a file is the problem `empty`, which says what it must hold at least."""
    file = str(path)
    try:
        raw = bounded_read(path)
    except OSError as exc:
        problems.append(Problem.whole(file, f"cannot read: {exc.strerror or exc}"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem.whole(file, f"larger than {MAX_FILE_BYTES >> 20} MiB, the limit for a policy file"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(_not_utf8(file, raw, exc.start))
        return None
    doc = Doc(file, text, TOP_LEVEL)
    found = [] if _as_json(doc) else _read(doc)
    if doc.data is None and () not in doc.value_marks:  # no document at all: empty, or comments
        doc.data = empty_means
        if empty_means is None and not found:
            found.append(Problem.whole(file, empty))
    if not found and not isinstance(doc.data, dict):
        line, col = doc.value_marks.get((), (1, 1))
        found.append(Problem(file, line, col, f"{NOT_A_MAPPING}, not {written(doc.data)}"))
    problems.extend(found)
    return None if found else doc  # validating half-read data would only add noise


# What may come before a JSON object in a file: blank lines and whole-line comments.
_LEADING = re.compile(r"(?:[ ]*(?:#[^\n]*)?\n)*[ ]*")
_SPACE = re.compile(r"[ \n]*")


class _NotPlainJson(ValueError):
    """What the JSON reading leaves to the YAML reader, which says what is wrong, if anything."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _NotPlainJson("a duplicate key")
    return found


def _no_exponent(text: str) -> float:
    if "e" in text or "E" in text:  # YAML's core schema reads some of these as strings
        raise _NotPlainJson(text)
    return float(text)


def _no_constant(text: str) -> Any:
    raise _NotPlainJson(text)  # NaN and Infinity are strings in YAML


_JSON = json.JSONDecoder(object_pairs_hook=_unique, parse_float=_no_exponent, parse_constant=_no_constant)


def _as_json(doc: Doc) -> bool:
    """Fill `doc` from a file that is one JSON object (after any comment lines), as the YAML
    reader would (JSON is YAML), at C speed: half the work of a YAML reading is building
    libyaml's event objects in Python. Only what reads the same either way is taken here: no
    tab, no carriage return, no duplicate key, no exponent or NaN, nothing nested past the cap,
    nothing but blank lines after it; anything else, valid or not, is left to the YAML reader
    (False), which finds every problem where it stands."""
    text = doc.text
    if "\t" in text or "\r" in text:
        return False
    start = _LEADING.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("{", start):
        return False
    data: dict[str, Any] = {}
    marks: list[tuple[str, int, int]] = []
    try:
        at = _SPACE.match(text, start + 1).end()  # type: ignore[union-attr]
        while text[at] == '"':
            key, after = _JSON.raw_decode(text, at)  # a string: it starts with a quote
            colon = _SPACE.match(text, after).end()  # type: ignore[union-attr]
            if key in data or text[colon] != ":":
                return False
            value_at = _SPACE.match(text, colon + 1).end()  # type: ignore[union-attr]
            data[key], end = _JSON.raw_decode(text, value_at)
            marks.append((key, at, value_at))
            at = _SPACE.match(text, end).end()  # type: ignore[union-attr]
            if text[at] != ",":
                break
            at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    except (ValueError, IndexError, RecursionError):  # _NotPlainJson is a ValueError
        return False
    if not marks or not text.startswith("}", at) or text[at + 1 :].strip(" \n"):
        return False
    # Nesting past the cap takes more brackets than the cap: most files are not walked at all.
    if text.count("{") + text.count("[") > MAX_DEPTH and _deeper(data, MAX_DEPTH - 1):
        return False
    doc.data = data
    doc.value_marks[()] = _position(text, start)
    for key, key_at, value_at in marks:
        doc.key_marks[(key,)] = _position(text, key_at)
        doc.value_marks[(key,)] = _position(text, value_at)
    return True


def _deeper(value: Any, levels: int) -> bool:
    """Whether `value` holds collections nested more than `levels` deep."""
    stack = [(value, levels)]
    while stack:
        item, left = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if left == 0:
                    return True
                stack.append((child, left - 1))
    return False


def _position(text: str, at: int) -> tuple[int, int]:
    """1-based line and column of the character at `at`."""
    return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)


def _not_utf8(file: str, raw: bytes, at: int) -> Problem:
    """The first byte that is not UTF-8, at its line and column (in characters, as an editor
    counts them: what precedes it decoded): a Latin-1 "é" deep in a comment, or a file saved
    as UTF-16, is found where it is."""
    line_start = raw.rfind(b"\n", 0, at) + 1
    line = raw.count(b"\n", 0, at) + 1
    col = len(raw[line_start:at].decode("utf-8")) + 1
    return Problem(file, line, col, f"byte 0x{raw[at]:02x} is not UTF-8: save the file as UTF-8")


def bounded_read(path: str | Path) -> bytes:
    """The file's bytes, at most one past the cap: a partners/x.yaml may be a device or a pipe
    (a link to /dev/zero is refused before, as it leads outside the folder; this holds anyway).
    A regular file is read at its own size (`read(cap)` allocates the whole cap first, which
    was a tenth of validating 10,000 files); anything else only up to the cap. By the file
    descriptor, with no file object around it: one read each way, and a file object cost as
    much as the reading."""
    fd = os.open(path, os.O_RDONLY)  # not inherited by children (PEP 446)
    try:
        info = os.fstat(fd)
        small = stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES
        wanted = info.st_size + 1 if small else MAX_FILE_BYTES + 1
        raw = os.read(fd, wanted)
        if len(raw) == wanted and small:  # it grew since: read on, still up to the cap
            raw += os.read(fd, MAX_FILE_BYTES + 1 - wanted)
        return raw
    finally:
        os.close(fd)


def every_position(doc: Doc) -> Doc:
    """The file read again keeping the position of every node. Only a file with a problem inside
    needs them, and keeping them costs a third of reading a valid one."""
    marked = Doc(doc.file, doc.text, MAX_DEPTH)
    _read(marked)
    return marked


def positions(file: str, paths: Iterable[PropertyPath]) -> dict[PropertyPath, tuple[int, int]]:
    """Where each property path of a valid policy file is written (its key, or that of its
    nearest written ancestor), read again keeping every position: only for the few files a
    report points into, since keeping them costs a third of reading a file."""
    wanted = list(paths)
    if not wanted:
        return {}
    doc = parse(file, [])
    marked = None if doc is None else every_position(doc)
    return {path: (1, 1) if marked is None else marked.position(path, on_key=True) for path in wanted}


def _read(doc: Doc) -> list[Problem]:
    """Fill `doc` from its text; the problems found in it."""
    if _as_block(doc):
        return []
    found: list[Problem] = []
    parser = CParser(doc.text)  # the bare parser: a loader's constructor and resolver go unused
    try:
        _Reader(doc, found).read(parser)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        tab = _tab_at(doc.text, line, col)
        if tab is not None:  # libyaml's words for it name no tab: "cannot start any token"
            found.append(Problem(doc.file, *tab, f"a tab at line {tab[0]} col {tab[1]}: {TAB_REFUSED}"))
            return found
        detail = " ".join(str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part)
        found.append(Problem(doc.file, line, col, f"YAML syntax error: {detail or exc}"))
    finally:
        parser.dispose()
    return found


def _tab_at(text: str, line: int, col: int) -> tuple[int, int] | None:
    """Where a syntax error at `line`:`col` is a tab in the indentation (libyaml stops at the tab
    itself), the tab's line and column; None for any other error."""
    lines = text.split("\n")
    if not 0 < line <= len(lines):
        return None
    written = lines[line - 1]
    if col <= len(written) and written[col - 1] == "\t":
        return line, col
    indent = written[: len(written) - len(written.lstrip(" \t"))]
    return (line, indent.index("\t") + 1) if "\t" in indent else None


# A line of the block-YAML subset `_as_block` reads, whole: its indent, a sequence dash (with the
# spaces after it), a plain key and its colon, a one-line value (single-quoted, double-quoted
# with no escape, or plain: no indicator first, no `: ` or ` #` inside), any comment. A blank or
# comment line matches only its indent (group 1).
_BLOCK_LINE = re.compile(
    r"( *)(-[ ]+)?(?:([A-Za-z_$][A-Za-z0-9_.$-]*):(?![^ ])[ ]*)?"
    r"(?:('(?:[^']|'')*')|(\"[^\"\\]*\")"
    r"|((?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|[-?:](?=[A-Za-z0-9_.]))(?:[^\s:#]++|:(?=\S)|(?<=\S)#|[ ]++(?=[^\s#]))*+))?"
    r"[ ]*(?:(?<![^ ])#.*)?"
)
# Characters libyaml reads as something else than text (breaks, a BOM) or refuses: left to it.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


class _NotBlock(Exception):
    """What the block-subset reading leaves to the YAML reader."""


def _as_block(doc: Doc) -> bool:
    """Fill `doc` from a file in the block-YAML subset policy files are written in (mappings and
    sequences by indentation, one-line plain or simply quoted scalars, comments), as the YAML
    reader would, with the same positions, without building libyaml's event objects in Python:
    they were most of reading a file. Anything outside the subset or unsure, valid or not (an
    anchor, a tag, a flow collection, a scalar over lines, a duplicate key, a key with no
    value), is left to the YAML reader (False), which finds every problem where it stands."""
    if "\t" in doc.text or "\r" in doc.text or _UNUSUAL.search(doc.text):
        return False
    try:
        data, key_marks, value_marks = _block(doc.text, doc.kept)
    except _NotBlock:
        return False
    doc.data, doc.key_marks, doc.value_marks = data, key_marks, value_marks
    return True


_Marks = dict[PropertyPath, tuple[int, int]]


def _block(text: str, kept: int) -> tuple[Any, _Marks, _Marks]:
    """The data and positions of `text`, read line by line; _NotBlock past the subset."""
    key_marks: _Marks = {}
    value_marks: _Marks = {}
    # Open collections, outermost first, each [indent, data, path, mark, pending key of a mapping
    # (its value is on the lines below)]; `closed` gets the root once it closes.
    stack: list[list[Any]] = []
    closed: list[Any] = []
    for number, line in enumerate(text.split("\n"), 1):
        parts = _line(line)
        if parts is None:  # blank, or a comment
            continue
        indent, dash, key, has_value, value, value_at = parts
        while stack and (
            stack[-1][0] > indent or (type(stack[-1][1]) is list and (not dash or stack[-1][0] != indent))
        ):
            _close(stack, closed, value_marks, kept)  # a sequence goes on only with a dash at its own indent
        if closed:
            raise _NotBlock  # a second node at the top
        if dash:
            top = stack[-1] if stack else None
            if top is None or type(top[1]) is not list:
                if top is None or top[4] is None or top[0] > indent:
                    raise _NotBlock
                _open(stack, indent, [], number, kept)
            indent += dash
            if key is None:
                items = stack[-1]
                if len(stack) <= kept:
                    value_marks[(*items[2], len(items[1]))] = (number, indent + 1)
                items[1].append(value)
                continue
            _open(stack, indent, {}, number, kept)
        elif key is None:
            raise _NotBlock
        elif not stack or (stack[-1][4] is not None and indent > stack[-1][0]):  # a mapping starts
            _open(stack, indent, {}, number, kept)
        elif stack[-1][4] is not None or stack[-1][0] != indent:
            raise _NotBlock
        top = stack[-1]
        if key in top[1]:
            raise _NotBlock
        kept_here = len(stack) <= kept
        if kept_here:
            key_marks[(*top[2], key)] = (number, indent + 1)
        if not has_value:
            top[4] = key
            continue
        top[1][key] = value
        if kept_here:
            value_marks[(*top[2], key)] = (number, value_at + 1)
    while stack:
        _close(stack, closed, value_marks, kept)
    if not closed:
        raise _NotBlock
    return closed[0], key_marks, value_marks


def _open(stack: list[list[Any]], indent: int, data: dict[str, Any] | list[Any], line: int, kept: int) -> None:
    """Open a collection at `indent`: the value of its parent's pending key, or its next item."""
    if len(stack) >= MAX_DEPTH:
        raise _NotBlock
    path: PropertyPath = ()
    if stack and len(stack) < kept:
        parent = stack[-1]
        path = (*parent[2], len(parent[1]) if type(parent[1]) is list else parent[4])
    stack.append([indent, data, path, (line, indent + 1), None])


def _close(
    stack: list[list[Any]], closed: list[Any], value_marks: dict[PropertyPath, tuple[int, int]], kept: int
) -> None:
    """Close the innermost collection: its parent's pending key's value, or its next item."""
    _, data, _, mark, pending = stack.pop()
    if pending is not None:  # a key with nothing under it: null, where libyaml says
        raise _NotBlock
    if not stack:
        closed.append(data)
        value_marks[()] = mark
        return
    parent = stack[-1]
    if type(parent[1]) is list:
        child = (*parent[2], len(parent[1]))
        parent[1].append(data)
    else:
        child = (*parent[2], parent[4])
        parent[1][parent[4]] = data
        parent[4] = None
    if len(stack) <= kept:
        value_marks[child] = mark


@functools.lru_cache(maxsize=8192)
def _line(line: str) -> tuple[int, int, str | None, bool, Any, int] | None:
    """One line of the block subset: its indent, the width of its dash and the spaces after it
    (0 for none), its key, whether a value follows on the line, the value and its column; None
    for a blank or comment line. Cached: most lines (`targetType: group`) recur in every file."""
    match = _BLOCK_LINE.fullmatch(line)
    if match is None:
        raise _NotBlock
    if match.lastindex == 1:
        return None
    _, dash, key, single, double, plain = match.groups()
    if key is not None and _plain(key)[0] != "str":
        raise _NotBlock
    if single is not None:
        value: Any = single[1:-1].replace("''", "'")
    elif double is not None:
        value = double[1:-1]
    elif plain is not None:
        tag, value = _plain(plain)
        if tag not in PLAIN_TAGS:
            raise _NotBlock
    elif key is None:
        raise _NotBlock  # an empty item, or one whose value is on the lines below
    else:
        return match.end(1), len(dash or ""), key, False, None, 0
    return match.end(1), len(dash or ""), key, True, value, match.start(match.lastindex or 0)


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

    def __init__(self, doc: Doc, problems: list[Problem]) -> None:
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


# The safe loader's resolver's table, by a plain scalar's first character ("" for an empty one):
# the types it may be, each with its pattern, tried in order; any other scalar is a string. Read
# here as the resolver reads it (`BaseResolver.resolve`), without its call per scalar, which cost
# more than the patterns (a GUID, unique to its file, misses every cache).
_IMPLICIT = {
    first: tuple(
        (str(tag).removeprefix(YAML_TAG), regexp.match)  # the pattern's own: ruamel wraps it lazily
        for tag, regexp in [*resolvers, *_RESOLVER.yaml_implicit_resolvers.get(None, [])]
    )
    for first, resolvers in _RESOLVER.yaml_implicit_resolvers.items()
    if first is not None
}


@functools.lru_cache(maxsize=4096)
def _plain(text: str) -> tuple[str, Any]:
    """The type YAML gives a plain scalar, and its value. Cached: the same few keys and values
    recur in every file."""
    for kind, matches in _IMPLICIT.get(text[:1], ()):
        if matches(text):
            return kind, _value(kind, text)
    return "str", text


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
