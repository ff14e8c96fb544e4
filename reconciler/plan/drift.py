"""Drift: how the live tenant differs from policies/, and who made it differ. Pure, no I/O.

Drift is the plan seen from the other side: what apply would change is exactly what someone
changed behind git's back. So the report is made from the planner's `Plan` (one comparison,
one canonical form, every registry type), not by comparing again: an update or a reset is a
resource *changed*, a create one *missing* (declared, gone from the tenant), a delete a nested
resource the file does not declare (changed: it appeared), and an unmanaged one is listed.
Each property-level entry reads declared → live, the direction the out-of-band change went.

Attribution reads directory audit entries (the categories and activities each registry type
lists; the instance an entry is about, as its type's key kind finds it) and names, per drifted
resource, the last change and who made it: a person, an app, or a Microsoft service (EntraGDAP
for GDAP and Microsoft Support, the directory itself for migrations), since a service-made
change is not someone to talk to. Audit entries come from Graph and are untrusted: an entry
without the expected shape is ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from reconciler.core.address import Address
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME
from reconciler.plan.model import Action, Change, DiffEntry, Plan

Kind = Literal["changed", "missing", "unmanaged"]
KINDS: tuple[Kind, ...] = ("changed", "missing", "unmanaged")
ActorKind = Literal["person", "app", "service"]

# The audit categories of the changes of every type, in registry order: what the audit log is
# asked for.
AUDIT_CATEGORIES: tuple[str, ...] = tuple(
    dict.fromkeys(category for rtype in REGISTRY for category in rtype.audit_categories)
)
# Audit entries made by Microsoft services, not by a tenant's people or apps: GDAP and
# Microsoft Support act as the application EntraGDAP:
# https://learn.microsoft.com/microsoft-365/admin/support-diagnostic-information-collection
SERVICE_APPS = frozenset({"EntraGDAP"})
SERVICE_ACTIVITIES = frozenset({"Migrated partner cross-tenant access settings to the scalable model"})
# Which resource type each audit activity changes, from the registry: matched on the name,
# not the category, since the documented table files the default's update under identity sync.
ACTIVITY_RESOURCES: Mapping[str, str] = {
    activity: rtype.name for rtype in REGISTRY for activity in rtype.audit_activities
}


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str
    id: str | None = None


@dataclass(frozen=True)
class LastChange:
    """The newest audit entry for a resource: what was done, when (as Graph wrote it), by whom."""

    activity: str
    at: str
    actor: Actor


@dataclass(frozen=True)
class Drifted:
    """One resource that differs. `diff` entries read declared (`before`) → live (`after`);
    `remedy` is what apply would do about it (None: unmanaged, never touched); `note` says
    why no diff is shown (a create-only property that differs, a plan error)."""

    kind: Kind
    resource: str
    id: str
    source: str | None
    diff: tuple[DiffEntry, ...] = ()
    remedy: Action | None = None
    note: str | None = None
    last_change: LastChange | None = None

    @property
    def address(self) -> Address:
        return Address(self.resource, self.id)


@dataclass(frozen=True)
class Drift:
    items: tuple[Drifted, ...] = ()
    scope: tuple[str, ...] = ()
    # What a null inherits, as in `Plan.inherited`, so a report says what `null` allows.
    inherited: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # "not requested", "done", or why attribution was not possible.
    attribution: str = "not requested"
    # The labels of the ids the report shows (`Plan.names`): partner names, users and groups.
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        return {kind: sum(item.kind == kind for item in self.items) for kind in KINDS}

    @property
    def has_drift(self) -> bool:
        return bool(self.items)


def from_plan(plan: Plan) -> Drift:
    items = [_from_change(change) for change in plan.changes]
    items += [Drifted("changed", e.resource, e.id, e.source, note=e.message) for e in plan.errors]
    items += [Drifted("unmanaged", u.resource, u.id, None) for u in plan.unmanaged]
    items.sort(key=lambda item: KINDS.index(item.kind))  # stable: registry order within a kind
    return Drift(tuple(items), plan.scope, plan.inherited, names=plan.names)


def _from_change(change: Change) -> Drifted:
    kind: Kind = "missing" if change.action == "create" else "changed"
    diff = tuple(DiffEntry(entry.path, entry.after, entry.before) for entry in change.diff)
    return Drifted(kind, change.resource, change.id, change.source, diff, change.action)


# --- attribution -------------------------------------------------------------------------------


def attribute(drift: Drift, entries: Iterable[Any]) -> Drift:
    """`drift` with each item's last change, from directory audit entries in any order."""
    latest: dict[Address, tuple[datetime, LastChange]] = {}
    for entry in entries:
        found = _read_entry(entry)
        if found is None:
            continue
        address, moment, change = found
        if address not in latest or moment > latest[address][0]:
            latest[address] = (moment, change)
    items = tuple(
        replace(item, last_change=latest[item.address][1]) if item.address in latest else item for item in drift.items
    )
    return replace(drift, items=items, attribution="done")


def not_attributed(drift: Drift, reason: str) -> Drift:
    return replace(drift, attribution=reason)


def _read_entry(entry: Any) -> tuple[Address, datetime, LastChange] | None:
    if not isinstance(entry, dict):
        return None
    activity, at = entry.get("activityDisplayName"), entry.get("activityDateTime")
    resource = ACTIVITY_RESOURCES.get(activity) if isinstance(activity, str) else None
    moment = _moment(at)
    if resource is None or moment is None or entry.get("result", "success") != "success":
        return None
    resource_id = REGISTRY_BY_NAME[resource].audit_instance(entry.get("targetResources"))
    actor = _actor(entry.get("initiatedBy"), str(activity))
    if resource_id is None or actor is None:
        return None
    return Address(resource, resource_id), moment, LastChange(str(activity), str(at), actor)


def _moment(text: Any) -> datetime | None:
    """An ISO 8601 UTC timestamp; Graph writes up to seven fractional digits, Python reads six."""
    if not isinstance(text, str) or not text.endswith("Z"):
        return None
    whole, _, fraction = text[:-1].partition(".")
    try:
        moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
        return moment.replace(microsecond=int(fraction[:6].ljust(6, "0")) if fraction else 0)
    except ValueError:
        return None


def _actor(initiated_by: Any, activity: str) -> Actor | None:
    if not isinstance(initiated_by, dict):
        return None
    user, app = initiated_by.get("user"), initiated_by.get("app")
    if isinstance(user, dict) and (name := _text(user, "userPrincipalName") or _text(user, "displayName")):
        return Actor("person", name, _text(user, "id"))
    if isinstance(app, dict) and (name := _text(app, "displayName") or _text(app, "appId")):
        service = name in SERVICE_APPS or activity in SERVICE_ACTIVITIES
        return Actor("service" if service else "app", name, _text(app, "appId"))
    if activity in SERVICE_ACTIVITIES:
        return Actor("service", "Microsoft Entra")
    return None


def _text(holder: Mapping[str, Any], key: str) -> str | None:
    value = holder.get(key)
    return value if isinstance(value, str) and value else None
