"""The emulator's directory audit log (reconciler/emulator/audit.py): an entry for every write,
with the caller as actor, and `GET /auditLogs/directoryAudits` with strict `$filter`, `$top` and
nextLink paging."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest
from support.emulator_http import PARTNERS, SYNC, TRUST, graph_call

from reconciler.emulator import Emulator

AUDITS = "/auditLogs/directoryAudits"
TENANT = "44444444-4444-4444-4444-444444444444"
POLICY = "/policies/crossTenantAccessPolicy"


def get(emulator: Emulator, path: str, token: str) -> tuple[int, dict[str, Any]]:
    url = path if path.startswith("http") else emulator.base_url + path
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback emulator only
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def reader(emulator: Emulator) -> str:
    return emulator.mint_token(roles=("AuditLog.Read.All",))


def test_every_write_is_recorded_with_its_activity_and_actor(emulator: Emulator) -> None:
    admin = emulator.mint_token(roles=None, scp="Policy.ReadWrite.CrossTenantAccess", name="portal admin")
    app = emulator.mint_token(name="deploy pipeline")
    writes = [
        ("POST", PARTNERS, {"tenantId": TENANT}, admin),
        ("PATCH", f"{PARTNERS}/{TENANT}", {"inboundTrust": TRUST}, app),
        ("PUT", f"{PARTNERS}/{TENANT}/identitySynchronization", SYNC, admin),
        ("PATCH", f"{PARTNERS}/{TENANT}/identitySynchronization", {"displayName": "x"}, admin),
        ("DELETE", f"{PARTNERS}/{TENANT}/identitySynchronization", None, admin),
        ("DELETE", f"{PARTNERS}/{TENANT}", None, admin),
        ("PATCH", f"{POLICY}/default", {"inboundTrust": TRUST}, admin),
        ("POST", f"{POLICY}/default/resetToSystemDefault", None, admin),
        ("PATCH", f"{POLICY}/templates/multiTenantOrganizationPartnerConfiguration", {"inboundTrust": TRUST}, admin),
    ]
    for method, path, body, token in writes:
        assert graph_call(emulator, method, path, body, token) in (201, 204)
    status, page = get(emulator, AUDITS, reader(emulator))
    assert status == 200
    entries = list(reversed(page["value"]))  # newest first
    assert [(e["category"], e["activityDisplayName"]) for e in entries] == [
        ("CrossTenantAccessSettings", "Add a partner to cross-tenant access setting"),
        ("CrossTenantAccessSettings", "Update a partner cross-tenant access setting"),
        ("CrossTenantIdentitySyncSettings", "Create a partner cross-tenant identity sync setting"),
        ("CrossTenantIdentitySyncSettings", "Update a partner cross-tenant identity sync setting"),
        ("CrossTenantIdentitySyncSettings", "Delete a partner cross-tenant identity sync setting"),
        ("CrossTenantAccessSettings", "Delete partner specific cross-tenant access setting"),
        ("CrossTenantIdentitySyncSettings", "Update the company default cross-tenant access setting"),
        ("CrossTenantAccessSettings", "Reset the cross-tenant access default setting"),
        ("CrossTenantAccessSettings", "Update the multi-tenant organization partner configuration template"),
    ]
    first, second = entries[0], entries[1]
    assert first["initiatedBy"]["user"]["displayName"] == "portal admin" and first["initiatedBy"]["app"] is None
    assert second["initiatedBy"]["app"]["displayName"] == "deploy pipeline" and second["initiatedBy"]["user"] is None
    assert first["targetResources"][0]["modifiedProperties"][0] == {
        "displayName": "tenantId",
        "oldValue": None,
        "newValue": json.dumps(TENANT),
    }
    assert emulator.audit_entries() == page["value"]


def test_a_refused_write_or_planted_state_is_not_recorded(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": "55555555-5555-5555-5555-555555555555"})
    token = emulator.mint_token()
    with pytest.raises(urllib.error.HTTPError):
        graph_call(emulator, "PATCH", f"{PARTNERS}/{TENANT}", {"inboundTrust": TRUST}, token)
    assert emulator.audit_entries() == []


def test_the_audit_log_needs_its_own_permission(emulator: Emulator) -> None:
    status, body = get(emulator, AUDITS, emulator.mint_token(roles=("Policy.ReadWrite.CrossTenantAccess",)))
    assert (status, body["error"]["code"]) == (403, "Authorization_RequestDenied")
    assert get(emulator, AUDITS, reader(emulator))[0] == 200
    assert get(emulator, f"{PARTNERS}", reader(emulator))[0] == 403


def test_top_pages_with_next_links_without_repeats(emulator: Emulator) -> None:
    token = emulator.mint_token()
    tenants = [f"{i:08x}-0000-4000-8000-000000000000" for i in range(7)]
    for tenant in tenants:
        graph_call(emulator, "POST", PARTNERS, {"tenantId": tenant}, token)
    seen: list[str] = []
    status, page = get(emulator, f"{AUDITS}?$top=3", reader(emulator))
    while True:
        assert status == 200 and len(page["value"]) <= 3
        seen += [e["targetResources"][0]["id"] for e in page["value"]]
        if "@odata.nextLink" not in page:
            break
        status, page = get(emulator, page["@odata.nextLink"], reader(emulator))
    assert seen == list(reversed(tenants))


@pytest.mark.parametrize(
    ("clause", "count"),
    [
        ("activityDateTime ge 2000-01-01T00:00:00Z", 2),
        ("activityDateTime le 2000-01-01T00:00:00Z", 0),
        ("category eq 'CrossTenantIdentitySyncSettings'", 1),
        ("activityDisplayName eq 'Add a partner to cross-tenant access setting'", 1),
        ("startswith(activityDisplayName, 'Create a partner')", 1),
        (
            "activityDateTime ge 2000-01-01T00:00:00.1234567Z and "
            "(category eq 'CrossTenantAccessSettings' or category eq 'CrossTenantIdentitySyncSettings')",
            2,
        ),
        ("activityDateTime ge 2999-01-01T00:00:00Z and category eq 'CrossTenantAccessSettings'", 0),
    ],
)
def test_filter(emulator: Emulator, clause: str, count: int) -> None:
    token = emulator.mint_token()
    graph_call(emulator, "POST", PARTNERS, {"tenantId": TENANT}, token)
    graph_call(emulator, "PUT", f"{PARTNERS}/{TENANT}/identitySynchronization", SYNC, token)
    status, page = get(emulator, f"{AUDITS}?$filter={quote(clause)}", reader(emulator))
    assert status == 200, page
    assert len(page["value"]) == count


@pytest.mark.parametrize(
    "query",
    [
        "$filter=" + quote("loggedByService eq 'Core Directory'"),
        "$filter=" + quote("category ne 'x'"),
        "$filter=" + quote("(category eq 'a' or category eq 'b'"),
        "$filter=" + quote("activityDateTime ge yesterday"),
        "$top=0",
        "$top=1000",
        "$skiptoken=abc",
    ],
)
def test_an_unsupported_query_is_a_400(emulator: Emulator, query: str) -> None:
    status, body = get(emulator, f"{AUDITS}?{query}", reader(emulator))
    assert (status, body["error"]["code"]) == (400, "Request_BadRequest")
