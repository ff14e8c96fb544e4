"""Pydantic models of the Graph types xtap manages, in Graph's own wire names.

A policy file is validated against these models, so they are strict on purpose: unknown or
mis-cased keys are errors (Graph itself answers 400 "Invalid property" for them), enums are
closed, GUIDs are checked. Field names *are* the wire names (camelCase), so a block copied
from the Graph docs validates as is and `model_dump()` is already a request body.

`tests/core/test_models.py` compares the writable property sets with msgraph-sdk's own models, so
an SDK upgrade that adds a property fails loudly instead of being silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reconciler.core.tenant_ids import not_a_string_tenant_id
from reconciler.core.wire import GRAPH_NAMESPACE, ODATA_TYPE, is_guid

# Reserved target keywords and the targetType each one belongs to:
# https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicytarget
KEYWORD_TARGET_TYPES: dict[str, str] = {
    "AllUsers": "user",
    "AllApplications": "application",
    "AllMicrosoftApps": "application",
    "Office365": "application",
}


# The consumer Microsoft Accounts (MSA) tenant, which partner settings can name like any other.
MICROSOFT_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


# Graph's evolvable-enum sentinel: it may come back in a read, but it names no setting, so a
# file may never send it.
# https://learn.microsoft.com/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


def _not_reserved(value: Any) -> Any:
    if value == UNKNOWN_FUTURE_VALUE:
        raise ValueError(
            f"'{UNKNOWN_FUTURE_VALUE}' is reserved by Graph for values it adds later; it cannot be written"
        )
    return value


# Literals rather than Enums: strict mode accepts the plain strings YAML gives us, and the
# error message lists the allowed values.
AccessType = Annotated[Literal["allowed", "blocked"], BeforeValidator(_not_reserved)]
TargetType = Annotated[Literal["user", "group", "application"], BeforeValidator(_not_reserved)]
# b2bIdentityProvidersType is one enum for two slots, and Graph's invitation redemption page
# gives each slot its own three members; a member in the other slot is refused:
# https://learn.microsoft.com/graph/api/resources/invitationredemptionidentityproviderconfiguration
PrimaryProviderName = Literal["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]
FallbackProviderName = Literal["defaultConfiguredIdp", "emailOneTimePasscode", "microsoftAccount"]
PRIMARY_IDENTITY_PROVIDERS: tuple[str, ...] = get_args(PrimaryProviderName)
FALLBACK_IDENTITY_PROVIDERS: tuple[str, ...] = get_args(FallbackProviderName)


def _provider_slot(slot: str, allowed: tuple[str, ...]) -> AfterValidator:
    """Said by the slot, not by pydantic's bare list of members, so that a provider put in the
    wrong slot is told where it belongs."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} cannot be a {slot} identity provider; use one of {', '.join(allowed)}")
        return value

    return AfterValidator(check)


IdentityProviderName = Annotated[Literal[PrimaryProviderName, FallbackProviderName], BeforeValidator(_not_reserved)]
PrimaryProvider = Annotated[IdentityProviderName, _provider_slot("primary", PRIMARY_IDENTITY_PROVIDERS)]
FallbackProvider = Annotated[IdentityProviderName, _provider_slot("fallback", FALLBACK_IDENTITY_PROVIDERS)]
# The flags enum templateApplicationLevel, in Graph's order (none=0, newPartners=1, existingPartners=2).
TEMPLATE_APPLICATION_LEVELS = ("none", "newPartners", "existingPartners", UNKNOWN_FUTURE_VALUE)
WRITABLE_LEVELS = TEMPLATE_APPLICATION_LEVELS[:-1]


class GraphModel(BaseModel):
    """Base of every Graph type: closed (extra keys are errors) and strict (no "true" → True)."""

    # defer_build: each model's validator is built when it is first used, not on import: a plan
    # sends its first request before the files are validated, and a command never waits for the
    # validators of types it does not meet (half of this module's import time).
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    # The Graph type name, so the `@odata.type` of the docs' JSON representations is accepted.
    graph_type: ClassVar[str] = ""
    # What the canonical form (`canonical.py`) must know of the type's members, so that equal
    # means equal: string members Graph and people spell many ways, with their one spelling,
    # and list members that are sets (compared sorted without repeats; a change inside one is
    # shown whole, since a set has no stable index to point at). The registry gathers them
    # for each resource type from every model it reaches.
    spellings: ClassVar[Mapping[str, Callable[[str], str]]] = MappingProxyType({})
    set_members: ClassVar[frozenset[str]] = frozenset()
    # For an object that names a user, group or application: its (id member, kind member), so
    # the names of what it names can be looked up and shown (`core/references.py`).
    reference: ClassVar[tuple[str, str] | None] = None

    @model_validator(mode="before")
    @classmethod
    def _own_odata_type(cls, data: Any) -> Any:
        """Accept an `@odata.type` naming this object's own type (a block copied from the docs'
        JSON representation carries one, with or without the `#`) and drop it: Graph is never
        sent an annotation. Any other type is an error, at that key."""
        if not isinstance(data, dict) or ODATA_TYPE not in data:
            return data
        data = dict(data)
        named = data.pop(ODATA_TYPE)
        expected = GRAPH_NAMESPACE + cls.graph_type
        if named not in (expected, expected.removeprefix("#")):
            message = "'@odata.type' {named} is not this object's type, {expected}"
            raise PydanticCustomError("odata_type", message, {"named": repr(named), "expected": expected})
        return data

    @classmethod
    def odata_types(cls) -> list[str]:
        """The `@odata.type`s a file may write on this object (and xtap drops)."""
        full = GRAPH_NAMESPACE + cls.graph_type
        return [full, full.removeprefix("#")]

    def wire(self) -> dict[str, Any]:
        """The object as Graph expects it, holding exactly the keys the author wrote."""
        return self.model_dump(mode="json", exclude_unset=True)


def lower_guid(value: str) -> str:
    """A target's GUID in lower case, as Graph compares it; a keyword as written."""
    return value.lower() if is_guid(value) else value


class Target(GraphModel):
    graph_type = "crossTenantAccessPolicyTarget"
    spellings = MappingProxyType({"target": lower_guid})
    reference = ("target", "targetType")
    # The targetTypes the slot holding the target takes, and how to say so.
    slot_types: ClassVar[tuple[str, ...]] = ()
    slot_takes: ClassVar[str] = ""

    target: str
    targetType: TargetType

    @model_validator(mode="after")
    def _keyword_matches_type(self) -> Target:
        expected = KEYWORD_TARGET_TYPES.get(self.target)
        if expected is not None and self.targetType != expected:
            raise ValueError(f"target {self.target!r} needs targetType '{expected}', not '{self.targetType}'")
        if expected is None and not is_guid(self.target):
            keywords = ", ".join(KEYWORD_TARGET_TYPES)
            raise ValueError(f"target {self.target!r} is neither an object id (GUID) nor one of {keywords}")
        if self.targetType not in self.slot_types:
            raise ValueError(f"target {self.target!r} has targetType '{self.targetType}'; {self.slot_takes}")
        return self


class UserTarget(Target):
    slot_types = ("user", "group")
    slot_takes = "usersAndGroups and users take only AllUsers or a user or group id"


class ApplicationTarget(Target):
    slot_types = ("application",)
    slot_takes = "applications takes only AllApplications, AllMicrosoftApps, Office365 or an application id"


class TargetConfiguration(GraphModel):
    graph_type = "crossTenantAccessPolicyTargetConfiguration"
    set_members = frozenset({"targets"})

    accessType: AccessType | None = None
    targets: list[Target] | None = None


class UsersTargetConfiguration(TargetConfiguration):
    """A target configuration in a users or usersAndGroups slot."""

    targets: list[UserTarget] | None = None  # type: ignore[assignment]  # narrower, by design


class ApplicationsTargetConfiguration(TargetConfiguration):
    """A target configuration in an applications slot."""

    targets: list[ApplicationTarget] | None = None  # type: ignore[assignment]  # narrower, by design


class B2BSetting(GraphModel):
    graph_type = "crossTenantAccessPolicyB2BSetting"

    usersAndGroups: UsersTargetConfiguration | None = None
    applications: ApplicationsTargetConfiguration | None = None

    @model_validator(mode="after")
    def _blocking_all_users_blocks_all_apps(self) -> B2BSetting:
        """Entra's documented rule: blocking all users and groups needs blocking all applications
        (https://learn.microsoft.com/entra/external-id/cross-tenant-access-settings-b2b-collaboration).
        Caught here, offline, instead of as a 400 halfway through an apply. (Blocking a group from
        all applications is fine: the overview's interpretation table shows it.)"""
        if _blocks_one_not_other(self.usersAndGroups, "AllUsers", self.applications, "AllApplications"):
            raise ValueError("usersAndGroups blocks AllUsers, so applications must block AllApplications")
        return self


def _blocks_one_not_other(
    first: TargetConfiguration | None, first_all: str, second: TargetConfiguration | None, second_all: str
) -> bool:
    """`first` blocks everything while `second` is written and does not (a partial setting, with
    `second` absent, is valid: Graph's own create example sends one)."""
    return _blocks_all(first, first_all) and second is not None and not _blocks_all(second, second_all)


def _blocks_all(configuration: TargetConfiguration | None, keyword: str) -> bool:
    if configuration is None:
        return False
    return configuration.accessType == "blocked" and any(t.target == keyword for t in configuration.targets or ())


class DevicesFilter(GraphModel):
    graph_type = "devicesFilter"

    mode: AccessType | None = None
    rule: str | None = None


def _refuse(name: str, message: str) -> Any:
    """A validator for a property a file may not write: declared only so it is refused with a
    reason (and at its own line) instead of a bare "unknown key"."""

    def refuse(cls: type, value: Any) -> Any:
        raise ValueError(message)

    return field_validator(name, mode="before")(classmethod(refuse))


class TenantRestrictions(B2BSetting):
    graph_type = "crossTenantAccessPolicyTenantRestrictions"

    devices: DevicesFilter | None = None  # declared so that live values are compared
    _unsupported = _refuse(
        "devices", "'devices' isn't supported on the server side yet (Graph's documentation); remove it from the file"
    )

    @model_validator(mode="after")
    def _blocking_all_apps_blocks_all_users(self) -> TenantRestrictions:
        """For tenant restrictions the rule goes both ways:
        https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2"""
        if _blocks_one_not_other(self.applications, "AllApplications", self.usersAndGroups, "AllUsers"):
            raise ValueError(
                "in tenant restrictions, applications blocks AllApplications, so usersAndGroups must block AllUsers"
            )
        return self


class InboundTrust(GraphModel):
    graph_type = "crossTenantAccessPolicyInboundTrust"

    isMfaAccepted: bool | None = None
    isCompliantDeviceAccepted: bool | None = None
    isHybridAzureADJoinedDeviceAccepted: bool | None = None


class InboundOutboundPolicyConfiguration(GraphModel):
    graph_type = "inboundOutboundPolicyConfiguration"

    inboundAllowed: bool | None = None
    outboundAllowed: bool | None = None


class M365CollaborationInbound(GraphModel):
    graph_type = "crossTenantAccessPolicyM365CollaborationInboundSetting"

    users: UsersTargetConfiguration | None = None


class M365CollaborationOutbound(GraphModel):
    graph_type = "crossTenantAccessPolicyM365CollaborationOutboundSetting"

    usersAndGroups: UsersTargetConfiguration | None = None


class AppServiceConnectSetting(GraphModel):
    graph_type = "crossTenantAccessPolicyAppServiceConnectSetting"

    applications: ApplicationsTargetConfiguration | None = None


def _refuse_read_only(name: str, why: str) -> Any:
    return _refuse(name, f"'{name}' is read-only: {why}; remove it from the file")


# Microsoft 365 cross-tenant capabilities, by name: the derived types of m365CapabilityBase, each
# its own `@odata.type` (https://learn.microsoft.com/graph/api/resources/m365capabilitybase). Graph
# keys a policy's capabilities by that name, so a policy holds at most one of each.
M365_CAPABILITIES = (
    "crossTenantCalendarAvailabilityBasic",
    "crossTenantCalendarAvailabilityLimitedDetails",
    "crossTenantCalendarSharingFreeBusySimple",
    "crossTenantCalendarSharingFreeBusyDetail",
    "crossTenantCalendarSharingFreeBusyReviewer",
    "crossTenantMailTipsAll",
    "crossTenantMailTipsLimited",
    "crossTenantMigration",
    "crossTenantOpenProfileCard",
    "crossTenantPlacesDeskBooking",
    "crossTenantPlacesRoomBooking",
    "anonymousCalendarSharingFreeBusySimple",
    "anonymousCalendarSharingFreeBusyDetail",
    "anonymousCalendarSharingFreeBusyReviewer",
)
# "Available only in a partner policy" (https://learn.microsoft.com/graph/api/resources/crosstenantmigration).
PARTNER_ONLY_CAPABILITIES = frozenset({"crossTenantMigration"})
CAPABILITY_NAME = "name"
ResourceType365 = Annotated[Literal["user", "group", "none"], BeforeValidator(_not_reserved)]


class M365CapabilityResourceScope(GraphModel):
    """One of your own tenant's users or groups (or all of them) whose resources a capability
    exposes: https://learn.microsoft.com/graph/api/resources/m365capabilityresourcescope"""

    graph_type = "m365CapabilityResourceScope"
    spellings = MappingProxyType({"resourceId": lower_guid})
    reference = ("resourceId", "resourceType")

    resourceId: str
    resourceType: ResourceType365

    @model_validator(mode="after")
    def _all_or_an_object(self) -> M365CapabilityResourceScope:
        if self.resourceId != "All" and not is_guid(self.resourceId):
            raise ValueError(
                f"resourceId {self.resourceId!r} is neither All nor a user or group id (a GUID like "
                "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)"
            )
        if self.resourceType == "none" and self.resourceId != "All":
            raise ValueError(f"resourceId {self.resourceId!r} names an object, so resourceType must be user or group")
        return self


class M365CapabilityResourceScopes(GraphModel):
    graph_type = "m365CapabilityResourceScopes"
    set_members = frozenset({"included", "excluded"})

    included: list[M365CapabilityResourceScope] = []
    excluded: list[M365CapabilityResourceScope] = []


class M365CapabilityInboundAccess(GraphModel):
    graph_type = "m365CapabilityInboundAccess"

    isAllowed: bool
    # Constructed, not validated: validating would build the model's validator on import
    # (`defer_build`), and the default has nothing to validate.
    resourceScopes: M365CapabilityResourceScopes = M365CapabilityResourceScopes.model_construct()

    @model_validator(mode="before")
    @classmethod
    def _whole(cls, data: Any) -> Any:
        """Written whole, both lists included (`[]` for none): Graph merges a PATCH of
        inboundAccess member by member, so a list left out would keep its old members."""
        if not isinstance(data, dict):
            return data
        if data.get("isAllowed") is None:  # Graph's create and whole-PATCH bodies both need it
            raise PydanticCustomError(
                "capability_allowed",
                "isAllowed is missing: write isAllowed: true to allow the capability, or false to block it",
            )
        scopes = data.get("resourceScopes")
        if scopes is None:
            scopes = {}
        if isinstance(scopes, dict):
            written = {key: value for key, value in scopes.items() if value is not None}
            scopes = {"included": [], "excluded": [], **written}
        return {**data, "resourceScopes": scopes}


class M365Capability(GraphModel):
    """A Microsoft 365 cross-tenant capability (calendar free/busy and sharing, MailTips, profile
    cards, Places, mailbox migration) of the default or of one partner: one item of their
    `m365Capabilities`, written as Graph's create body, `@odata.type` naming it.
    https://learn.microsoft.com/graph/api/resources/m365-cross-tenant-access-policy-overview"""

    graph_type = "m365CapabilityBase"

    # Its `@odata.type`'s name: set from it by `_own_odata_type`, never absent.
    name: str = None  # type: ignore[assignment]
    lastModifiedDateTime: Any = None
    _modified = _refuse_read_only("lastModifiedDateTime", "Graph sets it on every change")
    id: Any = None
    _id = _refuse_read_only("id", "a capability is known by its @odata.type")
    inboundAccess: M365CapabilityInboundAccess

    @model_validator(mode="before")
    @classmethod
    def _own_odata_type(cls, data: Any) -> Any:
        """The capability is its `@odata.type` (with or without the `#`): Graph derives `name`
        from it, so a `name` written beside it must be the same."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        named = data.pop(ODATA_TYPE, None)
        name = data.get(CAPABILITY_NAME)
        if named is None and name is None:
            raise PydanticCustomError(
                "capability_type",
                "a capability needs its '@odata.type', like '#microsoft.graph.crossTenantMailTipsLimited'",
            )
        if named is not None:
            short = _capability_of(named)
            if short is None:
                raise PydanticCustomError(
                    "capability_type",
                    "'@odata.type' {named} is not a Microsoft 365 capability: write '{namespace}' and one of {known}",
                    {"named": repr(named), "namespace": GRAPH_NAMESPACE, "known": ", ".join(M365_CAPABILITIES)},
                )
            if name is not None and name != short:
                raise PydanticCustomError(
                    "capability_name",
                    "'name' {name} differs from the '@odata.type' {named}: Graph names a capability by its "
                    "type, so write name: {short} or leave name out",
                    {"name": repr(name), "named": repr(named), "short": short},
                )
            data[CAPABILITY_NAME] = short
        return data

    @classmethod
    def odata_types(cls) -> list[str]:
        full = [GRAPH_NAMESPACE + name for name in M365_CAPABILITIES]
        return full + [each.removeprefix("#") for each in full]

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in M365_CAPABILITIES:
            raise ValueError(f"{value!r} is not a Microsoft 365 capability; use one of {', '.join(M365_CAPABILITIES)}")
        return value


def _capability_of(named: Any) -> str | None:
    """The capability an `@odata.type` names ("#microsoft.graph.crossTenantMailTipsLimited", with
    or without the `#`), or None."""
    if not isinstance(named, str):
        return None
    short = named.removeprefix("#").removeprefix(GRAPH_NAMESPACE.removeprefix("#"))
    return short if short in M365_CAPABILITIES and named.removeprefix("#") != short else None


def _each_capability_once(value: list[M365Capability] | None, where: str) -> list[M365Capability] | None:
    """Graph keys a policy's capabilities by type, so one listed twice has no place to go; a
    partner-only one has none on the default."""
    if value is None:
        raise ValueError(
            "m365Capabilities cannot be null: write [] to turn every capability off here, or leave the key out "
            "to leave them alone"
        )
    names = [item.name for item in value]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"m365Capabilities lists {', '.join(repeated)} more than once; one item per capability")
    if where == "default":
        misplaced = sorted(PARTNER_ONLY_CAPABILITIES & set(names))
        if misplaced:
            raise ValueError(
                f"{', '.join(misplaced)} is available only in a partner policy (Graph's documentation); "
                "move it to the partner's file"
            )
    return value


class CrossTenantSettings(GraphModel):
    """The settings a partner and the MTO partner template have in common."""

    inboundTrust: InboundTrust | None = None
    automaticUserConsentSettings: InboundOutboundPolicyConfiguration | None = None
    b2bCollaborationInbound: B2BSetting | None = None
    b2bCollaborationOutbound: B2BSetting | None = None
    b2bDirectConnectInbound: B2BSetting | None = None
    b2bDirectConnectOutbound: B2BSetting | None = None


class TenantSettings(CrossTenantSettings):
    """The settings a partner and the tenant default have and the MTO partner template lacks."""

    tenantRestrictions: TenantRestrictions | None = None
    m365CollaborationInbound: M365CollaborationInbound | None = None
    m365CollaborationOutbound: M365CollaborationOutbound | None = None
    appServiceConnectInbound: AppServiceConnectSetting | None = None
    # Their own resources at …/m365Capabilities/{name}, written in the file: the registry splits
    # them off the body. Absent: not managed here; a list, even [], is the whole truth.
    m365Capabilities: list[M365Capability] | None = None

    @field_validator("m365Capabilities", mode="after")
    @classmethod
    def _capabilities(cls, value: list[M365Capability] | None) -> list[M365Capability] | None:
        return _each_capability_once(value, "partner")


class CrossTenantUserSyncInbound(GraphModel):
    graph_type = "crossTenantUserSyncInbound"

    isSyncAllowed: bool | None = None


class IdentitySync(GraphModel):
    """crossTenantIdentitySyncPolicyPartner, written inside its partner's file: its own resource
    at …/partners/{tenantId}/identitySynchronization, keyed by the partner's tenantId."""

    graph_type = "crossTenantIdentitySyncPolicyPartner"

    tenantId: Any = None
    _key = _refuse_read_only("tenantId", "it is the partner's tenantId, which the file declares at its top")
    displayName: str | None = None
    userSyncInbound: CrossTenantUserSyncInbound | None = None


class Partner(TenantSettings):
    """crossTenantAccessPolicyConfigurationPartner: one partner tenant's settings."""

    graph_type = "crossTenantAccessPolicyConfigurationPartner"

    tenantId: Annotated[str, not_a_string_tenant_id("tenantId")]
    isInMultiTenantOrganization: Any = None
    _read_only = _refuse_read_only(
        "isInMultiTenantOrganization", "Graph sets it when the tenant joins a multitenant organization"
    )
    isServiceProvider: bool | None = None
    # Written by Microsoft's EntraGDAP service for a GDAP/CSP or Microsoft Support partner (the
    # roles it may hold here) and documented nowhere for writing: never xtap's to manage.
    serviceProviderConstraints: Any = None
    _constraints = _refuse_read_only(
        "serviceProviderConstraints",
        "Microsoft's EntraGDAP service writes it for a service provider partner (the roles it may be assigned here)",
    )
    # Its own resource at …/partners/{tenantId}/identitySynchronization
    # (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-put-identitysynchronization),
    # written in the partner's file: the registry splits it off the partner's body.
    identitySynchronization: IdentitySync | None = None

    @model_validator(mode="after")
    def _microsoft_accounts_are_all_or_nothing(self) -> Partner:
        """Tenant restrictions for Microsoft Accounts cannot single out users:
        https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2"""
        restricted = self.tenantRestrictions.usersAndGroups if self.tenantRestrictions else None
        if self.tenantId.lower() == MICROSOFT_ACCOUNTS_TENANT and _singles_out_users(restricted):
            raise ValueError(
                "tenantRestrictions.usersAndGroups for the Microsoft Accounts tenant can only target AllUsers"
            )
        return self

    @field_validator("tenantId")
    @classmethod
    def _tenant_is_guid(cls, value: str) -> str:
        if not is_guid(value):
            raise ValueError(f"tenantId {value!r} is not a GUID (like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)")
        return value


def _singles_out_users(configuration: TargetConfiguration | None) -> bool:
    """The configuration names a user or group rather than AllUsers."""
    targets = (configuration.targets or []) if configuration else []
    return any(t.target != "AllUsers" for t in targets)


class DefaultTenantRestrictions(TenantRestrictions):
    """The default's tenant restrictions: Entra's default settings "can't be scoped to individual
    accounts or groups" (https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2)."""

    @field_validator("usersAndGroups")
    @classmethod
    def _all_users_only(cls, value: UsersTargetConfiguration | None) -> UsersTargetConfiguration | None:
        if _singles_out_users(value):
            raise ValueError("the default's tenantRestrictions.usersAndGroups can only target AllUsers")
        return value


class InvitationRedemptionIdentityProviderConfiguration(GraphModel):
    graph_type = "defaultInvitationRedemptionIdentityProviderConfiguration"

    primaryIdentityProviderPrecedenceOrder: list[PrimaryProvider] | None = None
    # Graph's page: fallback providers "must always be specified".
    fallbackIdentityProvider: FallbackProvider

    @field_validator("primaryIdentityProviderPrecedenceOrder")
    @classmethod
    def _each_once(cls, value: list[str] | None) -> list[str] | None:
        """An order of preference names each provider once; a repeat has no place to be ranked."""
        names = value or []
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"primaryIdentityProviderPrecedenceOrder repeats {', '.join(map(repr, repeated))}")
        return value


class DefaultSettings(TenantSettings):
    """crossTenantAccessPolicyConfigurationDefault: the settings every partner's null inherits."""

    graph_type = "crossTenantAccessPolicyConfigurationDefault"

    id: Any = None
    _id = _refuse_read_only("id", "Graph assigns the default configuration's id")
    isServiceDefault: Any = None
    _service_default = _refuse_read_only(
        "isServiceDefault", "Graph sets it, true after resetToSystemDefault and false after any change"
    )
    automaticUserConsentSettings: Any = None
    _consent = _refuse_read_only(
        "automaticUserConsentSettings",
        "its inboundAllowed and outboundAllowed are always false and can't be updated in the default configuration",
    )
    tenantRestrictions: DefaultTenantRestrictions | None = None  # type: ignore[assignment]  # narrower, by design
    invitationRedemptionIdentityProviderConfiguration: InvitationRedemptionIdentityProviderConfiguration | None = None

    @field_validator("m365Capabilities", mode="after")
    @classmethod
    def _capabilities(cls, value: list[M365Capability] | None) -> list[M365Capability] | None:
        return _each_capability_once(value, "default")


def template_levels(value: str) -> str:
    """templateApplicationLevel in its one normal form: each flag once, in the enum's order, no
    spaces; `none` is the empty set, so it vanishes beside another flag. Files are sent in this
    form, and live values (which may come in any form) are compared in it."""
    flags = {flag.strip() for flag in value.split(",") if flag.strip()}
    if len(flags) > 1:
        flags.discard("none")
    known = [flag for flag in TEMPLATE_APPLICATION_LEVELS if flag in flags]
    return ",".join(known + sorted(flags - set(known)))


class MtoTemplate(GraphModel):
    """What both MTO templates share: a Graph-assigned id and the flags saying which partners
    the template applies to."""

    spellings = MappingProxyType({"templateApplicationLevel": template_levels})

    id: Any = None
    _read_only = _refuse_read_only("id", "Graph assigns the template's id")
    templateApplicationLevel: str | None = None

    @field_validator("templateApplicationLevel")
    @classmethod
    def _flags(cls, value: str | None) -> str:
        """Checked, then sent in one normal form, whatever spacing, order or repeats the file used."""
        if value is None:
            raise ValueError("templateApplicationLevel cannot be null; leave it out for the default")
        flags = {_not_reserved(flag.strip()) for flag in value.split(",")}
        unknown = sorted(flags - set(WRITABLE_LEVELS))
        if unknown:
            raise ValueError(
                f"templateApplicationLevel {value!r}: unknown flag(s) {', '.join(map(repr, unknown))}; "
                f"use a comma-separated subset of {', '.join(WRITABLE_LEVELS)}"
            )
        if "none" in flags and len(flags) > 1:
            raise ValueError(f"templateApplicationLevel {value!r}: 'none' cannot be combined with other flags")
        return template_levels(value)


class MtoPartnerTemplate(MtoTemplate, CrossTenantSettings):
    """multiTenantOrganizationPartnerConfigurationTemplate: the singleton applied to MTO partners."""

    graph_type = "multiTenantOrganizationPartnerConfigurationTemplate"


class MtoIdentitySyncTemplate(MtoTemplate):
    """multiTenantOrganizationIdentitySyncPolicyTemplate: the singleton applied to MTO partners'
    identity synchronization."""

    graph_type = "multiTenantOrganizationIdentitySyncPolicyTemplate"

    userSyncInbound: CrossTenantUserSyncInbound | None = None


# The Microsoft clouds a tenant may collaborate with over B2B, by their sign-in host:
# https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicy
CLOUD_ENDPOINTS = ("microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn")
CloudEndpoint = Literal["microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn"]


class CrossTenantAccessPolicy(GraphModel):
    """crossTenantAccessPolicy, the policy itself: which other Microsoft clouds B2B collaboration
    may reach (https://learn.microsoft.com/entra/external-id/cross-cloud-settings). Graph's
    schema says the list is never null, so it is written whole, `[]` for none."""

    graph_type = "crossTenantAccessPolicy"
    set_members = frozenset({"allowedCloudEndpoints"})

    id: Any = None
    _id = _refuse_read_only("id", "Graph assigns the policy's id")
    displayName: Any = None
    _name = _refuse_read_only("displayName", "Graph names the policy, and xtap leaves its name alone")
    # Never null on the wire; the default only says "absent from the file".
    allowedCloudEndpoints: list[CloudEndpoint] = None  # type: ignore[assignment]

    @field_validator("allowedCloudEndpoints", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("allowedCloudEndpoints cannot be null; write [] to allow no other cloud")
        if isinstance(value, list):
            repeated = sorted({item for item in value if isinstance(item, str) and value.count(item) > 1})
            if repeated:
                raise ValueError(f"allowedCloudEndpoints repeats {', '.join(map(repr, repeated))}")
        return value


# Properties refused by name wherever they stand, so their problem points at the key. (Where
# automaticUserConsentSettings is a setting, a partner's, no check of ours fails at its key.)
REFUSED = frozenset(
    {
        "isInMultiTenantOrganization",
        "id",
        "isServiceDefault",
        "automaticUserConsentSettings",
        "devices",
        "serviceProviderConstraints",
    }
)
