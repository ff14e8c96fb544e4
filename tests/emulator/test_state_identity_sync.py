"""A partner's identity synchronization policy in the emulator, over real HTTP (httpx).

Graph's sources disagree on how a policy is updated (reconciler/core/registry.py links them); each
reading is an `EmulatorConfig` switch, and each switch is exercised here. The PUT body marked
"seed" is the official example of the create page, verbatim:
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-put-identitysynchronization
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.emulator_http import PARTNERS, TID, assert_error
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig

SYNC = f"{PARTNERS}/{TID}/identitySynchronization"
SEED_PUT = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
OTHER = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator holding partner TID, without a sync policy."""
    with Emulator() as emulator:
        emulator.put_partner({"tenantId": TID})
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with client_for(emu) as c:
        yield c


def test_put_creates_and_get_reads_every_member(client: httpx.Client) -> None:
    response = client.put(SYNC, json=SEED_PUT)
    assert response.status_code == 204 and response.content == b""

    body = client.get(SYNC).json()
    assert body.pop("@odata.context").endswith(
        f"$metadata#policies/crossTenantAccessPolicy/partners('{TID}')/identitySynchronization/$entity"
    )
    assert body == {"tenantId": TID, **SEED_PUT}
    selected = client.get(SYNC, params={"$select": "displayName"}).json()
    assert {k: v for k, v in selected.items() if k != "@odata.context"} == {"tenantId": TID, "displayName": "Fabrikam"}


def test_members_left_out_or_null_are_echoed_as_null(emu: Emulator, client: httpx.Client) -> None:
    assert client.put(SYNC, json={"displayName": None}).status_code == 204
    body = client.get(SYNC).json()
    assert body["displayName"] is None and body["userSyncInbound"] is None
    assert emu.identity_sync(TID) == {"tenantId": TID, "displayName": None, "userSyncInbound": None}


def test_a_missing_policy_is_404_directory_object_not_found(client: httpx.Client) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        body = SEED_PUT if method == "PATCH" else None
        assert_error(client.request(method, SYNC, json=body), 404, "Directory_ObjectNotFound")


def test_a_missing_partner_is_the_partners_404(emu: Emulator, client: httpx.Client) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = SEED_PUT if method in ("PUT", "PATCH") else None
        response = client.request(method, f"{PARTNERS}/{OTHER}/identitySynchronization", json=body)
        assert_error(response, 404, "Request_ResourceNotFound")
    assert list(emu.partners()) == [TID]


@pytest.mark.parametrize("replaces", [False, True])
def test_put_on_an_existing_policy_is_409_or_replaces_it(replaces: bool) -> None:
    with Emulator(EmulatorConfig(sync_put_replaces=replaces)) as emu, client_for(emu) as client:
        emu.put_partner({"tenantId": TID})
        assert client.put(SYNC, json=SEED_PUT).status_code == 204
        response = client.put(SYNC, json={"userSyncInbound": {"isSyncAllowed": False}})
        if replaces:
            assert response.status_code == 204
            # A replacement: the member left out (displayName) is gone, not kept.
            expected = {"tenantId": TID, "displayName": None, "userSyncInbound": {"isSyncAllowed": False}}
        else:
            assert_error(response, 409, "Request_MultipleObjectsWithSameKeyValue")
            expected = {"tenantId": TID, **SEED_PUT}
        assert emu.identity_sync(TID) == expected


@pytest.mark.parametrize("patch_mode", ["replace_top_level", "odata_merge"])
def test_patch_updates_the_members_given(patch_mode: str) -> None:
    with Emulator(EmulatorConfig(patch_mode=patch_mode)) as emu, client_for(emu) as client:
        emu.put_partner({"tenantId": TID})
        client.put(SYNC, json=SEED_PUT)
        response = client.patch(SYNC, json={"userSyncInbound": {"isSyncAllowed": False}})
        assert response.status_code == 204 and response.content == b""
        assert client.patch(SYNC, json={"tenantId": TID.upper(), "displayName": "Fabrikam EU"}).status_code == 204
        assert emu.identity_sync(TID) == {
            "tenantId": TID,
            "displayName": "Fabrikam EU",
            "userSyncInbound": {"isSyncAllowed": False},
        }


def test_patch_is_405_when_switched_off() -> None:
    with Emulator(EmulatorConfig(sync_patch=False)) as strict, client_for(strict) as client:
        strict.put_partner({"tenantId": TID})
        assert client.put(SYNC, json=SEED_PUT).status_code == 204
        response = client.patch(SYNC, json={"displayName": "changed"})
        assert_error(
            response, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
        )
        # 405 comes from the route, before the policy is looked up: a missing one is 405 too.
        strict.put_identity_sync(TID, None)
        assert_error(client.patch(SYNC, json={"displayName": "changed"}), 405, "Request_BadRequest")
        assert client.put(SYNC, json=SEED_PUT).status_code == 204
        assert strict.identity_sync(TID) == {"tenantId": TID, **SEED_PUT}


def test_delete_removes_the_policy_and_then_the_partner_can_go(emu: Emulator, client: httpx.Client) -> None:
    client.put(SYNC, json=SEED_PUT)
    refused = client.delete(f"{PARTNERS}/{TID}")
    assert_error(refused, 400, "Request_BadRequest")
    assert "identity synchronization policy first" in refused.json()["error"]["message"]

    response = client.delete(SYNC)
    assert response.status_code == 204 and response.content == b""
    assert emu.identity_sync(TID) is None
    assert_error(client.delete(SYNC), 404, "Directory_ObjectNotFound")
    assert client.delete(f"{PARTNERS}/{TID}").status_code == 204
    assert emu.partners() == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"DisplayName": "x"}, "Invalid property 'DisplayName'."),
        ({"userSyncInbound": {"IsSyncAllowed": True}}, "Invalid property 'IsSyncAllowed'."),
        ({"userSyncInbound": {"isSyncAllowed": "true"}}, None),
        ({"userSyncInbound": True}, None),
        ({"displayName": 5}, None),
        ({"tenantId": OTHER}, f"Property 'tenantId' must be '{TID}', the partner in the request URL."),
        ({"tenantId": "not-a-guid"}, None),
        ({"tenantId": None}, "Property 'tenantId' cannot be null."),
        ({"isSyncAllowed": True}, "Invalid property 'isSyncAllowed'."),
        ([SEED_PUT], "The request body must be a JSON object."),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_invalid_bodies_are_400_and_change_nothing(
    emu: Emulator, client: httpx.Client, method: str, body: Any, message: str | None
) -> None:
    if method == "PATCH":
        emu.put_identity_sync(TID, {"tenantId": TID, **SEED_PUT})
    before = emu.identity_sync(TID)
    assert_error(client.request(method, SYNC, json=body), 400, "Request_BadRequest", message)
    assert emu.identity_sync(TID) == before


def test_a_body_without_json_content_type_is_400(client: httpx.Client) -> None:
    response = client.put(SYNC, content=b'{"displayName": "x"}', headers={"Content-Type": "text/plain"})
    assert_error(response, 400, "Request_BadRequest")


def test_partners_expand_their_policy_or_null() -> None:
    with Emulator(EmulatorConfig(page_size=1)) as paged, client_for(paged) as client:
        paged.put_partner({"tenantId": TID})
        paged.put_partner({"tenantId": OTHER})
        assert client.put(SYNC, json=SEED_PUT).status_code == 204
        url: str | None = f"{paged.base_url}{PARTNERS}?$expand=identitySynchronization"
        expanded: dict[str, Any] = {}
        while url:
            page = client.get(url).json()
            expanded.update({p["tenantId"]: p["identitySynchronization"] for p in page["value"]})
            url = page.get("@odata.nextLink")
        assert expanded == {OTHER: None, TID: {"tenantId": TID, **SEED_PUT}}
        one = client.get(f"{PARTNERS}/{TID}", params={"$expand": "identitySynchronization"}).json()
        assert one["identitySynchronization"] == {"tenantId": TID, **SEED_PUT}
        assert "identitySynchronization" not in client.get(f"{PARTNERS}/{TID}").json()


def test_put_identity_sync_plants_verbatim_and_removes(emu: Emulator, client: httpx.Client) -> None:
    quirky = {"tenantId": TID.upper(), "userSyncInbound": {}}
    emu.put_identity_sync(TID.upper(), quirky)
    assert emu.identity_sync(TID) == quirky
    body = client.get(SYNC).json()
    assert body["tenantId"] == TID.upper() and body["userSyncInbound"] == {} and body["displayName"] is None
    emu.put_identity_sync(TID, None)
    assert emu.identity_sync(TID) is None and TID in emu.partners()
    with pytest.raises(ValueError, match="no partner"):
        emu.put_identity_sync(OTHER, quirky)


def test_reading_needs_a_read_and_writing_a_write_permission(emu: Emulator, client: httpx.Client) -> None:
    client.put(SYNC, json=SEED_PUT)
    with client_for(emu, emu.mint_token(roles=("Policy.Read.All",))) as reader:
        assert reader.get(SYNC).status_code == 200
        for method in ("PUT", "PATCH", "DELETE"):
            body = SEED_PUT if method != "DELETE" else None
            assert_error(reader.request(method, SYNC, json=body), 403, "Authorization_RequestDenied")
    assert emu.identity_sync(TID) == {"tenantId": TID, **SEED_PUT}


def test_unknown_methods_and_segments(client: httpx.Client) -> None:
    assert_error(client.post(SYNC, json=SEED_PUT), 405, "Request_BadRequest")
    assert_error(client.get(f"{SYNC}/nope"), 400, "Request_BadRequest", "Resource not found for the segment 'nope'.")
    assert client.get(f"{PARTNERS}/{TID}/IdentitySynchronization").status_code == 404  # segments: any case
