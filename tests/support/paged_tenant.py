"""A tenant of 25 partners at 10 a page in the emulator, and the GETs it was sent: what the tests
of reading the tenant (graph/read.py) and of apply's verifying re-read (apply/verify.py) count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.emulator import Emulator, EmulatorConfig
from support.policy_files import write_policies

TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
DEFAULT = "/v1.0/policies/crossTenantAccessPolicy/default"
TEMPLATE = "/v1.0/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration"
SYNC_TEMPLATE = "/v1.0/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization"
# 25 partners at 10 a page: three pages, so paging, cancelling and re-reading all show.
COUNT, PAGE_SIZE, PAGES = 25, 10, 3


def tenant(n: int) -> str:
    return f"0b4f0a2e-1111-4222-8333-{n:012x}"


def partner(n: int, mfa: bool = True) -> dict[str, Any]:
    return {"tenantId": tenant(n), "inboundTrust": {**TRUST, "isMfaAccepted": mfa}}


def seeded(latency_s: float = 0.0, drifted: int = 0, read_lag_s: float = 0.0) -> Emulator:
    """An emulator holding COUNT partners, the first `drifted` of them off their files."""
    emulator = Emulator(EmulatorConfig(page_size=PAGE_SIZE, latency_s=latency_s, read_lag_s=read_lag_s))
    for n in range(COUNT):
        emulator.put_partner(partner(n, mfa=n >= drifted))
    return emulator


def policies(tmp_path: Path) -> Path:
    """Every partner as seeded undrifted, the default as Graph ships it, and the MTO template."""
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)], {})
    (root / "default.yaml").write_text("# as Graph ships it\n")
    return root


def gets(emulator: Emulator) -> list[str]:
    return [r.path for r in emulator.requests if r.method == "GET"]


def list_pages(paths: list[str]) -> list[str]:
    return [path for path in paths if path.startswith(PARTNERS + "?")]
