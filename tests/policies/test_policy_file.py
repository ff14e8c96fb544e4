"""One policy file on its own (`policies/policy_file.py`), the unit the worker processes share
out: the instances it declares (a partner and the identity sync written in it, sharing its
`xtap:` key), with the source line of each and its key's position; a singleton's file of only
comments declaring the unconfigured state; and the `xtap:` key's shape refused where written."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.address import Address
from reconciler.core.registry import IDENTITY_SYNC, MTO_IDENTITY_SYNC_TEMPLATE, PARTNER
from reconciler.policies.policy_file import load_file

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"
PARTNER_FILE = f"""tenantId: {TENANT.upper()}
xtap:
  labels: [regulated]
inboundTrust:
  isMfaAccepted: false
identitySynchronization:
  displayName: Contoso
"""


def test_a_partner_file_declares_the_partner_and_its_identity_sync(tmp_path: Path) -> None:
    path = tmp_path / "contoso.yaml"
    path.write_text(PARTNER_FILE)
    loaded = load_file(str(path), PARTNER)
    assert loaded.problems == []
    [(partner, want, key_at), (sync, sync_want, _)] = loaded.declared
    assert (partner, sync) == (Address(PARTNER.name, TENANT), Address(IDENTITY_SYNC.name, TENANT))
    assert want.written == {"tenantId": TENANT.upper(), "inboundTrust": {"isMfaAccepted": False}}
    assert sync_want.written == {"displayName": "Contoso"}
    assert (want.source, sync_want.source) == (f"{path}:1", f"{path}:6")
    assert want.tool.labels == sync_want.tool.labels == ["regulated"]
    assert key_at == (1, 11)  # where the tenantId stands, for a duplicate to be reported at


def test_a_singletons_file_of_only_comments_declares_its_unconfigured_state(tmp_path: Path) -> None:
    path = tmp_path / "mto-identity-sync-template.yaml"
    path.write_text("# only comments\n")
    [(address, want, _)] = load_file(str(path), MTO_IDENTITY_SYNC_TEMPLATE).declared
    assert address.resource == MTO_IDENTITY_SYNC_TEMPLATE.name and want.written == {}
    partner = tmp_path / "empty.yaml"
    partner.write_text("# only comments\n")
    assert load_file(str(partner), PARTNER).declared == []


def test_the_xtap_key_must_be_a_mapping_of_known_keys(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"tenantId: {TENANT}\nxtap: trusted\n")
    [problem] = load_file(str(path), PARTNER).problems
    assert (problem.line, problem.col) == (2, 7) and "'xtap' holds tool-only settings" in problem.message
    path.write_text(f"tenantId: {TENANT}\nxtap:\n  trustd: true\n")
    loaded = load_file(str(path), PARTNER)
    assert loaded.declared == []
    [problem] = loaded.problems
    assert problem.line == 3 and "unknown key 'trustd' under 'xtap'" in problem.message
