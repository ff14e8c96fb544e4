"""The plan: plain data saying what apply will do, and nothing else.

Kept apart from computing it (`planner`), from showing it (`render`) and from its file format
(`planfile`), so each can change alone. A change is one resource instance with its action,
the property-level diff, the exact Graph requests, and the policy file line it comes from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "delete", "reset"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "reset")

# Plan names of the resources (DESIGN §1) and where they live, relative to the Graph base URL.
PARTNER = "partner"
MTO_PARTNER_TEMPLATE = "mtoPartnerTemplate"
PARTNERS_URL = "/policies/crossTenantAccessPolicy/partners"
MTO_PARTNER_TEMPLATE_ID = "multiTenantOrganizationPartnerConfiguration"
MTO_PARTNER_TEMPLATE_URL = f"/policies/crossTenantAccessPolicy/templates/{MTO_PARTNER_TEMPLATE_ID}"


@dataclass(frozen=True)
class Request:
    """One Graph write. `url` is relative to the Graph base URL (which holds the version), so a
    plan made against one cloud or the emulator reads the same."""

    method: str
    url: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class DiffEntry:
    """One changed value; `None` on either side means unset (inherit the default)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One resource instance to change. `id` is the partner's tenantId (lowercase) or the
    singleton's name; `source` is the policy file and line ("policies/partners/x.yaml:3")."""

    resource: str
    id: str
    action: Action
    source: str | None
    diff: tuple[DiffEntry, ...]
    requests: tuple[Request, ...]


@dataclass(frozen=True)
class Unmanaged:
    """A live resource with no policy file: reported, never touched."""

    resource: str
    id: str


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    # Digest of the live state the plan was computed from; apply refuses a plan whose digest
    # no longer matches the tenant (someone changed it since). `scope` names the resources the
    # digest covers, so applying a saved plan re-reads exactly those, without policies/.
    live_digest: str = ""
    scope: tuple[str, ...] = (PARTNER,)
    # The Graph base URL the live state was read from: a plan is applied there or nowhere.
    graph_url: str = ""
    summary: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = Counter(change.action for change in self.changes)
        object.__setattr__(self, "summary", {action: counts.get(action, 0) for action in ACTIONS})

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)
