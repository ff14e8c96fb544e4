"""Graph v1.0's wire schema for the XTAP types, as tables, and the strict checks Graph runs on writes.

The emulator keeps its own copy of the schema (Graph's v1.0 metadata,
https://github.com/microsoftgraph/msgraph-metadata) instead of reusing the
reconciler's models: if both were derived from one source, a mistake there would pass every
test. `coerce` validates a request body and returns Graph's normalised form (lowercase GUIDs,
targets in Graph's own order); `complete` adds the explicit nulls Graph echoes back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request

# Used with fullmatch only: `$` would also match before a trailing newline ("<guid>\n").
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Reserved target keywords and the only targetType each may carry:
# https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicytarget
KEYWORD_TARGET_TYPES: Mapping[str, str] = {
    "AllUsers": "user",
    "AllApplications": "application",
    "Office365": "application",
    "AllMicrosoftApps": "application",
}


@dataclass(frozen=True)
class PrimitiveType:
    edm: str
    python: type
    guid: bool = False


@dataclass(frozen=True)
class EnumType:
    name: str
    members: tuple[str, ...]
    flags: bool = False


@dataclass(frozen=True)
class CollectionType:
    item: WireType
    sort_key: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class ComplexType:
    name: str
    members: Mapping[str, WireType]
    non_nullable: frozenset[str] = frozenset()
    # Members Graph leaves out of responses until a client has set them (tenantRestrictions.devices).
    echo_only_if_set: frozenset[str] = frozenset()
    # Semantic checks after the structural ones; returns the normalised object.
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None


WireType = PrimitiveType | EnumType | CollectionType | ComplexType


@dataclass(frozen=True)
class EntitySchema:
    """An entity type plus the write rules and read defaults that are not part of its shape."""

    type: ComplexType
    key: str | None  # None for a singleton that has no key property (the tenant default)
    read_only: frozenset[str]
    create_only: frozenset[str]
    block_all_rule: frozenset[str]  # B2B settings subject to "block all users ⇔ block all apps"
    navigation: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = field(default_factory=dict)  # rendered instead of null
    update_only: frozenset[str] = frozenset()  # documented on update, not create
    all_users_only: frozenset[str] = frozenset()  # settings whose usersAndGroups may target only AllUsers


def _check_target(target: dict[str, Any]) -> dict[str, Any]:
    value, target_type = target.get("target"), target.get("targetType")
    if value is None or target_type is None:
        raise bad_request("A crossTenantAccessPolicyTarget requires both 'target' and 'targetType'.")
    expected = KEYWORD_TARGET_TYPES.get(value)
    if expected is not None:
        if target_type != expected:
            raise bad_request(f"Target '{value}' is only valid with targetType '{expected}', not '{target_type}'.")
        return target
    if not GUID_RE.fullmatch(value):
        raise bad_request(
            f"Invalid target '{value}': expected an object id (GUID) or one of {', '.join(KEYWORD_TARGET_TYPES)}."
        )
    return {**target, "target": value.lower()}


BOOLEAN = PrimitiveType("Edm.Boolean", bool)
STRING = PrimitiveType("Edm.String", str)
GUID = PrimitiveType("Edm.String", str, guid=True)
ACCESS_TYPE = EnumType(
    "crossTenantAccessPolicyTargetConfigurationAccessType", ("allowed", "blocked", "unknownFutureValue")
)
TARGET_TYPE = EnumType("crossTenantAccessPolicyTargetType", ("user", "group", "application", "unknownFutureValue"))
TEMPLATE_APPLICATION_LEVEL = EnumType(
    "templateApplicationLevel", ("none", "newPartners", "existingPartners", "unknownFutureValue"), flags=True
)
TARGET = ComplexType(
    "crossTenantAccessPolicyTarget", {"target": STRING, "targetType": TARGET_TYPE}, check=_check_target
)
# Graph does not keep the order targets were sent in; sorting makes that visible to clients.
TARGETS = CollectionType(TARGET, sort_key=lambda t: (t["targetType"], t["target"]))
TARGET_CONFIGURATION = ComplexType(
    "crossTenantAccessPolicyTargetConfiguration", {"accessType": ACCESS_TYPE, "targets": TARGETS}
)
_B2B_MEMBERS = {"usersAndGroups": TARGET_CONFIGURATION, "applications": TARGET_CONFIGURATION}
B2B_SETTING = ComplexType("crossTenantAccessPolicyB2BSetting", _B2B_MEMBERS)
DEVICES_FILTER = ComplexType("devicesFilter", {"mode": ACCESS_TYPE, "rule": STRING})
TENANT_RESTRICTIONS = ComplexType(
    "crossTenantAccessPolicyTenantRestrictions",
    {**_B2B_MEMBERS, "devices": DEVICES_FILTER},
    echo_only_if_set=frozenset({"devices"}),
)
INBOUND_TRUST = ComplexType(
    "crossTenantAccessPolicyInboundTrust",
    {
        "isMfaAccepted": BOOLEAN,
        "isCompliantDeviceAccepted": BOOLEAN,
        "isHybridAzureADJoinedDeviceAccepted": BOOLEAN,
    },
)
INBOUND_OUTBOUND = ComplexType(
    "inboundOutboundPolicyConfiguration", {"inboundAllowed": BOOLEAN, "outboundAllowed": BOOLEAN}
)
_B2B_SETTINGS = (
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
)
_SHARED_MEMBERS: dict[str, WireType] = {
    "inboundTrust": INBOUND_TRUST,
    "automaticUserConsentSettings": INBOUND_OUTBOUND,
    **dict.fromkeys(_B2B_SETTINGS, B2B_SETTING),
}
# Graph renders unset consent settings as an object of nulls, never as null:
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-list-partners
_UNSET_CONSENT = {"automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None}}
# Partner settings the create page does not list; the default has them too:
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-post-partners
_UPDATE_ONLY_MEMBERS: dict[str, WireType] = {
    "tenantRestrictions": TENANT_RESTRICTIONS,
    "m365CollaborationInbound": ComplexType(
        "crossTenantAccessPolicyM365CollaborationInboundSetting", {"users": TARGET_CONFIGURATION}
    ),
    "m365CollaborationOutbound": ComplexType(
        "crossTenantAccessPolicyM365CollaborationOutboundSetting", {"usersAndGroups": TARGET_CONFIGURATION}
    ),
    "appServiceConnectInbound": ComplexType(
        "crossTenantAccessPolicyAppServiceConnectSetting", {"applications": TARGET_CONFIGURATION}
    ),
}
IDENTITY_PROVIDER = EnumType(
    "b2bIdentityProvidersType",
    (
        "azureActiveDirectory",
        "externalFederation",
        "socialIdentityProviders",
        "emailOneTimePasscode",
        "microsoftAccount",
        "defaultConfiguredIdp",
        "unknownFutureValue",
    ),
)
# The precedence order is the point of the setting, so it is kept as sent (no sort key).
INVITATION_REDEMPTION = ComplexType(
    "defaultInvitationRedemptionIdentityProviderConfiguration",
    {
        "primaryIdentityProviderPrecedenceOrder": CollectionType(IDENTITY_PROVIDER),
        "fallbackIdentityProvider": IDENTITY_PROVIDER,
    },
)
USER_SYNC_INBOUND = ComplexType("crossTenantUserSyncInbound", {"isSyncAllowed": BOOLEAN})

PARTNER = EntitySchema(
    type=ComplexType(
        "crossTenantAccessPolicyConfigurationPartner",
        {
            "tenantId": GUID,
            "isServiceProvider": BOOLEAN,
            "isInMultiTenantOrganization": BOOLEAN,
            **_SHARED_MEMBERS,
            **_UPDATE_ONLY_MEMBERS,
        },
        non_nullable=frozenset({"tenantId"}),
    ),
    key="tenantId",
    read_only=frozenset({"isInMultiTenantOrganization"}),
    create_only=frozenset({"tenantId", "isServiceProvider"}),
    block_all_rule=frozenset({*_B2B_SETTINGS, "tenantRestrictions"}),
    navigation=frozenset({"identitySynchronization"}),
    defaults={"isInMultiTenantOrganization": False, **_UNSET_CONSENT},
    update_only=frozenset(_UPDATE_ONLY_MEMBERS),
)

# The id Graph shows for an unconfigured template
# (https://learn.microsoft.com/graph/api/multitenantorganizationpartnerconfigurationtemplate-get);
# stable across resets.
TEMPLATE_ID = "75b1889b-6f42-4cc5-8e62-e774b8db243c"

TEMPLATE = EntitySchema(
    type=ComplexType(
        "multiTenantOrganizationPartnerConfigurationTemplate",
        {"id": STRING, "templateApplicationLevel": TEMPLATE_APPLICATION_LEVEL, **_SHARED_MEMBERS},
        non_nullable=frozenset({"templateApplicationLevel"}),
    ),
    key="id",
    read_only=frozenset({"id"}),
    create_only=frozenset(),
    block_all_rule=frozenset(_B2B_SETTINGS),
    defaults={
        "id": TEMPLATE_ID,
        "templateApplicationLevel": "newPartners,existingPartners",
        **_UNSET_CONSENT,
    },
)

IDENTITY_SYNC = EntitySchema(
    type=ComplexType(
        "crossTenantIdentitySyncPolicyPartner",
        {"tenantId": GUID, "displayName": STRING, "userSyncInbound": USER_SYNC_INBOUND},
        non_nullable=frozenset({"tenantId"}),
    ),
    key="tenantId",
    # tenantId is documented read-only, but a body may repeat it; the store checks it names the partner.
    read_only=frozenset(),
    create_only=frozenset(),
    block_all_rule=frozenset(),
)

# The id Graph shows for an unconfigured identity sync template:
# https://learn.microsoft.com/graph/api/multitenantorganizationidentitysyncpolicytemplate-get
SYNC_TEMPLATE_ID = "0e7aad84-cb46-4b8e-a881-522ef25939f1"

SYNC_TEMPLATE = EntitySchema(
    type=ComplexType(
        "multiTenantOrganizationIdentitySyncPolicyTemplate",
        {"id": STRING, "templateApplicationLevel": TEMPLATE_APPLICATION_LEVEL, "userSyncInbound": USER_SYNC_INBOUND},
        non_nullable=frozenset({"templateApplicationLevel"}),
    ),
    key="id",
    read_only=frozenset({"id"}),
    create_only=frozenset(),
    block_all_rule=frozenset(),
    # Like consent settings, an unset userSyncInbound reads as an object of nulls (same page).
    defaults={
        "id": SYNC_TEMPLATE_ID,
        "templateApplicationLevel": "newPartners,existingPartners",
        "userSyncInbound": {"isSyncAllowed": None},
    },
)

# The default has no inheritance to fall back on: a setting with a system value cannot be null.
_DEFAULT_WITH_SYSTEM_VALUE = frozenset(
    {"inboundTrust", *_B2B_SETTINGS, "tenantRestrictions", "invitationRedemptionIdentityProviderConfiguration"}
)

DEFAULT = EntitySchema(
    type=ComplexType(
        "crossTenantAccessPolicyConfigurationDefault",
        {
            "isServiceDefault": BOOLEAN,
            **_SHARED_MEMBERS,
            **_UPDATE_ONLY_MEMBERS,
            "invitationRedemptionIdentityProviderConfiguration": INVITATION_REDEMPTION,
        },
        non_nullable=_DEFAULT_WITH_SYSTEM_VALUE,
    ),
    # The documented GET shows no id, though the type derives from entity; none is rendered.
    key=None,
    read_only=frozenset({"isServiceDefault", "automaticUserConsentSettings"}),
    create_only=frozenset(),
    block_all_rule=frozenset({*_B2B_SETTINGS, "tenantRestrictions"}),
    all_users_only=frozenset({"tenantRestrictions"}),
)


def _all(access: str) -> dict[str, Any]:
    """A B2B setting giving every user and every application `access`."""
    return {
        "usersAndGroups": {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]},
    }


# A new tenant's default, and the state resetToSystemDefault restores. Documented: inboundTrust,
# the four B2B settings (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-get)
# and the consent settings (the default's resource page). Chosen, where nothing is documented:
# tenantRestrictions blocks all ("In Tenant Restrictions, all access settings are disabled by
# default"); the redemption order is the one Entra's B2B guide gives as "the default settings";
# m365Collaboration* and appServiceConnectInbound have none documented and are null.
SYSTEM_DEFAULT: Mapping[str, Any] = {
    "isServiceDefault": True,
    "inboundTrust": {
        "isMfaAccepted": False,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    },
    "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
    "b2bCollaborationInbound": _all("allowed"),
    "b2bCollaborationOutbound": _all("allowed"),
    "b2bDirectConnectInbound": _all("blocked"),
    "b2bDirectConnectOutbound": _all("blocked"),
    "tenantRestrictions": _all("blocked"),
    "m365CollaborationInbound": None,
    "m365CollaborationOutbound": None,
    "appServiceConnectInbound": None,
    "invitationRedemptionIdentityProviderConfiguration": {
        "primaryIdentityProviderPrecedenceOrder": [
            "azureActiveDirectory",
            "externalFederation",
            "socialIdentityProviders",
        ],
        "fallbackIdentityProvider": "defaultConfiguredIdp",
    },
}


def _wrong_type(name: str, expected: str) -> Exception:
    return bad_request(f"Invalid value for property '{name}': expected {expected}.")


def _coerce_enum(value: str, enum: EnumType) -> str:
    """One member, or for a flags enum a comma-separated set rendered in declaration order."""
    names = [part.strip() for part in value.split(",")] if enum.flags else [value]
    for name in names:
        if name not in enum.members:
            raise bad_request(f"Requested value '{name}' was not found.")
    if not enum.flags:
        return value
    return ",".join(m for m in enum.members if m in names and m != "none") or "none"


def coerce(value: Any, wire_type: WireType, name: str) -> Any:
    """Validate `value` as Graph would (400 GraphError on the first problem); return it normalised.

    `@odata.*` annotations are accepted and dropped. Property names are case-sensitive.
    """
    if value is None:
        return None
    if isinstance(wire_type, PrimitiveType):
        # bool is an int in Python, and JSON true must not pass as a string or vice versa.
        if type(value) is not wire_type.python:
            raise _wrong_type(name, wire_type.edm)
        if wire_type.guid:
            if not isinstance(value, str) or not GUID_RE.fullmatch(value):
                raise bad_request(f"Invalid value '{value}' for property '{name}': not a GUID.")
            return value.lower()
        return value
    if isinstance(wire_type, EnumType):
        if not isinstance(value, str):
            raise _wrong_type(name, wire_type.name)
        return _coerce_enum(value, wire_type)
    if isinstance(wire_type, CollectionType):
        if not isinstance(value, list) or any(item is None for item in value):
            raise _wrong_type(name, "a collection of non-null values")
        items = [coerce(item, wire_type.item, name) for item in value]
        return sorted(items, key=wire_type.sort_key) if wire_type.sort_key else items
    if not isinstance(value, dict):
        raise _wrong_type(name, wire_type.name)
    result: dict[str, Any] = {}
    for key, member in value.items():
        if key.startswith("@odata."):
            continue
        if key not in wire_type.members:
            raise bad_request(f"Invalid property '{key}'.")
        if member is None and key in wire_type.non_nullable:
            raise bad_request(f"Property '{key}' cannot be null.")
        result[key] = coerce(member, wire_type.members[key], key)
    return wire_type.check(result) if wire_type.check else result


def complete(value: Any, wire_type: WireType) -> Any:
    """`value` with every member of every complex object present, null when unset (Graph's echo)."""
    if isinstance(wire_type, CollectionType) and isinstance(value, list):
        return [complete(item, wire_type.item) for item in value]
    if not isinstance(wire_type, ComplexType) or not isinstance(value, dict):
        return value
    result = {
        name: complete(value.get(name), member_type)
        for name, member_type in wire_type.members.items()
        if name in value or name not in wire_type.echo_only_if_set
    }
    result.update({k: v for k, v in value.items() if k not in wire_type.members})
    return result


def coerce_write(body: Any, entity: EntitySchema, creating: bool, strict: bool = True) -> dict[str, Any]:
    """Validate a POST (`creating`) or PATCH body for `entity`, including its read-only rules;
    `strict` refuses on create what Graph documents only on update."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for name in body:
        if name in entity.read_only:
            raise bad_request(f"Property '{name}' is read-only and cannot be set.")
        if not creating and name in entity.create_only:
            raise bad_request(f"Property '{name}' cannot be updated.")
        if creating and strict and name in entity.update_only:
            raise bad_request(f"Property '{name}' cannot be set on create; update the object to set it.")
    return coerce(body, entity.type, entity.type.name)


def _blocks_all(configuration: Any, keyword: str) -> bool:
    return (
        isinstance(configuration, dict)
        and configuration.get("accessType") == "blocked"
        and any(t.get("target") == keyword for t in configuration.get("targets") or [])
    )


def check_block_all(setting: Any, name: str) -> None:
    """The admin-center rules, checked when both halves are present. Blocking all users and
    groups requires blocking all applications, for every setting
    (https://learn.microsoft.com/entra/external-id/cross-tenant-access-settings-b2b-collaboration).
    The reverse is stated only for tenant restrictions
    (https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2): in a B2B setting,
    blocking group g1 from all applications is a documented, valid combination (the overview's
    interpretation table)."""
    if not isinstance(setting, dict) or setting.get("usersAndGroups") is None or setting.get("applications") is None:
        return
    users = _blocks_all(setting["usersAndGroups"], "AllUsers")
    apps = _blocks_all(setting["applications"], "AllApplications")
    if users and not apps:
        raise bad_request(
            f"Invalid '{name}': blocking all users and groups (AllUsers) requires blocking all applications "
            "(AllApplications)."
        )
    if apps and not users and name == "tenantRestrictions":
        raise bad_request(
            f"Invalid '{name}': blocking all applications (AllApplications) requires blocking all users and "
            "groups (AllUsers)."
        )


def check_all_users_only(setting: Any, name: str) -> None:
    """Default tenant restrictions "can't be scoped to individual accounts or groups"
    (https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2): their usersAndGroups may
    target AllUsers only."""
    users = setting.get("usersAndGroups") if isinstance(setting, dict) else None
    targets = users.get("targets") if isinstance(users, dict) else None
    if any(t.get("target") != "AllUsers" for t in targets or []):
        raise bad_request(f"Invalid '{name}': the default can target only AllUsers in usersAndGroups.")
