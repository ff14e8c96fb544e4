"""`xtap export`: the live tenant written as a policies/ folder that plans to zero changes.

A team adopting xtap already has its partners configured by hand, so the folder is made from
the tenant itself. Each file holds only what differs from what an absent property means (a
partner's "inherit", the default's documented system values, a template's unconfigured
state), in canonical form (`canonical.py`): that is exactly what the planner compares, so the
folder plans clean, and sorted target sets keep a re-export from churning.

Re-exporting over a folder edits it rather than replacing it: an instance keeps the file that
declares its key, a property whose file value already means the live one is left as written,
and only the properties that differ are changed, through ruamel's round-trip loader, so
hand-written comments and key order survive. Files that no longer match a live instance are
reported, never deleted: deleting policy is a decision for a person.
What varies by resource type comes from its registry entry, alike for every type: its file or
folder, its key kind (the key a file starts with, the block its nested types are written in),
what names its files (`named_by`) and why a service made an instance (`service_made`, marked
in a comment). The caller may add what Graph's name lookups found (`Found`): a name for the
files of instances `named_by` leaves unnamed, and a label each file carries in a comment.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from reconciler.check.builtin import BUILTIN
from reconciler.check.engine import Mark, effective_rules, evaluate, subjects
from reconciler.core.address import Address
from reconciler.core.canonical import canonical_property
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Live
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME, ResourceType
from reconciler.core.rules import ToolKey
from reconciler.policies.policy_file import TOOL_KEY

# Comment lines export owns: rewritten on every export, so they stay true (a partner that
# joins a multitenant organization gets its mark; one in a reset singleton's file goes once
# the file has settings). Every other comment is the author's and is kept.
SERVICE_MARK = "# Service-made: "
UNCONFIGURED_MARK = "# Unconfigured: "
MARKS = (SERVICE_MARK, UNCONFIGURED_MARK)
# The comment line that names the instance ("# Partner: Contoso Ltd (contoso.com)"), from the
# lookups. Export's too, but kept where it stands while it names what the lookup finds (even
# with `xtap add-partner`'s date after it), and kept as is when nothing was looked up: a
# token without the lookup permission must not strip the names an earlier run wrote.
NAME_MARK = "# Partner: "
FOUND_BY = ", found by xtap add-partner on "
# The editor's schema comment (docs/policies.md), which stays the first line where it is.
MODELINE = "# yaml-language-server:"
# A file name from a display name: short enough for any file system and a terminal line.
MAX_STEM = 60
ID_PREFIX = 8  # characters of the id that tell two instances of one name apart


class _Delete:
    """An edit that removes a property from a file: the tenant has nothing there to write."""


DELETE = _Delete()


@dataclass(frozen=True)
class Nested:
    """Edits inside a nested type's block (a partner's identitySynchronization), by instance id."""

    rtype: ResourceType
    edits: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ExportedFile:
    """One file export writes: where, and the text it must hold."""

    path: Path
    text: str
    before: str | None  # the file's text now; None for a new file


@dataclass
class WriteSummary:
    """What `write` did: the files it wrote, and how many already held their text."""

    written: list[Path] = field(default_factory=list)
    unchanged: int = 0


# The nested instances of one side (live wire bodies, or declared instances), by the instance
# that holds them, then by type name and id.
Held = Mapping[Address, Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class Sides:
    """What export works from: the live tenant and the folder as it stands, each with its
    nested instances by their holder (so a holder's are found without a scan)."""

    live: Live
    existing: Desired
    live_held: Held
    declared_held: Held

    @classmethod
    def of(cls, live: Live, existing: Desired) -> Sides:
        return cls(live, existing, _held(live.instances), _held(existing.instances))


def _held(instances: Mapping[Address, Any]) -> Held:
    held: dict[Address, dict[str, dict[str, Any]]] = {}
    for address, body in instances.items():
        parent = REGISTRY_BY_NAME[address.resource].parent_address(address.id)
        if parent is not None:
            held.setdefault(parent, {}).setdefault(address.resource, {})[address.id] = body
    return held


@dataclass(frozen=True)
class Found:
    """What the name lookups found for the instances export writes: `names`, a name for the
    file of an instance its `named_by` leaves unnamed; `labels`, the line each file's
    `NAME_MARK` comment says. Both are outside text made fit for a file by the caller."""

    names: Mapping[Address, str] = field(default_factory=dict)
    labels: Mapping[Address, str] = field(default_factory=dict)


class ExportRefused(Exception):
    """A file export would have to write through a symbolic link; nothing was written."""


def exported(rtype: ResourceType, wire: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a file must write for a live instance: those that differ from what their
    absence means, in canonical form.

    A property an absent value leaves alone is written only when it holds something: Graph
    reports a boolean nobody set as false (`isServiceProvider` on every partner a person
    made). Where Graph flags the instance as in its reset state (`reset_flag`), those values are
    the system's, which no file needs to declare: the file then declares the reset state."""
    body: dict[str, Any] = {}
    reset = rtype.reset_flag is not None and wire.get(rtype.reset_flag) is True
    for name in rtype.settings:
        value = canonical_property(rtype, name, wire.get(name))
        if name in rtype.unmanaged_when_absent:
            keep = bool(value) and not reset
        else:
            keep = value != canonical_property(rtype, name, None)
        if keep:
            body[name] = value
    return body


def document(rtype: ResourceType, resource_id: str, sides: Sides) -> dict[str, Any]:
    """A fresh file's content: the key first, then the settings, then nested resources."""
    key = rtype.key_kind.key_value(resource_id)
    content: dict[str, Any] = {rtype.key: key} if rtype.key else {}
    content.update(exported(rtype, sides.live.instances[Address(rtype.name, resource_id)]))
    for child, present in _nested(rtype, resource_id, sides.live_held):
        if present:
            content[child.nested_key or ""] = _block(child, present)
    return content


def _nested(rtype: ResourceType, resource_id: str, held: Held) -> Iterator[tuple[ResourceType, Mapping[str, Any]]]:
    """Each nested type of `rtype` with the instances one of its instances holds, by id."""
    holds = held.get(Address(rtype.name, resource_id), {})
    for child in (REGISTRY_BY_NAME[name] for name in rtype.children):
        yield child, holds.get(child.name, {})


def _block(child: ResourceType, present: Mapping[str, dict[str, Any]]) -> Any:
    return child.key_kind.block({child_id: exported(child, wire) for child_id, wire in present.items()})


def edits(rtype: ResourceType, resource_id: str, sides: Sides) -> dict[str, Any]:
    """What must change in a file that already declares the instance, by top-level key: a new
    value, `DELETE`, or `Nested` edits. Empty when the file already says what the tenant holds.
    A nested block whose instances are not the live ones is written anew; one of a type that was
    not read is left as written, since nothing says what the tenant holds there."""
    address = Address(rtype.name, resource_id)
    changes = _property_edits(rtype, sides.existing.instances[address].written, sides.live.instances[address])
    declared_held = dict(_nested(rtype, resource_id, sides.declared_held))
    for child, present in _nested(rtype, resource_id, sides.live_held):
        if child.name not in sides.live.read:
            continue  # not read (the token may not): the file's block stays as written
        key, declared = child.nested_key or "", declared_held[child]
        if declared.keys() != present.keys():
            changes[key] = _block(child, present) if present else DELETE
            continue
        inner = {
            child_id: found
            for child_id, wire in present.items()
            if (found := _property_edits(child, declared[child_id].written, wire))
        }
        if inner:
            changes[key] = Nested(child, inner)
    return changes


# The instances a file declares, by the top-level instance whose file it is: what a mark answers.
Marks = Mapping[Address, tuple[Mark, ...]]


def marks(live: Live, existing: Desired, today: date | None = None) -> Marks:
    """The marks each exported file must carry so that the folder passes `xtap check` where the
    tenant already does what a rule asks a file to mark: the check engine judges the folder as
    export will leave it, and each failing finding whose rule a mark answers (`Rule.mark`) marks
    the file of the instance it is about. A mark is set only where it clears the finding (the
    folder is judged again with it) and never over a value the file already writes for it: that
    is a person's decision, which the check then reports. Settings are never changed to pass."""
    rules = [rule for rule in effective_rules(BUILTIN, existing.rules)[0] if rule.own is None and rule.mark]
    day = today or datetime.now(UTC).date()
    after = _exported_state(live, existing)
    wanted: dict[Address, dict[str, Mark]] = {}
    for finding in evaluate(rules, subjects(after), day):
        mark, top = finding.rule.mark, _top(finding.subject.address)
        tool = after.instances[top].tool if top in after.instances else ToolKey()
        if finding.fails and mark is not None and mark.member not in tool.model_fields_set:
            wanted.setdefault(top, {})[finding.rule.id] = mark
    marked = _exported_state(live, existing, wanted)
    still = {(_top(found.subject.address), found.rule.id) for found in evaluate(rules, subjects(marked), day)}
    return {
        top: tuple(mark for rule_id, mark in sorted(by_rule.items()) if (top, rule_id) not in still)
        for top, by_rule in wanted.items()
    }


def _top(address: Address) -> Address:
    """The top-level instance whose file declares `address` (itself, or the parent of a nested one)."""
    while (parent := REGISTRY_BY_NAME[address.resource].parent_address(address.id)) is not None:
        address = parent
    return address


def _exported_state(
    live: Live, existing: Desired, marked: Mapping[Address, Mapping[str, Mark]] | None = None
) -> Desired:
    """The folder as export leaves it, for the check engine: each live instance of a type that
    was read as its file will write it, with its file's `xtap:` key (and `marked`'s marks); the
    rest as the folder declares it (blocks of a type not read, files of instances gone)."""

    def tool(top: Address) -> ToolKey:
        declared = existing.instances.get(top)
        base = declared.tool if declared is not None else ToolKey()
        members = {mark.member: True for mark in (marked or {}).get(top, {}).values()}
        return base.model_copy(update=members) if members else base

    instances: dict[Address, DesiredInstance] = {
        address: DesiredInstance(item.written, item.source, tool(_top(address)), item.holds)
        for address, item in existing.instances.items()
        if address.resource not in live.read or _top(address) not in live.instances
    }
    for address, wire in live.instances.items():
        declared = existing.instances.get(address)
        source = declared.source if declared is not None else ""
        instances[address] = DesiredInstance(
            exported(REGISTRY_BY_NAME[address.resource], wire), source, tool(_top(address))
        )
    return Desired(instances=instances, rules=existing.rules)


def _property_edits(rtype: ResourceType, written: Mapping[str, Any], wire: Mapping[str, Any]) -> dict[str, Any]:
    """A property the file writes with a value that means the live one is left as written (its
    spelling, order and comments are the author's); the others become what a fresh export
    writes, or go."""
    body = exported(rtype, wire)
    changes: dict[str, Any] = {}
    for name in rtype.settings:
        live_form = canonical_property(rtype, name, wire.get(name))
        if name in written and canonical_property(rtype, name, written[name]) == live_form:
            continue
        if name in body:
            changes[name] = body[name]
        elif name in written:
            changes[name] = DELETE
    return changes


def _apply(rtype: ResourceType, content: CommentedMap, changes: Mapping[str, Any]) -> None:
    for name, change in changes.items():
        if change is DELETE:
            _delete(content, name)
        elif isinstance(change, Nested):
            for child_id, inner in change.edits.items():
                _apply(change.rtype, change.rtype.key_kind.located(content[name], child_id), inner)
        else:
            _merge(rtype, content, name, change)


def _merge(rtype: ResourceType, content: CommentedMap, name: str, value: Any) -> None:
    """Set `content[name]` to `value`, a mapping member by member: ruamel keeps a comment with
    the node it follows, so replacing a whole mapping would drop the comments inside it. A new
    member goes in right after the mapping's last one, and a replaced value keeps the comment
    lines that followed the old one (`_put`)."""
    current = content.get(name)
    if not (isinstance(current, CommentedMap) and isinstance(value, dict)):
        _put(content, name, value)
        return
    for member in [member for member in current if member not in value]:
        _delete(current, member)
    for member, inner in value.items():
        if member not in current or _differs(rtype, member, current[member], inner):
            _merge(rtype, current, member, inner)


def _differs(rtype: ResourceType, name: str, written: Any, value: Any) -> bool:
    return canonical_property(rtype, name, written) != canonical_property(rtype, name, value)


def _put(content: CommentedMap, name: str, value: Any, position: int | None = None, eol: str | None = None) -> None:
    """Set `content[name]`, keeping the file's comment lines where they stand. ruamel hangs the
    blank and comment lines after an entry on its last, deepest member: a new entry appended
    (or inserted at `position`) after that one would land below lines that belong to the next
    block or to the end of the file, and a replaced value would take them with it. So those
    lines move to the end of the entry set here, and the entry before keeps its own line's
    comment. `eol`: a comment for the new entry's own line."""
    if name in content:
        tail = _take_tail(content, name)
        content[name] = _commented(value)
    else:
        keys = list(content)
        at = len(keys) if position is None else position
        tail = _take_tail(content, keys[at - 1]) if at else ""
        content.insert(at, name, _commented(value))
    if eol is not None:
        _eol(content, name, eol)
    _give_tail(content, name, tail)


def _eol(content: CommentedMap, name: str, comment: str) -> None:
    """`comment` on the line of `content[name]`, a scalar, two spaces after its value (ruamel's
    own helper aligns it with its neighbours' comments, or not, as they happen to stand)."""
    content.ca.items.setdefault(name, [None] * 4)[2] = CommentToken(f" # {comment}", CommentMark(0), None)


def _commented(value: Any) -> Any:
    """`value` in ruamel's round-trip types, which can carry the comment lines `_put` moves."""
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        return CommentedMap((key, _commented(member)) for key, member in value.items())
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        return CommentedSeq(_commented(item) for item in value)
    return value


def _slot(node: Any, key: Any) -> tuple[Any, Any]:
    """The entry that holds the comment lines after `node[key]`: its last, deepest member, or
    the entry itself when its value is a scalar or an empty collection."""
    while isinstance(value := node[key], (CommentedMap, CommentedSeq)) and value:
        node, key = value, (list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1)
    return node, key


def _token_index(node: Any) -> int:
    """Where ruamel keeps the comment after an entry: a mapping's value, a sequence's item."""
    return 2 if isinstance(node, CommentedMap) else 0


def _take_tail(content: Any, key: Any) -> str:
    """Remove and return the lines after `content[key]`'s own line (blank and comment lines),
    leaving the comment on that line where it is."""
    node, slot = _slot(content, key)
    entry = node.ca.items.get(slot)
    index = _token_index(node)
    token = entry[index] if entry and len(entry) > index else None
    if token is None:
        return ""
    own, _, tail = token.value.partition("\n")
    if own.strip():
        token.value = own + "\n"
    else:
        entry[index] = None
    return tail


def _give_tail(content: Any, key: Any, tail: str) -> None:
    """Put `tail`, lines taken by `_take_tail`, after `content[key]` and whatever it holds."""
    if not tail:
        return
    node, slot = _slot(content, key)
    index = _token_index(node)
    entry = node.ca.items.setdefault(slot, [None] * 4)
    token = entry[index]
    if token is None:
        entry[index] = CommentToken("\n" + tail, CommentMark(0), None)
    else:
        token.value = token.value.rstrip("\n") + "\n" + tail


def _delete(content: CommentedMap, name: str) -> None:
    """Remove a key, handing the lines that follow its own line (blank and comment lines) to the
    entry before it: they are about what comes next, and would go with the key. A comment on
    the key's own line is about the key, and goes with it."""
    keys = list(content)
    tail = _take_tail(content, name)
    content.ca.items.pop(name, None)
    del content[name]
    position = keys.index(name)
    if position:
        _give_tail(content, keys[position - 1], tail)


def slug(name: str) -> str:
    """A file stem a person finds by the instance's name: lower-case ASCII letters, digits and
    dashes (accents dropped, so "Contoso Bücher" is `contoso-bucher`); empty if nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_STEM].rstrip("-")


def instance_paths(names: Mapping[str, str | None], declared: Mapping[str, Path], folder: Path) -> dict[str, Path]:
    """Each live instance's file in its type's folder. One a file already declares keeps that
    file, so names are stable across exports. A new one is named from its name (`named_by`),
    else its id; a name two new instances share, or one a file already has, gets a short id
    suffix, so no instance gets the plain name by the accident of order."""
    taken = {path.name.lower() for path in folder.iterdir()} if folder.is_dir() else set()
    fresh = sorted(resource_id for resource_id in names if resource_id not in declared)
    stems = {resource_id: slug(names[resource_id] or "") or resource_id for resource_id in fresh}
    shared = {stem for stem, count in Counter(stems.values()).items() if count > 1}
    paths = dict(declared)
    for resource_id in fresh:
        stem = stems[resource_id]
        candidates = [f"{stem}-{resource_id[:ID_PREFIX]}", resource_id]
        if stem not in shared:
            candidates.insert(0, stem)
        free = (name for name in _numbered(candidates) if f"{name}.yaml" not in taken)
        name = next(free)
        taken.add(f"{name}.yaml")
        paths[resource_id] = folder / f"{name}.yaml"
    return paths


def _numbered(candidates: list[str]) -> Iterator[str]:
    """The candidates, then the last one numbered: stray files may hold any name."""
    yield from candidates
    number = 2
    while True:
        yield f"{candidates[-1]}-{number}"
        number += 1


def _yaml() -> YAML:
    """Round-trip YAML, indented like the policies in the docs, with no line folding."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def _dump(yaml: YAML, content: Mapping[str, Any]) -> str:
    stream = io.StringIO()
    yaml.dump(content, stream)
    return stream.getvalue()


def _comments(text: str | None) -> str:
    """A file's comment lines: all a file with no mapping keeps (ruamel has nothing to attach
    them to)."""
    return "".join(line for line in (text or "").splitlines(keepends=True) if line.lstrip().startswith("#"))


def _marked(text: str, marks: list[str], label: str | None) -> str:
    """`text` with export's own comment lines replaced by `marks`, at the top (below the
    modeline, which editors look for first, and the name line). The name line (`NAME_MARK`) is
    rewritten only when `label` is known and the line does not already say it; it stays where
    it stands otherwise, so a re-export changes nothing."""
    named = None if label is None else f"{NAME_MARK}{label}"
    kept: list[str] = []
    has_name = False
    for line in text.splitlines(keepends=True):
        if line.startswith(MARKS):
            continue
        if named is not None and line.startswith(NAME_MARK):
            said = line.rstrip("\n")
            if not has_name and (said == named or said.startswith(named + FOUND_BY)):
                has_name = True
                kept.append(line)
            continue
        kept.append(line)
    lines = [f"{mark}\n" for mark in ([named] if named is not None and not has_name else []) + marks]
    head = 0
    while head < len(kept) and kept[head].startswith((MODELINE, NAME_MARK)):
        head += 1
    return "".join(kept[:head] + lines + kept[head:])


def _marks(rtype: ResourceType, wire: Mapping[str, Any], unconfigured: bool) -> list[str]:
    marks = []
    reason = None if rtype.service_made is None else rtype.service_made(wire)
    if reason is not None:
        marks.append(f"{SERVICE_MARK}{reason}; prune (xtap.yaml) spares it.")
    if unconfigured:
        marks.append(
            f"{UNCONFIGURED_MARK}no settings here, so this file declares the state {rtype.reset_action} "
            f"leaves the {rtype.name} in; a plan resets the tenant's when it differs."
        )
    return marks


def exported_file(
    yaml: YAML,
    rtype: ResourceType,
    resource_id: str,
    path: Path,
    sides: Sides,
    label: str | None = None,
    marked: tuple[Mark, ...] = (),
) -> ExportedFile:
    """The text `path` must hold: a fresh file, or the existing one with only what differs
    changed (not even reformatted when nothing does); with `marked`'s marks under `xtap:`."""
    address = Address(rtype.name, resource_id)
    before = path.read_text(encoding="utf-8") if address in sides.existing.instances else None
    if before is None:
        content = _commented(document(rtype, resource_id, sides))
        _mark(rtype, content, marked)
        text = _dump(yaml, content) if content else ""
    else:
        text = _edited(yaml, rtype, before, edits(rtype, resource_id, sides), marked)
    unconfigured = rtype.reset_action is not None and not _has_mapping(text)
    marks = _marks(rtype, sides.live.instances[address], unconfigured)
    return ExportedFile(path, _marked(text, marks, label), before)


def _edited(yaml: YAML, rtype: ResourceType, before: str, changes: Mapping[str, Any], marked: tuple[Mark, ...]) -> str:
    if not changes and not marked:
        return before
    loaded = yaml.load(before)  # safe: `load` has bounded and validated this very file
    if isinstance(loaded, CommentedMap):
        _apply(rtype, loaded, changes)
        _mark(rtype, loaded, marked)
        return _dump(yaml, loaded) if loaded else _comments(before)
    content = CommentedMap()  # a singleton's file with only comments, which ruamel drops
    _apply(rtype, content, changes)
    _mark(rtype, content, marked)
    return _comments(before) + _dump(yaml, content)


def _mark(rtype: ResourceType, content: CommentedMap, marked: tuple[Mark, ...]) -> None:
    """Set each mark under the file's `xtap:` key, with why beside it: in the key's block if the
    file has one, else in a new one right after the instance's key (where the example files
    have it), or first in a singleton's file."""
    if not marked:
        return
    tool = content.get(TOOL_KEY)
    if isinstance(tool, CommentedMap):
        for mark in marked:
            _put(tool, mark.member, True, eol=mark.why)
        return
    block = CommentedMap()
    for mark in marked:
        block[mark.member] = True
        _eol(block, mark.member, mark.why)
    _put(content, TOOL_KEY, block, position=1 if rtype.key is not None and rtype.key in content else 0)


def _has_mapping(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def targets(
    live: Live, existing: Desired, folder: Path, found_names: Found | None = None
) -> tuple[list[ExportedFile], list[tuple[str, str]]]:
    """Every file to write, and the files that declare an instance the tenant no longer has.
    `found_names`: what the lookups found, for file names and the name comment."""
    looked_up = found_names or Found()
    yaml = _yaml()
    sides = Sides.of(live, existing)
    to_mark = marks(live, existing)
    found: list[ExportedFile] = []
    stale: list[tuple[str, str]] = []
    for rtype in REGISTRY:
        if rtype.parents or rtype.name not in live.read:
            continue  # nested resources live in their parent's file; unread types stay as they are
        if rtype.singleton_id is not None:
            address = Address(rtype.name, rtype.singleton_id)
            path = folder / (rtype.file or "")
            found.append(exported_file(yaml, rtype, rtype.singleton_id, path, sides, None, to_mark.get(address, ())))
            continue
        declared = {address.id: _file(item.source) for address, item in existing.of(rtype.name).items()}
        names = {address.id: _name(rtype, address, live, looked_up) for address in live.of(rtype.name)}
        paths = instance_paths(names, declared, folder / (rtype.folder or ""))
        for each in sorted(names):
            address = Address(rtype.name, each)
            label, marked = looked_up.labels.get(address), to_mark.get(address, ())
            found.append(exported_file(yaml, rtype, each, paths[each], sides, label, marked))
        stale.extend((str(path), each) for each, path in sorted(declared.items()) if each not in names)
    return found, stale


def _name(rtype: ResourceType, address: Address, live: Live, looked_up: Found) -> str | None:
    """The name of the instance's file: the one this tenant gave it (`named_by`: a partner's is
    its identity sync's displayName, which an admin here chose, so it comes first and today's
    file names stay), else the one the lookups found (a partner tenant's own displayName)."""
    if rtype.named_by is not None:
        holder, prop = rtype.named_by
        name = live.instances.get(Address(holder, address.id), {}).get(prop)
        if isinstance(name, str) and name.strip():
            return name
    return looked_up.names.get(address)


def _file(source: str) -> Path:
    """The file of a `file:line` source."""
    return Path(source.rsplit(":", 1)[0])


def write(folder: Path, found: list[ExportedFile]) -> WriteSummary:
    """Write what changed, each file atomically (a reader sees the old file or the new one,
    never half). Nothing goes through a symbolic link: a link in the folder could point
    anywhere, so every path is checked first and any link refuses the whole export."""
    links = [str(path) for path in _written_paths(folder, found) if path.is_symlink()]
    if links:
        raise ExportRefused(f"{', '.join(links)}: symbolic link(s); xtap export writes no file through a link")
    outcome = WriteSummary()
    for item in found:
        if item.text == item.before:
            outcome.unchanged += 1
            continue
        item.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(item.path, item.text)
        outcome.written.append(item.path)
    return outcome


def _written_paths(folder: Path, found: list[ExportedFile]) -> Iterator[Path]:
    yield from (folder / rtype.folder for rtype in REGISTRY if rtype.folder is not None)
    yield from (item.path for item in found if item.text != item.before)


def write_atomically(path: Path, text: str, exclusive: bool = False) -> None:
    """`text` into `path` through a new file renamed over it: a reader sees the old file or
    the new one, never half; with the umask's permissions, not mkstemp's 0600. `exclusive`:
    never over a file that exists (FileExistsError), even one made a moment ago."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from the team
        if exclusive:
            os.link(temporary, path)  # fails if the name is taken; a rename would replace it
            Path(temporary).unlink()
        else:
            os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
