"""Many tenants behind one emulator, over real HTTP (httpx): as on Graph, the `tid` of a request's
token decides whose state it reads and writes, and no tenant sees or spends another's."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.emulator_http import GROUP, OTHER, PARTNERS, TID, assert_error, batch, create, get
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig

TENANT_A = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
TENANT_B = "b8a1e7c2-0f4d-4f3e-9a5b-6c7d8e9f0a1b"
UNHELD = "c0ffee00-0000-4000-8000-000000000000"


@pytest.fixture
def two() -> Iterator[Emulator]:
    """The default tenant A and a further tenant B."""
    with Emulator(EmulatorConfig(tenant_id=TENANT_A, tenants=(TENANT_B.upper(),), write_quota=2)) as emulator:
        yield emulator


def test_a_partner_created_in_one_tenant_is_invisible_in_the_other(two: Emulator) -> None:
    with client_for(two) as a, client_for(two, two.mint_token(tenant=TENANT_B)) as b:
        assert a.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        assert b.get(PARTNERS).json()["value"] == []
        assert_error(b.get(f"{PARTNERS}/{TID}"), 404, "Request_ResourceNotFound")
        assert b.post(PARTNERS, json={"tenantId": OTHER}).status_code == 201
        assert [p["tenantId"] for p in a.get(PARTNERS).json()["value"]] == [TID]
    assert set(two.partners()) == {TID}
    assert set(two.tenant(TENANT_B).partners()) == {OTHER}
    assert [e["targetResources"][0]["id"] for e in two.tenant(TENANT_B).audit_entries()] == [OTHER]


def test_planted_state_is_served_only_to_its_tenant(two: Emulator) -> None:
    b = two.tenant(TENANT_B)
    b.put_partner({"tenantId": TID, "inboundTrust": {"isMfaAccepted": True}})
    b.set_default({"isServiceDefault": False})
    with client_for(two, two.mint_token(tenant=TENANT_B)) as as_b, client_for(two) as as_a:
        assert as_b.get(f"{PARTNERS}/{TID}").json()["inboundTrust"]["isMfaAccepted"] is True
        assert as_b.get("/policies/crossTenantAccessPolicy/default").json()["isServiceDefault"] is False
        assert as_a.get(PARTNERS).json()["value"] == []
        assert as_a.get("/policies/crossTenantAccessPolicy/default").json()["isServiceDefault"] is True


def test_the_write_quota_is_per_tenant(two: Emulator) -> None:
    """Graph's quota is per app and tenant: tenant A's empty bucket leaves B's full."""
    with client_for(two) as a, client_for(two, two.mint_token(tenant=TENANT_B)) as b:
        statuses = [a.post(PARTNERS, json={"tenantId": t}).status_code for t in (TID, OTHER, UNHELD)]
        assert statuses == [201, 201, 429]
        refused = a.post(PARTNERS, json={"tenantId": TENANT_B})
        assert refused.headers["x-ms-throttle-scope"].endswith(f"/{TENANT_A}")
        assert b.post(PARTNERS, json={"tenantId": TID}).status_code == 201


def test_batch_items_are_served_from_the_tenant_of_the_batchs_token(two: Emulator) -> None:
    two.tenant(TENANT_B).put_partner({"tenantId": OTHER})
    two.put_partner({"tenantId": UNHELD})
    with client_for(two, two.mint_token(tenant=TENANT_B)) as b:
        answers = batch(b, create("1", TID), get("2", OTHER), get("3", UNHELD))
    assert [answers[i]["status"] for i in "123"] == [201, 200, 404]
    assert set(two.tenant(TENANT_B).partners()) == {TID, OTHER}
    assert set(two.partners()) == {UNHELD}


def test_a_token_of_a_tenant_not_held_is_refused_and_touches_no_state(two: Emulator) -> None:
    with client_for(two, two.mint_token(tenant=UNHELD)) as stranger:
        response = stranger.post(PARTNERS, json={"tenantId": TID})
        assert_error(response, 401, "InvalidAuthenticationToken")
        assert UNHELD in response.json()["error"]["message"]
        assert_error(stranger.post("/$batch", json={"requests": [create("1", TID)]}), 401, "InvalidAuthenticationToken")
    assert two.partners() == {} and two.tenant(TENANT_B).partners() == {}
    assert [r.tenant for r in two.requests] == [None, None]


def test_request_records_carry_their_tenant(two: Emulator) -> None:
    with client_for(two) as a, client_for(two, two.mint_token(tenant=TENANT_B.upper())) as b:
        a.get(PARTNERS)
        b.get(PARTNERS)
        batch(b, get("1", TID), get("2", OTHER))
        httpx.get(f"{two.base_url}{PARTNERS}")  # no token: refused before a tenant is known
    assert Counter(r.tenant for r in two.requests) == {TENANT_A: 1, TENANT_B: 4, None: 1}


def test_the_tenants_and_their_views() -> None:
    emulator = Emulator(EmulatorConfig(tenants=(TENANT_B,)))
    assert emulator.tenant_ids == (emulator.tenant_id, TENANT_B)
    assert emulator.tenant(emulator.tenant_id) is emulator
    assert emulator.tenant(TENANT_B.upper()).tenant_id == TENANT_B
    with pytest.raises(KeyError):
        emulator.tenant(UNHELD)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"tenants": ("not-a-guid",)}, "a tenant id must be a GUID"),
        ({"tenants": (TENANT_B, TENANT_B.upper())}, "must differ"),
        ({"tenant_id": TENANT_A, "tenants": (TENANT_A,)}, "must differ"),
        ({"tenants": (TENANT_B,), "state_file": "tenant.json"}, "a state file keeps one tenant"),
    ],
)
def test_the_tenant_ids_are_checked(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**config)  # type: ignore[arg-type]


def test_a_directory_file_is_every_tenants_and_planted_objects_their_own(tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    fabrikam = {"tenantId": TID, "displayName": "Fabrikam", "defaultDomainName": "fabrikam.example"}
    directory.write_text(json.dumps({"tenants": [fabrikam]}), encoding="utf-8")
    group = {"@odata.type": "#microsoft.graph.group", "id": GROUP, "displayName": "Admins"}
    emulator = Emulator(EmulatorConfig(tenants=(TENANT_B,), directory_file=directory))
    emulator.tenant(TENANT_B).put_directory_object(group)
    assert set(emulator.known_tenants()) == set(emulator.tenant(TENANT_B).known_tenants()) == {TID}
    assert emulator.directory_objects() == {}
    assert set(emulator.tenant(TENANT_B).directory_objects()) == {GROUP}
