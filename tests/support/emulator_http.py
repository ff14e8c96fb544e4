"""Talking to the Graph emulator the way any client would, without the SDK: its paths, sample
bodies, Graph's error envelope, `$batch` items, and a write made by another identity."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import httpx

from reconciler.emulator import Emulator

PARTNERS = "/policies/crossTenantAccessPolicy/partners"
TEMPLATE = "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration"
TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
OTHER = "00000000-0000-0000-0000-000000000001"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
JSON = {"Content-Type": "application/json"}
# A partner's inbound trust that accepts MFA only, and an identity sync that lets users in.
TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
SYNC = {"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}}
# Every property Graph echoes on a partner, and consent as it reads before it is set.
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


def target_config(access: str, *targets: tuple[str, str]) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": t, "targetType": tt} for t, tt in targets]}


BLOCK_ALL_USERS = target_config("blocked", ("AllUsers", "user"))
BLOCK_ALL_APPS = target_config("blocked", ("AllApplications", "application"))
ALLOW_ALL_USERS = target_config("allowed", ("AllUsers", "user"))
ALLOW_ALL_APPS = target_config("allowed", ("AllApplications", "application"))


def assert_error(response: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == response.headers["request-id"]


def create(ident: str, tenant: str, **extra: Any) -> dict[str, Any]:
    """A `$batch` item creating partner `tenant`."""
    return {"id": ident, "method": "POST", "url": PARTNERS, "headers": JSON, "body": {"tenantId": tenant}, **extra}


def get(ident: str, tenant: str, **extra: Any) -> dict[str, Any]:
    """A `$batch` item reading partner `tenant`."""
    return {"id": ident, "method": "GET", "url": f"{PARTNERS}/{tenant}", **extra}


def batch(client: httpx.Client, *items: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The item responses, by id, of a batch that must itself succeed."""
    response = client.post("/$batch", json={"requests": list(items)})
    assert response.status_code == 200, response.text
    return {r["id"]: r for r in response.json()["responses"]}


def graph_call(emulator: Emulator, method: str, path: str, body: Any, token: str) -> int:
    """A write through Graph by another identity, as the admin center or Partner Center makes it."""
    request = urllib.request.Request(
        emulator.base_url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback emulator only
        return int(response.status)
