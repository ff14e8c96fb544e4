"""Planning without I/O from written partner files and live JSON, as the planner's tests and the
canonical form's (which a plan with no change shows end to end) both do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.core.address import Address
from reconciler.core.live import Live
from reconciler.core.registry import MTO_PARTNER_TEMPLATE, PARTNER
from reconciler.plan.planner import make_plan
from reconciler.policies.load import load_policies
from support.policy_files import write_policies
from support.seeds import SEED_001_TENANT

UNSET_PARTNER = {
    "tenantId": SEED_001_TENANT,
    "isServiceProvider": None,
    "isInMultiTenantOrganization": False,
    "inboundTrust": None,
    "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None},
    "b2bCollaborationInbound": None,
    "b2bCollaborationOutbound": None,
    "b2bDirectConnectInbound": None,
    "b2bDirectConnectOutbound": None,
    "tenantRestrictions": None,
    "m365CollaborationInbound": None,
    "m365CollaborationOutbound": None,
    "appServiceConnectInbound": None,
}


def plan_for(tmp_path: Path, partners: list[dict[str, Any]], live: list[dict[str, Any]], **kw: Any) -> Any:
    desired = load_policies(write_policies(tmp_path / "policies", partners, kw.get("template")))
    return make_plan(desired, live_state(live, kw.get("live_template")))


def live_state(partners: list[dict[str, Any]], template: dict[str, Any] | None = None) -> Live:
    instances = {Address(PARTNER.name, p["tenantId"].lower()): p for p in partners}
    if template is None:
        return Live(instances, (PARTNER.name,))
    instances[Address(MTO_PARTNER_TEMPLATE.name, MTO_PARTNER_TEMPLATE.singleton_id or "")] = template
    return Live(instances, (PARTNER.name, MTO_PARTNER_TEMPLATE.name))
