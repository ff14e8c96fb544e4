"""The OData query options the emulator honours (reconciler/emulator/query.py), over real HTTP
(httpx): `$select`, `$expand`, and paging by the opaque `$skiptoken` of each `@odata.nextLink`."""

from __future__ import annotations

import httpx
from support.emulator_http import PARTNER_PROPERTIES, PARTNERS, TID, assert_error
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig


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
