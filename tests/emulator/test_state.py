"""The emulated tenant (reconciler/emulator/state.py), over real HTTP (httpx): planted state served
verbatim, PATCH keeping absent properties and clearing nulls in each configured mode, the guard on
deleting a partner with an identity sync, and the state file that survives a restart or fails a
write whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.emulator_http import (
    ALLOW_ALL_APPS,
    ALLOW_ALL_USERS,
    BLOCK_ALL_USERS,
    GROUP,
    PARTNERS,
    TEMPLATE,
    TID,
    UNSET_CONSENT,
    assert_error,
    target_config,
)
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig

# The seed request bodies, verbatim (tests/support/seeds.py).
SEED_CREATE = SEED_000_CREATE_BODY
SEED_PATCHES = SEED_001_PATCH_BODIES


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


@pytest.mark.parametrize("mode", ["replace_top_level", "odata_merge"])
def test_a_write_leaves_what_an_earlier_read_returned_as_it_was(mode: str) -> None:
    """A write makes new values and never changes a stored one in place (the Store's rule, that
    lets a write copy only the top level of what it replaces): a page read before a PATCH still
    holds what it read, nested objects and identity sync included."""
    with Emulator(EmulatorConfig(patch_mode=mode)) as emu, client_for(emu) as client:
        setting = {"usersAndGroups": target_config("allowed", (GROUP, "group")), "applications": ALLOW_ALL_APPS}
        client.post(PARTNERS, json={"tenantId": TID, "b2bCollaborationInbound": setting, **SEED_PATCHES[0]})
        client.put(f"{PARTNERS}/{TID}/identitySynchronization", json={"userSyncInbound": {"isSyncAllowed": True}})
        (page, _) = emu.store.list_partners(None, 10)
        before = json.loads(json.dumps(page))
        patch = {
            "b2bCollaborationInbound": {"usersAndGroups": ALLOW_ALL_USERS},
            "inboundTrust": {"isMfaAccepted": False},
        }
        assert client.patch(f"{PARTNERS}/{TID}", json=patch).status_code == 204
        sync = {"userSyncInbound": {"isSyncAllowed": False}}
        assert client.patch(f"{PARTNERS}/{TID}/identitySynchronization", json=sync).status_code == 204
        assert page == before
        assert emu.partners()[TID]["b2bCollaborationInbound"]["usersAndGroups"] == ALLOW_ALL_USERS


def test_merge_mode_checks_block_all_rule_on_the_merged_result() -> None:
    with Emulator(EmulatorConfig(patch_mode="odata_merge")) as emu, client_for(emu) as client:
        setting = {"usersAndGroups": ALLOW_ALL_USERS, "applications": ALLOW_ALL_APPS}
        client.post(PARTNERS, json={"tenantId": TID, "b2bCollaborationOutbound": setting})
        response = client.patch(
            f"{PARTNERS}/{TID}", json={"b2bCollaborationOutbound": {"usersAndGroups": BLOCK_ALL_USERS}}
        )
        assert_error(response, 400, "Request_BadRequest")
        assert emu.partners()[TID]["b2bCollaborationOutbound"] == setting


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


def test_a_write_that_cannot_be_saved_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "tenant.json"
    with Emulator(EmulatorConfig(state_file=state)) as emu, client_for(emu) as http:
        assert http.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        state.unlink()
        state.mkdir()  # a directory cannot be replaced by the new state file
        failed = http.patch(f"{PARTNERS}/{TID}", json=SEED_PATCHES[0])
        assert failed.status_code == 500
        assert emu.partners()[TID]["inboundTrust"] is None  # memory agrees with the file
