"""What the tests of `xtap check` share: the built-in rules judged on one resource in memory
(`findings_of`), and a policies/ folder with one partner file (`folder`) with the waiver and the
rule of one's own that the engine's, the rules' and the report's tests all write into it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from reconciler.check.builtin import BUILTIN
from reconciler.check.engine import DESIRED, Finding, Subject, effective_rules, evaluate
from reconciler.core.address import Address
from reconciler.core.rules import RuleSetting, ToolKey

TODAY = date(2026, 11, 30)
PARTNER_ID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
MFA = {"inboundTrust": {"isMfaAccepted": True}}


def findings_of(
    resource: str, values: dict[str, Any], tool: ToolKey, settings: dict[str, RuleSetting] | None = None
) -> list[Finding]:
    rules, _ = effective_rules(BUILTIN, settings or {})
    address = Address(resource, "default" if resource == "default" else PARTNER_ID)
    return evaluate(rules, [Subject(address, DESIRED, values, tool, "f.yaml")], TODAY)


UNTRUSTED = """tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1
xtap:
  name: Fabrikam{extra}
inboundTrust:
  isMfaAccepted: true
b2bCollaborationInbound:
  usersAndGroups:
    accessType: allowed
    targets:
      - target: AllUsers
        targetType: user
"""


def folder(tmp_path: Path, extra: str = "", settings: str | None = None, partner: str = UNTRUSTED) -> Path:
    policies = tmp_path / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "partners" / "fabrikam.yaml").write_text(partner.format(extra=extra))
    if settings is not None:
        (policies / "xtap.yaml").write_text(settings)
    return policies


# A waiver may expire at most 90 days ahead (waiverMaxDays' default).
SOON = (date.today() + timedelta(days=30)).isoformat()
WAIVER = """
  waivers:
    - rule: inbound-trust-only-trusted
      reason: pilot until the partner review
      owner: alice@contoso.com
      expires: "{expires}\""""

OWN_RULE = """rules:
  regulated-no-guests:
    select:
      types: [partner]
      labels: [regulated]
    expression: "!has(resource.b2bCollaborationInbound) || resource.b2bCollaborationInbound == null"
    message: a regulated partner's users are never invited as guests
    property: b2bCollaborationInbound.usersAndGroups
    reason: the data-residency agreement
"""
