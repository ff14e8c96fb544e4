"""Both sides of a partnership, when one repository holds both tenants: what one side allows and
the other does not, which then does not work at all.

- B2B direct connect needs the outbound setting of the users' tenant and the inbound setting of
  the resource tenant to let someone through ("both organizations must enable it in their
  cross-tenant access settings", https://learn.microsoft.com/entra/external-id/b2b-direct-connect-overview).
- Cross-tenant synchronization needs the target's `userSyncInbound`, the target's inbound
  automatic consent and the source's outbound automatic consent
  (https://learn.microsoft.com/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-configure).
- A multitenant organization's identity sync template that allows sync cannot take effect when
  the partner configuration template does not consent inbound, or a member in the repository
  does not consent outbound
  (https://learn.microsoft.com/entra/identity/multi-tenant-organizations/multi-tenant-organization-templates).

Each finding is made once for each side, located in that side's file, and names the other.
Whether a partner requires MFA of its own users (what accepting its MFA claims trusts) is its
Conditional Access, which no policies/ folder holds: that is not knowable here, so inbound trust
is not judged (docs/explain.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.registry import (
    DEFAULT,
    IDENTITY_SYNC,
    MTO_IDENTITY_SYNC_TEMPLATE,
    MTO_PARTNER_TEMPLATE,
    PARTNER,
    ResourceType,
)
from reconciler.explain.access import opens
from reconciler.explain.verdict import INBOUND, OUTBOUND, VIAS, Source, in_effect

CONSENT = "automaticUserConsentSettings"
SYNC_ALLOWED = ("userSyncInbound", "isSyncAllowed")


@dataclass(frozen=True)
class Declared:
    """An instance one tenant's files declare: its values (wire form) and its file."""

    values: Mapping[str, Any]
    file: str


@dataclass(frozen=True)
class Tenant:
    """What one tenant's policies/ declares that the checks read, and its xtap.yaml (where a
    side that has no file of its own for the matter is pointed at)."""

    id: str
    settings_file: str
    partners: Mapping[str, Declared] = field(default_factory=dict)
    syncs: Mapping[str, Declared] = field(default_factory=dict)  # by the source tenant's id
    default: Declared | None = None
    partner_template: Declared | None = None
    sync_template: Declared | None = None


@dataclass(frozen=True)
class At:
    """A place in one tenant's files: the resource (a registry name and its address id), its
    file, and the property path within the file."""

    tenant: str
    resource: str
    key: str
    file: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class Mismatch:
    rule: str
    at: At
    message: str  # said at `at`
    other: At | None  # the other side's place, for its file:line:col


@dataclass(frozen=True)
class PeerRule:
    title: str
    reason: str
    source: str  # Microsoft's page that says what both sides need


_MTO = "https://learn.microsoft.com/entra/identity/multi-tenant-organizations"
# By id. Each finding is a warning: it breaks nothing that works today, and one side is often set
# first while the other waits on its own review.
RULES: Mapping[str, PeerRule] = {
    "peer-direct-connect": PeerRule(
        "B2B direct connect is allowed on one side only",
        "B2B direct connect works only when the users' tenant allows it outbound and the resource "
        "tenant allows it inbound; one side alone lets no one through.",
        "https://learn.microsoft.com/entra/external-id/b2b-direct-connect-overview",
    ),
    "peer-identity-sync": PeerRule(
        "cross-tenant synchronization is allowed without the consent it needs",
        "Synchronization needs the target's userSyncInbound and inbound automatic consent, and the "
        "source's outbound automatic consent; without all three it provisions no one.",
        f"{_MTO}/cross-tenant-synchronization-configure",
    ),
    "peer-mto-sync-template": PeerRule(
        "the multitenant organization's identity sync template cannot take effect",
        "The identity sync template allows sync, but the partner configuration template (or a "
        "member's own) does not give the automatic consent synchronization needs.",
        f"{_MTO}/multi-tenant-organization-templates",
    ),
}


def mismatches(tenants: Sequence[Tenant]) -> list[Mismatch]:
    """Every finding between the tenants, and of each tenant's templates."""
    found: list[Mismatch] = []
    for one in tenants:
        for other in tenants:
            if one.id != other.id:
                found += _direct_connect(one, other)
                found += _sync(one, other)
        found += _template(one, tenants)
    return found


def _direct_connect(users: Tenant, resources: Tenant) -> Iterator[Mismatch]:
    """`users`' people reaching `resources`' applications: its outbound against their inbound."""
    if resources.id not in users.partners and users.id not in resources.partners:
        return  # neither names the other: each applies its default to everyone alike
    route = VIAS["b2bDirectConnect"]
    going = opens([each.half for each in in_effect(route[OUTBOUND], *_sources(users, resources.id))])
    coming = opens([each.half for each in in_effect(route[INBOUND], *_sources(resources, users.id))])
    if going == coming:
        return
    out_at = _setting_at(users, resources.id, route[OUTBOUND].setting)
    in_at = _setting_at(resources, users.id, route[INBOUND].setting)
    lets = {True: "lets users through", False: "blocks everyone"}
    yield Mismatch(
        "peer-direct-connect",
        out_at,
        f"this tenant's {route[OUTBOUND].setting} for {resources.id} {lets[going]}, but that tenant's "
        f"{route[INBOUND].setting} for this one {lets[coming]}: this tenant's users cannot use direct connect there",
        in_at,
    )
    yield Mismatch(
        "peer-direct-connect",
        in_at,
        f"this tenant's {route[INBOUND].setting} for {users.id} {lets[coming]}, but that tenant's "
        f"{route[OUTBOUND].setting} for this one {lets[going]}: its users cannot use B2B direct connect here",
        out_at,
    )


def _sync(source: Tenant, target: Tenant) -> Iterator[Mismatch]:
    """`target` synchronizing users in from `source`."""
    sync = target.syncs.get(source.id)
    if sync is None or _get(sync.values, SYNC_ALLOWED) is not True:
        return
    sync_at = At(target.id, IDENTITY_SYNC.name, source.id, sync.file, (IDENTITY_SYNC.nested_key or "", *SYNC_ALLOWED))
    own = target.partners.get(source.id)
    if own is None or _get(own.values, (CONSENT, "inboundAllowed")) is not True:
        yield Mismatch(
            "peer-identity-sync",
            sync_at,
            f"sync from {source.id} is allowed, but this tenant's {CONSENT}.inboundAllowed for it is not true",
            None,
        )
    theirs = source.partners.get(target.id)
    if theirs is None or _get(theirs.values, (CONSENT, "outboundAllowed")) is not True:
        their_at = _consent_at(source, target.id, "outboundAllowed")
        yield Mismatch(
            "peer-identity-sync",
            sync_at,
            f"sync from {source.id} is allowed, but that tenant's {CONSENT}.outboundAllowed for this one is not true",
            their_at,
        )
        yield Mismatch(
            "peer-identity-sync",
            their_at,
            f"{target.id} synchronizes users in from this tenant, but this tenant's {CONSENT}.outboundAllowed "
            "for it is not true: it provisions no one",
            sync_at,
        )


def _template(target: Tenant, tenants: Sequence[Tenant]) -> Iterator[Mismatch]:
    """The target's identity sync template against the consent of its own partner template and
    of each member in the repository (one that declares a partner template)."""
    template = target.sync_template
    if template is None or _get(template.values, SYNC_ALLOWED) is not True:
        return
    sync_at = At(
        target.id, MTO_IDENTITY_SYNC_TEMPLATE.name, _singleton(MTO_IDENTITY_SYNC_TEMPLATE), template.file, SYNC_ALLOWED
    )
    own = target.partner_template
    if own is None or _get(own.values, (CONSENT, "inboundAllowed")) is not True:
        yield Mismatch(
            "peer-mto-sync-template",
            sync_at,
            f"the identity sync template allows sync, but the partner configuration template's {CONSENT}."
            "inboundAllowed is not true",
            None,
        )
    for member in tenants:
        theirs = member.partner_template
        if member.id == target.id or theirs is None or _get(theirs.values, (CONSENT, "outboundAllowed")) is True:
            continue
        declared = member.partners.get(target.id)
        if declared is not None and _get(declared.values, (CONSENT, "outboundAllowed")) is True:
            continue
        their_at = At(
            member.id,
            MTO_PARTNER_TEMPLATE.name,
            _singleton(MTO_PARTNER_TEMPLATE),
            theirs.file,
            (CONSENT, "outboundAllowed"),
        )
        yield Mismatch(
            "peer-mto-sync-template",
            sync_at,
            f"the identity sync template allows sync, but member {member.id}'s partner configuration template "
            f"does not consent outbound ({CONSENT}.outboundAllowed), nor does its partner file for this tenant",
            their_at,
        )
        yield Mismatch(
            "peer-mto-sync-template",
            their_at,
            f"{target.id}'s identity sync template takes users in from the members, but this template does not "
            f"consent outbound ({CONSENT}.outboundAllowed), nor does a partner file for {target.id}",
            sync_at,
        )


def _sources(tenant: Tenant, partner: str) -> tuple[Source | None, Source]:
    """The tenant's settings for `partner` and its default, as `in_effect` reads them: the
    default's unwritten settings are Graph's system values."""
    own = tenant.partners.get(partner)
    written = tenant.default.values if tenant.default is not None else {}
    default = Source("default", "", {**DEFAULT.absent_means, **written})
    return (None if own is None else Source("partner", own.file, own.values)), default


def _setting_at(tenant: Tenant, partner: str, setting: str) -> At:
    """Where the tenant's value of `setting` for `partner` is written: its partner file, else its
    default.yaml, else, for Graph's system value, its partner file or xtap.yaml."""
    own = tenant.partners.get(partner)
    if own is not None and own.values.get(setting) is not None:
        return At(tenant.id, PARTNER.name, partner, own.file, (setting,))
    if tenant.default is not None and tenant.default.values.get(setting) is not None:
        return At(tenant.id, DEFAULT.name, _singleton(DEFAULT), tenant.default.file, (setting,))
    if own is not None:
        return At(tenant.id, PARTNER.name, partner, own.file, ("tenantId",))
    return _settings_at(tenant, partner)


def _consent_at(tenant: Tenant, partner: str, member: str) -> At:
    own = tenant.partners.get(partner)
    if own is None:
        return _settings_at(tenant, partner)
    return At(tenant.id, PARTNER.name, partner, own.file, (CONSENT, member))


def _settings_at(tenant: Tenant, partner: str) -> At:
    """A partner the tenant's files do not declare, pointed at where xtap.yaml binds the tenant."""
    return At(tenant.id, PARTNER.name, partner, tenant.settings_file, ("tenant",))


def _singleton(rtype: ResourceType) -> str:
    return rtype.singleton_id or ""


def _get(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = values
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value
