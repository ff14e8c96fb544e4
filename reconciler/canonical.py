"""One canonical form for live and desired values, so that equal means equal.

Graph and people write the same setting many ways (DESIGN §3): GUIDs in any case, `targets`
in any order, `{"inboundAllowed": null, "outboundAllowed": null}` for "unset", `@odata.*`
annotations, flags in any order. Comparing anything but this form gives perpetual diffs.
Pure functions; `tests/test_planner.py` and the convergence property test pin them down.
"""

from __future__ import annotations

from typing import Any

from reconciler.models import NESTED_MEMBERS, TEMPLATE_DEFAULT_LEVEL, is_guid, template_levels

# What an absent (or null) top-level property means, where that is not simply null.
ABSENT_MEANS: dict[str, Any] = {
    "isServiceProvider": False,
    "templateApplicationLevel": TEMPLATE_DEFAULT_LEVEL,
}


def canonical(wire: dict[str, Any], properties: tuple[str, ...]) -> dict[str, Any]:
    """The compared form of a resource: exactly `properties`, each normalised; others ignored
    (read-only, unmodelled, `@odata.*`)."""
    return {name: canonical_property(name, wire.get(name)) for name in properties}


def canonical_property(name: str, value: Any) -> Any:
    value = _normalise(name, value)
    if value is None and name in ABSENT_MEANS:
        return _normalise(name, ABSENT_MEANS[name])
    return value


def absent_value(name: str) -> Any:
    """What to send to make Graph forget a property the file no longer sets."""
    return ABSENT_MEANS.get(name)


def is_compared_member(parent: str, member: str) -> bool:
    """Whether a member of the object held by `parent` takes part in the comparison."""
    return not member.startswith("@odata.") and member in NESTED_MEMBERS.get(parent, (member,))


def _normalise(key: str | None, value: Any) -> Any:
    if isinstance(value, dict):
        members = {k: _normalise(k, v) for k, v in value.items() if key is None or is_compared_member(key, k)}
        members = {k: v for k, v in members.items() if v is not None}
        return members or None  # an object whose members are all null is unset
    if isinstance(value, list):
        if key == "targets":
            return _target_set(value)
        return [_normalise(None, item) for item in value] or None
    if key == "target" and isinstance(value, str) and is_guid(value):
        return value.lower()
    if key == "templateApplicationLevel" and isinstance(value, str):
        return template_levels(value)
    return value


def _target_set(targets: list[Any]) -> list[Any] | None:
    """`targets` is a set: sorted, without duplicates; an empty set is unset."""
    unique = {_sort_key(item): item for item in (_normalise("targets", t) for t in targets) if item is not None}
    return [unique[key] for key in sorted(unique)] or None


def _sort_key(item: Any) -> str:
    return repr(sorted(item.items())) if isinstance(item, dict) else repr(item)
