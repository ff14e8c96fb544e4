"""A policies/ folder of one partner and, if given, an xtap.yaml, and a partner file that waives a
built-in rule for 30 days: what the tests of the settings a plan states (plan/settings.py) and
of xtap.yaml's own checks (policies/settings_file.py) both write."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

KEPT = "11111111-1111-4111-8111-111111111111"
SOON = (date.today() + timedelta(days=30)).isoformat()
WAIVED = f"""tenantId: {KEPT}
inboundTrust: {{isMfaAccepted: true}}
xtap:
  labels: [pilot]
  waivers:
    - rule: inbound-trust-only-trusted
      reason: pilot until the partner review
      owner: alice@contoso.com
      expires: "{SOON}"
"""


def folder(root: Path, settings: str | None = None, partner: str = f"tenantId: {KEPT}\n") -> Path:
    (root / "partners").mkdir(parents=True, exist_ok=True)
    (root / "partners" / "kept.yaml").write_text(partner)
    if settings is not None:
        (root / "xtap.yaml").write_text(settings)
    return root
