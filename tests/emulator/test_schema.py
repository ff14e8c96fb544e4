"""Graph's write rules as the emulator applies them (reconciler/emulator/schema.py), over real HTTP
(httpx): the types and casing of every property, GUID and target checks, the normal form a
write is stored in, the properties a PATCH may not change, and the block-all rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.emulator_http import (
    ALLOW_ALL_APPS,
    ALLOW_ALL_USERS,
    BLOCK_ALL_APPS,
    BLOCK_ALL_USERS,
    GROUP,
    PARTNERS,
    TEMPLATE,
    TID,
    assert_error,
    target_config,
)
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig


def test_create_normalises_guids_and_target_order(client: httpx.Client) -> None:
    upper_group = GROUP.upper()
    body = {
        "tenantId": TID.upper(),
        "@odata.type": "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
        "inboundTrust": {"isMfaAccepted": True},
        "b2bCollaborationInbound": {
            "@odata.type": "microsoft.graph.crossTenantAccessPolicyB2BSetting",
            "usersAndGroups": target_config("allowed", ("AllUsers", "user"), (upper_group, "group")),
        },
    }
    created = client.post(PARTNERS, json=body).json()

    assert created["tenantId"] == TID
    assert "@odata.type" not in created and "@odata.type" not in created["b2bCollaborationInbound"]
    assert created["inboundTrust"] == {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": None,
    }
    assert created["b2bCollaborationInbound"]["usersAndGroups"]["targets"] == [
        {"target": GROUP, "targetType": "group"},
        {"target": "AllUsers", "targetType": "user"},
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tenantId": TID, "b2BCollaborationInbound": None}, "Invalid property 'b2BCollaborationInbound'."),
        ({"tenantId": TID, "inboundTrust": {"isMFAAccepted": True}}, "Invalid property 'isMFAAccepted'."),
        (
            {"tenantId": TID, "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "Targets": []}}},
            "Invalid property 'Targets'.",
        ),
        ({"tenantId": TID, "TenantId": TID}, "Invalid property 'TenantId'."),
    ],
)
def test_unknown_or_miscased_property_is_rejected(
    emu: Emulator, client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    assert_error(client.post(PARTNERS, json=body), 400, "Request_BadRequest", message)
    assert emu.partners() == {}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"tenantId": "not-a-guid"}, id="bad-tenant-guid"),
        pytest.param({"tenantId": TID + "0"}, id="tenant-guid-too-long"),
        # `$` matches before a final newline; a GUID check must match the whole string.
        pytest.param({"tenantId": TID + "\n"}, id="tenant-guid-trailing-newline"),
        pytest.param({}, id="missing-tenant-id"),
        pytest.param({"tenantId": None}, id="null-tenant-id"),
        pytest.param({"tenantId": TID, "isInMultiTenantOrganization": True}, id="read-only-property"),
        pytest.param(
            {"tenantId": TID, "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "deny"}}}, id="bad-enum"
        ),
        pytest.param(
            {"tenantId": TID, "b2bCollaborationInbound": {"usersAndGroups": target_config("allowed", ("g1", "group"))}},
            id="non-guid-target",
        ),
        pytest.param(
            {
                "tenantId": TID,
                "b2bCollaborationInbound": {"usersAndGroups": target_config("allowed", (GROUP + "\n", "group"))},
            },
            id="target-guid-trailing-newline",
        ),
        pytest.param(
            {
                "tenantId": TID,
                "b2bCollaborationInbound": {"usersAndGroups": target_config("allowed", ("AllUsers", "group"))},
            },
            id="AllUsers-as-group",
        ),
        pytest.param(
            {
                "tenantId": TID,
                "b2bCollaborationInbound": {"applications": target_config("allowed", ("Office365", "user"))},
            },
            id="Office365-as-user",
        ),
        pytest.param(
            {"tenantId": TID, "b2bCollaborationInbound": {"usersAndGroups": target_config("allowed", (GROUP, "team"))}},
            id="bad-target-type",
        ),
        pytest.param({"tenantId": TID, "inboundTrust": {"isMfaAccepted": "true"}}, id="string-for-bool"),
        pytest.param({"tenantId": TID, "isServiceProvider": 1}, id="int-for-bool"),
        pytest.param({"tenantId": TID, "inboundTrust": [True]}, id="array-for-object"),
        pytest.param(
            {
                "tenantId": TID,
                "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": [None]}},
            },
            id="null-target",
        ),
        pytest.param(
            {"tenantId": TID, "b2bCollaborationInbound": {"usersAndGroups": {"targets": {"target": "AllUsers"}}}},
            id="object-for-collection",
        ),
    ],
)
def test_invalid_create_bodies_are_400(emu: Emulator, client: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(client.post(PARTNERS, json=body), 400, "Request_BadRequest")
    assert emu.partners() == {}


@pytest.mark.parametrize(
    ("setting", "valid"),
    [
        ({"usersAndGroups": BLOCK_ALL_USERS, "applications": BLOCK_ALL_APPS}, True),
        ({"usersAndGroups": BLOCK_ALL_USERS, "applications": ALLOW_ALL_APPS}, False),
        ({"usersAndGroups": ALLOW_ALL_USERS, "applications": BLOCK_ALL_APPS}, False),
        ({"usersAndGroups": ALLOW_ALL_USERS, "applications": ALLOW_ALL_APPS}, True),
        ({"usersAndGroups": BLOCK_ALL_USERS}, True),  # one half only: the rule does not apply
    ],
)
@pytest.mark.parametrize("enforce", [True, False])
def test_block_all_rule_is_switchable(setting: dict[str, Any], valid: bool, enforce: bool) -> None:
    with Emulator(EmulatorConfig(enforce_block_all_rule=enforce)) as emu, client_for(emu) as client:
        assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        response = client.patch(f"{PARTNERS}/{TID}", json={"tenantRestrictions": setting})
        assert response.status_code == (204 if valid or not enforce else 400), response.text


def test_blocking_a_group_from_all_apps_is_valid_in_b2b_settings(client: httpx.Client) -> None:
    """The overview's interpretation table: "Block users in group g1 from accessing any application"."""
    group_blocked = target_config("blocked", (GROUP, "group"))
    setting = {"usersAndGroups": group_blocked, "applications": BLOCK_ALL_APPS}
    assert client.post(PARTNERS, json={"tenantId": TID, "b2bCollaborationInbound": setting}).status_code == 201
    bad = {"usersAndGroups": BLOCK_ALL_USERS, "applications": ALLOW_ALL_APPS}
    assert_error(client.patch(f"{PARTNERS}/{TID}", json={"b2bCollaborationInbound": bad}), 400, "Request_BadRequest")


def test_tenant_restrictions_devices_echoed_only_when_set(client: httpx.Client) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    client.patch(f"{PARTNERS}/{TID}", json={"tenantRestrictions": {"usersAndGroups": ALLOW_ALL_USERS}})
    assert client.get(f"{PARTNERS}/{TID}").json()["tenantRestrictions"] == {
        "usersAndGroups": ALLOW_ALL_USERS,
        "applications": None,
    }
    devices = {"mode": "allowed", "rule": "device.deviceAttribute2 -eq 'PrivilegedAccessWorkstation'"}
    client.patch(f"{PARTNERS}/{TID}", json={"tenantRestrictions": {"devices": devices}})
    assert client.get(f"{PARTNERS}/{TID}").json()["tenantRestrictions"] == {
        "usersAndGroups": None,
        "applications": None,
        "devices": devices,
    }
    bad = {"tenantRestrictions": {"devices": {"mode": "sometimes"}}}
    assert_error(
        client.patch(f"{PARTNERS}/{TID}", json=bad),
        400,
        "Request_BadRequest",
        "Requested value 'sometimes' was not found.",
    )


@pytest.mark.parametrize(
    "patch",
    [{"tenantId": TID}, {"isServiceProvider": True}, {"isInMultiTenantOrganization": False}, {"InboundTrust": None}],
)
def test_patch_rejects_non_updatable_properties(emu: Emulator, client: httpx.Client, patch: dict[str, Any]) -> None:
    client.post(PARTNERS, json={"tenantId": TID, "isServiceProvider": False})
    before = emu.partners()
    assert_error(client.patch(f"{PARTNERS}/{TID}", json=patch), 400, "Request_BadRequest")
    assert emu.partners() == before


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"id": "75b1889b-6f42-4cc5-8e62-e774b8db243c"}, None),
        ({"templateApplicationLevel": None}, None),
        ({"templateApplicationLevel": "newPartners,allPartners"}, "Requested value 'allPartners' was not found."),
        ({"templateApplicationLevel": ""}, None),
        ({"tenantRestrictions": None}, "Invalid property 'tenantRestrictions'."),
        ({"m365CollaborationInbound": None}, "Invalid property 'm365CollaborationInbound'."),
        ({"b2bCollaborationInbound": {"usersAndGroups": BLOCK_ALL_USERS, "applications": ALLOW_ALL_APPS}}, None),
    ],
)
def test_template_patch_validation(
    emu: Emulator, client: httpx.Client, patch: dict[str, Any], message: str | None
) -> None:
    before = emu.template()
    assert_error(client.patch(TEMPLATE, json=patch), 400, "Request_BadRequest", message)
    assert emu.template() == before
