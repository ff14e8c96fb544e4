"""The emulator's request pipeline (reconciler/emulator/app.py) over real HTTP (httpx), checked
against Graph's documentation: create, read, update and the MTO template as each answers, the
order of routing checks, and the requests it records. Its write rules, query options, tokens,
state and HTTP shell have files of their own (test_schema, test_query, test_auth, test_state,
test_server).

These tests talk to the emulator the way any client would, without the SDK: the reconciler's
own tests cover the msgraph-sdk path. Request bodies marked "seed" are the official examples
from the Graph docs (the create and update partner pages), copied verbatim.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support.emulator_http import (
    ALLOW_ALL_USERS,
    PARTNER_PROPERTIES,
    PARTNERS,
    TEMPLATE,
    TID,
    UNSET_CONSENT,
    assert_error,
)
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES

from reconciler.emulator import Emulator

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


def test_create_duplicate_tenant_id_is_409_case_insensitively(client: httpx.Client) -> None:
    assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
    assert_error(client.post(PARTNERS, json={"tenantId": TID.upper()}), 409, "Request_MultipleObjectsWithSameKeyValue")


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


# -- read ------------------------------------------------------------------------------------


def test_get_is_case_insensitive_and_unknown_is_404(client: httpx.Client) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    assert client.get(f"{PARTNERS}/{TID.upper()}").json()["tenantId"] == TID
    other = "00000000-0000-0000-0000-000000000001"
    for method in ("GET", "PATCH", "DELETE"):
        body = {"inboundTrust": None} if method == "PATCH" else None
        assert_error(client.request(method, f"{PARTNERS}/{other}", json=body), 404, "Request_ResourceNotFound")


# -- update ----------------------------------------------------------------------------------


@pytest.mark.parametrize("patch", SEED_PATCHES, ids=["inboundTrust", "consent", "tenantRestrictions"])
def test_seed_patch_examples_are_accepted(client: httpx.Client, patch: dict[str, Any]) -> None:
    client.post(PARTNERS, json={"tenantId": TID})
    response = client.patch(f"{PARTNERS}/{TID}", json=patch)
    assert response.status_code == 204 and response.content == b""
    assert "content-length" not in response.headers
    ((name, value),) = patch.items()
    assert client.get(f"{PARTNERS}/{TID}").json()[name] == value


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


def test_set_template_seeds_and_none_resets(emu: Emulator, client: httpx.Client) -> None:
    emu.set_template({"templateApplicationLevel": "newPartners", "inboundTrust": {"isMfaAccepted": True}})
    body = client.get(TEMPLATE).json()
    assert body["templateApplicationLevel"] == "newPartners"
    assert body["inboundTrust"] == {"isMfaAccepted": True}  # verbatim
    assert body["id"] and body["b2bCollaborationInbound"] is None
    emu.set_template(None)
    assert emu.template()["inboundTrust"] is None


# -- routing and recording -----------------------------------------------------------------


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
