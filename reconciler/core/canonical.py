"""One canonical form for live and desired values, so that equal means equal.

Graph and people write the same setting many ways: GUIDs in any case, `targets` in any order,
`{"inboundAllowed": null, "outboundAllowed": null}` for "unset", `@odata.*` annotations, flags in
any order. Comparing anything but this form gives perpetual diffs.
What varies by resource type (what an absent property means, which members a nested object
has, which members are sets or have one spelling) comes from its registry entry; no property
is named here. Pure functions; `tests/core/test_canonical.py` and the
convergence property test pin them down.

The recursion is bounded: a value nested deeper than `MAX_REPLY_DEPTH` raises `TooDeep`. Graph's
replies are refused past that depth as they are parsed, and policy files far sooner, so this
never happens on their data; it keeps a bug elsewhere from becoming a RecursionError here.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from reconciler.core.bounds import MAX_REPLY_DEPTH
from reconciler.core.registry import ResourceType


class TooDeep(ValueError):
    """A value nested deeper than canonical form goes (`MAX_REPLY_DEPTH`)."""


def canonical(rtype: ResourceType, wire: dict[str, Any], properties: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The compared form of a resource: exactly `properties` (default: all its settings; none
    when a file manages none, `compared`), each normalised; others ignored (read-only,
    unmodelled, `@odata.*`)."""
    names = rtype.settings if properties is None else properties
    return {name: canonical_property(rtype, name, wire.get(name)) for name in names}


def canonical_property(rtype: ResourceType, name: str, value: Any) -> Any:
    value = _normalise(rtype, name, value)
    if value is None and name in rtype.absent_means:
        return _normalise(rtype, name, rtype.absent_means[name])
    return value


def compared(rtype: ResourceType, written: dict[str, Any]) -> tuple[str, ...]:
    """The settings a file manages: all of them, except those an absent value leaves alone. A
    `null` in a file means the same as leaving the property out, as `absent_means` has it."""
    return tuple(
        name for name in rtype.settings if written.get(name) is not None or name not in rtype.unmanaged_when_absent
    )


def absent_value(rtype: ResourceType, name: str) -> Any:
    """What to send to make Graph forget a property the file no longer sets."""
    return rtype.absent_means.get(name)


def is_compared_member(rtype: ResourceType, parent: str, member: str) -> bool:
    """Whether a member of the object held by `parent` takes part in the comparison."""
    return member in _compared_members(rtype, parent)


class _Unannotated:
    """The members of an object whose type xtap does not model: all but `@odata.*` annotations."""

    def __contains__(self, member: object) -> bool:
        return isinstance(member, str) and not member.startswith("@odata.")


_UNANNOTATED = _Unannotated()


def _compared_members(rtype: ResourceType, parent: str) -> Container[str]:
    """The members compared in the object held by `parent`, as one container to test each name
    against: the test runs for every member of every object of every partner (the scale goals in
    bench/)."""
    return rtype.nested_members.get(parent, _UNANNOTATED)


def _normalise(rtype: ResourceType, key: str | None, value: Any, depth: int = 0) -> Any:
    """`value`, held by `key`, in canonical form; `depth` counts the objects and arrays above it.
    The depth is checked where an object or array starts, and nowhere else: this runs for every
    value of every partner."""
    if isinstance(value, dict):
        return _object(rtype, key, value, depth + 1)
    if isinstance(value, list):
        if depth >= MAX_REPLY_DEPTH:
            raise _too_deep(key)
        if key in rtype.set_members:
            return _set(rtype, key, value, depth + 1)
        return [_normalise(rtype, None, item, depth + 1) for item in value] or None
    spell = rtype.spellings.get(key) if key is not None and isinstance(value, str) else None
    return value if spell is None else spell(value)


def _object(rtype: ResourceType, key: str | None, value: dict[str, Any], depth: int) -> dict[str, Any] | None:
    """The compared members, normalised, nulls dropped. One pass that calls `_normalise` only
    where a member can change: this runs for every object of every partner (the scale goals in
    bench/)."""
    if depth > MAX_REPLY_DEPTH:
        raise _too_deep(key)
    members: dict[str, Any] = {}
    compared_members = None if key is None else _compared_members(rtype, key)
    for name, member in value.items():
        if compared_members is not None and name not in compared_members:
            continue
        if isinstance(member, (dict, list)) or name in rtype.spellings:
            member = _normalise(rtype, name, member, depth)
        if member is not None:
            members[name] = member
    return members or None  # an object whose members are all null is unset


def _too_deep(key: str | None) -> TooDeep:
    return TooDeep(f"{key or 'a value'} is nested deeper than {MAX_REPLY_DEPTH} levels")


def _set(rtype: ResourceType, key: str, items: list[Any], depth: int) -> list[Any] | None:
    """A set (`targets`): sorted, without duplicates; an empty set is unset."""
    normalised = (_normalise(rtype, key, item, depth) for item in items)
    unique = {_sort_key(item): item for item in normalised if item is not None}
    return [unique[key] for key in sorted(unique)] or None


def _sort_key(item: Any) -> str:
    return repr(sorted(item.items())) if isinstance(item, dict) else repr(item)
