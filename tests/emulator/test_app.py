"""The Graph emulator over real HTTP (httpx), checked against Graph's documentation.

These tests talk to the emulator the way any client would, without the SDK: the reconciler's
own tests cover the msgraph-sdk path. Request bodies marked "seed" are the official examples
from the Graph docs (the create and update partner pages), copied verbatim.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support.clock import ManualClock
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
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig, StartError, run_forever
from reconciler.emulator.server import MAX_REQUEST_BYTES

PARTNER_PROPERTIES = {
    "tenantId",
    "isServiceProvider",
    "isInMultiTenantOrganization",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
    "appServiceConnectInbound",
}
UNSET_CONSENT = {"inboundAllowed": None, "outboundAllowed": None}

# The seed request bodies, verbatim (tests/support/seeds.py).
SEED_CREATE = SEED_000_CREATE_BODY
SEED_PATCHES = SEED_001_PATCH_BODIES


# -- create ----------------------------------------------------------------------------------


def test_create_returns_201_with_every_property_explicit(client: httpx.Client) -> None:
    response = client.post(PARTNERS, json=SEED_CREATE, headers={"client-request-id": "abc-123"})

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["client-request-id"] == "abc-123"
    assert response.headers["request-id"]
    body = response.json()
    assert body.pop("@odata.context").endswith("/v1.0/$metadata#policies/crossTenantAccessPolicy/partners/$entity")
    assert set(body) == PARTNER_PROPERTIES
    assert body["isInMultiTenantOrganization"] is False
    assert body["isServiceProvider"] is None
    assert body["automaticUserConsentSettings"] == UNSET_CONSENT
    assert body["inboundTrust"] is None and body["tenantRestrictions"] is None
    # A partial B2B setting is accepted and comes back with the missing half as explicit null.
    assert body["b2bDirectConnectOutbound"] == {
        "usersAndGroups": SEED_CREATE["b2bDirectConnectOutbound"]["usersAndGroups"],
        "applications": None,
    }
    assert body["b2bDirectConnectInbound"]["usersAndGroups"] is None
    assert client.get(f"{PARTNERS}/{SEED_CREATE['tenantId']}").json() == response.json()


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


def test_create_duplicate_tenant_id_is_409_case_insensitively(client: httpx.Client) -> None:
    assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
    assert_error(client.post(PARTNERS, json={"tenantId": TID.upper()}), 409, "Request_MultipleObjectsWithSameKeyValue")


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


def test_unparsable_body_is_400(client: httpx.Client) -> None:
    bad_json = client.post(PARTNERS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(bad_json, 400, "Request_BadRequest")
    wrong_type = client.post(PARTNERS, content=json.dumps({"tenantId": TID}), headers={"Content-Type": "text/plain"})
    assert_error(wrong_type, 400, "Request_BadRequest")
    patch_type = {"Content-Type": "application/json-patch+json"}
    assert_error(
        client.post(PARTNERS, content=json.dumps({"tenantId": TID}), headers=patch_type), 400, "Request_BadRequest"
    )
    assert_error(client.post(PARTNERS, json=[{"tenantId": TID}]), 400, "Request_BadRequest")
    with_charset = {"Content-Type": "application/json; charset=utf-8"}
    assert client.post(PARTNERS, content=json.dumps({"tenantId": TID}), headers=with_charset).status_code == 201


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


# -- read ------------------------------------------------------------------------------------


def test_get_is_case_insensitive_and_unknown_is_404(client: httpx.Client) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    assert client.get(f"{PARTNERS}/{TID.upper()}").json()["tenantId"] == TID
    other = "00000000-0000-0000-0000-000000000001"
    for method in ("GET", "PATCH", "DELETE"):
        body = {"inboundTrust": None} if method == "PATCH" else None
        assert_error(client.request(method, f"{PARTNERS}/{other}", json=body), 404, "Request_ResourceNotFound")


def test_list_pages_through_next_links(emu: Emulator) -> None:
    tenant_ids = [f"{i:08d}-0000-0000-0000-000000000000" for i in range(5)]
    with Emulator(EmulatorConfig(page_size=2)) as paged, client_for(paged) as client:
        for tid in tenant_ids:
            paged.put_partner({"tenantId": tid})
        url: str | None = f"{paged.base_url}{PARTNERS}?$top=100&$select=inboundTrust"
        seen: list[str] = []
        pages = 0
        while url:
            page = client.get(url).json()
            pages += 1
            assert all(set(p) == {"tenantId", "inboundTrust"} for p in page["value"])
            seen += [p["tenantId"] for p in page["value"]]
            url = page.get("@odata.nextLink")
            if url:
                assert url.startswith(f"{paged.base_url}{PARTNERS}?")
                assert "$skiptoken=" in url and "$select=inboundTrust" in url
        assert pages == 3
        assert sorted(seen) == tenant_ids and len(set(seen)) == 5


def test_pages_after_a_write_see_it(emu: Emulator) -> None:
    """Keyset paging reads the partners as they are when each page is served: one created and
    one deleted after the first page are, and are not, in the pages that follow."""
    tenant_ids = [f"{i:08d}-0000-0000-0000-000000000000" for i in range(0, 10, 2)]
    with Emulator(EmulatorConfig(page_size=2)) as paged, client_for(paged) as client:
        for tid in tenant_ids:
            paged.put_partner({"tenantId": tid})
        first = client.get(PARTNERS).json()
        assert [p["tenantId"] for p in first["value"]] == tenant_ids[:2]
        created = "00000005-0000-0000-0000-000000000000"
        assert client.post(PARTNERS, json={"tenantId": created}).status_code == 201
        assert client.delete(f"{PARTNERS}/{tenant_ids[3]}").status_code == 204
        url, seen = first.get("@odata.nextLink"), []
        while url:
            page = client.get(url).json()
            seen += [p["tenantId"] for p in page["value"]]
            url = page.get("@odata.nextLink")
        assert seen == [tenant_ids[2], created, tenant_ids[4]]


def test_list_default_is_one_page_with_context(emu: Emulator, client: httpx.Client) -> None:
    for i in range(3):
        emu.put_partner({"tenantId": f"{i:08d}-0000-0000-0000-000000000000"})
    body = client.get(PARTNERS).json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#policies/crossTenantAccessPolicy/partners")
    assert "@odata.nextLink" not in body and len(body["value"]) == 3
    assert all(set(p) == PARTNER_PROPERTIES for p in body["value"])


def test_select_and_expand(emu: Emulator, client: httpx.Client) -> None:
    sync = {"tenantId": TID, "displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
    emu.put_partner({"tenantId": TID, "identitySynchronization": sync})
    assert "identitySynchronization" not in client.get(f"{PARTNERS}/{TID}").json()
    selected = client.get(f"{PARTNERS}/{TID}", params={"$select": "tenantId", "$expand": "identitySynchronization"})
    assert selected.json()["identitySynchronization"] == sync
    assert set(selected.json()) == {"@odata.context", "tenantId", "identitySynchronization"}
    assert_error(client.get(PARTNERS, params={"$select": "inboundtrust"}), 400, "Request_BadRequest")
    assert_error(client.get(PARTNERS, params={"$skiptoken": "garbage!"}), 400, "Request_BadRequest")


def test_planted_quirks_are_served_verbatim(emu: Emulator, client: httpx.Client) -> None:
    targets = [{"target": "AllUsers", "targetType": "user"}, {"target": GROUP.upper(), "targetType": "group"}]
    raw = {
        "tenantId": TID.upper(),
        "@odata.type": "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
        "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": targets}},
    }
    emu.put_partner(raw)
    assert emu.partners() == {TID: raw}
    body = client.get(f"{PARTNERS}/{TID}").json()
    assert body["tenantId"] == TID.upper()
    assert body["@odata.type"] == raw["@odata.type"]
    assert body["b2bCollaborationInbound"] == raw["b2bCollaborationInbound"]  # order, case, missing half kept
    assert body["automaticUserConsentSettings"] == UNSET_CONSENT and body["inboundTrust"] is None


# -- update ----------------------------------------------------------------------------------


@pytest.mark.parametrize("patch", SEED_PATCHES, ids=["inboundTrust", "consent", "tenantRestrictions"])
def test_seed_patch_examples_are_accepted(client: httpx.Client, patch: dict[str, Any]) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    response = client.patch(f"{PARTNERS}/{TID}", json=patch)
    assert response.status_code == 204 and response.content == b""
    assert "content-length" not in response.headers
    ((name, value),) = patch.items()
    assert client.get(f"{PARTNERS}/{TID}").json()[name] == value


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


def test_patch_keeps_absent_properties_and_null_clears(emu: Emulator, client: httpx.Client) -> None:
    client.post(PARTNERS, json={"tenantId": TID, **SEED_PATCHES[0], **SEED_PATCHES[1]})
    client.patch(f"{PARTNERS}/{TID}", json={"b2bCollaborationOutbound": {"usersAndGroups": ALLOW_ALL_USERS}})
    partner = client.get(f"{PARTNERS}/{TID}").json()
    assert partner["inboundTrust"] == SEED_PATCHES[0]["inboundTrust"]

    assert (
        client.patch(f"{PARTNERS}/{TID}", json={"inboundTrust": None, "automaticUserConsentSettings": None}).status_code
        == 204
    )
    partner = client.get(f"{PARTNERS}/{TID}").json()
    assert partner["inboundTrust"] is None
    assert partner["automaticUserConsentSettings"] == UNSET_CONSENT  # an object of nulls, never null
    assert partner["b2bCollaborationOutbound"]["usersAndGroups"] == ALLOW_ALL_USERS
    assert emu.partners()[TID]["automaticUserConsentSettings"] == UNSET_CONSENT


@pytest.mark.parametrize(
    ("mode", "expected_users"),
    [("replace_top_level", None), ("odata_merge", target_config("allowed", (GROUP, "group")))],
)
def test_patch_modes_for_nested_partial_updates(mode: str, expected_users: Any) -> None:
    with Emulator(EmulatorConfig(patch_mode=mode)) as emu, client_for(emu) as client:
        setting = {"usersAndGroups": target_config("allowed", (GROUP, "group")), "applications": ALLOW_ALL_APPS}
        client.post(PARTNERS, json={"tenantId": TID, "b2bCollaborationInbound": setting, **SEED_PATCHES[0]})
        office = target_config("allowed", ("Office365", "application"))
        patch = {"b2bCollaborationInbound": {"applications": office}, "inboundTrust": {"isMfaAccepted": False}}
        assert client.patch(f"{PARTNERS}/{TID}", json=patch).status_code == 204
        partner = client.get(f"{PARTNERS}/{TID}").json()
        assert partner["b2bCollaborationInbound"] == {"usersAndGroups": expected_users, "applications": office}
        merged = mode == "odata_merge"
        assert partner["inboundTrust"] == {
            "isMfaAccepted": False,
            "isCompliantDeviceAccepted": True if merged else None,
            "isHybridAzureADJoinedDeviceAccepted": True if merged else None,
        }


def test_merge_mode_checks_block_all_rule_on_the_merged_result() -> None:
    with Emulator(EmulatorConfig(patch_mode="odata_merge")) as emu, client_for(emu) as client:
        setting = {"usersAndGroups": ALLOW_ALL_USERS, "applications": ALLOW_ALL_APPS}
        client.post(PARTNERS, json={"tenantId": TID, "b2bCollaborationOutbound": setting})
        response = client.patch(
            f"{PARTNERS}/{TID}", json={"b2bCollaborationOutbound": {"usersAndGroups": BLOCK_ALL_USERS}}
        )
        assert_error(response, 400, "Request_BadRequest")
        assert emu.partners()[TID]["b2bCollaborationOutbound"] == setting


@pytest.mark.parametrize(
    "patch",
    [{"tenantId": TID}, {"isServiceProvider": True}, {"isInMultiTenantOrganization": False}, {"InboundTrust": None}],
)
def test_patch_rejects_non_updatable_properties(emu: Emulator, client: httpx.Client, patch: dict[str, Any]) -> None:
    client.post(PARTNERS, json={"tenantId": TID, "isServiceProvider": False})
    before = emu.partners()
    assert_error(client.patch(f"{PARTNERS}/{TID}", json=patch), 400, "Request_BadRequest")
    assert emu.partners() == before


# -- delete ----------------------------------------------------------------------------------


def test_delete_and_identity_sync_guard(emu: Emulator, client: httpx.Client) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    response = client.delete(f"{PARTNERS}/{TID}")
    assert response.status_code == 204 and response.content == b""
    assert emu.partners() == {}

    emu.put_partner({"tenantId": TID, "identitySynchronization": {"tenantId": TID, "displayName": "x"}})
    response = client.delete(f"{PARTNERS}/{TID}")
    assert_error(response, 400, "Request_BadRequest")
    assert "identity synchronization policy first" in response.json()["error"]["message"]
    assert TID in emu.partners()


# -- auth ------------------------------------------------------------------------------------


def test_missing_foreign_expired_or_malformed_token_is_401(emu: Emulator) -> None:
    with Emulator() as other:
        foreign = other.mint_token()
    for headers in (
        {},
        {"Authorization": f"Bearer {foreign}"},
        {"Authorization": f"Bearer {emu.mint_token(lifetime_s=-60)}"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Basic {emu.mint_token()}"},
    ):
        response = httpx.get(f"{emu.base_url}{PARTNERS}", headers=headers)
        assert_error(response, 401, "InvalidAuthenticationToken")
        assert "WWW-Authenticate" in response.headers
    # The 401 comes before routing: even an unknown path answers 401 without a token.
    assert httpx.get(f"{emu.base_url}/nowhere").status_code == 401


def test_permissions_gate_reads_and_writes(emu: Emulator) -> None:
    insufficient = "Insufficient privileges to complete the operation."
    with client_for(emu, emu.mint_token(roles=("Policy.Read.All",))) as reader:
        assert reader.get(PARTNERS).status_code == 200
        assert reader.get(TEMPLATE).status_code == 200
        assert_error(reader.post(PARTNERS, json={"tenantId": TID}), 403, "Authorization_RequestDenied", insufficient)
        assert_error(reader.post(f"{TEMPLATE}/resetToDefaultSettings"), 403, "Authorization_RequestDenied")
    with client_for(emu, emu.mint_token(roles=("User.Read.All",))) as stranger:
        assert_error(stranger.get(PARTNERS), 403, "Authorization_RequestDenied", insufficient)
    delegated = emu.mint_token(roles=None, scp="User.Read Policy.ReadWrite.CrossTenantAccess")
    with client_for(emu, delegated) as admin:
        assert admin.post(PARTNERS, json={"tenantId": TID}).status_code == 201
    assert list(emu.partners()) == [TID]


# -- template --------------------------------------------------------------------------------


def test_template_get_patch_and_reset(emu: Emulator, client: httpx.Client) -> None:
    unconfigured = client.get(TEMPLATE).json()
    assert unconfigured.pop("@odata.context").endswith(
        "$metadata#policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration/$entity"
    )
    template_id = unconfigured["id"]
    assert unconfigured == {
        "id": template_id,
        "templateApplicationLevel": "newPartners,existingPartners",
        "inboundTrust": None,
        "automaticUserConsentSettings": UNSET_CONSENT,
        "b2bCollaborationInbound": None,
        "b2bCollaborationOutbound": None,
        "b2bDirectConnectInbound": None,
        "b2bDirectConnectOutbound": None,
    }

    patch = {
        **SEED_PATCHES[0],
        **SEED_PATCHES[1],
        "templateApplicationLevel": " existingPartners , newPartners",
        "b2bDirectConnectInbound": {"usersAndGroups": ALLOW_ALL_USERS},
    }
    response = client.patch(TEMPLATE, json=patch)
    assert response.status_code == 204 and response.content == b""
    configured = client.get(TEMPLATE).json()
    assert configured["templateApplicationLevel"] == "newPartners,existingPartners"
    assert configured["inboundTrust"] == SEED_PATCHES[0]["inboundTrust"]
    assert configured["b2bDirectConnectInbound"] == {"usersAndGroups": ALLOW_ALL_USERS, "applications": None}
    assert client.patch(TEMPLATE, json={"templateApplicationLevel": "none"}).status_code == 204
    assert emu.template()["templateApplicationLevel"] == "none"

    assert client.post(f"{TEMPLATE}/resetToDefaultSettings").status_code == 204
    reset = client.get(TEMPLATE).json()
    reset.pop("@odata.context")
    assert reset == unconfigured and reset["id"] == template_id


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


def test_set_template_seeds_and_none_resets(emu: Emulator, client: httpx.Client) -> None:
    emu.set_template({"templateApplicationLevel": "newPartners", "inboundTrust": {"isMfaAccepted": True}})
    body = client.get(TEMPLATE).json()
    assert body["templateApplicationLevel"] == "newPartners"
    assert body["inboundTrust"] == {"isMfaAccepted": True}  # verbatim
    assert body["id"] and body["b2bCollaborationInbound"] is None
    emu.set_template(None)
    assert emu.template()["inboundTrust"] is None


# -- routing, transport, recording -----------------------------------------------------------


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    assert_error(
        client.get("/policies/crossTenantAccessPolicy/partnerz"),
        400,
        "Request_BadRequest",
        "Resource not found for the segment 'partnerz'.",
    )
    assert_error(client.get(f"{TEMPLATE}/nope"), 400, "Request_BadRequest")
    assert_error(
        client.put(PARTNERS, json={}),
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )
    assert_error(client.delete(TEMPLATE), 405, "Request_BadRequest")
    assert_error(client.get(f"{TEMPLATE}/resetToDefaultSettings"), 405, "Request_BadRequest")


def test_keep_alive_over_one_connection(emu: Emulator) -> None:
    url = urlsplit(emu.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    headers = {"Authorization": f"Bearer {emu.mint_token()}", "Content-Type": "application/json"}
    try:
        for method, path, body, status in [
            ("POST", PARTNERS, {"tenantId": TID}, 201),
            ("PATCH", f"{PARTNERS}/{TID}", {"inboundTrust": None}, 204),
            ("POST", PARTNERS, {"tenantId": "bad"}, 400),
            ("GET", f"{PARTNERS}/{TID}", None, 200),
            ("DELETE", f"{PARTNERS}/{TID}", None, 204),
        ]:
            payload = None if body is None else json.dumps(body)
            connection.request(method, f"{url.path}{path}", body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            assert response.status == status
            if data:
                json.loads(data)
            if method == "POST" and status == 201:
                first_socket = connection.sock
        assert connection.sock is first_socket  # never reconnected
    finally:
        connection.close()


def test_requests_are_recorded(emu: Emulator, client: httpx.Client) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    client.get(PARTNERS, params={"$select": "tenantId"})
    client.patch(f"{PARTNERS}/{TID}", json={"Bogus": 1})
    assert [(r.method, r.path, r.body, r.status) for r in emu.requests] == [
        ("POST", f"/v1.0{PARTNERS}", {"tenantId": TID}, 201),
        ("GET", f"/v1.0{PARTNERS}?%24select=tenantId", None, 200),
        ("PATCH", f"/v1.0{PARTNERS}/{TID}", {"Bogus": 1}, 400),
    ]
    emu.clear_requests()
    assert emu.requests == []


def test_state_file_round_trip(tmp_path: Any) -> None:
    state_file = tmp_path / "state.json"
    config = EmulatorConfig(state_file=state_file)
    with Emulator(config) as first, client_for(first) as client:
        assert client.post(PARTNERS, json=SEED_CREATE).status_code == 201
        assert client.patch(TEMPLATE, json={"templateApplicationLevel": "newPartners"}).status_code == 204
        assert client.post(PARTNERS, json={"tenantId": "bad"}).status_code == 400
        expected_partners, expected_template = first.partners(), first.template()
    assert json.loads(state_file.read_text())["partners"] == expected_partners
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left behind

    with Emulator(config) as second, client_for(second) as client:
        assert second.partners() == expected_partners and second.template() == expected_template
        assert client.get(f"{PARTNERS}/{SEED_CREATE['tenantId']}").status_code == 200
        assert client.delete(f"{PARTNERS}/{SEED_CREATE['tenantId']}").status_code == 204
    assert json.loads(state_file.read_text())["partners"] == {}


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


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com", "127.0.0.1\n", ""])
def test_start_refuses_a_host_that_is_not_loopback(host: str) -> None:
    emulator = Emulator()
    with pytest.raises(StartError, match="loopback only"):
        emulator.start(host, 0)
    with pytest.raises(RuntimeError):
        emulator.base_url  # noqa: B018 (never started)


def test_start_refuses_a_port_in_use(emu: Emulator) -> None:
    port = urlsplit(emu.base_url).port
    with pytest.raises(StartError, match=f"cannot listen on 127.0.0.1 port {port}: "):
        Emulator().start("127.0.0.1", port or 0)


def test_run_forever_serves_until_interrupted() -> None:
    seen: dict[str, Any] = {}

    def on_ready(base_url: str, token: str) -> None:
        response = httpx.post(
            f"{base_url}{PARTNERS}", json={"tenantId": TID}, headers={"Authorization": f"Bearer {token}"}
        )
        seen.update(base_url=base_url, status=response.status_code)
        raise KeyboardInterrupt

    run_forever(EmulatorConfig(), "127.0.0.1", 0, on_ready)
    assert seen["status"] == 201
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{seen['base_url']}{PARTNERS}")


def test_a_write_that_cannot_be_saved_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "tenant.json"
    with Emulator(EmulatorConfig(state_file=state)) as emu, client_for(emu) as http:
        assert http.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        state.unlink()
        state.mkdir()  # a directory cannot be replaced by the new state file
        failed = http.patch(f"{PARTNERS}/{TID}", json=SEED_PATCHES[0])
        assert failed.status_code == 500
        assert emu.partners()[TID]["inboundTrust"] is None  # memory agrees with the file


# -- the trust boundary: what an unauthenticated or misbehaving client can make it do -----------


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: Any
    closed: bool  # the server closed the connection after answering


def raw_exchange(emu: Emulator, head: str) -> RawAnswer:
    """Send only `head` (request line and headers, no body) on a fresh socket and read the
    answer. A server that waited for the body would make this time out."""
    url = urlsplit(emu.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = json.loads(response.read())
        return RawAnswer(response.status, response.headers, body, closed=sock.recv(1) == b"")


def test_an_anonymous_caller_cannot_make_it_parse_a_body(emu: Emulator) -> None:
    deep = b"[" * 200_000  # deeper than json's recursion limit
    for body in (json.dumps({"tenantId": TID}).encode(), deep):
        anonymous = httpx.post(f"{emu.base_url}{PARTNERS}", content=body, headers={"Content-Type": "application/json"})
        assert_error(anonymous, 401, "InvalidAuthenticationToken")
    assert [r.body for r in emu.requests] == [None, None]  # nothing was parsed
    with client_for(emu) as client:
        too_deep = client.post(PARTNERS, content=deep, headers={"Content-Type": "application/json"})
    assert_error(too_deep, 400, "Request_BadRequest")
    assert emu.partners() == {}


def test_a_body_over_the_limit_is_refused_unread_and_the_connection_closed(emu: Emulator) -> None:
    answer = raw_exchange(
        emu,
        f"POST /v1.0{PARTNERS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {emu.mint_token()}\r\nContent-Length: {MAX_REQUEST_BYTES + 1}\r\n",
    )
    assert answer.status == 413 and answer.closed
    assert answer.headers["Connection"] == "close"
    assert answer.body["error"]["code"] == "Request_EntityTooLarge"
    assert answer.body["error"]["message"] == "The request body is 4194305 bytes; the limit is 4194304 bytes."
    assert answer.body["error"]["innerError"]["request-id"] == answer.headers["request-id"]
    assert [(r.status, r.body) for r in emu.requests] == [(413, None)]


def test_a_body_at_the_limit_is_served(emu: Emulator, client: httpx.Client) -> None:
    body = json.dumps({"tenantId": TID}).encode()
    padded = body + b" " * (MAX_REQUEST_BYTES - len(body))
    assert client.post(PARTNERS, content=padded, headers={"Content-Type": "application/json"}).status_code == 201


@pytest.mark.parametrize("length", ["-1", "ten", "1e3", "\u00b2"])  # "²" passes str.isdigit, not int()
def test_a_bad_content_length_is_400_and_closes_the_connection(emu: Emulator, length: str) -> None:
    answer = raw_exchange(emu, f"POST /v1.0{PARTNERS} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n")
    assert answer.status == 400 and answer.closed
    assert answer.body["error"]["code"] == "Request_BadRequest"
    assert answer.body["error"]["message"].startswith("Invalid Content-Length header")


def test_a_chunked_body_is_411_in_graphs_envelope(emu: Emulator) -> None:
    answer = raw_exchange(emu, f"POST /v1.0{PARTNERS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n")
    assert answer.status == 411 and answer.closed
    assert answer.body["error"]["code"] == "Request_LengthRequired"


def test_latency_delays_the_answer_after_the_write_has_landed(emulator_clock: ManualClock) -> None:
    """The wait comes once the request is handled: a client that gives up meanwhile has still
    written. Each answer waits the latency (recorded by the emulator's clock, not timed)."""
    with Emulator(EmulatorConfig(latency_s=0.5)) as slow:
        url = urlsplit(slow.base_url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=0.2)
        headers = {"Authorization": f"Bearer {slow.mint_token()}", "Content-Type": "application/json"}
        with emulator_clock.holding():  # the answer waits until the client has given up
            connection.request("POST", f"{url.path}{PARTNERS}", body=json.dumps({"tenantId": TID}), headers=headers)
            with pytest.raises(TimeoutError):
                connection.getresponse()  # the client gives up while the answer is delayed ...
            connection.close()
            assert list(slow.partners()) == [TID]  # ... and the write has landed all the same
        with client_for(slow) as client:
            assert client.get(f"{PARTNERS}/{TID}").status_code == 200
    assert emulator_clock.slept == [0.5, 0.5]  # the POST's answer and the GET's each waited 0.5 s
