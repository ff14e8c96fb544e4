"""The models cover every writable property of msgraph-sdk's v1.0 models, no more, no less,
and refuse what Graph would refuse or ignore.

An SDK upgrade that adds a property makes this fail, instead of xtap silently ignoring it."""

import importlib
from typing import Any

import pytest
from msgraph.generated.models.cross_tenant_access_policy_configuration_default import (
    CrossTenantAccessPolicyConfigurationDefault,
)
from msgraph.generated.models.cross_tenant_access_policy_configuration_partner import (
    CrossTenantAccessPolicyConfigurationPartner,
)
from msgraph.generated.models.cross_tenant_identity_sync_policy_partner import CrossTenantIdentitySyncPolicyPartner
from msgraph.generated.models.multi_tenant_organization_identity_sync_policy_template import (
    MultiTenantOrganizationIdentitySyncPolicyTemplate,
)
from msgraph.generated.models.multi_tenant_organization_partner_configuration_template import (
    MultiTenantOrganizationPartnerConfigurationTemplate,
)
from pydantic import BaseModel, ValidationError

from reconciler.core import models
from reconciler.core.models import DefaultSettings, MtoIdentitySyncTemplate, Partner
from reconciler.core.registry import DEFAULT, IDENTITY_SYNC, MTO_IDENTITY_SYNC_TEMPLATE, MTO_PARTNER_TEMPLATE, PARTNER

PARTNER_KEY = PARTNER.key
PARTNER_SETTINGS, TEMPLATE_SETTINGS, DEFAULT_SETTINGS = (
    PARTNER.settings,
    MTO_PARTNER_TEMPLATE.settings,
    DEFAULT.settings,
)
IDENTITY_SYNC_SETTINGS, IDENTITY_SYNC_TEMPLATE_SETTINGS = IDENTITY_SYNC.settings, MTO_IDENTITY_SYNC_TEMPLATE.settings

# Navigation properties (separate resources) and read-only properties: not settings.
PARTNER_NOT_SETTINGS = {
    "@odata.type",
    "identitySynchronization",  # its own resource (PUT …/identitySynchronization)
    "serviceProviderConstraints",  # GDAP navigation property
    "m365Capabilities",  # navigation property
    "isInMultiTenantOrganization",  # computed by Graph
    PARTNER_KEY,
}
TEMPLATE_NOT_SETTINGS = {"@odata.type", "id"}


def sdk_fields(model: type) -> set[str]:
    return set(model().get_field_deserializers())


def test_partner_settings_match_the_sdk() -> None:
    assert set(PARTNER_SETTINGS) == sdk_fields(CrossTenantAccessPolicyConfigurationPartner) - PARTNER_NOT_SETTINGS


def test_template_settings_match_the_sdk() -> None:
    assert set(TEMPLATE_SETTINGS) == (
        sdk_fields(MultiTenantOrganizationPartnerConfigurationTemplate) - TEMPLATE_NOT_SETTINGS
    )


DEFAULT_NOT_SETTINGS = {
    "@odata.type",
    "id",
    "isServiceDefault",  # Graph sets it on PATCH and reset
    "automaticUserConsentSettings",  # always false on the default, read-only
    "m365Capabilities",  # a relationship, not managed yet
}


def test_default_settings_match_the_sdk() -> None:
    assert set(DEFAULT_SETTINGS) == sdk_fields(CrossTenantAccessPolicyConfigurationDefault) - DEFAULT_NOT_SETTINGS


def test_identity_sync_settings_match_the_sdk() -> None:
    assert set(IDENTITY_SYNC_SETTINGS) == sdk_fields(CrossTenantIdentitySyncPolicyPartner) - {
        "@odata.type",
        PARTNER_KEY,
    }


def test_identity_sync_template_settings_match_the_sdk() -> None:
    assert set(IDENTITY_SYNC_TEMPLATE_SETTINGS) == (
        sdk_fields(MultiTenantOrganizationIdentitySyncPolicyTemplate) - TEMPLATE_NOT_SETTINGS
    )


NESTED = {
    "B2BSetting": "cross_tenant_access_policy_b2_b_setting.CrossTenantAccessPolicyB2BSetting",
    "TenantRestrictions": "cross_tenant_access_policy_tenant_restrictions.CrossTenantAccessPolicyTenantRestrictions",
    "TargetConfiguration": "cross_tenant_access_policy_target_configuration.CrossTenantAccessPolicyTargetConfiguration",
    "Target": "cross_tenant_access_policy_target.CrossTenantAccessPolicyTarget",
    "InboundTrust": "cross_tenant_access_policy_inbound_trust.CrossTenantAccessPolicyInboundTrust",
    "InboundOutboundPolicyConfiguration": "inbound_outbound_policy_configuration.InboundOutboundPolicyConfiguration",
    "DevicesFilter": "devices_filter.DevicesFilter",
    "M365CollaborationInbound": "cross_tenant_access_policy_m365_collaboration_inbound_setting."
    "CrossTenantAccessPolicyM365CollaborationInboundSetting",
    "M365CollaborationOutbound": "cross_tenant_access_policy_m365_collaboration_outbound_setting."
    "CrossTenantAccessPolicyM365CollaborationOutboundSetting",
    "AppServiceConnectSetting": "cross_tenant_access_policy_app_service_connect_setting."
    "CrossTenantAccessPolicyAppServiceConnectSetting",
    "DefaultTenantRestrictions": "cross_tenant_access_policy_tenant_restrictions."
    "CrossTenantAccessPolicyTenantRestrictions",
    "CrossTenantUserSyncInbound": "cross_tenant_user_sync_inbound.CrossTenantUserSyncInbound",
    "IdentitySync": "cross_tenant_identity_sync_policy_partner.CrossTenantIdentitySyncPolicyPartner",
    "InvitationRedemptionIdentityProviderConfiguration": "default_invitation_redemption_identity_provider_"
    "configuration.DefaultInvitationRedemptionIdentityProviderConfiguration",
}


@pytest.mark.parametrize("ours", sorted(NESTED))
def test_nested_types_match_the_sdk(ours: str) -> None:
    module_name, class_name = NESTED[ours].rsplit(".", 1)
    sdk_class = getattr(importlib.import_module(f"msgraph.generated.models.{module_name}"), class_name)
    assert set(getattr(models, ours).model_fields) == sdk_fields(sdk_class) - {"@odata.type"}


def graph_name(sdk_class: type) -> str:
    return sdk_class.__name__[0].lower() + sdk_class.__name__[1:]


@pytest.mark.parametrize("ours", sorted(NESTED))
def test_each_model_names_its_graph_type_as_the_sdk_does(ours: str) -> None:
    """The type an `@odata.type` in a file must name: the SDK's class is Graph's type name in Pascal case."""
    module_name, class_name = NESTED[ours].rsplit(".", 1)
    sdk_class = getattr(importlib.import_module(f"msgraph.generated.models.{module_name}"), class_name)
    assert getattr(models, ours).graph_type == graph_name(sdk_class)


def test_partner_and_template_name_their_graph_types() -> None:
    assert models.Partner.graph_type == graph_name(CrossTenantAccessPolicyConfigurationPartner)
    assert models.MtoPartnerTemplate.graph_type == graph_name(MultiTenantOrganizationPartnerConfigurationTemplate)
    assert DefaultSettings.graph_type == graph_name(CrossTenantAccessPolicyConfigurationDefault)
    assert MtoIdentitySyncTemplate.graph_type == graph_name(MultiTenantOrganizationIdentitySyncPolicyTemplate)


TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "0be493dc-cb56-4a53-936f-9cf64410b8b0"
ALL_USERS = {"target": "AllUsers", "targetType": "user"}
ALL_APPS = {"target": "AllApplications", "targetType": "application"}
A_GROUP = {"target": GROUP, "targetType": "group"}


def problems(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each problem's place (what load.py turns into file:line:col) and its message."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [(tuple(error["loc"]), error["msg"]) for error in exc.errors()]
    return []


def partner(**settings: Any) -> dict[str, Any]:
    return {"tenantId": TENANT, **settings}


def configuration(access: str, *targets: dict[str, str]) -> dict[str, Any]:
    return {"accessType": access, "targets": list(targets)}


MAIL_TIPS = "crossTenantMailTipsLimited"
ALLOWED = {"isAllowed": True}


def capability(name: str, allowed: bool = True, scopes: dict[str, Any] | None = None) -> dict[str, Any]:
    inbound: dict[str, Any] = (
        {"isAllowed": allowed} if scopes is None else {"isAllowed": allowed, "resourceScopes": scopes}
    )
    return {"@odata.type": f"#microsoft.graph.{name}", "inboundAccess": inbound}


def redemption(primary: list[str], fallback: str = "defaultConfiguredIdp") -> dict[str, Any]:
    return {
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": primary,
            "fallbackIdentityProvider": fallback,
        }
    }


REFUSED_CASES: dict[str, tuple[type[BaseModel], dict[str, Any], tuple[str | int, ...], str]] = {
    "sync tenantId": (
        Partner,
        partner(identitySynchronization={"tenantId": TENANT, "displayName": "Fabrikam"}),
        ("identitySynchronization", "tenantId"),
        "'tenantId' is read-only: it is the partner's tenantId",
    ),
    "sync flag not a boolean": (
        Partner,
        partner(identitySynchronization={"userSyncInbound": {"isSyncAllowed": "yes"}}),
        ("identitySynchronization", "userSyncInbound", "isSyncAllowed"),
        "valid boolean",
    ),
    "sync unknown member": (
        Partner,
        partner(identitySynchronization={"userSyncOutbound": {"isSyncAllowed": True}}),
        ("identitySynchronization", "userSyncOutbound"),
        "Extra inputs",
    ),
    "sync of another type": (
        Partner,
        partner(identitySynchronization={"@odata.type": "#microsoft.graph.crossTenantUserSyncInbound"}),
        ("identitySynchronization",),
        "#microsoft.graph.crossTenantIdentitySyncPolicyPartner",
    ),
    "default isServiceDefault": (
        DefaultSettings,
        {"isServiceDefault": False},
        ("isServiceDefault",),
        "'isServiceDefault' is read-only: Graph sets it",
    ),
    "default automaticUserConsentSettings": (
        DefaultSettings,
        {"automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False}},
        ("automaticUserConsentSettings",),
        "always false and can't be updated in the default configuration",
    ),
    "default id": (DefaultSettings, {"id": "x"}, ("id",), "'id' is read-only"),
    "default tenant restrictions for a group": (
        DefaultSettings,
        {"tenantRestrictions": {"usersAndGroups": configuration("blocked", A_GROUP)}},
        ("tenantRestrictions", "usersAndGroups"),
        "the default's tenantRestrictions.usersAndGroups can only target AllUsers",
    ),
    "default tenant restrictions devices": (
        DefaultSettings,
        {"tenantRestrictions": {"devices": {"mode": "allowed"}}},
        ("tenantRestrictions", "devices"),
        "isn't supported on the server side yet",
    ),
    "default tenant restrictions block all apps, not all users": (
        DefaultSettings,
        {
            "tenantRestrictions": {
                "usersAndGroups": configuration("allowed", ALL_USERS),
                "applications": configuration("blocked", ALL_APPS),
            }
        },
        ("tenantRestrictions",),
        "applications blocks AllApplications, so usersAndGroups must block AllUsers",
    ),
    "default B2B blocks all users, not all apps": (
        DefaultSettings,
        {
            "b2bCollaborationInbound": {
                "usersAndGroups": configuration("blocked", ALL_USERS),
                "applications": configuration("allowed", ALL_APPS),
            }
        },
        ("b2bCollaborationInbound",),
        "usersAndGroups blocks AllUsers, so applications must block AllApplications",
    ),
    "default m365 users slot holds an app": (
        DefaultSettings,
        {"m365CollaborationInbound": {"users": configuration("allowed", ALL_APPS)}},
        ("m365CollaborationInbound", "users", "targets", 0),
        "usersAndGroups and users take only AllUsers",
    ),
    "precedence repeats a provider": (
        DefaultSettings,
        redemption(["externalFederation", "azureActiveDirectory", "externalFederation"]),
        ("invitationRedemptionIdentityProviderConfiguration", "primaryIdentityProviderPrecedenceOrder"),
        "primaryIdentityProviderPrecedenceOrder repeats 'externalFederation'",
    ),
    "fallback provider as primary": (
        DefaultSettings,
        redemption(["azureActiveDirectory", "emailOneTimePasscode"]),
        ("invitationRedemptionIdentityProviderConfiguration", "primaryIdentityProviderPrecedenceOrder", 1),
        "'emailOneTimePasscode' cannot be a primary identity provider; use one of azureActiveDirectory, "
        "externalFederation, socialIdentityProviders",
    ),
    "primary provider as fallback": (
        DefaultSettings,
        redemption(["azureActiveDirectory"], "externalFederation"),
        ("invitationRedemptionIdentityProviderConfiguration", "fallbackIdentityProvider"),
        "'externalFederation' cannot be a fallback identity provider; use one of defaultConfiguredIdp, "
        "emailOneTimePasscode, microsoftAccount",
    ),
    "unknownFutureValue as primary": (
        DefaultSettings,
        redemption(["unknownFutureValue"]),
        ("invitationRedemptionIdentityProviderConfiguration", "primaryIdentityProviderPrecedenceOrder", 0),
        "'unknownFutureValue' is reserved by Graph",
    ),
    "unknownFutureValue as fallback": (
        DefaultSettings,
        redemption([], "unknownFutureValue"),
        ("invitationRedemptionIdentityProviderConfiguration", "fallbackIdentityProvider"),
        "'unknownFutureValue' is reserved by Graph",
    ),
    "not a provider": (
        DefaultSettings,
        redemption(["google"]),
        ("invitationRedemptionIdentityProviderConfiguration", "primaryIdentityProviderPrecedenceOrder", 0),
        "Input should be 'azureActiveDirectory'",
    ),
    "fallback left out": (
        DefaultSettings,
        {"invitationRedemptionIdentityProviderConfiguration": {"primaryIdentityProviderPrecedenceOrder": []}},
        ("invitationRedemptionIdentityProviderConfiguration", "fallbackIdentityProvider"),
        "Field required",
    ),
    "sync template id": (MtoIdentitySyncTemplate, {"id": "x"}, ("id",), "'id' is read-only"),
    "sync template none with a flag": (
        MtoIdentitySyncTemplate,
        {"templateApplicationLevel": "none,newPartners"},
        ("templateApplicationLevel",),
        "'none' cannot be combined with other flags",
    ),
    "sync template unknownFutureValue": (
        MtoIdentitySyncTemplate,
        {"templateApplicationLevel": "newPartners,unknownFutureValue"},
        ("templateApplicationLevel",),
        "'unknownFutureValue' is reserved by Graph",
    ),
    "sync template null level": (
        MtoIdentitySyncTemplate,
        {"templateApplicationLevel": None},
        ("templateApplicationLevel",),
        "cannot be null; leave it out for the default",
    ),
    "sync template partner settings": (
        MtoIdentitySyncTemplate,
        {"inboundTrust": {"isMfaAccepted": True}},
        ("inboundTrust",),
        "Extra inputs",
    ),
    "capability without a type": (
        Partner,
        partner(m365Capabilities=[{"inboundAccess": ALLOWED}]),
        ("m365Capabilities", 0),
        "a capability needs its '@odata.type', like '#microsoft.graph.crossTenantMailTipsLimited'",
    ),
    "capability of the base type": (
        Partner,
        partner(m365Capabilities=[{"@odata.type": "#microsoft.graph.m365CapabilityBase", "inboundAccess": ALLOWED}]),
        ("m365Capabilities", 0),
        "is not a Microsoft 365 capability: write '#microsoft.graph.' and one of crossTenantCalendarAvailabilityBasic",
    ),
    "capability name unknown": (
        Partner,
        partner(m365Capabilities=[{"name": "crossTenantTeleport", "inboundAccess": ALLOWED}]),
        ("m365Capabilities", 0, "name"),
        "'crossTenantTeleport' is not a Microsoft 365 capability; use one of",
    ),
    "capability lastModifiedDateTime": (
        DefaultSettings,
        {"m365Capabilities": [{**capability(MAIL_TIPS), "lastModifiedDateTime": "2026-01-15T09:57:58Z"}]},
        ("m365Capabilities", 0, "lastModifiedDateTime"),
        "'lastModifiedDateTime' is read-only: Graph sets it on every change; remove it from the file",
    ),
    "capability id": (
        Partner,
        partner(m365Capabilities=[{**capability(MAIL_TIPS), "id": "x"}]),
        ("m365Capabilities", 0, "id"),
        "'id' is read-only: a capability is known by its @odata.type",
    ),
    "capability null scopes member": (
        Partner,
        partner(m365Capabilities=[capability(MAIL_TIPS, False, {"included": [{"resourceId": "All"}]})]),
        ("m365Capabilities", 0, "inboundAccess", "resourceScopes", "included", 0, "resourceType"),
        "Field required",
    ),
    "capability none with a group": (
        Partner,
        partner(
            m365Capabilities=[
                capability(MAIL_TIPS, True, {"excluded": [{"resourceId": GROUP, "resourceType": "none"}]})
            ]
        ),
        ("m365Capabilities", 0, "inboundAccess", "resourceScopes", "excluded", 0),
        "names an object, so resourceType must be user or group",
    ),
    "capability unknownFutureValue": (
        Partner,
        partner(
            m365Capabilities=[
                capability(MAIL_TIPS, True, {"included": [{"resourceId": "All", "resourceType": "unknownFutureValue"}]})
            ]
        ),
        ("m365Capabilities", 0, "inboundAccess", "resourceScopes", "included", 0, "resourceType"),
        "'unknownFutureValue' is reserved by Graph",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CASES))
def test_each_rule_refuses_at_its_place(case: str) -> None:
    model, data, place, message = REFUSED_CASES[case]
    found = problems(model, data)
    assert [where for where, _ in found] == [place]
    assert message in found[0][1]


def test_the_microsoft_accounts_rule_still_holds_for_partners() -> None:
    """The partner's check and the default's share one helper; moving it must not loosen either."""
    restrictions = {"tenantRestrictions": {"usersAndGroups": configuration("allowed", A_GROUP)}}
    assert problems(Partner, {**partner(**restrictions), "tenantId": models.MICROSOFT_ACCOUNTS_TENANT})
    assert problems(Partner, partner(**restrictions)) == []


def test_graph_s_default_update_examples_validate_and_go_out_as_written() -> None:
    """Bodies of Graph's "Update crossTenantAccessPolicyConfigurationDefault" examples 1 and 2."""
    blocked_group = {
        "b2bCollaborationOutbound": {
            "usersAndGroups": configuration("blocked", A_GROUP),
            "applications": configuration("blocked", ALL_APPS),
        }
    }
    providers = redemption(["externalFederation", "azureActiveDirectory", "socialIdentityProviders"])
    for body in (blocked_group, providers):
        assert DefaultSettings.model_validate(body).wire() == body


def test_a_default_file_of_comments_declares_nothing_it_would_send() -> None:
    """An empty default.yaml is valid: the registry reads it as "the system default"."""
    assert DefaultSettings.model_validate({}).wire() == {}


def test_default_tenant_restrictions_may_block_all_users_and_all_apps() -> None:
    body = {
        "tenantRestrictions": {
            "usersAndGroups": configuration("blocked", ALL_USERS),
            "applications": configuration("blocked", ALL_APPS),
        }
    }
    assert DefaultSettings.model_validate(body).wire() == body


def test_identity_sync_template_takes_graph_s_update_body_in_one_normal_form() -> None:
    body = {"templateApplicationLevel": " existingPartners ,newPartners", "userSyncInbound": {"isSyncAllowed": True}}
    assert MtoIdentitySyncTemplate.model_validate(body).wire() == {
        "templateApplicationLevel": "newPartners,existingPartners",
        "userSyncInbound": {"isSyncAllowed": True},
    }


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (DefaultSettings, {"@odata.type": "#microsoft.graph.crossTenantAccessPolicyConfigurationDefault"}),
        (MtoIdentitySyncTemplate, {"@odata.type": "microsoft.graph.multiTenantOrganizationIdentitySyncPolicyTemplate"}),
        (
            Partner,
            partner(identitySynchronization={"@odata.type": "#microsoft.graph.crossTenantIdentitySyncPolicyPartner"}),
        ),
    ],
)
def test_new_types_accept_their_own_odata_type(model: type[BaseModel], data: dict[str, Any]) -> None:
    assert problems(model, data) == []


def test_a_capability_is_named_by_its_type_and_its_inbound_access_is_whole() -> None:
    """`name` comes from `@odata.type`, and both scope lists are filled: a PATCH of inboundAccess
    is merged member by member, so a list left out would keep what the tenant had."""
    loaded = Partner.model_validate(partner(m365Capabilities=[capability(MAIL_TIPS, False)]))
    [item] = loaded.wire()["m365Capabilities"]
    assert item == {
        "name": MAIL_TIPS,
        "inboundAccess": {"isAllowed": False, "resourceScopes": {"included": [], "excluded": []}},
    }
    scoped = capability(
        MAIL_TIPS, True, {"included": [{"resourceId": "All", "resourceType": "user"}], "excluded": None}
    )
    [item] = Partner.model_validate(partner(m365Capabilities=[scoped])).wire()["m365Capabilities"]
    assert item["inboundAccess"]["resourceScopes"] == {
        "included": [{"resourceId": "All", "resourceType": "user"}],
        "excluded": [],
    }
