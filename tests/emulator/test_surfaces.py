"""The policy root, a partner's service-provider constraints and the national-cloud switch
(reconciler/emulator/surfaces.py, policy_root.py) over real HTTP, the docs' PATCH examples
verbatim (tests/support/seeds.py) and each knob both ways."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.emulator_http import PARTNERS, TEMPLATE, TID, assert_error, batch
from support.seeds import POLICY_PATCH_BODY, POLICY_PATCH_BODY_BETA
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig

ROOT = "/policies/crossTenantAccessPolicy"
CONSTRAINTS = f"{PARTNERS}/{TID}/serviceProviderConstraints"
PLANTED = {
    "@odata.type": "#microsoft.graph.delegatedAdminServiceProviderConstraints",
    "id": "5e3d9f5c-7a0b-4a53-9b27-0b3f4b8a1c11",
    "allowedRoleTemplateIds": ["62e90394-69f5-4237-9190-012177145e10"],
    "createdDateTime": "2026-08-03T10:00:00Z",
    "lastModifiedDateTime": "2026-08-03T10:00:00Z",
}


def test_get_root_is_the_bare_entity(client: httpx.Client) -> None:
    body = client.get(ROOT).json()

    assert body.pop("@odata.context").endswith("/$metadata#policies/crossTenantAccessPolicy/$entity")
    assert body.pop("id")
    assert body == {
        "@odata.type": "#microsoft.graph.crossTenantAccessPolicy",
        "displayName": "CrossTenantAccessPolicy",
        "allowedCloudEndpoints": [],
    }


@pytest.mark.parametrize("patch", [POLICY_PATCH_BODY, POLICY_PATCH_BODY_BETA])
def test_patch_examples_replace_the_whole_list(client: httpx.Client, patch: dict[str, Any]) -> None:
    assert client.patch(ROOT, json={"allowedCloudEndpoints": ["microsoftonline.com"]}).status_code == 204

    assert client.patch(ROOT, json=patch).status_code == 204
    assert client.get(ROOT).json()["allowedCloudEndpoints"] == patch["allowedCloudEndpoints"]
    assert client.patch(ROOT, json={"allowedCloudEndpoints": []}).status_code == 204
    assert client.get(ROOT).json()["allowedCloudEndpoints"] == []


def test_patch_display_name_is_accepted(client: httpx.Client) -> None:
    assert client.patch(ROOT, json={"displayName": "Ours"}).status_code == 204
    assert client.get(ROOT).json()["displayName"] == "Ours"


@pytest.mark.parametrize(
    "body", [{"allowedCloudEndpoints": None}, {"allowedCloudEndpoints": "microsoftonline.us"}, {"id": "x"}, {"x": 1}]
)
def test_patch_refuses_null_and_wrong_shapes(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(client.patch(ROOT, json=body), 400, "Request_BadRequest")


def test_unknown_endpoints_are_refused_unless_the_knob_is_off(client: httpx.Client) -> None:
    body = {"allowedCloudEndpoints": ["example.com"]}
    assert_error(client.patch(ROOT, json=body), 400, "Request_BadRequest")
    with Emulator(EmulatorConfig(strict_cloud_endpoints=False)) as emu, client_for(emu) as c:
        assert c.patch(ROOT, json=body).status_code == 204
        assert c.get(ROOT).json()["allowedCloudEndpoints"] == ["example.com"]


def test_root_permissions_audit_and_batch(emu: Emulator) -> None:
    with client_for(emu, emu.mint_token(roles=["Policy.Read.All"])) as reader:
        assert reader.get(ROOT).status_code == 200
        assert_error(reader.patch(ROOT, json=POLICY_PATCH_BODY), 403, "Authorization_RequestDenied")
    with client_for(emu, emu.mint_token(roles=["Policy.ReadWrite.CrossTenantAccess", "AuditLog.Read.All"])) as c:
        items = batch(
            c,
            {
                "id": "1",
                "method": "PATCH",
                "url": ROOT,
                "headers": {"Content-Type": "application/json"},
                "body": POLICY_PATCH_BODY,
            },
        )
        assert items["1"]["status"] == 204
        names = [e["activityDisplayName"] for e in c.get("/auditLogs/directoryAudits").json()["value"]]
    assert "Update the cross-tenant access policy" in names


def test_root_round_trips_through_the_state_file(tmp_path: Any) -> None:
    config = EmulatorConfig(state_file=tmp_path / "state.json")
    with Emulator(config) as emu, client_for(emu) as c:
        c.patch(ROOT, json=POLICY_PATCH_BODY)
    with Emulator(config) as emu, client_for(emu) as c:
        assert c.get(ROOT).json()["allowedCloudEndpoints"] == ["microsoftonline.us"]


# -- serviceProviderConstraints ------------------------------------------------------------


def test_constraints_are_404_until_planted_then_read_only(emu: Emulator, client: httpx.Client) -> None:
    assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
    assert_error(client.get(CONSTRAINTS), 404, "Request_ResourceNotFound")

    emu.put_service_provider_constraints(TID, PLANTED)
    body = client.get(CONSTRAINTS).json()
    assert body.pop("@odata.context").endswith("/serviceProviderConstraints/$entity")
    assert body == PLANTED
    assert "serviceProviderConstraints" not in client.get(f"{PARTNERS}/{TID}").json()
    assert_error(client.get(PARTNERS, params={"$expand": "serviceProviderConstraints"}), 400, "Request_BadRequest")
    assert_error(client.patch(CONSTRAINTS, json={"allowedRoleTemplateIds": []}), 403, "Authorization_RequestDenied")
    assert_error(client.delete(CONSTRAINTS), 403, "Authorization_RequestDenied")
    assert_error(
        client.get(f"{PARTNERS}/00000000-0000-0000-0000-0000000000aa/serviceProviderConstraints"),
        404,
        "Request_ResourceNotFound",
    )


def test_constraints_writable_under_the_knob() -> None:
    with Emulator(EmulatorConfig(constraints_writable=True)) as emu, client_for(emu) as c:
        c.post(PARTNERS, json={"tenantId": TID})
        emu.put_service_provider_constraints(TID, PLANTED)
        assert c.patch(CONSTRAINTS, json={"allowedRoleTemplateIds": []}).status_code == 204
        assert c.get(CONSTRAINTS).json()["allowedRoleTemplateIds"] == []
        assert c.delete(CONSTRAINTS).status_code == 204
        assert_error(c.get(CONSTRAINTS), 404, "Request_ResourceNotFound")


# -- national clouds -----------------------------------------------------------------------


@pytest.mark.parametrize("cloud", ["usgov", "usgovdod", "china"])
def test_a_national_cloud_has_no_global_only_surfaces(cloud: str) -> None:
    with Emulator(EmulatorConfig(cloud=cloud)) as emu, client_for(emu) as c:
        c.post(PARTNERS, json={"tenantId": TID})
        for path in (TEMPLATE, f"{ROOT}/default/m365Capabilities", f"{PARTNERS}/{TID}/m365Capabilities", CONSTRAINTS):
            assert_error(c.get(path), 400, "Request_BadRequest")
        assert c.get(ROOT).status_code == 200


def test_the_global_cloud_has_them_and_an_unknown_cloud_is_refused(client: httpx.Client) -> None:
    assert client.get(TEMPLATE).status_code == 200
    with pytest.raises(ValueError, match="unknown cloud"):
        EmulatorConfig(cloud="mars")


NATIONAL_ONLY_GLOBAL = [
    (PARTNERS, "POST", {"tenantId": TID, "isServiceProvider": True, "appServiceConnectInbound": None}),
    (f"{PARTNERS}/{TID}", "PATCH", {"m365CollaborationInbound": None}),
    (f"{PARTNERS}/{TID}", "PATCH", {"appServiceConnectInbound": None}),
    (f"{ROOT}/default", "PATCH", {"m365CollaborationOutbound": None}),
    (ROOT, "PATCH", POLICY_PATCH_BODY),
]


@pytest.mark.parametrize(("path", "method", "body"), NATIONAL_ONLY_GLOBAL)
def test_a_national_cloud_refuses_what_its_schema_lacks_unless_lenient(path: str, method: str, body: Any) -> None:
    with Emulator(EmulatorConfig(cloud="usgov")) as emu, client_for(emu) as c:
        if path != PARTNERS:
            c.post(PARTNERS, json={"tenantId": TID})
        assert_error(c.request(method, path, json=body), 400, "Request_BadRequest")
    with Emulator(EmulatorConfig(cloud="usgov", national_schema_strict=False)) as emu, client_for(emu) as c:
        if path != PARTNERS:
            c.post(PARTNERS, json={"tenantId": TID})
        lenient = c.request(method, path, json=body)
        # Lenient, the global rules apply: a partner POST may not set an update-only setting.
        assert lenient.status_code in ((400,) if method == "POST" else (204,)), lenient.text
        if method == "POST":
            assert "cannot be set on create" in lenient.json()["error"]["message"]


def test_a_national_cloud_reads_without_what_its_schema_lacks() -> None:
    with Emulator(EmulatorConfig(cloud="china")) as emu, client_for(emu) as c:
        created = c.post(PARTNERS, json={"tenantId": TID}).json()
        listed = c.get(PARTNERS).json()["value"][0]
        default = c.get(f"{ROOT}/default").json()
        root = c.get(ROOT).json()
        assert_error(c.get(PARTNERS, params={"$select": "tenantRestrictions"}), 400, "Request_BadRequest")
    for partner in (created, listed):
        assert not {"tenantRestrictions", "isInMultiTenantOrganization", "appServiceConnectInbound"} & set(partner)
        assert "inboundTrust" in partner
    assert "m365CollaborationInbound" not in default and "b2bCollaborationInbound" in default
    assert "allowedCloudEndpoints" not in root
    with Emulator(EmulatorConfig(cloud="china", national_schema_strict=False)) as emu, client_for(emu) as c:
        assert "allowedCloudEndpoints" in c.get(ROOT).json()
