"""How dangerous a change is, for a reviewer: its risk class and the reasons, from the change
itself (its diff and its requests) and what its nulls inherit.

The classes, most dangerous first:

- `delete`: the resource goes, with everything it sets (a prune's delete, or an identity sync
  whose block left its partner's file).
- `grant`: the change lets more in or out. Each reason names the path and what it becomes:
  - a trust or consent flag becomes `true`: a member of a `crossTenantAccessPolicyInboundTrust`
    (`inboundTrust.isMfaAccepted`, `isCompliantDeviceAccepted`,
    `isHybridAzureADJoinedDeviceAccepted`: the partner's MFA or device claims are accepted), of
    an `inboundOutboundPolicyConfiguration` (`automaticUserConsentSettings.inboundAllowed`,
    `outboundAllowed`) or of a `crossTenantUserSyncInbound` (`userSyncInbound.isSyncAllowed`:
    the partner may create users here);
  - a target configuration (a `crossTenantAccessPolicyTargetConfiguration`: the `usersAndGroups`
    and `applications` halves of `b2bCollaborationInbound/Outbound`,
    `b2bDirectConnectInbound/Outbound` and `tenantRestrictions`, and likewise
    `m365CollaborationInbound.users`, `m365CollaborationOutbound.usersAndGroups` and
    `appServiceConnectInbound.applications`) becomes `accessType: allowed` for `AllUsers` or
    `AllApplications` where it was not before;
  - a Microsoft 365 capability's `inboundAccess` (an `m365CapabilityInboundAccess`) becomes
    `isAllowed: true` (a flag, as above), or allowed for resourceId `All` of a resource type
    (every user's or every group's calendar, profile card or mailbox here is exposed) where it
    was not before: a scope widened to `All`, or a new capability allowed for `All`
    (https://learn.microsoft.com/graph/api/resources/m365capabilityresourcescope).
- `update`: any other update, and a reset that grants nothing.
- `create`: a new resource that grants nothing.

A create or a reset that grants is a `grant`: a new partner that accepts MFA claims is what a
reviewer must see. The paths come from the registry: each resource type's settings are walked
through its model, so the same rules hold wherever a type has those properties (a partner, the
default, the MTO templates, an identity sync) and nowhere else.

What does not count as a grant: a flag becoming `false` or `null` (the trust is withdrawn or
left unset), access narrowed or blocked, an allow-list of particular users, groups or
applications (or `Office365`, `AllMicrosoftApps`): those are updates, shown in full in the
plan. `isServiceProvider` and `templateApplicationLevel` are not grants either.

A grant is judged on the values in effect. Only a top-level property of a type that inherits
(a partner's, from the default: `ResourceType.inherits_from`) inherits a value where it is
`null`; a `null` anywhere else (a template's, a member's) is just unset. So on both sides of a
partner's change a `null` counts as what it inherits, which the plan carries (`Plan.inherited`:
the default as policies/ declares it, else as read, that is, as it will be after the apply),
and a partner that does not exist yet has nothing of its own, so all of it is inherited:

- removing a partner's block so that it falls back on a permissive default opens access: a
  grant, its reason marked "(null, inherited from default)";
- an explicit value that restates what the default already grants is not new: a new partner
  with B2B collaboration open to everyone, as the system default has it, is a `create`, while
  one that accepts MFA claims, which the system default does not, is a `grant`;
- a change to the default that grants is a grant of its own, so a partner's access widened by
  the default is still shown, at the default.

Where the plan carries no inherited values (a type that inherits nothing), a `null` before is
nothing granted.

The diff names leaf paths, but a target configuration is judged whole: where its `targets`
changed and its `accessType` did not (or the other way round), the sibling is read from the
change's request bodies (a PATCH holds each changed top-level property whole), or, for a reset,
from the values the registry says the reset state has (`absent_means`). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal, get_args

from reconciler.core.models import (
    CrossTenantUserSyncInbound,
    GraphModel,
    InboundOutboundPolicyConfiguration,
    InboundTrust,
    M365CapabilityInboundAccess,
    TargetConfiguration,
)
from reconciler.core.registry import REGISTRY_BY_NAME, ResourceType, models_in
from reconciler.plan.model import Change

RiskClass = Literal["delete", "grant", "update", "create"]
# Most dangerous first: the order a reviewer reads a plan in.
CLASSES: tuple[RiskClass, ...] = ("delete", "grant", "update", "create")

# Graph types whose every boolean member allows something when it is true.
_FLAG_TYPES: tuple[type[GraphModel], ...] = (
    InboundTrust,
    InboundOutboundPolicyConfiguration,
    CrossTenantUserSyncInbound,
    M365CapabilityInboundAccess,
)
# The targets that open a target configuration to everyone.
_EVERYONE = ("AllUsers", "AllApplications")
# The resourceId that scopes a capability to every user (or group) of the tenant.
_ALL_RESOURCES = "all"
_NOTHING: Mapping[str, Any] = MappingProxyType({})

_Path = tuple[str, ...]
# flag: a boolean that allows when true; access: a target configuration; scope: a capability's
# inbound access, allowed for every user or group.
_Kind = Literal["flag", "access", "scope"]


@dataclass(frozen=True)
class Risk:
    """A change's risk class and why: for a `grant`, what it grants ("inboundTrust.isMfaAccepted
    → true"); for a `delete`, what goes; none for the others."""

    kind: RiskClass
    reasons: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """0 for the most dangerous class: a sort key that keeps the planner's order within a class."""
        return CLASSES.index(self.kind)


def classify(change: Change, inherited: Mapping[str, Any] = _NOTHING) -> Risk:
    """`change`'s risk. `inherited` is what a null top-level property of its type inherits
    (`plan.inherited[change.resource]`), empty for a type that inherits nothing."""
    rtype = REGISTRY_BY_NAME.get(change.resource)
    if change.action == "delete":
        pruned = rtype is not None and not rtype.parents  # only prune deletes a top-level resource
        return Risk("delete", ("pruned: no policy file" if pruned else "no policy file declares it",))
    reasons = () if rtype is None else tuple(_grants(rtype, change, inherited))
    if reasons:
        return Risk("grant", reasons)
    return Risk("create" if change.action == "create" else "update")


def by_risk(changes: Iterable[Change], inherited: Mapping[str, Mapping[str, Any]]) -> list[tuple[Change, Risk]]:
    """Each change with its risk, most dangerous first, in their given order within a class."""
    risks = [(change, classify(change, inherited.get(change.resource, _NOTHING))) for change in changes]
    return sorted(risks, key=lambda pair: pair[1].rank)


def grant_paths(rtype: ResourceType) -> tuple[tuple[_Path, _Kind], ...]:
    """Every path of `rtype` whose change can grant: a flag or a target configuration."""
    return tuple(found for paths in _grant_paths(rtype.name).values() for found in paths)


@cache
def _grant_paths(name: str) -> Mapping[str, tuple[tuple[_Path, _Kind], ...]]:
    """`grant_paths`, by the top-level property they are in, in the order of its settings."""
    rtype = REGISTRY_BY_NAME[name]
    by_top: dict[str, tuple[tuple[_Path, _Kind], ...]] = {}

    def walk(path: _Path, annotation: Any) -> Iterable[tuple[_Path, _Kind]]:
        for model in models_in(annotation):
            whole = next((kind for base, kind in _WHOLE.items() if issubclass(model, base)), None)
            if issubclass(model, _FLAG_TYPES):
                flags = (member for member, info in model.model_fields.items() if _is_flag(info.annotation))
                yield from (((*path, member), "flag") for member in flags)
            if whole is not None:
                yield path, whole
            elif not issubclass(model, _FLAG_TYPES):
                for member, info in model.model_fields.items():
                    yield from walk((*path, member), info.annotation)

    for setting in rtype.settings:
        if found := tuple(walk((setting,), rtype.model.model_fields[setting].annotation)):
            by_top[setting] = found
    return MappingProxyType(by_top)


def _grants(rtype: ResourceType, change: Change, inherited: Mapping[str, Any]) -> Iterable[str]:
    by_top = _grant_paths(rtype.name)
    changed = {entry.path.split(".", 1)[0] for entry in change.diff}
    tops = [top for top in by_top if top in changed]
    base = _base(rtype, change) if tops else _NOTHING
    for top in tops:
        before, after = _sides(change, top, base)
        note = ""
        if rtype.inherits_from is not None and top in inherited:
            before = inherited[top] if before is None else before
            if after is None:
                after, note = inherited[top], f" (null, inherited from {rtype.inherits_from})"
        for path, kind in by_top[top]:
            was, now = _get(before, path[1:]), _get(after, path[1:])
            if kind == "flag":
                if now is True and was is not True:
                    yield f"{'.'.join(path)} → true{note}"
            elif (everyone := _OPENS[kind](now)) and not _OPENS[kind](was):
                yield f"{'.'.join(path)} → allowed {everyone}{note}"


def _base(rtype: ResourceType, change: Change) -> Mapping[str, Any]:
    """The values the change leaves its changed properties with, whole: what its requests send,
    or for a reset (which sends no body) the reset state."""
    if change.action == "reset":
        return rtype.absent_means
    base: dict[str, Any] = {}
    for request in change.requests:
        if isinstance(request.body, dict):
            base |= request.body
    return base


def _sides(change: Change, top: str, base: Mapping[str, Any]) -> tuple[Any, Any]:
    """Top-level property `top` before and after `change`: the diff's values at their paths,
    over what the requests send for the rest. Before a create it was unset."""
    after = base.get(top)
    before = after
    for entry in change.diff:
        step, *rest = entry.path.split(".")
        if step == top:
            after = _put(after, rest, entry.after)
            before = _put(before, rest, entry.before)
    return (None if change.action == "create" else before), after


def _put(tree: Any, path: list[str], value: Any) -> Any:
    """`tree` with `value` at `path`, copying only the objects on the way."""
    if not path:
        return value
    node = dict(tree) if isinstance(tree, dict) else {}
    node[path[0]] = _put(node.get(path[0]), path[1:], value)
    return node


def _get(tree: Any, path: _Path) -> Any:
    for step in path:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(step)
    return tree


def _opened(configuration: Any) -> str | None:
    """The everyone-target an allowed target configuration names, or None."""
    if not isinstance(configuration, dict) or configuration.get("accessType") != "allowed":
        return None
    targets = configuration.get("targets") or []
    return next((t["target"] for t in targets if isinstance(t, dict) and t.get("target") in _EVERYONE), None)


def _scoped(access: Any) -> str | None:
    """What an allowed capability's inbound access exposes to everyone ("All users"), or None:
    a resource type included as `All` and not excluded as `All` (exclusion wins)."""
    if not isinstance(access, dict) or access.get("isAllowed") is not True:
        return None
    scopes = access.get("resourceScopes")
    scopes = scopes if isinstance(scopes, dict) else {}

    def every(side: str) -> list[Any]:
        items = scopes.get(side) or []
        return [
            each.get("resourceType")
            for each in items
            if isinstance(each, dict) and str(each.get("resourceId", "")).casefold() == _ALL_RESOURCES
        ]

    excluded = every("excluded")
    return next((f"All {kind}s" for kind in every("included") if kind not in excluded), None)


def _is_flag(annotation: Any) -> bool:
    """A boolean member (`bool` or `bool | None`)."""
    return annotation is bool or bool in get_args(annotation)


# Graph types judged whole, by what they open to everyone: the kind of path each gives.
_WHOLE: Mapping[type[GraphModel], _Kind] = MappingProxyType(
    {TargetConfiguration: "access", M365CapabilityInboundAccess: "scope"}
)
_OPENS: Mapping[_Kind, Callable[[Any], str | None]] = MappingProxyType({"access": _opened, "scope": _scoped})
