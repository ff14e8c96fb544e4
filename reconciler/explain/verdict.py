"""One question answered: may this subject reach that, with this partner, through this setting?

The partner's own setting applies where it has one; where it is null the default's does
("For any partner-specific property that is null, these settings inherit the behavior configured
in your default cross-tenant access settings",
https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicyconfigurationpartner),
and, half by half, where the partner's setting leaves one half null, as the Entra admin center
sets each half to "Default settings" or "Customize settings" on its own tab (docs/explain.md
says why this is an assumption). The chain names, for each half, where its value came from and
which target decided; then how the halves combined (`access.decide`); then the settings that
also bear on the same access (inbound trust, automatic consent, identity synchronization).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.explain.access import (
    ALLOWED,
    APPLICATIONS,
    BOTH_BLOCK,
    Decision,
    Half,
    Matched,
    Subject,
    decide,
    matched,
)

INBOUND, OUTBOUND = "inbound", "outbound"
PARTNER, DEFAULT = "partner", "default"
B2B_HALVES = ("usersAndGroups", APPLICATIONS)


THEIRS, OURS = "the partner", "this tenant"


@dataclass(frozen=True)
class Route:
    """The setting a question reads, its halves, and whose users and applications they name
    (docs/names.md has each slot's sources)."""

    setting: str
    halves: tuple[str, ...]
    users_of: str
    apps_of: str


# Each `--via`, by direction: the first direction is the one taken when none is given.
VIAS: Mapping[str, Mapping[str, Route]] = {
    "b2bCollaboration": {
        INBOUND: Route("b2bCollaborationInbound", B2B_HALVES, THEIRS, OURS),
        OUTBOUND: Route("b2bCollaborationOutbound", B2B_HALVES, OURS, THEIRS),
    },
    "b2bDirectConnect": {
        INBOUND: Route("b2bDirectConnectInbound", B2B_HALVES, THEIRS, OURS),
        OUTBOUND: Route("b2bDirectConnectOutbound", B2B_HALVES, OURS, THEIRS),
    },
    # The partner's accounts, used on your networks and devices, to the partner's applications:
    # one way only.
    "tenantRestrictions": {OUTBOUND: Route("tenantRestrictions", B2B_HALVES, THEIRS, THEIRS)},
    "m365Collaboration": {
        INBOUND: Route("m365CollaborationInbound", ("users",), THEIRS, OURS),
        OUTBOUND: Route("m365CollaborationOutbound", ("usersAndGroups",), OURS, THEIRS),
    },
    # Whose applications these are Microsoft does not say (docs/names.md).
    "appServiceConnect": {INBOUND: Route("appServiceConnectInbound", (APPLICATIONS,), THEIRS, "either tenant")},
}


@dataclass(frozen=True)
class Source:
    """A partner's or the default's settings, in Graph's wire form, with where they come from
    ("policies/partners/contoso.yaml", "the tenant") and, for the properties whose value is
    not known but assumed, why (`assumed`: property name to sentence)."""

    kind: str  # PARTNER or DEFAULT
    where: str
    values: Mapping[str, Any]
    assumed: Mapping[str, str] = field(default_factory=dict)
    # Where a property's value comes from when not from `where` (a default file's unwritten
    # property is Graph's documented system value).
    places: Mapping[str, str] = field(default_factory=dict)

    def where_of(self, name: str) -> str:
        return self.places.get(name, self.where)


@dataclass(frozen=True)
class Question:
    partner: str  # the partner's tenant id
    via: str
    direction: str
    subject: Subject


@dataclass(frozen=True)
class Step:
    """One link of the chain: a setting (a property path), the source it was taken from (partner
    or default, and where), and what it says of the subject."""

    setting: str
    origin: str
    where: str
    says: str


@dataclass(frozen=True)
class Explanation:
    question: Question
    allowed: bool
    chain: tuple[Step, ...]
    also: tuple[Step, ...]
    assumptions: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return "allowed" if self.allowed else "blocked"

    @property
    def route(self) -> Route:
        return VIAS[self.question.via][self.question.direction]


def explain(question: Question, partner: Source | None, default: Source, sync: Source | None = None) -> Explanation:
    """The verdict for `question` from the partner's settings (None: the partner has none, so
    the default applies whole), the default's, and the partner's identity sync policy."""
    route = VIAS[question.via][question.direction]
    halves = in_effect(route, partner, default)
    assumptions = dict.fromkeys(note for each in halves for note in each.notes)  # each said once
    judged = [matched(each.half, question.subject) for each in halves]
    places = [
        (f"{route.setting}.{each.half.name}", each.source.kind, each.source.where_of(route.setting)) for each in halves
    ]
    decision = decide(judged)
    chain = [Step(*place, _said(judgement, decision)) for place, judgement in zip(places, judged, strict=True)]
    chain.append(Step(route.setting, "", "", f"{'allowed' if decision.allowed else 'blocked'}: {decision.rule}"))
    return Explanation(
        question, decision.allowed, tuple(chain), _also(question, partner, default, sync), tuple(assumptions)
    )


@dataclass(frozen=True)
class InEffect:
    """One half of a route's setting as it applies to a partner, where it comes from, and what
    was assumed to take it."""

    half: Half
    source: Source
    notes: tuple[str, ...]


def in_effect(route: Route, partner: Source | None, default: Source) -> list[InEffect]:
    """Each half of `route`'s setting for the partner: its own, else the default's."""
    return [_in_effect(route.setting, name, partner, default) for name in route.halves]


def _in_effect(setting: str, name: str, partner: Source | None, default: Source) -> InEffect:
    own = partner.values.get(setting) if partner is not None else None
    if partner is not None and isinstance(own, Mapping) and isinstance(own.get(name), Mapping):
        return InEffect(Half.of(name, own[name]), partner, ())
    notes = [] if default.assumed.get(setting) is None else [default.assumed[setting]]
    if isinstance(own, Mapping):
        notes.insert(0, f"{setting}.{name} is null in the partner's setting: xtap takes the default's")
    inherited = default.values.get(setting)
    value = inherited.get(name) if isinstance(inherited, Mapping) else None
    if not isinstance(value, Mapping):
        notes.append(f"{setting}.{name} is set nowhere, so xtap takes it to let no one through")
        return InEffect(Half(name, ALLOWED, ()), default, tuple(notes))  # no one is named, so no one passes
    return InEffect(Half.of(name, value), default, tuple(notes))


def _said(judgement: Matched, decision: Decision) -> str:
    """What a half says of the subject: which target names it, and, where each half decides on
    its own (`EACH_HALF`), whether the subject gets past it."""
    half = judgement.half
    named = ", ".join(f"{target} ({kind})" for target, kind in half.targets) or "nothing"
    said = f"{half.access} for {named}: {judgement.why}"
    if decision.rule == BOTH_BLOCK:
        return said
    return f"{said}, so the subject {'passes' if judgement.passes else 'stops here'}"


def _also(question: Question, partner: Source | None, default: Source, sync: Source | None) -> tuple[Step, ...]:
    """The other settings of the pair that bear on the same access: not part of the verdict."""
    via, direction = question.via, question.direction
    steps = []
    if direction == INBOUND and via in ("b2bCollaboration", "b2bDirectConnect"):
        source, trust = _own_or_default("inboundTrust", partner, default)
        accepted = [claim for claim in _TRUST if isinstance(trust, Mapping) and trust.get(claim) is True]
        steps.append(
            Step(
                "inboundTrust",
                source.kind,
                source.where_of("inboundTrust"),
                f"accepts the partner's {', '.join(_TRUST[c] for c in accepted)}"
                if accepted
                else "accepts no MFA or device claim from the partner: your Conditional Access asks for its own",
            )
        )
    if via in ("b2bCollaboration", "b2bDirectConnect"):
        member = "inboundAllowed" if direction == INBOUND else "outboundAllowed"
        consent = partner.values.get("automaticUserConsentSettings") if partner is not None else None
        on = isinstance(consent, Mapping) and consent.get(member) is True
        steps.append(
            Step(
                f"automaticUserConsentSettings.{member}",
                PARTNER if partner is not None and consent is not None else DEFAULT,
                partner.where if partner is not None and consent is not None else default.where,
                "true: invitations are redeemed without the consent prompt"
                if on
                else "not true (the default's is always false): users see the consent prompt",
            )
        )
    if via == "b2bCollaboration" and direction == INBOUND:
        allowed = (sync.values.get("userSyncInbound") or {}).get("isSyncAllowed") if sync is not None else None
        says = (
            "no identity sync policy for this partner: cross-tenant sync from it provisions no one"
            if sync is None
            else f"userSyncInbound.isSyncAllowed is {str(allowed).lower() if allowed is not None else 'null'}: "
            + ("users from the partner may be synchronized in" if allowed is True else "sync from it provisions no one")
        )
        steps.append(
            Step("identitySynchronization", "" if sync is None else PARTNER, "" if sync is None else sync.where, says)
        )
    if via == "b2bDirectConnect":
        other = "b2bDirectConnectOutbound" if direction == INBOUND else "b2bDirectConnectInbound"
        steps.append(
            Step(
                other,
                "",
                "",
                f"the partner's tenant must allow it too, in its {other} for this tenant; "
                "`xtap check --peers` checks both when this repository holds both tenants",
            )
        )
    return tuple(steps)


_TRUST = {
    "isMfaAccepted": "MFA",
    "isCompliantDeviceAccepted": "compliant devices",
    "isHybridAzureADJoinedDeviceAccepted": "hybrid joined devices",
}


def _own_or_default(setting: str, partner: Source | None, default: Source) -> tuple[Source, Any]:
    own = partner.values.get(setting) if partner is not None else None
    if own is not None and partner is not None:
        return partner, own
    return default, default.values.get(setting)
