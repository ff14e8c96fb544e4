"""The models cover every writable property of msgraph-sdk's v1.0 models, no more, no less.

An SDK upgrade that adds a property makes this fail, instead of xtap silently ignoring it."""

import importlib

import pytest
from msgraph.generated.models.cross_tenant_access_policy_configuration_partner import (
    CrossTenantAccessPolicyConfigurationPartner,
)
from msgraph.generated.models.multi_tenant_organization_partner_configuration_template import (
    MultiTenantOrganizationPartnerConfigurationTemplate,
)

from reconciler import models
from reconciler.registry import MTO_PARTNER_TEMPLATE, PARTNER

PARTNER_KEY, PARTNER_SETTINGS, TEMPLATE_SETTINGS = PARTNER.key, PARTNER.settings, MTO_PARTNER_TEMPLATE.settings

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
