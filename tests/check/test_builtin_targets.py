"""The built-in rule `target-exists`, judged in memory with what the name lookups found: a user or
group of this tenant that a target or a capability scope names, and that Graph's getByIds left
out, is an error at its own item; the partner's objects, slots whose side is undocumented,
applications, objects Graph still has, and a check without lookups (offline) never are."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import PARTNER_ID, TODAY

from reconciler.check.builtin import BUILTIN, TARGET_EXISTS
from reconciler.check.engine import DESIRED, LIVE, Finding, evaluate, subjects
from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Live
from reconciler.core.names import Names
from reconciler.core.registry import DEFAULT, M365_CAPABILITY, PARTNER

GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
USER = "84b80893-8749-40a3-97b7-68513b600544"
GONE = Names(missing=frozenset({GROUP, USER}))
PARTNER_ADDRESS = Address(PARTNER.name, PARTNER_ID)


def targets(setting: str, half: str, *named: tuple[str, str]) -> dict[str, Any]:
    listed = [{"target": target, "targetType": kind} for target, kind in named]
    return {setting: {half: {"accessType": "allowed", "targets": listed}}}


def judged(partner: dict[str, Any], names: Names | None = GONE, live: dict[str, Any] | None = None) -> list[Finding]:
    desired = Desired({PARTNER_ADDRESS: DesiredInstance({"tenantId": PARTNER_ID, **partner}, "p.yaml:1")})
    state = None if live is None else Live({PARTNER_ADDRESS: {"tenantId": PARTNER_ID, **live}}, (PARTNER.name,))
    rules = [rule for rule in BUILTIN if rule.id == TARGET_EXISTS]
    return evaluate(rules, subjects(desired, state, names), TODAY)


def test_the_rule_is_an_error_on_every_type_from_graphs_page() -> None:
    (rule,) = [rule for rule in BUILTIN if rule.id == TARGET_EXISTS]
    assert (rule.severity, rule.selector.types) == ("error", [])
    assert rule.source == "https://learn.microsoft.com/graph/api/directoryobject-getbyids"


def test_a_deleted_group_in_an_outbound_target_is_an_error_at_that_target() -> None:
    outbound = targets("b2bCollaborationOutbound", "usersAndGroups", ("AllUsers", "user"), (GROUP.upper(), "group"))
    [finding] = judged(outbound)
    assert finding.fails and finding.subject.state == DESIRED
    assert finding.file_path == ("b2bCollaborationOutbound", "usersAndGroups", "targets", 1)
    assert finding.violation.message == (
        f"group {GROUP} named in b2bCollaborationOutbound.usersAndGroups.targets no longer exists in this tenant "
        "(Graph's getByIds finds no such object): remove it, or name the group that replaced it"
    )


def test_a_deleted_user_in_an_inbound_application_slot_is_not_judged_as_an_app() -> None:
    """Inbound applications are this tenant's, but an appId with no service principal is not a
    deleted app: only users and groups are judged."""
    assert judged(targets("b2bCollaborationInbound", "applications", (GROUP, "application"))) == []


@pytest.mark.parametrize(
    "partner",
    [
        # the partner's users: this tenant never looks them up
        targets("b2bCollaborationInbound", "usersAndGroups", (GROUP, "group")),
        targets("tenantRestrictions", "usersAndGroups", (USER, "user")),
        # whose objects app service connect names is undocumented: never a finding
        targets("appServiceConnectInbound", "applications", (GROUP, "group")),
    ],
    ids=["partner-inbound", "tenant-restrictions", "either-side"],
)
def test_an_id_outside_this_tenants_slots_is_never_a_finding(partner: dict[str, Any]) -> None:
    assert judged(partner) == []


@pytest.mark.parametrize(
    "names",
    [
        None,  # offline: nothing was looked up
        Names(objects={GROUP: ("Partner liaisons", "group")}),  # still there
        Names(unavailable={"this tenant's users and groups": "the token lacks Directory.Read.All"}),
    ],
    ids=["offline", "present", "unavailable"],
)
def test_a_group_not_known_to_be_gone_is_no_finding(names: Names | None) -> None:
    assert judged(targets("b2bCollaborationOutbound", "usersAndGroups", (GROUP, "group")), names) == []


def test_a_deleted_group_only_the_live_tenant_names_is_a_live_finding() -> None:
    live = targets("m365CollaborationOutbound", "usersAndGroups", (GROUP, "group"))
    [finding] = judged({}, live=live)
    assert finding.subject.state == LIVE
    assert finding.violation.path == ("m365CollaborationOutbound", "usersAndGroups", "targets", 0)


def test_the_same_deleted_group_desired_and_live_is_reported_once_at_the_file() -> None:
    outbound = targets("b2bCollaborationOutbound", "usersAndGroups", (GROUP, "group"))
    [finding] = judged(outbound, live=outbound)
    assert finding.subject.state == DESIRED


def test_a_deleted_group_in_a_default_capability_scope_is_an_error_at_its_scope() -> None:
    default = Address(DEFAULT.name, "default")
    capability = Address(M365_CAPABILITY.name, "default/crossTenantOpenProfileCard")
    scopes = {"included": [{"resourceId": GROUP, "resourceType": "group"}], "excluded": []}
    item = {"name": "crossTenantOpenProfileCard", "inboundAccess": {"isAllowed": True, "resourceScopes": scopes}}
    desired = Desired(
        {default: DesiredInstance({}, "default.yaml:1"), capability: DesiredInstance(item, "default.yaml:2")}
    )
    rules = [rule for rule in BUILTIN if rule.id == TARGET_EXISTS]
    [finding] = evaluate(rules, subjects(desired, None, GONE), TODAY)
    assert finding.subject.address == capability
    assert finding.file_path == ("m365Capabilities", "inboundAccess", "resourceScopes", "included", 0)
    assert "named in inboundAccess.resourceScopes.included no longer exists" in finding.violation.message
