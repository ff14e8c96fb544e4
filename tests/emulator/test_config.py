"""The tenant default, the MTO identity sync template and create-only partner bodies in the
emulator, over real HTTP (httpx), checked against Graph's documentation of each.

Request bodies marked "seed" are the official examples of the Graph docs, verbatim.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.emulator_http import (
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
from support.seeds import DEFAULT_PATCH_BODIES
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig, StartError

DEFAULT = "/policies/crossTenantAccessPolicy/default"
SYNC_TEMPLATE = "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization"
ALLOW_ALL_APPS = target_config("allowed", ("AllApplications", "application"))
OFFICE = target_config("allowed", ("Office365", "application"))


def everything(access: str) -> dict[str, Any]:
    users, apps = (ALLOW_ALL_USERS, ALLOW_ALL_APPS) if access == "allowed" else (BLOCK_ALL_USERS, BLOCK_ALL_APPS)
    return {"usersAndGroups": users, "applications": apps}


# The documented GET (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-get),
# plus the values the emulator chose where none is documented.
SYSTEM_DEFAULT = {
    "isServiceDefault": True,
    "inboundTrust": {
        "isMfaAccepted": False,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    },
    "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
    "b2bCollaborationInbound": everything("allowed"),
    "b2bCollaborationOutbound": everything("allowed"),
    "b2bDirectConnectInbound": everything("blocked"),
    "b2bDirectConnectOutbound": everything("blocked"),
    "tenantRestrictions": everything("blocked"),
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
# The default-update page's examples 1 and 2 (seed), verbatim, as tests/support/seeds.py quotes them.
SEED_DEFAULT_PATCHES = [
    DEFAULT_PATCH_BODIES["block a group's outbound B2B"],
    DEFAULT_PATCH_BODIES["redemption order, fallback defaultConfiguredIdp"],
]
# The identity sync template's unconfigured GET and its update example (seed):
# https://learn.microsoft.com/graph/api/multitenantorganizationidentitysyncpolicytemplate-get
UNCONFIGURED_SYNC_TEMPLATE = {
    "id": "0e7aad84-cb46-4b8e-a881-522ef25939f1",
    "templateApplicationLevel": "newPartners,existingPartners",
    "userSyncInbound": {"isSyncAllowed": None},
}
SEED_SYNC_TEMPLATE_PATCH = {
    "templateApplicationLevel": "newPartners,existingPartners",
    "userSyncInbound": {"isSyncAllowed": True},
}


def read(client: httpx.Client, path: str) -> dict[str, Any]:
    """The object at `path` without its `@odata.context`, after checking that context."""
    body = client.get(path).json()
    assert body.pop("@odata.context").endswith(f"$metadata#{path.lstrip('/')}/$entity")
    return body


# -- the tenant default ------------------------------------------------------------------------


def test_a_new_tenant_has_the_system_default(client: httpx.Client) -> None:
    assert read(client, DEFAULT) == SYSTEM_DEFAULT
    selected = client.get(DEFAULT, params={"$select": "isServiceDefault"}).json()
    assert {k: v for k, v in selected.items() if k != "@odata.context"} == {"isServiceDefault": True}


@pytest.mark.parametrize("patch", SEED_DEFAULT_PATCHES, ids=["b2bCollaborationOutbound", "redemption"])
def test_a_patch_customises_the_default_and_a_reset_restores_it(client: httpx.Client, patch: dict[str, Any]) -> None:
    response = client.patch(DEFAULT, json=patch)
    assert response.status_code == 204 and response.content == b""
    assert read(client, DEFAULT) == {**SYSTEM_DEFAULT, **patch, "isServiceDefault": False}

    response = client.post(f"{DEFAULT}/resetToSystemDefault")
    assert response.status_code == 204 and response.content == b""
    assert read(client, DEFAULT) == SYSTEM_DEFAULT


def test_any_successful_patch_clears_is_service_default(emu: Emulator, client: httpx.Client) -> None:
    """Even one that writes the system value back: the flag says who set the default, not what it holds."""
    assert client.patch(DEFAULT, json={"inboundTrust": SYSTEM_DEFAULT["inboundTrust"]}).status_code == 204
    assert emu.default() == {**SYSTEM_DEFAULT, "isServiceDefault": False}


def test_every_writable_property_is_accepted(emu: Emulator, client: httpx.Client) -> None:
    group_users = target_config("allowed", (GROUP, "group"))
    patch = {
        "inboundTrust": {"isMfaAccepted": True, "isCompliantDeviceAccepted": False},
        **dict.fromkeys(["b2bCollaborationInbound", "b2bDirectConnectOutbound"], everything("blocked")),
        **dict.fromkeys(["b2bCollaborationOutbound", "b2bDirectConnectInbound"], everything("allowed")),
        "tenantRestrictions": {"usersAndGroups": ALLOW_ALL_USERS, "applications": OFFICE},
        "m365CollaborationInbound": {"users": ALLOW_ALL_USERS},
        "m365CollaborationOutbound": {"usersAndGroups": group_users},
        "appServiceConnectInbound": {"applications": OFFICE},
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": ["socialIdentityProviders", "azureActiveDirectory"],
            "fallbackIdentityProvider": "emailOneTimePasscode",
        },
    }
    assert client.patch(DEFAULT, json=patch).status_code == 204
    expected = copy.deepcopy(patch)
    expected["inboundTrust"]["isHybridAzureADJoinedDeviceAccepted"] = None
    # The precedence order is kept as sent: it is the order, not a set.
    assert read(client, DEFAULT) == {**SYSTEM_DEFAULT, **expected, "isServiceDefault": False}
    assert client.patch(DEFAULT, json={"m365CollaborationInbound": None}).status_code == 204
    assert emu.default()["m365CollaborationInbound"] is None


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"isServiceDefault": False}, "Property 'isServiceDefault' is read-only and cannot be set."),
        (
            {"automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False}},
            "Property 'automaticUserConsentSettings' is read-only and cannot be set.",
        ),
        ({"inboundTrust": None}, "Property 'inboundTrust' cannot be null."),
        ({"tenantRestrictions": None}, "Property 'tenantRestrictions' cannot be null."),
        ({"b2bCollaborationinbound": None}, "Invalid property 'b2bCollaborationinbound'."),
        ({"id": "x"}, "Invalid property 'id'."),
        ({"isServiceProvider": True}, "Invalid property 'isServiceProvider'."),
        (
            {"invitationRedemptionIdentityProviderConfiguration": {"fallbackIdentityProvider": "ExternalFederation"}},
            "Requested value 'ExternalFederation' was not found.",
        ),
        (
            {"invitationRedemptionIdentityProviderConfiguration": {"primaryIdentityProviderPrecedenceOrder": [None]}},
            None,
        ),
        (
            {
                "invitationRedemptionIdentityProviderConfiguration": {
                    "primaryIdentityProviderPrecedenceOrder": "azureActiveDirectory"
                }
            },
            None,
        ),
        ({"b2bDirectConnectInbound": {"usersAndGroups": BLOCK_ALL_USERS, "applications": OFFICE}}, None),
        (
            {
                "tenantRestrictions": {
                    "usersAndGroups": target_config("blocked", (GROUP, "group")),
                    "applications": OFFICE,
                }
            },
            "Invalid 'tenantRestrictions': the default can target only AllUsers in usersAndGroups.",
        ),
    ],
)
def test_invalid_patches_are_400_and_leave_the_system_default(
    emu: Emulator, client: httpx.Client, patch: dict[str, Any], message: str | None
) -> None:
    assert_error(client.patch(DEFAULT, json=patch), 400, "Request_BadRequest", message)
    assert emu.default() == SYSTEM_DEFAULT


@pytest.mark.parametrize("enforce", [True, False])
def test_the_all_users_rule_of_default_tenant_restrictions_is_switchable(enforce: bool) -> None:
    users = target_config("allowed", ("AllUsers", "user"), (GROUP, "group"))
    with Emulator(EmulatorConfig(enforce_default_all_users_rule=enforce)) as emu, client_for(emu) as client:
        response = client.patch(DEFAULT, json={"tenantRestrictions": {"usersAndGroups": users}})
        assert response.status_code == (400 if enforce else 204), response.text
        # The rule is the default's: a partner's tenant restrictions may name groups.
        assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        partner = client.patch(f"{PARTNERS}/{TID}", json={"tenantRestrictions": {"usersAndGroups": users}})
        assert partner.status_code == 204


def test_set_default_plants_verbatim_and_none_resets(emu: Emulator, client: httpx.Client) -> None:
    emu.set_default({"isServiceDefault": False, "inboundTrust": {"isMfaAccepted": True}})
    body = read(client, DEFAULT)
    assert body["inboundTrust"] == {"isMfaAccepted": True}  # verbatim
    assert body["tenantRestrictions"] is None and body["isServiceDefault"] is False
    emu.set_default(None)
    assert emu.default() == SYSTEM_DEFAULT


# -- the MTO identity sync template --------------------------------------------------------------


def test_sync_template_get_patch_and_reset(emu: Emulator, client: httpx.Client) -> None:
    assert read(client, SYNC_TEMPLATE) == UNCONFIGURED_SYNC_TEMPLATE

    response = client.patch(SYNC_TEMPLATE, json=SEED_SYNC_TEMPLATE_PATCH)
    assert response.status_code == 204 and response.content == b""
    assert read(client, SYNC_TEMPLATE) == {**UNCONFIGURED_SYNC_TEMPLATE, **SEED_SYNC_TEMPLATE_PATCH}
    assert client.patch(SYNC_TEMPLATE, json={"templateApplicationLevel": "existingPartners"}).status_code == 204
    assert emu.sync_template()["userSyncInbound"] == {"isSyncAllowed": True}  # left out, kept
    # Unset, it reads as an object of nulls, as in the unconfigured state.
    assert client.patch(SYNC_TEMPLATE, json={"userSyncInbound": None}).status_code == 204
    assert read(client, SYNC_TEMPLATE)["userSyncInbound"] == {"isSyncAllowed": None}

    response = client.post(f"{SYNC_TEMPLATE}/resetToDefaultSettings")
    assert response.status_code == 204 and response.content == b""
    assert read(client, SYNC_TEMPLATE) == UNCONFIGURED_SYNC_TEMPLATE


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"id": UNCONFIGURED_SYNC_TEMPLATE["id"]}, "Property 'id' is read-only and cannot be set."),
        ({"templateApplicationLevel": None}, "Property 'templateApplicationLevel' cannot be null."),
        ({"templateApplicationLevel": "allPartners"}, "Requested value 'allPartners' was not found."),
        ({"userSyncInbound": {"isSyncAllowed": 1}}, None),
        ({"UserSyncInbound": None}, "Invalid property 'UserSyncInbound'."),
        ({"inboundTrust": None}, "Invalid property 'inboundTrust'."),
    ],
)
def test_sync_template_patch_validation(
    emu: Emulator, client: httpx.Client, patch: dict[str, Any], message: str | None
) -> None:
    assert_error(client.patch(SYNC_TEMPLATE, json=patch), 400, "Request_BadRequest", message)
    assert emu.sync_template() == UNCONFIGURED_SYNC_TEMPLATE


def test_set_sync_template_plants_verbatim_and_none_resets(emu: Emulator, client: httpx.Client) -> None:
    emu.set_sync_template({"templateApplicationLevel": "none"})
    assert read(client, SYNC_TEMPLATE) == {**UNCONFIGURED_SYNC_TEMPLATE, "templateApplicationLevel": "none"}
    assert emu.sync_template() == {"templateApplicationLevel": "none"}
    emu.set_sync_template(None)
    assert emu.sync_template() == UNCONFIGURED_SYNC_TEMPLATE


# -- the three singletons alike ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reset"),
    [
        (DEFAULT, "resetToSystemDefault"),
        (SYNC_TEMPLATE, "resetToDefaultSettings"),
        (TEMPLATE, "resetToDefaultSettings"),
    ],
)
def test_singletons_have_no_create_or_delete_and_need_write_permission(emu: Emulator, path: str, reset: str) -> None:
    with client_for(emu) as client:
        assert_error(client.delete(path), 405, "Request_BadRequest")
        assert_error(client.post(path, json={}), 405, "Request_BadRequest")
        assert_error(client.get(f"{path}/{reset}"), 405, "Request_BadRequest")
        assert_error(client.post(f"{path}/resetToSomething"), 400, "Request_BadRequest")
    with client_for(emu, emu.mint_token(roles=("Policy.Read.All",))) as reader:
        assert reader.get(path).status_code == 200
        assert_error(reader.patch(path, json={}), 403, "Authorization_RequestDenied")
        assert_error(reader.post(f"{path}/{reset}"), 403, "Authorization_RequestDenied")


# -- partner create takes the create properties only -------------------------------------------

UPDATE_ONLY = {
    "tenantRestrictions": {"usersAndGroups": ALLOW_ALL_USERS, "applications": OFFICE},
    "m365CollaborationInbound": {"users": ALLOW_ALL_USERS},
    "m365CollaborationOutbound": {"usersAndGroups": ALLOW_ALL_USERS},
    "appServiceConnectInbound": {"applications": OFFICE},
}


@pytest.mark.parametrize("name", list(UPDATE_ONLY))
def test_create_refuses_update_only_properties_which_a_patch_then_sets(
    emu: Emulator, client: httpx.Client, name: str
) -> None:
    for value in (UPDATE_ONLY[name], None):  # an explicit null is refused too: the property is not on create
        refused = client.post(PARTNERS, json={"tenantId": TID, name: value})
        message = f"Property '{name}' cannot be set on create; update the object to set it."
        assert_error(refused, 400, "Request_BadRequest", message)
        assert emu.partners() == {}
    assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
    assert client.patch(f"{PARTNERS}/{TID}", json={name: UPDATE_ONLY[name]}).status_code == 204
    assert emu.partners()[TID][name] == UPDATE_ONLY[name]


def test_create_takes_them_when_not_strict() -> None:
    with Emulator(EmulatorConfig(strict_create=False)) as emu, client_for(emu) as client:
        assert client.post(PARTNERS, json={"tenantId": TID, **UPDATE_ONLY}).status_code == 201
        assert {name: emu.partners()[TID][name] for name in UPDATE_ONLY} == UPDATE_ONLY


# -- state file ----------------------------------------------------------------------------------


def test_the_state_file_keeps_every_resource(tmp_path: Path) -> None:
    config = EmulatorConfig(state_file=tmp_path / "tenant.json")
    with Emulator(config) as first, client_for(first) as client:
        assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        sync = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
        assert client.put(f"{PARTNERS}/{TID}/identitySynchronization", json=sync).status_code == 204
        assert client.patch(DEFAULT, json=SEED_DEFAULT_PATCHES[0]).status_code == 204
        assert client.patch(SYNC_TEMPLATE, json=SEED_SYNC_TEMPLATE_PATCH).status_code == 204
        saved = (first.partners(), first.default(), first.sync_template(), first.template())
    with Emulator(config) as second:
        assert (second.partners(), second.default(), second.sync_template(), second.template()) == saved
        assert second.identity_sync(TID) == {"tenantId": TID, **sync}


def test_a_state_file_from_before_loads_with_the_new_resources_unconfigured(tmp_path: Path) -> None:
    state = tmp_path / "tenant.json"
    template = {"id": "75b1889b-6f42-4cc5-8e62-e774b8db243c", "templateApplicationLevel": "none"}
    state.write_text(json.dumps({"partners": {TID: {"tenantId": TID}}, "template": template}))
    with Emulator(EmulatorConfig(state_file=state)) as emu, client_for(emu) as client:
        assert emu.template() == template and list(emu.partners()) == [TID]
        assert read(client, DEFAULT) == SYSTEM_DEFAULT
        assert read(client, SYNC_TEMPLATE) == UNCONFIGURED_SYNC_TEMPLATE
        assert client.patch(DEFAULT, json=SEED_DEFAULT_PATCHES[1]).status_code == 204
    assert json.loads(state.read_text())["default"]["isServiceDefault"] is False


@pytest.mark.parametrize("key", ["default", "identitySyncTemplate", "template"])
def test_a_state_file_with_a_broken_singleton_is_refused(tmp_path: Path, key: str) -> None:
    state = tmp_path / "tenant.json"
    state.write_text(json.dumps({"partners": {}, key: []}))
    with pytest.raises(StartError, match="not an emulator state file"):
        Emulator(EmulatorConfig(state_file=state))


@pytest.mark.parametrize(
    "settings",
    [
        {"patch_mode": "merge"},
        {"page_size": 0},
        {"page_size": 1001},
        {"latency_s": -0.1},
        {"latency_s": 601.0},
        {"latency_s": math.nan},
        {"latency_s": math.inf},
    ],
)
def test_config_rejects_values_out_of_range(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(**settings)
