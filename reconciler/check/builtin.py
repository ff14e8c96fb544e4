"""The built-in guardrails of `xtap check`, as data: id, title, severity, reason, source, the
resource types each selects, and its test. docs/checks.md describes each one; xtap.yaml can turn
one off or re-level it, with a reason.

They encode the posture Microsoft's cross-tenant access guidance and CISA's SCuBA Entra ID
baseline describe: external organizations are onboarded one by one (the default stays closed,
partners open what they need), other tenants' MFA and device claims are trusted only where
someone decided to, and B2B direct connect, which gives outside users access without a guest
account here, is never opened to everyone at once. Microsoft 365 capabilities (calendar, MailTips,
profile cards, Places, mailbox migration) expose your own users' resources to other tenants: the
default does not expose everyone's to every tenant, and a partner's capability comes with the
Entra trust it needs, without which it does nothing. And a policy names only objects that exist: a
group deleted from this tenant silently changes who a target lets in, and is judged with what
Graph's lookups found (`Subject.names`, with `--live`), never offline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reconciler.check.engine import Mark, Rule, Subject, Violation
from reconciler.core.address import Address
from reconciler.core.names import OBJECT_KINDS, TENANT
from reconciler.core.references import references
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.core.rules import Selector, Severity

SCUBA = "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/aad.md"
LEARN = "https://learn.microsoft.com/en-us/entra/external-id"
GRAPH = "https://learn.microsoft.com/graph/api/resources"
CAPABILITIES_OVERVIEW = f"{GRAPH}/m365-cross-tenant-access-policy-overview"
GET_BY_IDS = "https://learn.microsoft.com/graph/api/directoryobject-getbyids"
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


# The Entra trust each Microsoft 365 capability needs on its partner, as the overview above says:
# mailbox migration app service connect, the others Microsoft 365 collaboration. Each: the
# partner setting, its target configuration, the keyword for everyone, and what to write.
_COLLABORATION = ("m365CollaborationInbound", "users", "AllUsers", "user")
_TRUST_OF = {"crossTenantMigration": ("appServiceConnectInbound", "applications", "AllApplications", "application")}
_ANONYMOUS = "anonymous"  # the capabilities for anonymous users, who belong to no tenant
CAPABILITY = "m365Capability"
ALL = "all"  # a resource scope's resourceId for every user (or group) of the tenant, compared casefolded


def _holder(subject: Subject) -> Address | None:
    """The instance a capability belongs to (the default or a partner), from its address."""
    return REGISTRY_BY_NAME[subject.address.resource].parent_address(subject.address.id)


def _capability(subject: Subject) -> str:
    """The capability's name (its type, `crossTenantMailTipsLimited`): the key in its address."""
    return REGISTRY_BY_NAME[subject.address.resource].key_kind.key_value(subject.address.id) or ""


def _allowed(subject: Subject) -> bool:
    access = subject.values.get("inboundAccess")
    return isinstance(access, dict) and access.get("isAllowed") is True


def _everyone_in(subject: Subject) -> list[str]:
    """The resource types (`user`, `group`) an allowed capability exposes for all of the tenant:
    included as `All` and not excluded as `All` (exclusion wins, Graph's documentation says)."""
    access = subject.values.get("inboundAccess")
    scopes = access.get("resourceScopes") if isinstance(access, dict) else None
    if not _allowed(subject) or not isinstance(scopes, dict):
        return []

    def all_of(side: str) -> list[str]:
        return [
            str(scope.get("resourceType"))
            for scope in scopes.get(side) or ()
            if isinstance(scope, dict) and str(scope.get("resourceId", "")).casefold() == ALL
        ]

    excluded = all_of("excluded")
    return [kind for kind in dict.fromkeys(all_of("included")) if kind not in excluded]


def _default_not_for_everyone(subject: Subject) -> Iterator[Violation]:
    holder = _holder(subject)
    if holder is None or holder.resource != "default":
        return
    for kind in _everyone_in(subject):
        yield Violation(
            ("inboundAccess", "resourceScopes", "included"),
            f"the default allows {_capability(subject)} for all {kind}s here, to every external tenant: include "
            f"only the {kind}s or groups that need it (resourceId: their object id), or keep the default's "
            "isAllowed: false and allow it in the files of the partners that need it",
        )


def _lets_someone_in(configuration: Any, everyone: str) -> bool:
    """A target configuration allows someone: allowed for a target, or blocked only for a list
    without the everyone keyword (the others are let in)."""
    if not isinstance(configuration, dict):
        return False
    targets = [target for target in configuration.get("targets") or () if isinstance(target, dict)]
    access = configuration.get("accessType")
    if access == "allowed":
        return bool(targets)
    return access == "blocked" and not any(target.get("target") == everyone for target in targets)


def _partner_has_trust(subject: Subject) -> Iterator[Violation]:
    """An allowed partner capability whose partner, in effect (its own setting, or the
    default's where its own is null), has not the trust the capability needs."""
    partner = subject.parent
    holder = _holder(subject)
    if partner is None or holder is None or holder.resource != "partner" or not _allowed(subject):
        return
    name = _capability(subject)
    setting, half, everyone, kind = _TRUST_OF.get(name, _COLLABORATION)
    in_effect = partner.setting(setting)
    if isinstance(in_effect, dict) and _lets_someone_in(in_effect.get(half), everyone):
        return
    own = partner.values.get(setting)
    if isinstance(own, dict) and any(value is not None for value in own.values()):
        why = f"the partner's {setting} lets no one in"
    elif in_effect is not None:
        why = f"the partner's {setting} is null, and the default's, which it inherits, lets no one in"
    else:
        why = f"{setting} is set neither on the partner nor on the default"
    yield Violation(
        ("inboundAccess", "isAllowed"),
        f"{name} is allowed, but {why}, so the capability does nothing for this partner: write "
        f"{setting}: {{{half}: {{accessType: allowed, targets: [{{target: {everyone}, targetType: {kind}}}]}}}} "
        f"in the partner's file (or the {kind}s it needs instead of {everyone})",
    )


def _partner_not_anonymous(subject: Subject) -> Iterator[Violation]:
    holder = _holder(subject)
    name = _capability(subject)
    if holder is not None and holder.resource == "partner" and name.startswith(_ANONYMOUS):
        yield Violation(
            (),
            f"{name} is for anonymous users, who belong to no tenant, so a partner's policy cannot scope it to "
            "this partner: decide it in default.yaml, or remove it from the partner's file",
        )


def _targets_exist(subject: Subject) -> Iterator[Violation]:
    """Each user or group of this tenant the resource names by id that Graph's getByIds answered
    (200) without. Only `Names.missing` says an object is gone: an object returned without a
    name (the token may not read its type), a lookup refused or failed, a partner's object (never
    looked up), a slot whose side is undocumented and an application (no service principal is
    not a deleted app: Microsoft's own apps do not always have one) are never findings here."""
    names = subject.names
    if names is None or not names.missing:
        return
    for ref in references(REGISTRY_BY_NAME[subject.address.resource], subject.values):
        if ref.side == TENANT and ref.is_object and ref.kind in OBJECT_KINDS and ref.value in names.missing:
            yield Violation(
                ref.path,
                f"{ref.kind} {ref.value} named in {ref.slot} no longer exists in this tenant (Graph's getByIds "
                f"finds no such object): remove it, or name the {ref.kind} that replaced it",
            )


def _on_capabilities(
    rule_id: str,
    title: str,
    severity: Severity,
    reason: str,
    test: Callable[[Subject], Iterator[Violation]],
    source: str = CAPABILITIES_OVERVIEW,
) -> Rule:
    """A rule on Microsoft 365 capabilities: each test tells the default's from a partner's by
    the instance holding it, so all select the one type."""
    return Rule(rule_id, title, severity, reason, source, _types(CAPABILITY), test)


def _types(*names: str) -> Selector:
    return Selector(types=list(names))


TARGET_EXISTS = "target-exists"
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
        mark=Mark(
            "trusted",
            "set by xtap export, as the tenant already trusts these inbound claims; review this: xtap check asks "
            "that trust be marked trusted",
        ),
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
    _on_capabilities(
        "default-m365-capability-not-for-all",
        "The default allows no Microsoft 365 capability for all users or all groups",
        "warning",
        "The default sets the baseline for every external tenant, and resourceScopes names this tenant's own "
        "users and groups whose calendars, profile cards or mailboxes a capability exposes. Allowed there for "
        "resourceId All, it exposes everyone's to every other tenant. Scope it, or allow it per partner.",
        _default_not_for_everyone,
    ),
    _on_capabilities(
        "partner-m365-capability-has-trust",
        "A partner's allowed Microsoft 365 capability has the Entra trust it needs",
        "warning",
        "A Microsoft 365 capability needs a cross-tenant access trust with the partner: Microsoft 365 "
        "collaboration (m365CollaborationInbound), or app service connect (appServiceConnectInbound) for mailbox "
        "migration. Without it, or with the trust removed, the capability does nothing, while the file says it "
        "is allowed.",
        _partner_has_trust,
    ),
    _on_capabilities(
        "partner-m365-capability-not-anonymous",
        "No anonymous-user Microsoft 365 capability in a partner's policy",
        "note",
        "The anonymous… capabilities are for anonymous external users, who belong to no tenant; Microsoft "
        "documents them, not what one means in a partner's policy, which applies to one tenant's users.",
        _partner_not_anonymous,
        source=f"{GRAPH}/m365capabilitybase",
    ),
    Rule(
        id=TARGET_EXISTS,
        title="Every user and group of this tenant a policy names still exists",
        severity="error",
        reason="A target names a user or group by its object id. Once that object is deleted, the id names "
        "no one: a group deleted from an allowed list silently takes away the access it gave, one deleted "
        "from a blocked list lets back in whom it kept out, and a group made again gets a new id. Judged with "
        "--live, from what Graph's getByIds answers.",
        source=GET_BY_IDS,
        selector=Selector(),  # every type: which properties name objects is the registry's to say
        test=_targets_exist,
    ),
)
BUILTIN_IDS = frozenset(rule.id for rule in BUILTIN)
