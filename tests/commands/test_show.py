"""`xtap show` (reconciler/commands/show.py) says what a partner's null means: the value it inherits
from the default. The plan saying the same is in test_plan.py."""

from __future__ import annotations

import json

from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
BLOCK_DIRECT_CONNECT = {
    "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]},
}


def test_show_marks_each_setting_own_or_inherited_with_the_value(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": FABRIKAM, "inboundTrust": TRUST})
    shown = run_xtap("show", FABRIKAM.upper(), "--format", "json", emulator=emulator, roles=READ_ONLY)
    assert shown.code == 0, shown.stderr
    [partner] = json.loads(shown.stdout)
    settings = partner["settings"]
    assert settings["inboundTrust"] == {"value": TRUST, "inheritedFrom": None}
    # Null on the partner: the default's system value applies.
    assert settings["b2bDirectConnectInbound"] == {"value": BLOCK_DIRECT_CONNECT, "inheritedFrom": "default"}
    assert settings["automaticUserConsentSettings"] == {
        "value": {"inboundAllowed": False, "outboundAllowed": False},
        "inheritedFrom": "default",
    }
    text = run_xtap("show", FABRIKAM, emulator=emulator, roles=READ_ONLY).stdout
    assert f"partner {FABRIKAM}" in text
    assert any(line.split()[:2] == ["b2bDirectConnectInbound", "from"] for line in text.splitlines())
    assert any(line.split()[:2] == ["inboundTrust", "own"] for line in text.splitlines())
    assert [r.method for r in emulator.requests] == ["GET", "GET"] * 2  # partners and the default, twice


def test_show_of_an_unknown_or_malformed_partner_is_an_error(emulator: Emulator) -> None:
    missing = run_xtap("show", "11111111-2222-3333-4444-555555555555", emulator=emulator)
    assert missing.code == 1 and "the tenant has no partner 11111111-2222-3333-4444-555555555555" in missing.stderr
    malformed = run_xtap("show", "fabrikam", emulator=emulator)
    assert malformed.code == 1 and "'fabrikam' is not a tenant id" in malformed.stderr
    assert len(emulator.requests) == 2  # the malformed id sent nothing
