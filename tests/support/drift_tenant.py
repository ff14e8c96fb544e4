"""A tenant for `xtap drift`: two partners declared and applied (one with an identity sync), then
changed out of band through Graph by a portal admin and by Partner Center. The tests of the drift
report's content (plan/drift.py) and of how it is rendered (render/drift.py) both start here."""

from __future__ import annotations

from pathlib import Path

from reconciler.emulator import Emulator
from support.emulator_http import PARTNERS, SYNC, TRUST, graph_call
from support.policy_files import write_policies
from support.xtap import READ_ONLY, run_xtap

AUDIT_READER = (*READ_ONLY, "AuditLog.Read.All")
FABRIKAM = "11111111-1111-1111-1111-111111111111"
CONTOSO = "22222222-2222-2222-2222-222222222222"
GDAP_CUSTOMER = "33333333-3333-3333-3333-333333333333"


def declared_and_applied(emulator: Emulator, tmp_path: Path) -> Path:
    """Two partners (one with an identity sync) declared and applied: a tenant without drift."""
    policies = write_policies(
        tmp_path / "policies",
        [
            {"tenantId": FABRIKAM, "inboundTrust": TRUST},
            {"tenantId": CONTOSO, "inboundTrust": TRUST, "identitySynchronization": SYNC},
        ],
    )
    done = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
    assert done.code == 0, done.stderr
    emulator.clear_requests()
    return policies


def out_of_band(emulator: Emulator) -> None:
    """A portal admin (a delegated token) turns off Fabrikam's MFA trust and deletes Contoso's
    identity sync; Partner Center (the app EntraGDAP) adds a GDAP customer's partner."""
    admin = emulator.mint_token(roles=None, scp="Policy.ReadWrite.CrossTenantAccess", name="portal admin")
    gdap = emulator.mint_token(name="EntraGDAP")
    assert (
        graph_call(
            emulator, "PATCH", f"{PARTNERS}/{FABRIKAM}", {"inboundTrust": {**TRUST, "isMfaAccepted": False}}, admin
        )
        == 204
    )
    assert graph_call(emulator, "DELETE", f"{PARTNERS}/{CONTOSO}/identitySynchronization", None, admin) == 204
    assert graph_call(emulator, "POST", PARTNERS, {"tenantId": GDAP_CUSTOMER}, gdap) == 201
