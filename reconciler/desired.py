"""The desired state as policies/ declares it, validated, with where each piece came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.models import MtoPartnerTemplate, Partner


@dataclass(frozen=True)
class DesiredPartner:
    model: Partner
    source: str  # "file:line" of the tenantId, for the plan


@dataclass(frozen=True)
class DesiredTemplate:
    model: MtoPartnerTemplate
    source: str


@dataclass(frozen=True)
class Desired:
    partners: dict[str, DesiredPartner] = field(default_factory=dict)  # key: lowercase tenantId
    mto_partner_template: DesiredTemplate | None = None
