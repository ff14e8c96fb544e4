"""Hypothesis strategies for the convergence test: random policies/ folders and random live tenants.

Desired values are only what xtap's own validation accepts (a file it would refuse never gets
near Graph). Live values are what Graph may return: every quirk it has (GUIDs in other case,
targets reordered and repeated, all-null objects, explicit null members, `@odata.*` keys,
enum values a file may not write), for every resource type of the registry.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from reconciler.core.models import (
    CLOUD_ENDPOINTS,
    FALLBACK_IDENTITY_PROVIDERS,
    GRAPH_NAMESPACE,
    M365_CAPABILITIES,
    PARTNER_ONLY_CAPABILITIES,
    PRIMARY_IDENTITY_PROVIDERS,
    B2BSetting,
    DefaultTenantRestrictions,
    TenantRestrictions,
)
from reconciler.emulator.schema import SYSTEM_DEFAULT

TENANTS = [f"{n:08x}-5d3d-455c-8016-e2af1ae4d31a" for n in range(1, 5)]
GUIDS = ["6f546279-4da5-4b53-a095-09ea0cef9971", "0be493dc-cb56-4a53-936f-9cf64410b8b0"]
# A singleton file with only comments: it declares the unconfigured (system default) state.
UNCONFIGURED: dict[str, Any] = {}


def guid(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from([value, value.upper()])


def targets_for(kind: str, named: bool = True) -> st.SearchStrategy[list[dict[str, str]]]:
    """Targets of one kind; `named=False` keeps to the keyword, as the default's tenant
    restrictions must (they cannot single out a group)."""
    keyword = {"user": "AllUsers", "application": "AllApplications"}[kind]
    object_type = "group" if kind == "user" else "application"
    by_keyword = st.just({"target": keyword, "targetType": kind})
    by_id = st.builds(lambda g: {"target": g, "targetType": object_type}, st.sampled_from(GUIDS).flatmap(guid))
    return st.lists(st.one_of(by_keyword, by_id) if named else by_keyword, min_size=1, max_size=3)


ACCESS = ["allowed", "blocked"]
BLOCK_ALL = {
    "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]},
}
# Values Graph may return but a file may not write: its enum sentinel, and devices.
LIVE_ACCESS = [*ACCESS, "unknownFutureValue"]


def target_configuration(
    kind: str, access: list[str] = ACCESS, named: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"accessType": st.sampled_from(access), "targets": targets_for(kind, named)})


def accepted_by(model: type[BaseModel]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Only settings xtap's own validation accepts (Entra's block-all rules among them): one it
    refuses becomes the setting that blocks everyone, which every rule accepts. Mapped, not
    filtered: an example draws dozens of these, and rejecting half of them makes Hypothesis
    give up."""

    def accepted(setting: dict[str, Any]) -> dict[str, Any]:
        try:
            model.model_validate(setting)
        except ValidationError:
            return copy.deepcopy(BLOCK_ALL)
        return setting

    return accepted


def b2b_halves(access: list[str] = ACCESS, named_users: bool = True) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "usersAndGroups": target_configuration("user", access, named_users),
        "applications": target_configuration("application", access),
    }


def tenant_restrictions(model: type[BaseModel], named_users: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=b2b_halves(named_users=named_users)).map(accepted_by(model))


def live_tenant_restrictions(named_users: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    devices = st.fixed_dictionaries(
        {"mode": st.sampled_from(LIVE_ACCESS), "rule": st.just("device.deviceAttribute2 -eq 'PAW'")}
    )
    return st.fixed_dictionaries({}, optional={**b2b_halves(LIVE_ACCESS, named_users), "devices": devices})


def flags(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: st.sampled_from([True, False, None]) for name in names})


B2B = st.fixed_dictionaries({}, optional=b2b_halves()).map(accepted_by(B2BSetting))
TRUST = flags(["isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted"])
CONSENT = flags(["inboundAllowed", "outboundAllowed"])
USER_SYNC = flags(["isSyncAllowed"])
B2B_SETTINGS = {
    name: B2B
    for name in (
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
    )
}
# The settings a partner and the default have and the MTO partner template lacks, but tenantRestrictions.
COLLABORATION: dict[str, st.SearchStrategy[Any]] = {
    "m365CollaborationInbound": st.fixed_dictionaries({"users": target_configuration("user")}),
    "m365CollaborationOutbound": st.fixed_dictionaries({"usersAndGroups": target_configuration("user")}),
    "appServiceConnectInbound": st.fixed_dictionaries({"applications": target_configuration("application")}),
}
SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "inboundTrust": TRUST,
    "automaticUserConsentSettings": CONSENT,
    **B2B_SETTINGS,
    "tenantRestrictions": tenant_restrictions(TenantRestrictions),
    **COLLABORATION,
}
LIVE_SETTINGS = {**SETTINGS, "tenantRestrictions": live_tenant_restrictions()}
SYNC_SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "displayName": st.sampled_from(["Contoso", "Fabrikam people", None]),
    "userSyncInbound": USER_SYNC,
}
# The order of preference is the setting: each provider at most once, in any order.
INVITATION_REDEMPTION = st.fixed_dictionaries(
    {"fallbackIdentityProvider": st.sampled_from(FALLBACK_IDENTITY_PROVIDERS)},
    optional={
        "primaryIdentityProviderPrecedenceOrder": st.lists(
            st.sampled_from(PRIMARY_IDENTITY_PROVIDERS), unique=True, max_size=3
        )
    },
)
DEFAULT_SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "inboundTrust": TRUST,
    **B2B_SETTINGS,
    "tenantRestrictions": tenant_restrictions(DefaultTenantRestrictions, named_users=False),
    **COLLABORATION,
    "invitationRedemptionIdentityProviderConfiguration": INVITATION_REDEMPTION,
}
LIVE_DEFAULT_SETTINGS = {**DEFAULT_SETTINGS, "tenantRestrictions": live_tenant_restrictions(named_users=False)}
LEVELS = [
    "newPartners,existingPartners",
    "existingPartners, newPartners",
    "none",
    "newPartners",
    "newPartners,newPartners",
]
LIVE_LEVELS = st.sampled_from([*LEVELS, "none,newPartners", "existingPartners,unknownFutureValue"])
TEMPLATE_SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "inboundTrust": TRUST,
    "automaticUserConsentSettings": CONSENT,
    **B2B_SETTINGS,
    "templateApplicationLevel": st.sampled_from(LEVELS),
}
LIVE_TEMPLATE_SETTINGS = {**TEMPLATE_SETTINGS, "templateApplicationLevel": LIVE_LEVELS}
SYNC_TEMPLATE_SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "templateApplicationLevel": st.sampled_from(LEVELS),
    "userSyncInbound": USER_SYNC,
}
LIVE_SYNC_TEMPLATE_SETTINGS = {**SYNC_TEMPLATE_SETTINGS, "templateApplicationLevel": LIVE_LEVELS}
# How Graph may take identity sync updates (Microsoft's sources disagree: reconciler/core/registry.py
# links them), as the emulator's two switches.
# Not both off: then no verb could update a policy, and no reading of Graph's sources says so.
SYNC_READINGS = [
    {"sync_patch": True, "sync_put_replaces": False},
    {"sync_patch": True, "sync_put_replaces": True},
    {"sync_patch": False, "sync_put_replaces": True},
]


# Microsoft 365 capabilities: a scope names All or one of two objects, as a user or a group.
SCOPE = st.fixed_dictionaries(
    {
        "resourceId": st.one_of(st.just("All"), st.sampled_from(GUIDS).flatmap(guid)),
        "resourceType": st.sampled_from(["user", "group"]),
    }
)
SCOPES = st.fixed_dictionaries(
    {}, optional={"included": st.lists(SCOPE, max_size=2), "excluded": st.lists(SCOPE, max_size=2)}
)
INBOUND_ACCESS = st.fixed_dictionaries({"isAllowed": st.booleans()}, optional={"resourceScopes": SCOPES})
DEFAULT_CAPABILITIES = [name for name in M365_CAPABILITIES if name not in PARTNER_ONLY_CAPABILITIES]


def capability_names(on_default: bool) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(DEFAULT_CAPABILITIES if on_default else M365_CAPABILITIES), unique=True, max_size=3)


@st.composite
def capabilities(draw: st.DrawFn, on_default: bool = False) -> list[dict[str, Any]]:
    """A file's m365Capabilities: each Graph's create body, `@odata.type` with or without its
    `#`, sometimes with the `name` Graph echoes."""
    items = []
    for name in draw(capability_names(on_default)):
        typed = GRAPH_NAMESPACE + name
        item = {"@odata.type": draw(st.sampled_from([typed, typed.removeprefix("#")]))}
        item.update(draw(st.fixed_dictionaries({}, optional={"name": st.just(name)})))
        items.append({**item, "inboundAccess": draw(INBOUND_ACCESS)})
    return items


@st.composite
def live_capabilities(draw: st.DrawFn, on_default: bool = False) -> dict[str, Any]:
    """Capabilities as the emulator stores them (by name), as Graph lists them: name, type,
    lastModifiedDateTime, both scope lists, reordered and repeated, GUIDs in any case."""
    held = {}
    for name in draw(capability_names(on_default)):
        access = draw(INBOUND_ACCESS)
        scopes = {"included": [], "excluded": [], **access.get("resourceScopes", {})}
        scopes = {key: draw(quirky(items, "targets")) for key, items in scopes.items()}
        held[name] = {
            "@odata.type": GRAPH_NAMESPACE + name,
            "name": name,
            "lastModifiedDateTime": "2026-01-15T09:57:58.6364196Z",
            "inboundAccess": {"isAllowed": access["isAllowed"], "resourceScopes": scopes},
        }
    return held


def holding_capabilities(
    body: st.SearchStrategy[dict[str, Any]], on_default: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """A file's body, with or without m365Capabilities (without: they are left alone)."""
    held = st.fixed_dictionaries({}, optional={"m365Capabilities": capabilities(on_default)})
    return st.tuples(body, held).map(lambda pair: {**pair[0], **pair[1]})


# policy.yaml: absent, only comments (the clouds left alone), or a set of the three endpoints.
POLICY_FILE = st.one_of(
    st.none(),
    st.just(UNCONFIGURED),
    st.fixed_dictionaries({"allowedCloudEndpoints": st.lists(st.sampled_from(CLOUD_ENDPOINTS), unique=True)}),
)
LIVE_POLICY = st.fixed_dictionaries(
    {"allowedCloudEndpoints": st.lists(st.sampled_from(CLOUD_ENDPOINTS), unique=True).flatmap(st.permutations)}
)


def some(settings: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=settings)


def written(settings: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Settings as a file writes them: each left out, `null` (which means the same) or a value.
    templateApplicationLevel is never `null`: validation refuses it."""
    return some(
        {name: s if name == "templateApplicationLevel" else st.one_of(st.none(), s) for name, s in settings.items()}
    )


def singleton_file(settings: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any] | None]:
    """No file (unmanaged), a file with only comments (the unconfigured state), or random settings."""
    return st.one_of(st.none(), st.just(UNCONFIGURED), written(settings))


@st.composite
def quirky(draw: st.DrawFn, value: Any, key: str | None = None) -> Any:
    """The same value as Graph might return it: targets reordered and repeated, objects
    annotated, GUIDs in other case. Other lists keep their order: it may be the setting
    (the redemption order of identity providers)."""
    if isinstance(value, list):
        items = [draw(quirky(item)) for item in value]
        if key != "targets":
            return items
        if items and draw(st.booleans()):
            items.append(copy.deepcopy(items[0]))
        return draw(st.permutations(items))
    if isinstance(value, dict):
        result = {name: draw(quirky(item, name)) for name, item in value.items()}
        if draw(st.booleans()):
            result["@odata.type"] = "#microsoft.graph.someComplexType"
        return result
    if isinstance(value, str) and value.lower() in GUIDS:
        return draw(guid(value.lower()))
    return value


@st.composite
def partner(draw: st.DrawFn, tenant: str, live: bool, exists: bool = False) -> dict[str, Any]:
    """A live partner as Graph returns it, or a desired one as a file says it. `exists`: the
    desired partner is live already, so a file writes isServiceProvider (create-only) only as
    false, and where the tenant says otherwise the plan has an error for that partner. A file may
    hold an identity sync policy (half of them do, so updates and deletes are frequent), or say
    `null` for none."""
    chosen = draw(some(LIVE_SETTINGS) if live else written(SETTINGS))
    body: dict[str, Any] = {"tenantId": draw(guid(tenant)), **chosen}
    if live:
        body = draw(quirky(body))
        if "automaticUserConsentSettings" not in body:  # Graph's "unset" is an all-null object
            body["automaticUserConsentSettings"] = {"inboundAllowed": None, "outboundAllowed": None}
        body["isServiceProvider"] = draw(st.sampled_from([None, False, True]))  # True: a GDAP partner
        body["isInMultiTenantOrganization"] = draw(st.booleans())
    else:
        service_provider = st.sampled_from([False] if exists else [False, True])
        body.update(draw(some({"isServiceProvider": service_provider})))
        sync = draw(st.one_of(st.none(), written(SYNC_SETTINGS)))
        if sync is not None or draw(st.booleans()):  # no policy: `null`, or no key at all
            body["identitySynchronization"] = sync
        if draw(st.booleans()):
            body["m365Capabilities"] = draw(capabilities())
    return body


@st.composite
def live_sync(draw: st.DrawFn, tenant: str) -> dict[str, Any]:
    """A partner's identity sync policy as Graph returns it: every member, nulls explicit."""
    body = {"tenantId": tenant, "displayName": None, "userSyncInbound": None, **draw(some(SYNC_SETTINGS))}
    return draw(quirky(body))


@st.composite
def live_default(draw: st.DrawFn) -> dict[str, Any]:
    """The tenant default as Graph returns it: the system values where no admin changed them,
    and isServiceDefault either way (an admin may have written the system values back)."""
    body = {**copy.deepcopy(SYSTEM_DEFAULT), **draw(some(LIVE_DEFAULT_SETTINGS))}
    body["isServiceDefault"] = draw(st.booleans())
    return draw(quirky(body))


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    # Each tenant is in a file, in the tenant, in both or in neither; both is drawn most, since
    # only there do updates, sync deletes and create-only conflicts happen.
    where = {tenant: draw(st.sampled_from(["file", "tenant", "both", "both", "neither"])) for tenant in TENANTS}
    desired_ids = [tenant for tenant in TENANTS if where[tenant] in ("file", "both")]
    live_ids = [tenant for tenant in TENANTS if where[tenant] in ("tenant", "both")]
    return {
        "desired": [draw(partner(t, live=False, exists=t in live_ids)) for t in desired_ids],
        "live": [draw(partner(t, live=True)) for t in live_ids],
        "live_syncs": {t: draw(live_sync(t)) for t in live_ids if draw(st.booleans())},
        "live_capabilities": {t: draw(live_capabilities()) for t in live_ids if draw(st.booleans())},
        "template": draw(singleton_file(TEMPLATE_SETTINGS)),
        "live_template": draw(quirky(draw(some(LIVE_TEMPLATE_SETTINGS)))),
        "sync_template": draw(singleton_file(SYNC_TEMPLATE_SETTINGS)),
        "live_sync_template": draw(quirky(draw(some(LIVE_SYNC_TEMPLATE_SETTINGS)))),
        "default": draw(
            st.one_of(st.none(), st.just(UNCONFIGURED), holding_capabilities(written(DEFAULT_SETTINGS), True))
        ),
        "live_default": draw(live_default()),
        "live_default_capabilities": draw(live_capabilities(on_default=True)),
        "policy": draw(POLICY_FILE),
        "live_policy": draw(LIVE_POLICY),
        "page_size": draw(st.integers(min_value=1, max_value=3)),
        "sync_reading": draw(st.sampled_from(SYNC_READINGS)),
    }
