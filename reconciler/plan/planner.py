"""Desired + live → Plan. Pure: no I/O, so every rule here is tested without a tenant.

For each resource type of the registry, in its order (a parent before its children), both
sides are put in canonical form (`canonical`) and compared (deepdiff names the leaves that
differ), and each instance that differs becomes one Change: a create holding the file's
properties, one minimal PATCH holding only the changed top-level properties (each with its
whole desired value: nested PATCH semantics are undocumented, and a whole
value is right either way), a reset when a file declares the unconfigured state, or a delete
when a nested resource leaves its parent's file. With `prune` in xtap.yaml, a live top-level
instance no file declares is deleted too, unless a guard spares it (xtap.yaml protects it, or
its type's `service_made` hook says a service made it), after its nested resources' deletes;
a prune over its limit is a plan error. What varies by type is read from its registry entry,
alike for every type; `actions` turns each change into its Graph requests.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _string  # type: ignore[attr-defined]
from typing import Any

from reconciler.core.address import Address
from reconciler.core.canonical import absent_value, canonical, canonical_property, compared, is_compared_member
from reconciler.core.desired import Desired, DesiredInstance, Prune
from reconciler.core.live import Live
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME, ResourceType
from reconciler.core.request import Request
from reconciler.plan import actions
from reconciler.plan.model import Action, Change, DiffEntry, Plan, PlanError, PolicySetting, Unmanaged
from reconciler.plan.settings import stated


@dataclass(frozen=True)
class Forms:
    """Work done ahead of the compare, while Graph was still being read (`ahead.py`), by
    address: each live instance's line for the digest (`live_line`), and the changes of the
    instances both declared and live whose change was made. The compare does whatever is
    missing, so the plan is the same with any of them or none."""

    live_lines: Mapping[Address, bytes] = field(default_factory=dict)  # `live_line` of each live form
    # `instance_change` of each instance declared and live whose change was made.
    changes: Mapping[Address, tuple[Change | None, tuple[PlanError, ...]]] = field(default_factory=dict)
    # `settings.stated` of the desired state, which depends on the files alone.
    settings: tuple[PolicySetting, ...] | None = None


def live_form(address: Address, wire: dict[str, Any]) -> dict[str, Any]:
    return canonical(REGISTRY_BY_NAME[address.resource], wire)


def live_line(address: Address, form: dict[str, Any]) -> bytes:
    """A live form as the live digest writes it (`_digest`): its address as a key, then its text."""
    return f"{_key(address)}: {json.dumps(form, sort_keys=True)}".encode()


def line_form(address: Address, line: bytes) -> dict[str, Any]:
    """The live form a `live_line` holds, parsed back by JSON's C parser: a tenth of making it
    again, in another order of members (its keys sorted)."""
    form: dict[str, Any] = json.loads(line[len(_key(address)) + 2 :])
    return form


def _key(address: Address) -> str:
    """An address as the digest's key: spelled once, escaped as `json.dumps` escapes a string."""
    return _string(str(address))  # type: ignore[no-any-return]


def desired_form(address: Address, want: DesiredInstance) -> dict[str, Any]:
    """The compared form of a declared instance: exactly the settings its file manages."""
    rtype, written = REGISTRY_BY_NAME[address.resource], want.written  # unpacked once (`DesiredInstance`)
    return canonical(rtype, written, compared(rtype, written))


def instance_change(
    address: Address,
    want: DesiredInstance,
    after: dict[str, Any],
    wire: dict[str, Any] | None,
    before: dict[str, Any] | None,
) -> tuple[Change | None, tuple[PlanError, ...]]:
    """The change a declared instance needs (None: none) and its errors, from its compared form
    `after` and its live `wire` and form `before` (None: not live)."""
    errors: list[PlanError] = []
    change = _change(REGISTRY_BY_NAME[address.resource], address, want, after, wire, before, errors)
    return change, tuple(errors)


# The change of a declared instance that needs none, shared by all of them.
NO_CHANGE: tuple[Change | None, tuple[PlanError, ...]] = (None, ())


def make_plan(desired: Desired, live: Live, ahead: Forms | None = None) -> Plan:
    """The plan. A live instance is unpacked and put in canonical form only where the compare
    needs it and `ahead` has not done it: a leftover, or a declared one whose change is not
    known yet; the form is dropped once its change is made, so the compare never holds every
    form at once (at 10,000 partners, about 1 KB a partner)."""
    ahead = ahead or Forms()
    changes: list[Change] = []
    errors: list[PlanError] = []
    unmanaged: list[Unmanaged] = []
    created: set[Address] = set()  # looked up per nested change: a scan of `changes` is quadratic
    pruned: dict[Address, Change] = {}  # deletes of whole unmanaged instances: after their children's
    present = live.instances
    read: dict[str, list[Address]] = {}  # each type's live addresses, in one pass over them all
    for address in present:
        read.setdefault(address.resource, []).append(address)
    declared: dict[str, dict[Address, DesiredInstance]] = {}  # and its declared instances, so too
    for address, instance in desired.instances.items():
        declared.setdefault(address.resource, {})[address] = instance
    for rtype in REGISTRY:
        if rtype.name in live.skipped:  # not read: nothing is known to compare with
            continue
        wanted = declared.get(rtype.name, {})
        # Those `ahead` settled as needing nothing are left out before sorting: most of them.
        settled, both = ahead.changes, wanted.keys() | set(read.get(rtype.name, ()))
        for address in sorted(address for address in both if settled.get(address) is not NO_CHANGE):
            want = wanted.get(address)
            if want is None:
                held = present[address]
                leftover = _Leftover(address, held, live_form(address, held))
                change = _leftover(rtype, leftover, desired, unmanaged, pruned, errors)
            else:
                known = ahead.changes.get(address)
                if known is None:
                    known = _declared_change(ahead, address, want, present.get(address))
                change, found = known
                errors.extend(found)
            if change is None:
                continue
            if change.action == "delete" and not rtype.parents:
                pruned[address] = change
                continue
            changes.append(_after_parent(change, rtype, created))
            if change.action == "create":
                created.add(change.address)
    children = _deleted_children(changes)
    changes += [replace(change, depends_on=tuple(children.get(address, ()))) for address, change in pruned.items()]
    if desired.prune is not None:
        errors += _prune_refusals(desired.prune, pruned.values(), live)
    return Plan(
        changes=tuple(changes),
        unmanaged=tuple(unmanaged),
        errors=tuple(errors),
        live_digest=_digest(live, ahead),
        scope=live.read,
        inherited=inherited(desired, live.instances),
        settings=stated(desired) if ahead.settings is None else ahead.settings,
        skipped=live.skipped,
    )


def _declared_change(
    ahead: Forms, address: Address, want: DesiredInstance, wire: dict[str, Any] | None
) -> tuple[Change | None, tuple[PlanError, ...]]:
    """A declared instance's change, where `Ahead` did not make it: the last page's, and any it
    had not paired with its file yet. Most need none, and `Ahead` left the text of their live
    form: parsed back by JSON's C parser, a tenth of making the form again, it says whether
    anything differs (the same values; only the order of members may differ). Where something
    does, the change is made from the form itself, so its diff shows the values in the form's
    own order."""
    after = desired_form(address, want)
    line = None if wire is None else ahead.live_lines.get(address)
    if line is not None:
        settled = instance_change(address, want, after, wire, line_form(address, line))
        if settled == NO_CHANGE:
            return settled
    before = None if wire is None else live_form(address, wire)
    return instance_change(address, want, after, wire, before)


@dataclass(frozen=True)
class _Leftover:
    """A live instance no file declares: its address, wire form and canonical form."""

    address: Address
    wire: dict[str, Any]
    before: dict[str, Any]


def _leftover(
    rtype: ResourceType,
    leftover: _Leftover,
    desired: Desired,
    unmanaged: list[Unmanaged],
    pruned: Mapping[Address, Change],
    errors: list[PlanError],
) -> Change | None:
    """A live instance no file declares. A top-level one is unmanaged and never touched, unless
    xtap.yaml prunes and nothing spares it; a nested one whose parent's file is managed was
    removed from that file, so it is deleted (the file is the whole truth for its parent; for a
    type whose absent block leaves it alone, where the file writes the block), or it is a plan
    error where Graph has no delete for it; so is one whose parent is pruned. A singleton is
    always there and not managed."""
    address = leftover.address
    if rtype.singleton_id is not None:
        return None
    parent_address = rtype.parent_address(address.id)
    if parent_address is None:
        prune = desired.prune
        spared = None if prune is None else _spared(rtype, prune, address.id, leftover.wire)
        if prune is None or spared is not None:
            unmanaged.append(Unmanaged(rtype.name, address.id, spared))
            return None
        return _delete(rtype, leftover, prune.source)
    parent = desired.instances.get(parent_address)
    if parent is not None and rtype.absent_block_unmanaged and rtype.name not in parent.holds:
        return None  # its parent's file leaves this type alone
    if parent is not None:
        source = parent.holds.get(rtype.name, parent.source)  # its block's line, where written
        if parent_address.resource in rtype.no_delete_under:
            why = rtype.no_delete_under[parent_address.resource]
            message = f"it is in the tenant but not in {rtype.nested_key} of {parent.file}, and {why}"
            errors.append(PlanError(rtype.name, address.id, source, message))
            return None
        return _delete(rtype, leftover, source)
    if parent_address in pruned and desired.prune is not None:
        return _delete(rtype, leftover, desired.prune.source)
    return None  # part of an unmanaged instance


def _delete(rtype: ResourceType, leftover: _Leftover, source: str) -> Change:
    """A delete shows every value that goes with the instance, so a reviewer sees what is lost."""
    diff = tuple(DiffEntry(name, value, None) for name, value in leftover.before.items() if value is not None)
    address = leftover.address
    return _make(rtype, address, "delete", source, diff, actions.delete(rtype, address.id))


def _spared(rtype: ResourceType, prune: Prune, resource_id: str, wire: dict[str, Any]) -> str | None:
    """Why prune must leave this unmanaged instance alone, or None to delete it: xtap.yaml
    protects it, or its type's hook says a service made it. One whose `never_pruned_flag` is set
    (an MTO member) is never deleted, even when listed in pruneServiceMade; other service-made
    ones go only when xtap.yaml names them."""
    if resource_id in prune.protected:
        return "protected in xtap.yaml"
    made = None if rtype.service_made is None else rtype.service_made(wire)
    if made is None:
        return None
    if rtype.never_pruned_flag is not None and wire.get(rtype.never_pruned_flag) is True:
        return f"{made}; prune never deletes one"
    if resource_id in prune.service_made:
        return None
    return f"{made}; list it under pruneServiceMade in xtap.yaml to prune it"


def _deleted_children(changes: Iterable[Change]) -> dict[Address, list[Address]]:
    """The nested deletes by the instance that holds them, in plan order: a pruned instance's
    delete waits for them (Graph refuses to delete a partner that still has an identity sync:
    https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-delete)."""
    children: dict[Address, list[Address]] = {}
    for change in changes:
        parent = REGISTRY_BY_NAME[change.resource].parent_address(change.id) if change.action == "delete" else None
        if parent is not None:
            children.setdefault(parent, []).append(change.address)
    return children


def _prune_refusals(prune: Prune, pruned: Iterable[Change], live: Live) -> Iterator[PlanError]:
    """One error per type whose prune deletes too many. Every instance prune may delete (all the
    live ones but those it spares) is what a wrong --policies folder or an emptied one asks
    for: counted against the whole, a few spared GDAP partners would let such a prune through.
    Short of that, more than `prune.limit` of the live instances is too many as well. The
    deletes stay in the plan, so a reviewer sees what was asked; the error stops apply."""
    for resource, count in Counter(change.resource for change in pruned).items():
        present = live.of(resource)
        total = len(present)
        rtype = REGISTRY_BY_NAME[resource]
        spared = sum(1 for address, wire in present.items() if _spared(rtype, prune, address.id, wire) is not None)
        allowed = int(Decimal(str(prune.limit)) * total)
        if count >= total - spared:
            but = f" but the {spared} it spares (protected, MTO members, service-made)" if spared else " of them"
            why = (
                f"every one{but}. pruneLimit does not change that; nothing is applied. Add files for the "
                f"{resource}s to keep, or list them under protected in xtap.yaml; to delete them all, "
                "delete them in the admin center."
            )
        elif count > allowed:
            why = (
                f"more than pruneLimit {prune.limit:g} allows ({allowed}); nothing is applied. Add files for the "
                f"{resource}s to keep, list them under protected, or raise pruneLimit in xtap.yaml."
            )
        else:
            continue
        message = f"prune would delete {count} of the {total} live {resource}s: {why}"
        yield PlanError(resource, "", prune.source, message)


def _change(
    rtype: ResourceType,
    address: Address,
    want: DesiredInstance,
    after: dict[str, Any],
    wire: dict[str, Any] | None,
    before: dict[str, Any] | None,
    errors: list[PlanError],
) -> Change | None:
    """`want`'s change, if any; `after` is its compared form (`desired_form`: its members are
    the settings the file manages), `before` the live one (`live_form` of `wire`). What the file
    writes is unpacked only for a change: most instances need none."""
    if wire is None or before is None:  # both or neither: `before` is `wire` in canonical form
        if rtype.create_method is None:  # a singleton is always there: compare with "unset"
            wire, before = {}, canonical(rtype, {})
        else:
            written = want.written
            diff = tuple(DiffEntry(name, None, value) for name, value in written.items() if name != rtype.key)
            return _make(rtype, address, "create", want.source, diff, actions.create(rtype, address.id, written))
    diff, changed = _compare(rtype, before, after, tuple(after))
    conflicts = [entry for entry in diff if entry.path in rtype.create_only]
    if conflicts:
        errors.extend(_create_only_error(rtype, address, want.source, entry) for entry in conflicts)
        return None
    if not changed:
        return None
    written = want.written
    # A file that writes nothing but a nested block (default.yaml with only m365Capabilities)
    # declares its settings by PATCH: a reset may take the block's instances with it.
    if rtype.reset_action is not None and not written and not want.holds:
        return _make(rtype, address, "reset", want.source, diff, actions.reset(rtype, address.id))
    body = _patch_body(rtype, written, wire, changed)
    return _make(rtype, address, "update", want.source, diff, actions.update(rtype, address.id, body, written))


def _make(
    rtype: ResourceType,
    address: Address,
    action: Action,
    source: str,
    diff: tuple[DiffEntry, ...],
    reqs: tuple[Request, ...],
) -> Change:
    return Change(rtype.name, address.id, action, source, diff, reqs)


def _after_parent(change: Change, rtype: ResourceType, created: set[Address]) -> Change:
    """A nested resource's change waits for its parent's create in the same plan."""
    parent = rtype.parent_address(change.id)
    if parent is not None and parent in created:
        return replace(change, depends_on=(parent,))
    return change


def _create_only_error(rtype: ResourceType, address: Address, source: str, entry: DiffEntry) -> PlanError:
    name, was, wants = entry.path, json.dumps(entry.before), json.dumps(entry.after)
    return PlanError(
        rtype.name,
        address.id,
        source,
        f"{name} is {was} in the tenant but {wants} in the file. Graph sets {name} only when a "
        f"{rtype.name} is created, and xtap never deletes and re-creates one silently: change the file "
        "back (or leave the property out, so xtap leaves it alone), or delete it in the admin center and "
        "let xtap create it again.",
    )


# Each type whose nulls inherit another's values, with the address of the one they inherit from
# (what a type inherits from is a singleton: the default).
INHERITING = tuple(
    (rtype, Address(rtype.inherits_from, REGISTRY_BY_NAME[rtype.inherits_from].singleton_id or ""))
    for rtype in REGISTRY
    if rtype.inherits_from is not None
)


def inherited(desired: Desired, live: Mapping[Address, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What a null setting of each inheriting type means: its source's value, as declared in
    policies/ when managed there, else as read (`live`: the live instances, those sources among them)."""
    found: dict[str, dict[str, Any]] = {}
    for rtype, address in INHERITING:
        source = REGISTRY_BY_NAME[address.resource]
        want, wire = desired.instances.get(address), live.get(address)
        if want is None and wire is None:
            continue
        # Read-only ones too: the default's consent settings are always false, and inherited.
        names = tuple(name for name in rtype.settings if name in source.model.model_fields)
        values = {name: canonical_property(source, name, (wire or {}).get(name)) for name in names}
        if want is not None:  # what policies/ declares wins over what is live
            values |= canonical(source, want.written, compared(source, want.written))
        found[rtype.name] = {name: values[name] for name in names}
    return found


def _digest(live: Live, ahead: Forms) -> str:
    """A fingerprint of the live state as compared (canonical), so a reordered `targets` list is
    not "someone changed the tenant", but any real change makes a saved plan stale.

    It hashes `json.dumps({"read": sorted(read), "instances": {str(address): form}},
    sort_keys=True)`, written out here from each instance's own line (`ahead.live_lines`, made
    while the tenant was read, or now), hashed one instance at a time: the same bytes, without a
    fifth of the compare in one call, nor the whole text held at once (at 10,000 partners, 15 MB
    in three copies)."""
    digest = hashlib.sha256(b'{"instances": {')
    lines = ahead.live_lines
    separator = b""
    # In the order of their keys, `str(address)` ("resource id"), which is the addresses' own
    # order as tuples (three times faster to sort, their strings not made first): a type's name
    # is letters and digits (tests/plan/test_planner.py), so where one type's name begins
    # another's, the space after the shorter sorts first, as the shorter tuple member does.
    for address in sorted(live.instances):
        line = lines.get(address)
        if line is None:
            line = live_line(address, live_form(address, live.instances[address]))
        digest.update(separator)
        digest.update(line)
        separator = b", "
    digest.update(f'}}, "read": {json.dumps(sorted(live.read))}}}'.encode())
    return "sha256:" + digest.hexdigest()


def _patch_body(
    rtype: ResourceType, written: dict[str, Any], live: dict[str, Any], changed: set[str]
) -> dict[str, Any]:
    """Each changed property with its whole desired value, as the author wrote it.

    Where the tenant holds a nested member the file leaves out, the member is sent as an
    explicit null: under OData merge semantics an absent member would be kept, and the diff
    would never go away. Members the tenant does not hold are not added, so the seed bodies
    go out exactly as the Graph docs show them. A property written as `null` is sent as what
    absent means: the default's null is its system value, which Graph refuses to take as null."""
    return {
        name: _clearing(rtype, name, written[name], live.get(name))
        if written.get(name) is not None
        else absent_value(rtype, name)
        for name in rtype.settings
        if name in changed
    }


def _clearing(rtype: ResourceType, name: str, desired: Any, live: Any) -> Any:
    if not (isinstance(desired, dict) and isinstance(live, dict)):
        return desired
    cleared = {
        key: None
        for key, value in live.items()
        if key not in desired
        and is_compared_member(rtype, name, key)
        and canonical_property(rtype, key, value) is not None
    }
    return {**{key: _clearing(rtype, key, value, live.get(key)) for key, value in desired.items()}, **cleared}


def _compare(
    rtype: ResourceType, before: dict[str, Any], after: dict[str, Any], properties: tuple[str, ...]
) -> tuple[tuple[DiffEntry, ...], set[str]]:
    """The property-level diff between the live and desired canonical forms, and the set of
    changed top-level properties."""
    changed = {name for name in properties if before[name] != after[name]}
    sets = rtype.set_members
    paths = {path: None for name in changed for path in _differences(sets, (name,), before[name], after[name])}
    diff = tuple(DiffEntry(".".join(path), _get(before, path), _get(after, path)) for path in sorted(paths))
    return diff, changed


def _differences(sets: frozenset[str], path: tuple[str, ...], before: Any, after: Any) -> Iterator[tuple[str, ...]]:
    """The paths of the leaves where two unequal canonical values differ, as deepdiff names them.

    deepdiff spends about 50 µs on each level of an object it walks (40% of the compare at
    10,000 partners), and most of a changed partner is equal. So objects with the same members
    are walked here, into the members that differ only; deepdiff takes two objects with
    different members (where its own rules decide between a member added and a whole object
    replaced) and two lists; two other values differ as a whole. A change inside a set (`sets`:
    `targets`) is reported as the whole set, since a set has no stable index to point at."""
    if path[-1] in sets:
        yield path
    elif isinstance(before, dict) and isinstance(after, dict) and before.keys() == after.keys():
        for key, value in before.items():
            if value != after[key]:
                yield from _differences(sets, (*path, key), value, after[key])
    elif isinstance(before, (dict, list)) and type(before) is type(after):
        from deepdiff import DeepDiff  # 0.1 s of imports, paid only where two objects or lists differ

        for levels in DeepDiff(before, after, view="tree").values():
            for level in levels:
                found = (*path, *(str(step) for step in level.path(output_format="list")))
                cut = next((index for index, step in enumerate(found) if step in sets), None)
                yield found if cut is None else found[: cut + 1]
    else:
        yield path


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value
