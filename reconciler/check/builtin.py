"""The built-in guardrails of `xtap check`, as data: id, title, severity, reason, source, the
resource types each selects, and its test. docs/checks.md describes each one; xtap.yaml can turn
one off or re-level it, with a reason.

They encode the posture Microsoft's cross-tenant access guidance and CISA's SCuBA Entra ID
baseline describe: external organizations are onboarded one by one (the default stays closed,
partners open what they need), other tenants' MFA and device claims are trusted only where
someone decided to, and B2B direct connect, which gives outside users access without a guest
account here, is never opened to everyone at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reconciler.check.engine import Rule, Subject, Violation
from reconciler.core.rules import Selector

SCUBA = "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/aad.md"
LEARN = "https://learn.microsoft.com/en-us/entra/external-id"
TRUST_CLAIMS = ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted")


def _open(side: Any, everyone: str) -> bool:
    """One side of a B2B setting (users or applications) lets everyone through: allowed for the
    keyword (`AllUsers`, `AllApplications`), or blocked only for a list without it."""
    if not isinstance(side, dict):
        return False
    named = any(isinstance(target, dict) and target.get("target") == everyone for target in side.get("targets") or ())
    access = side.get("accessType")
    return named if access == "allowed" else access == "blocked" and not named


def _opens_to_everyone(setting: Any) -> bool:
    return isinstance(setting, dict) and (
        _open(setting.get("usersAndGroups"), "AllUsers") and _open(setting.get("applications"), "AllApplications")
    )


def _closed(prop: str, what: str) -> Callable[[Subject], Iterator[Violation]]:
    """The test that `prop` does not let every user of every tenant reach every application."""

    def test(subject: Subject) -> Iterator[Violation]:
        if _opens_to_everyone(subject.values.get(prop)):
            yield Violation((prop,), f"{prop} lets every user of every other tenant reach all applications by {what}")

    return test


def _trust_only_if_trusted(subject: Subject) -> Iterator[Violation]:
    trust = subject.values.get("inboundTrust")
    accepted = [claim for claim in TRUST_CLAIMS if isinstance(trust, dict) and trust.get(claim) is True]
    if accepted and not subject.tool.trusted:
        yield Violation(
            ("inboundTrust", accepted[0]),
            f"inboundTrust accepts {', '.join(accepted)} but the file is not marked trusted (xtap: trusted: true)",
        )


def _tenant_restrictions_declared(subject: Subject) -> Iterator[Violation]:
    restrictions = subject.values.get("tenantRestrictions")
    if not isinstance(restrictions, dict) or all(value is None for value in restrictions.values()):
        yield Violation(("tenantRestrictions",), "the default declares no tenantRestrictions")


def _types(*names: str) -> Selector:
    return Selector(types=list(names))


BUILTIN: tuple[Rule, ...] = (
    Rule(
        id="default-b2b-collaboration-inbound-blocked",
        title="The default blocks inbound B2B collaboration",
        severity="warning",
        reason="Onboard external organizations one by one: the default closed, each partner opened for what it "
        "needs. Left open, any tenant's users can be invited as guests. SCuBA MS.AAD.8.3 asks the same of "
        "guest invitations (only authorized domains).",
        source=f"{SCUBA}#msaad83v1",
        selector=_types("default"),
        test=_closed("b2bCollaborationInbound", "B2B collaboration"),
    ),
    Rule(
        id="default-b2b-direct-connect-inbound-blocked",
        title="The default blocks inbound B2B direct connect",
        severity="error",
        reason="B2B direct connect lets outside users into Teams shared channels with no guest account here, so "
        "no lifecycle or access review covers them. It is blocked by default; open it per partner.",
        source=f"{LEARN}/b2b-direct-connect-overview",
        selector=_types("default"),
        test=_closed("b2bDirectConnectInbound", "B2B direct connect"),
    ),
    Rule(
        id="inbound-trust-only-trusted",
        title="Inbound trust (MFA, device claims) only for partners marked trusted",
        severity="error",
        reason="Trusting another tenant's MFA or device claims makes its controls part of your Conditional "
        "Access: a weak or compromised partner tenant then satisfies your MFA. Decide it per partner, in review.",
        source=f"{LEARN}/cross-tenant-access-settings-b2b-collaboration#to-change-inbound-trust-settings-for-mfa-and-device-claims",
        selector=_types("partner", "default"),
        test=_trust_only_if_trusted,
    ),
    Rule(
        id="no-b2b-direct-connect-inbound-to-everyone",
        title="No partner opens inbound B2B direct connect to all users and all applications at once",
        severity="error",
        reason="Direct connect users have no account here; opening it to AllUsers and AllApplications at once "
        "removes the scoping that is its only guardrail. Name the groups or the applications.",
        source=f"{LEARN}/cross-tenant-access-settings-b2b-direct-connect",
        selector=_types("partner", "mtoPartnerTemplate"),
        test=_closed("b2bDirectConnectInbound", "B2B direct connect"),
    ),
    Rule(
        id="default-tenant-restrictions-declared",
        title="Tenant restrictions are declared in the default",
        severity="warning",
        reason="Without tenant restrictions v2, your users can sign in to any other tenant with accounts it "
        "issues, from your devices and network: the path data leaves by. The default is where they are set.",
        source=f"{LEARN}/tenant-restrictions-v2",
        selector=_types("default"),
        test=_tenant_restrictions_declared,
    ),
)
BUILTIN_IDS = frozenset(rule.id for rule in BUILTIN)
