"""The plan: plain data saying what apply will do, and nothing else.

Kept apart from computing it (`planner`), from showing it (`render`) and from its file format
(`plan.file`), so each can change alone. A change is one resource instance with its action,
the property-level diff, the exact Graph requests, the policy file line it comes from, and the
changes it must wait for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from reconciler.core.address import Address
from reconciler.core.request import Request

T = TypeVar("T")

Action = Literal["create", "update", "delete", "reset"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "reset")
# The scope of a setting of xtap.yaml itself; a file's `xtap:` key is scoped to its resource.
SETTINGS_SCOPE = "xtap.yaml"


@dataclass(frozen=True)
class DiffEntry:
    """One changed value; `None` on either side means unset (inherit the default)."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One resource instance to change. `id` is the partner's tenantId (lowercase) or the
    singleton's name; `source` is the policy file and line ("policies/partners/x.yaml:3");
    `depends_on` names the changes that must succeed first (a partner's create before its
    identity sync's)."""

    resource: str
    id: str
    action: Action
    source: str | None
    diff: tuple[DiffEntry, ...]
    requests: tuple[Request, ...]
    depends_on: tuple[Address, ...] = ()

    @property
    def address(self) -> Address:
        return Address(self.resource, self.id)


@dataclass(frozen=True)
class Unmanaged:
    """A live resource with no policy file: reported, never touched. With prune on, `spared`
    says why prune leaves it (an MTO member, protected, service-made); None when prune is off."""

    resource: str
    id: str
    spared: str | None = None


@dataclass(frozen=True)
class PlanError:
    """Why one resource cannot be brought to its file's state (the rest of the plan still is
    computed and shown, but nothing is applied while any error stands)."""

    resource: str
    id: str
    source: str | None
    message: str


@dataclass(frozen=True)
class PolicySetting:
    """One setting that is not its default. `scope` is "xtap.yaml" or the resource whose file's
    `xtap:` key holds it ("partner 3d0f…"); `source` is where it is written."""

    scope: str
    name: str
    value: Any
    source: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.scope, self.name


@dataclass(frozen=True)
class SettingChange:
    """A setting the pull request changes: `before` on the base branch, `after` now (None:
    the default), and `effect`, what the change will do from the next apply on."""

    scope: str
    name: str
    before: Any
    after: Any
    effect: str
    source: str | None = None


def made_for(ahead: Mapping[Address, tuple[Change, T]], change: Change) -> T | None:
    """What was made ahead of the compare for `change` (`plan.ahead`), kept with the change it
    was made from: taken for that very change object only, never for an equal one made anew."""
    hit = ahead.get(change.address)
    return hit[1] if hit is not None and hit[0] is change else None


@dataclass(frozen=True)
class Written:
    """Parts of a plan's file written while the tenant was still read (`plan.ahead`), so that
    writing it once the last page is in is mostly joining them: each change's text with the
    change it was written from, by address, and the settings' text with the settings. Each
    change's risk is judged by the values a null inherits (`Plan.inherited`): those are
    `inherited`. `plan.file` takes a text only for the very object it was written from, under
    the same inherited values, so the file is the same with or without them."""

    inherited: Mapping[str, Mapping[str, Any]]
    changes: Mapping[Address, tuple[Change, str]]
    settings: tuple[tuple[PolicySetting, ...], str] | None = None


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    errors: tuple[PlanError, ...] = ()
    # Digest of the live state the plan was computed from; apply refuses a plan whose digest
    # no longer matches the tenant (someone changed it since). `scope` names the resource
    # types that were read.
    live_digest: str = ""
    scope: tuple[str, ...] = ()
    # The Graph base URL the live state was read from: a plan is applied there or nowhere.
    graph_url: str = ""
    # The tenant policies/ is bound to (xtap.yaml), whose token the plan was made with; None if unbound.
    tenant: str | None = None
    # For each setting a null inherits from another resource (a partner's from the default),
    # that value, so a reviewer sees what `null` means. Keyed by resource, then property.
    inherited: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The settings that shape this plan and are not the defaults (`plan.settings.stated`): what
    # prune and the guardrails will do, stated in every plan. A saved plan whose settings differ
    # from the plan made now is refused like one whose writes differ.
    settings: tuple[PolicySetting, ...] = ()
    # How the pull request changes them against the base branch (`xtap plan --base-policies`);
    # shown for review, never compared: apply has no base.
    settings_changes: tuple[SettingChange, ...] = ()
    # The types not read because the token may not read them, with Graph's reason: left out of
    # the plan, and said so, so that "no changes" is never read as "in step" for them.
    skipped: Mapping[str, str] = field(default_factory=dict)
    # The names of the ids the changes show, by id ("Contoso Ltd (contoso.com)", "Sales
    # (group)", "the partner's group"): looked up in Graph where the token may (`plan.labels`).
    names: Mapping[str, str] = field(default_factory=dict)
    # Not part of what the plan says: its file's text, in parts, as far as it was written ahead.
    written: Written | None = field(default=None, compare=False, repr=False)
    summary: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = Counter(change.action for change in self.changes)
        object.__setattr__(self, "summary", {action: counts.get(action, 0) for action in ACTIONS})

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)
