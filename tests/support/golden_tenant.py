"""The varied tenant of the golden plan (tests/plan/test_planner_golden.py), partner by partner: what
each file declares and what Graph holds, equal, equal but written differently, or different.
bench/cpu.py scales it up, so what it times is what that test pins byte for byte."""

from __future__ import annotations

from typing import Any

KEYWORDS = (("AllUsers", "user"), ("Office365", "application"), ("AllApplications", "application"))


def tenant(n: int) -> str:
    return f"{n:08x}-aaaa-4bbb-8ccc-{n * 7919:012x}"


def group(n: int, upper: bool = False) -> str:
    guid = f"{n * 31:08x}-dddd-4eee-8fff-{n:012x}".replace("0", "a" if n % 2 else "0")
    return guid.upper() if upper else guid


def targets(n: int, upper: bool, kind: str) -> list[dict[str, str]]:
    """Two or three groups, in an order and case that vary with `n`, sometimes duplicated."""
    found = [{"target": group(n + i, upper and i % 2 == 0), "targetType": kind} for i in range(2 + n % 2)]
    if n % 5 == 0:
        found.append(dict(found[0]))
    return found[::-1] if n % 3 == 0 else found


def b2b(n: int, upper: bool) -> dict[str, Any]:
    users: dict[str, Any] = {"accessType": "allowed" if n % 2 else "blocked", "targets": targets(n, upper, "group")}
    keyword, kind = KEYWORDS[n % len(KEYWORDS)]
    if kind == "user":
        users["targets"] = [{"target": keyword, "targetType": kind}]
        apps = {"accessType": "allowed", "targets": [{"target": "AllApplications", "targetType": "application"}]}
    else:
        apps = {"accessType": "allowed", "targets": [{"target": keyword, "targetType": kind}]}
    return {"usersAndGroups": users, "applications": apps}


def trust(n: int) -> dict[str, bool]:
    return {
        "isMfaAccepted": n % 2 == 0,
        "isCompliantDeviceAccepted": n % 3 == 0,
        "isHybridAzureADJoinedDeviceAccepted": n % 4 == 0,
    }


def desired_partner(n: int) -> dict[str, Any]:
    """A file's body: which settings it writes varies with `n`."""
    body: dict[str, Any] = {"tenantId": tenant(n).upper() if n % 7 == 0 else tenant(n), "inboundTrust": trust(n)}
    if n % 2:
        body["b2bCollaborationInbound"] = b2b(n, upper=False)
    if n % 3 == 1:
        body["b2bDirectConnectOutbound"] = b2b(n + 1, upper=True)
    if n % 4 == 2:
        body["automaticUserConsentSettings"] = {"inboundAllowed": True, "outboundAllowed": n % 8 == 2}
    if n % 6 == 5:
        body["isServiceProvider"] = n % 12 == 5
    if n % 5 == 3:
        body["identitySynchronization"] = {"displayName": f"partner {n}", "userSyncInbound": {"isSyncAllowed": True}}
    if n % 9 == 4:
        body["tenantRestrictions"] = {"usersAndGroups": {"accessType": "blocked", "targets": targets(n, True, "group")}}
    return body


def live_partner(n: int) -> dict[str, Any]:
    """What Graph holds for partner `n`: equal, equal but written differently, or different."""
    body = {k: v for k, v in desired_partner(n).items() if k != "identitySynchronization"}
    body["tenantId"] = tenant(n)
    body["@odata.type"] = "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner"
    body["isInMultiTenantOrganization"] = n % 10 == 0
    body.setdefault("automaticUserConsentSettings", {"inboundAllowed": None, "outboundAllowed": None})
    if "b2bCollaborationInbound" in body and n % 4 == 1:
        body["b2bCollaborationInbound"] = b2b(n, upper=True)  # the same set, other case and order
    if n % 4 == 3:
        body["inboundTrust"] = trust(n + 1)
    if n % 8 == 6:
        body["b2bDirectConnectInbound"] = b2b(n, upper=False)  # the file no longer sets it
    if n % 6 == 5:
        body["isServiceProvider"] = n % 18 != 5
    return body


def live_sync(n: int) -> dict[str, Any]:
    return {"tenantId": tenant(n), "displayName": f"partner {n}", "userSyncInbound": {"isSyncAllowed": n % 2 == 0}}
