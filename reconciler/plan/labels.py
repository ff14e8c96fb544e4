"""Which names a plan shows, and the labels it shows them by: the partner tenant each change is
about, and every user, group and application its desired or live values name. Pure: `wanted`
says what to look up (so a plan of 10,000 partners looks up only the ones it changes), the
lookup is `graph.names`, `labels` turns what it found into `Plan.names`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.address import Address
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.names import OBJECT_KINDS, PARTNER_SIDE, Names
from reconciler.core.references import Reference, references
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.plan.model import Change, made_for

APPLICATION = "application"
_ABSENT = object()  # a member the desired body lacks, unequal to any value


@dataclass(frozen=True)
class Wanted:
    """What to look up: partner tenant ids, this tenant's user and group ids, appIds."""

    tenants: frozenset[str] = frozenset()
    objects: frozenset[str] = frozenset()
    apps: frozenset[str] = frozenset()


# What a plan shows of one change: the tenant it is about, and the references its values hold.
ShownChange = tuple[str | None, tuple[Reference, ...]]


@dataclass(frozen=True)
class Shown:
    """The changes a plan shows, each with the tenant it is about and the references its
    desired and live values hold: walked once (a tenth of a second per thousand changes), for
    both what to look up (`wanted`) and the labels of what was found (`labels`)."""

    changes: tuple[ShownChange, ...]


def shown(
    changes: Iterable[Change], desired: Desired, live: Live, ahead: Mapping[Address, tuple[Change, ShownChange]] = {}
) -> Shown:
    """`ahead`: what `shown_change` made of some changes while the tenant was read, each with
    the change it was made from: taken for that very change."""
    found = []
    for change in changes:
        made = made_for(ahead, change)
        if made is None:
            declared = desired.instances.get(change.address)
            written = None if declared is None else declared.written
            made = shown_change(change, written, live.instances.get(change.address))
        found.append(made)
    return Shown(tuple(found))


def shown_change(change: Change, written: dict[str, Any] | None, current: dict[str, Any] | None) -> ShownChange:
    """One change as `shown` walks it, from what its file writes and its live body (None: none)."""
    return _tenant(change), tuple(_named(change, written, current))


def wanted(changes: Shown) -> Wanted:
    """The names the changes show: the tenant each is about, and the objects their values name
    (a partner's own objects are never looked up: this tenant cannot read them)."""
    tenants = {tenant for tenant, _ in changes.changes if tenant is not None}
    found = [ref for _, refs in changes.changes for ref in refs]
    return Wanted(frozenset(tenants), *_lookups(found))


def in_files(desired: Desired) -> Wanted:
    """This tenant's users and groups every policy file names: whether each still exists is
    worth knowing for the whole folder, and they are few (the same groups recur)."""
    found = [ref for address, item in desired.instances.items() for ref in _refs(address.resource, item.written)]
    objects, _ = _lookups(found)
    return Wanted(objects=objects)


def in_state(desired: Desired, live: Live) -> Wanted:
    """This tenant's users and groups the files and the live tenant name: what `xtap check
    --live` asks Graph about, once, so a group deleted under either one is found."""
    found = [ref for address, body in live.instances.items() for ref in _refs(address.resource, body)]
    objects, _ = _lookups(found)
    return Wanted(objects=in_files(desired).objects | objects)


def in_bodies(bodies: Iterable[tuple[str, Any]]) -> Wanted:
    """This tenant's users, groups and applications that `bodies` (`(type name, body)` pairs, as
    Graph writes them) name: what a view of those bodies (`xtap show`) looks up, and no more."""
    return Wanted(frozenset(), *_lookups(ref for resource, body in bodies for ref in _refs(resource, body)))


def body_labels(bodies: Iterable[tuple[str, Any]], names: Names) -> dict[str, str]:
    """Every target `bodies` name, by the label a view prints beside it: a keyword or a
    first-party app from the tables, this tenant's objects by name, the partner's by whose
    they are. A target that is nothing known is left out (shown as its GUID alone)."""
    shown: dict[str, str] = {}
    for resource, body in bodies:
        for ref in _refs(resource, body):
            if (label := names.target(ref.value, ref.kind, ref.side)) is not None:
                shown.setdefault(ref.value, label)
    return dict(sorted(shown.items()))


def labels(changes: Shown, names: Names) -> dict[str, str]:
    """Each id the changes show, by the label the views print beside it."""
    found: dict[str, str] = {}
    for tenant, refs in changes.changes:
        if tenant is not None and (label := names.tenant(tenant)) is not None:
            found[tenant] = label
        for ref in refs:
            if ref.is_object and (label := names.target(ref.value, ref.kind, ref.side)) is not None:
                found[ref.value] = label
    return dict(sorted(found.items()))


def _tenant(change: Change) -> str | None:
    return REGISTRY_BY_NAME[change.resource].tenant_of(change.id)


def _named(change: Change, written: dict[str, Any] | None, current: dict[str, Any] | None) -> Iterator[Reference]:
    """The references of the change's desired body, and those of its live body that the desired
    one does not hold already: a member equal in both names the same objects at the same paths,
    and most of a changed partner is (apply walks both bodies of every change it shows)."""
    yield from _refs(change.resource, written)
    if isinstance(written, dict) and isinstance(current, dict) and not _is_reference(change.resource, current):
        current = {name: value for name, value in current.items() if written.get(name, _ABSENT) != value}
    yield from _refs(change.resource, current)


def _is_reference(resource: str, body: dict[str, Any]) -> bool:
    """Whether the body itself names an object (its members together, not each on its own)."""
    return any(id_member in body for id_member, _ in REGISTRY_BY_NAME[resource].references)


def _refs(resource: str, body: Any) -> list[Reference]:
    return [] if body is None else references(REGISTRY_BY_NAME[resource], body)


def _lookups(found: Iterable[Reference]) -> tuple[frozenset[str], frozenset[str]]:
    """This tenant's user and group ids, and the appIds, among `found`."""
    mine = [ref for ref in found if ref.is_object and ref.side != PARTNER_SIDE]
    objects = frozenset(ref.value for ref in mine if ref.kind in OBJECT_KINDS)
    return objects, frozenset(ref.value for ref in mine if ref.kind == APPLICATION)
