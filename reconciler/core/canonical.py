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

import functools
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
    return _forms(rtype).instance(wire, rtype.settings if properties is None else properties)


def canonical_property(rtype: ResourceType, name: str, value: Any) -> Any:
    return _forms(rtype).instance({name: value}, (name,))[name]


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


# The types a value parsed from JSON or YAML has. The canonical form tells a value's kind by its
# exact type, one test for the lot and then identity, not a chain of isinstance calls: it runs
# for every value of every partner (the scale goals in bench/). Any other type, a subclass,
# takes the isinstance chain (`_plain_type`).
_PLAIN: frozenset[type] = frozenset({dict, list, str, bool, int, float, type(None)})


def _plain_type(value: Any) -> type:
    """What the canonical form takes `value` for: a dict, a list, a str, or a value it keeps."""
    for kind in (dict, list, str):
        if isinstance(value, kind):
            return kind
    return object


@functools.cache  # one per resource type (compared by identity)
def _forms(rtype: ResourceType) -> _Forms:
    return _Forms(rtype)


class _Forms:
    """The canonical form of one resource type's values, with what its registry entry says
    (spellings, sets, each object's members) looked up once, not once per value."""

    def __init__(self, rtype: ResourceType) -> None:
        self._spellings = dict(rtype.spellings)
        self._sets = rtype.set_members
        self._members = dict(rtype.nested_members)
        self._absent_means = rtype.absent_means

    def instance(self, wire: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
        get, absent_means = wire.get, self._absent_means
        form: dict[str, Any] = {}
        for name in names:
            value = get(name)
            if value is not None:  # most settings of most instances are unset
                value = self._value(name, value, 0)
            if value is None and name in absent_means:
                value = self._value(name, absent_means[name], 0)
            form[name] = value
        return form

    def _value(self, key: str | None, value: Any, depth: int) -> Any:
        """`value`, held by `key`, in canonical form; `depth` counts the objects and arrays
        above it. The depth is checked where an object or array starts, and nowhere else."""
        kind = type(value)
        if kind not in _PLAIN:
            kind = _plain_type(value)
        if kind is dict:
            return self._object(key, value, depth + 1)
        if kind is list:
            return self._array(key, value, depth)
        if kind is str and key in self._spellings:
            return self._spellings[key](value)  # type: ignore[index]  # `key` is not None here
        return value

    def _object(self, key: str | None, value: dict[str, Any], depth: int) -> dict[str, Any] | None:
        """The compared members, normalised, nulls dropped. One pass: `_value` written out for
        each member, so that a member that stays as it is costs no call."""
        if depth > MAX_REPLY_DEPTH:
            raise _too_deep(key)
        spellings = self._spellings
        compared_members = None if key is None else self._members.get(key, _UNANNOTATED)
        members: dict[str, Any] = {}
        for name, member in value.items():
            if compared_members is not None and name not in compared_members:
                continue
            kind = type(member)
            if kind not in _PLAIN:
                kind = _plain_type(member)
            if kind is dict:
                member = self._object(name, member, depth + 1)
            elif kind is list:
                member = self._array(name, member, depth)
            elif kind is str and name in spellings:
                member = spellings[name](member)
            if member is not None:
                members[name] = member
        return members or None  # an object whose members are all null is unset

    def _array(self, key: str | None, value: list[Any], depth: int) -> list[Any] | None:
        if depth >= MAX_REPLY_DEPTH:
            raise _too_deep(key)
        if key in self._sets:
            return self._set(key, value, depth + 1)
        return [self._value(None, item, depth + 1) for item in value] or None

    def _set(self, key: str | None, items: list[Any], depth: int) -> list[Any] | None:
        """A set (`targets`): sorted, without duplicates; an empty set is unset."""
        # Its items are objects, most often (targets): made without `_value`'s tests.
        forms = [
            self._object(key, item, depth + 1) if type(item) is dict else self._value(key, item, depth)
            for item in items
        ]
        if len(forms) == 1:  # many sets, and one needs no sorting
            return None if forms[0] is None else forms
        unique: dict[str, Any] = {}
        for form in forms:
            if form is not None:
                unique[_sort_key(form)] = form
        return [unique[text] for text in sorted(unique)] or None


def _too_deep(key: str | None) -> TooDeep:
    return TooDeep(f"{key or 'a value'} is nested deeper than {MAX_REPLY_DEPTH} levels")


def _sort_key(item: Any) -> str:
    return repr(sorted(item.items())) if isinstance(item, dict) else repr(item)
