"""Microsoft 365 capabilities in the emulator (reconciler/emulator/capabilities.py, routed by
surfaces.py) over real HTTP: the docs' examples verbatim (tests/support/seeds.py), the
undocumented cases as the emulator answers them, each knob both ways, permissions, `$batch`
and the state file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.emulator_http import PARTNERS, assert_error, batch
from support.seeds import (
    CAPABILITY_DEFAULT_POST_BODIES,
    CAPABILITY_DEFAULT_POST_RESPONSES,
    CAPABILITY_DELETE_TENANT,
    CAPABILITY_PARTNER_POST_BODIES,
    CAPABILITY_PARTNER_POST_RESPONSE,
    CAPABILITY_PARTNER_TENANT,
    CAPABILITY_PARTNER_UPDATE_BODY,
    CAPABILITY_UPDATE_BODIES,
)
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig

DEFAULT_CAPS = "/policies/crossTenantAccessPolicy/default/m365Capabilities"
CAPABILITY = "Policy.ReadWrite.CrossTenantCapability"
ACCESS = "Policy.ReadWrite.CrossTenantAccess"
PROFILE = CAPABILITY_DEFAULT_POST_BODIES[0]


def partner_caps(tenant: str) -> str:
    return f"{PARTNERS}/{tenant}/m365Capabilities"


@pytest.fixture
def caps(emu: Emulator) -> Iterator[httpx.Client]:
    """A client that may write policies and capabilities, with partners of the docs' examples."""
    with client_for(emu, emu.mint_token(roles=[ACCESS, CAPABILITY])) as c:
        for tenant in (CAPABILITY_PARTNER_TENANT, CAPABILITY_DELETE_TENANT):
            assert c.post(PARTNERS, json={"tenantId": tenant}).status_code == 201
        yield c


def emulator_with(**knobs: Any) -> Emulator:
    return Emulator(EmulatorConfig(**knobs))


def without_time(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("lastModifiedDateTime", "@odata.context")}


# -- the docs' examples --------------------------------------------------------------------


@pytest.mark.parametrize("body", CAPABILITY_PARTNER_POST_BODIES)
def test_partner_create_examples_answer_201_as_documented(caps: httpx.Client, body: dict[str, Any]) -> None:
    response = caps.post(partner_caps(CAPABILITY_PARTNER_TENANT), json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    name = body["@odata.type"].removeprefix("#microsoft.graph.")
    assert without_time(created) == {**body, "name": name}
    assert created["lastModifiedDateTime"].endswith("Z") and len(created["lastModifiedDateTime"]) == 28
    assert caps.get(partner_caps(CAPABILITY_PARTNER_TENANT)).json()["value"] == [
        without_time(created) | {"lastModifiedDateTime": created["lastModifiedDateTime"]}
    ]


def test_documented_response_matches_in_everything_but_the_time(caps: httpx.Client) -> None:
    created = caps.post(partner_caps(CAPABILITY_PARTNER_TENANT), json=CAPABILITY_PARTNER_POST_BODIES[0]).json()

    assert without_time(created) == without_time(CAPABILITY_PARTNER_POST_RESPONSE)


def test_default_create_list_update_examples(caps: httpx.Client) -> None:
    for body in CAPABILITY_DEFAULT_POST_BODIES:
        assert caps.post(DEFAULT_CAPS, json=body).status_code == 201
    listed = caps.get(DEFAULT_CAPS).json()
    assert [c["name"] for c in listed["value"]] == ["crossTenantOpenProfileCard", "crossTenantMigration"]
    item = f"{DEFAULT_CAPS}/crossTenantOpenProfileCard"

    assert caps.patch(item, json=CAPABILITY_UPDATE_BODIES[0]).status_code == 204
    after = caps.get(item).json()["inboundAccess"]
    assert after == {**PROFILE["inboundAccess"], "isAllowed": False}  # the scopes are kept
    assert caps.patch(item, json=CAPABILITY_UPDATE_BODIES[1]).status_code == 204
    assert caps.get(item).json()["inboundAccess"] == CAPABILITY_UPDATE_BODIES[1]["inboundAccess"]


@pytest.mark.parametrize(
    ("body", "documented"), list(zip(CAPABILITY_DEFAULT_POST_BODIES, CAPABILITY_DEFAULT_POST_RESPONSES, strict=True))
)
def test_default_create_examples_answer_as_documented(
    caps: httpx.Client, body: dict[str, Any], documented: dict[str, Any]
) -> None:
    response = caps.post(DEFAULT_CAPS, json=body)

    assert response.status_code == 201
    assert without_time(response.json()) == without_time(documented)


def test_partner_update_example(caps: httpx.Client) -> None:
    item = f"{partner_caps(CAPABILITY_DELETE_TENANT)}/crossTenantOpenProfileCard"
    assert caps.post(partner_caps(CAPABILITY_DELETE_TENANT), json=PROFILE).status_code == 201

    assert caps.patch(item, json=CAPABILITY_PARTNER_UPDATE_BODY).status_code == 204
    assert caps.get(item).json()["inboundAccess"] == CAPABILITY_PARTNER_UPDATE_BODY["inboundAccess"]


def test_partner_delete_example(caps: httpx.Client) -> None:
    path = partner_caps(CAPABILITY_DELETE_TENANT)
    assert caps.post(path, json=PROFILE).status_code == 201

    assert caps.delete(f"{path}/crossTenantOpenProfileCard").status_code == 204
    assert caps.get(path).json()["value"] == []
    assert_error(caps.delete(f"{path}/crossTenantOpenProfileCard"), 404, "Request_ResourceNotFound")


# -- undocumented cases --------------------------------------------------------------------


@pytest.mark.parametrize(
    "odata_type", [None, "#microsoft.graph.m365CapabilityBase", "#microsoft.graph.crossTenantNothing", 3]
)
def test_create_needs_a_known_derived_type(caps: httpx.Client, odata_type: Any) -> None:
    body = {**PROFILE, "@odata.type": odata_type}
    if odata_type is None:
        del body["@odata.type"]

    assert_error(caps.post(DEFAULT_CAPS, json=body), 400, "Request_BadRequest")


def test_every_documented_type_is_accepted(caps: httpx.Client) -> None:
    from reconciler.emulator.capabilities import TYPES

    for name in TYPES:
        body = {"@odata.type": f"#microsoft.graph.{name}", "inboundAccess": {"isAllowed": True}}
        assert caps.post(partner_caps(CAPABILITY_PARTNER_TENANT), json=body).status_code == 201
    assert len(TYPES) == 14 and len(caps.get(partner_caps(CAPABILITY_PARTNER_TENANT)).json()["value"]) == 14


def test_create_without_scopes_reads_back_empty_lists(caps: httpx.Client) -> None:
    body = {"@odata.type": "#microsoft.graph.crossTenantMailTipsAll", "inboundAccess": {"isAllowed": True}}
    created = caps.post(DEFAULT_CAPS, json=body).json()

    assert created["inboundAccess"]["resourceScopes"] == {"included": [], "excluded": []}


@pytest.mark.parametrize(
    "body",
    [
        {**PROFILE, "name": "crossTenantMailTipsAll"},
        {"@odata.type": PROFILE["@odata.type"]},
        {**PROFILE, "inboundAccess": None},
        {**PROFILE, "color": "blue"},
        {**PROFILE, "inboundAccess": {"isAllowed": "yes"}},
    ],
)
def test_create_refuses_a_wrong_body(caps: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(caps.post(DEFAULT_CAPS, json=body), 400, "Request_BadRequest")


def test_create_accepts_a_name_equal_to_the_type(caps: httpx.Client) -> None:
    assert caps.post(DEFAULT_CAPS, json={**PROFILE, "name": "crossTenantOpenProfileCard"}).status_code == 201


def test_a_second_capability_of_a_type_is_409_or_replaces_it_under_upsert(caps: httpx.Client) -> None:
    assert caps.post(DEFAULT_CAPS, json=PROFILE).status_code == 201
    assert_error(caps.post(DEFAULT_CAPS, json=PROFILE), 409, "Request_MultipleObjectsWithSameKeyValue")
    with emulator_with(capability_upsert=True) as emu, client_for(emu, emu.mint_token(roles=[CAPABILITY])) as c:
        assert c.post(DEFAULT_CAPS, json=PROFILE).status_code == 201
        changed = {**PROFILE, "inboundAccess": {"isAllowed": False}}
        assert c.post(DEFAULT_CAPS, json=changed).status_code == 201
        assert [x["inboundAccess"]["isAllowed"] for x in c.get(DEFAULT_CAPS).json()["value"]] == [False]


def test_a_missing_partner_is_404(caps: httpx.Client) -> None:
    missing = partner_caps("00000000-0000-0000-0000-0000000000aa")
    assert_error(caps.post(missing, json=PROFILE), 404, "Request_ResourceNotFound")
    assert_error(caps.get(missing), 404, "Request_ResourceNotFound")


def test_migration_on_the_default_is_accepted_or_refused_by_knob(caps: httpx.Client) -> None:
    migration = CAPABILITY_DEFAULT_POST_BODIES[1]
    assert caps.post(DEFAULT_CAPS, json=migration).status_code == 201
    with (
        emulator_with(capability_migration_on_default=False) as emu,
        client_for(emu, emu.mint_token(roles=[CAPABILITY])) as c,
    ):
        assert_error(c.post(DEFAULT_CAPS, json=migration), 400, "Request_BadRequest")
        assert c.post(PARTNERS, json={"tenantId": CAPABILITY_PARTNER_TENANT}).status_code == 403  # no access role
    with (
        emulator_with(capability_migration_on_default=False) as emu,
        client_for(emu, emu.mint_token(roles=[CAPABILITY, ACCESS])) as c,
    ):
        assert c.post(PARTNERS, json={"tenantId": CAPABILITY_PARTNER_TENANT}).status_code == 201
        assert c.post(partner_caps(CAPABILITY_PARTNER_TENANT), json=migration).status_code == 201


BAD_SCOPE = {"resourceId": "everyone", "resourceType": "user"}
NONE_GUID = {"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "none"}


@pytest.mark.parametrize("scope", [BAD_SCOPE, NONE_GUID])
def test_resource_ids_are_checked_unless_the_knob_is_off(caps: httpx.Client, scope: dict[str, str]) -> None:
    body = {**PROFILE, "inboundAccess": {"isAllowed": True, "resourceScopes": {"included": [scope], "excluded": []}}}
    assert_error(caps.post(DEFAULT_CAPS, json=body), 400, "Request_BadRequest")
    with (
        emulator_with(strict_capability_resource_ids=False) as emu,
        client_for(emu, emu.mint_token(roles=[CAPABILITY])) as c,
    ):
        assert c.post(DEFAULT_CAPS, json=body).status_code == 201


def test_duplicate_resource_ids_are_stored_as_sent(caps: httpx.Client) -> None:
    scope = {"resourceId": "All", "resourceType": "user"}
    body = {**PROFILE, "inboundAccess": {"isAllowed": True, "resourceScopes": {"included": [scope, scope]}}}
    created = caps.post(DEFAULT_CAPS, json=body).json()
    assert created["inboundAccess"]["resourceScopes"] == {"included": [scope, scope], "excluded": []}


def test_patch_replaces_a_scope_list_it_sends_and_keeps_the_other(caps: httpx.Client) -> None:
    caps.post(DEFAULT_CAPS, json=PROFILE)
    item = f"{DEFAULT_CAPS}/crossTenantOpenProfileCard"
    before = caps.get(item).json()["lastModifiedDateTime"]
    all_users = [{"resourceId": "All", "resourceType": "user"}]

    assert caps.patch(item, json={"inboundAccess": {"resourceScopes": {"included": all_users}}}).status_code == 204
    after = caps.get(item).json()
    assert after["inboundAccess"]["resourceScopes"] == {
        "included": all_users,
        "excluded": PROFILE["inboundAccess"]["resourceScopes"]["excluded"],
    }
    assert after["inboundAccess"]["isAllowed"] is True
    assert after["lastModifiedDateTime"] >= before


@pytest.mark.parametrize(
    "body",
    [
        {"@odata.type": "#microsoft.graph.crossTenantMailTipsAll"},
        {"name": "crossTenantMailTipsAll"},
        {"inboundAccess": None},
    ],
)
def test_patch_refuses_a_type_or_name_change(caps: httpx.Client, body: dict[str, Any]) -> None:
    caps.post(DEFAULT_CAPS, json=PROFILE)
    assert_error(caps.patch(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard", json=body), 400, "Request_BadRequest")


def test_patch_of_a_missing_capability_is_404(caps: httpx.Client) -> None:
    assert_error(caps.patch(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard", json={}), 404, "Request_ResourceNotFound")
    assert_error(caps.get(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard"), 404, "Request_ResourceNotFound")


def test_default_delete_is_405_unless_allowed(caps: httpx.Client) -> None:
    caps.post(DEFAULT_CAPS, json=PROFILE)
    assert_error(caps.delete(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard"), 405, "Request_BadRequest")
    with emulator_with(default_capability_delete=True) as emu, client_for(emu, emu.mint_token(roles=[CAPABILITY])) as c:
        c.post(DEFAULT_CAPS, json=PROFILE)
        assert c.delete(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard").status_code == 204


def test_get_one_is_served_unless_the_knob_is_off(caps: httpx.Client) -> None:
    caps.post(DEFAULT_CAPS, json=PROFILE)
    assert caps.get(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard").json()["name"] == "crossTenantOpenProfileCard"
    with emulator_with(capability_get_one=False) as emu, client_for(emu, emu.mint_token(roles=[CAPABILITY])) as c:
        c.post(DEFAULT_CAPS, json=PROFILE)
        assert_error(c.get(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard"), 405, "Request_BadRequest")


def test_capabilities_go_with_their_partner_and_never_show_on_it(caps: httpx.Client) -> None:
    path = partner_caps(CAPABILITY_PARTNER_TENANT)
    caps.post(path, json=PROFILE)
    caps.post(DEFAULT_CAPS, json=PROFILE)
    assert "m365Capabilities" not in caps.get(f"{PARTNERS}/{CAPABILITY_PARTNER_TENANT}").json()
    assert "m365Capabilities" not in caps.get("/policies/crossTenantAccessPolicy/default").json()
    for target in (PARTNERS, f"{PARTNERS}/{CAPABILITY_PARTNER_TENANT}", "/policies/crossTenantAccessPolicy/default"):
        assert_error(caps.get(target, params={"$expand": "m365Capabilities"}), 400, "Request_BadRequest")
    assert caps.patch(f"{PARTNERS}/{CAPABILITY_PARTNER_TENANT}", json={"inboundTrust": None}).status_code == 204
    assert len(caps.get(path).json()["value"]) == 1  # a partner update keeps them

    assert caps.delete(f"{PARTNERS}/{CAPABILITY_PARTNER_TENANT}").status_code == 204
    assert caps.post(PARTNERS, json={"tenantId": CAPABILITY_PARTNER_TENANT}).status_code == 201
    assert caps.get(path).json()["value"] == []


# -- permissions, $batch, state file, audit ------------------------------------------------


def test_writes_need_the_capability_permission_and_reads_take_either(emu: Emulator) -> None:
    with client_for(emu, emu.mint_token(roles=[ACCESS])) as access:
        assert_error(access.post(DEFAULT_CAPS, json=PROFILE), 403, "Authorization_RequestDenied")
        assert_error(access.get(DEFAULT_CAPS), 403, "Authorization_RequestDenied")
    with client_for(emu, emu.mint_token(roles=["Policy.Read.All"])) as reader:
        assert reader.get(DEFAULT_CAPS).status_code == 200
        assert_error(reader.post(DEFAULT_CAPS, json=PROFILE), 403, "Authorization_RequestDenied")
    with client_for(emu, emu.mint_token(roles=None, scp=CAPABILITY)) as delegated:
        assert delegated.post(DEFAULT_CAPS, json=PROFILE).status_code == 201
        assert delegated.get(DEFAULT_CAPS).status_code == 200


def test_capabilities_work_inside_batch(caps: httpx.Client) -> None:
    items = batch(
        caps,
        {
            "id": "1",
            "method": "POST",
            "url": DEFAULT_CAPS,
            "headers": {"Content-Type": "application/json"},
            "body": PROFILE,
        },
        {"id": "2", "method": "GET", "url": DEFAULT_CAPS, "dependsOn": ["1"]},
    )
    assert items["1"]["status"] == 201 and items["2"]["body"]["value"][0]["name"] == "crossTenantOpenProfileCard"


def test_the_state_file_round_trips_capabilities(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with emulator_with(state_file=state) as emu, client_for(emu, emu.mint_token(roles=[ACCESS, CAPABILITY])) as c:
        c.post(PARTNERS, json={"tenantId": CAPABILITY_PARTNER_TENANT})
        c.post(partner_caps(CAPABILITY_PARTNER_TENANT), json=PROFILE)
        c.post(DEFAULT_CAPS, json=PROFILE)
        saved = (c.get(DEFAULT_CAPS).json()["value"], c.get(partner_caps(CAPABILITY_PARTNER_TENANT)).json()["value"])
    with emulator_with(state_file=state) as emu, client_for(emu, emu.mint_token(roles=[CAPABILITY])) as c:
        assert (
            c.get(DEFAULT_CAPS).json()["value"],
            c.get(partner_caps(CAPABILITY_PARTNER_TENANT)).json()["value"],
        ) == saved


def test_writes_are_audited(emu: Emulator) -> None:
    with client_for(emu, emu.mint_token(roles=[CAPABILITY, "AuditLog.Read.All"])) as c:
        c.post(DEFAULT_CAPS, json=PROFILE)
        c.patch(f"{DEFAULT_CAPS}/crossTenantOpenProfileCard", json=CAPABILITY_UPDATE_BODIES[0])
        entries = c.get("/auditLogs/directoryAudits").json()["value"]
    names = {e["activityDisplayName"] for e in entries}
    assert {"Add a Microsoft 365 cross-tenant capability", "Update a Microsoft 365 cross-tenant capability"} <= names


def test_a_reset_of_the_default_removes_its_capabilities(caps: httpx.Client) -> None:
    caps.post(DEFAULT_CAPS, json=PROFILE)
    assert caps.post("/policies/crossTenantAccessPolicy/default/resetToSystemDefault").status_code == 204
    assert caps.get(DEFAULT_CAPS).json()["value"] == []
