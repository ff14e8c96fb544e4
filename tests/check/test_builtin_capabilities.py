"""The built-in rules on Microsoft 365 capabilities, judged with what holds them: a capability on
the default allowed for all users, a partner's capability without the Entra trust it needs (its
own, or the default's it inherits, desired or live), an anonymous-user capability on a partner;
and `xtap check` pointing at the capability's own line in its file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.checks import PARTNER_ID, TODAY
from support.xtap import run_xtap

from reconciler.check.builtin import BUILTIN
from reconciler.check.engine import LIVE, Finding, Subject, evaluate, subjects
from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Live
from reconciler.core.registry import DEFAULT, M365_CAPABILITY, PARTNER

GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
FOR_ALL = "default-m365-capability-not-for-all"
TRUST = "partner-m365-capability-has-trust"
ANONYMOUS = "partner-m365-capability-not-anonymous"
RULES = (FOR_ALL, TRUST, ANONYMOUS)


def allowed(is_allowed: bool = True, *included: dict[str, str], excluded: tuple[dict[str, str], ...] = ()) -> Any:
    scopes = {"included": list(included or [{"resourceId": "All", "resourceType": "user"}]), "excluded": [*excluded]}
    return {"inboundAccess": {"isAllowed": is_allowed, "resourceScopes": scopes}}


def target(configuration: str, access: str, who: str, kind: str) -> dict[str, Any]:
    return {configuration: {"accessType": access, "targets": [{"target": who, "targetType": kind}]}}


COLLABORATION = {"m365CollaborationInbound": target("users", "allowed", "AllUsers", "user")}
COLLABORATION_BLOCKED = {"m365CollaborationInbound": target("users", "blocked", "AllUsers", "user")}
COLLABORATION_FOR_A_GROUP = {"m365CollaborationInbound": target("users", "allowed", GROUP, "group")}
APP_SERVICE = {"appServiceConnectInbound": target("applications", "allowed", "AllApplications", "application")}
A_GROUP = {"resourceId": GROUP, "resourceType": "group"}


def judged(
    capability: str,
    item: Any,
    partner: dict[str, Any] | None = None,
    default: dict[str, Any] | None = None,
    live: dict[Address, dict[str, Any]] | None = None,
    holder: str = PARTNER.name,
) -> list[Finding]:
    """The findings of the capability rules on `capability` (its file item `item`) of a partner
    that declares `partner` (or of the default), with the default declaring `default`."""
    parent = Address(holder, "default" if holder == DEFAULT.name else PARTNER_ID)
    instances = {parent: DesiredInstance({"tenantId": PARTNER_ID, **(partner or {})}, "p.yaml:1")}
    if default is not None:
        instances[Address(DEFAULT.name, "default")] = DesiredInstance(default, "default.yaml:1")
    address = Address(M365_CAPABILITY.name, f"{parent.id}/{capability}")
    instances[address] = DesiredInstance({"name": capability, **item}, "p.yaml:2")
    state = None if live is None else Live(live, (PARTNER.name, DEFAULT.name, M365_CAPABILITY.name))
    rules = [rule for rule in BUILTIN if rule.id in RULES]
    return evaluate(rules, subjects(Desired(instances), state), TODAY)


def fired(findings: list[Finding]) -> list[str]:
    return [finding.rule.id for finding in findings]


def test_each_capability_rule_is_built_in() -> None:
    """test_builtin.py leaves these to this file: they are judged with the resource holding them."""
    assert set(RULES) == {rule.id for rule in BUILTIN if rule.selector.types == [M365_CAPABILITY.name]}


# --- default-m365-capability-not-for-all ---------------------------------------------------------


def test_a_default_capability_allowed_for_all_users_warns_at_its_scope() -> None:
    [finding] = judged("crossTenantOpenProfileCard", allowed(), holder=DEFAULT.name)
    assert (finding.rule.id, finding.rule.severity) == (FOR_ALL, "warning")
    assert finding.file_path == ("m365Capabilities", "inboundAccess", "resourceScopes", "included")
    assert "allows crossTenantOpenProfileCard for all users here, to every external tenant" in finding.violation.message
    assert "allow it in the files of the partners that need it" in finding.violation.message


@pytest.mark.parametrize(
    "item",
    [
        allowed(True, A_GROUP),  # one group's
        allowed(False),  # turned off
        allowed(True, excluded=({"resourceId": "All", "resourceType": "user"},)),  # exclusion wins
    ],
    ids=["a-group", "off", "all-excluded"],
)
def test_a_default_capability_scoped_or_off_is_fine(item: Any) -> None:
    assert judged("crossTenantOpenProfileCard", item, holder=DEFAULT.name) == []


def test_a_partner_capability_for_all_users_is_the_partners_decision() -> None:
    assert FOR_ALL not in fired(judged("crossTenantOpenProfileCard", allowed(), COLLABORATION))


# --- partner-m365-capability-has-trust -----------------------------------------------------------


@pytest.mark.parametrize(
    ("partner", "default", "why"),
    [
        ({}, None, "m365CollaborationInbound is set neither on the partner nor on the default"),
        (COLLABORATION_BLOCKED, None, "the partner's m365CollaborationInbound lets no one in"),
        (
            {"m365CollaborationInbound": {"users": None}},  # an object of nulls is unset: inherited
            COLLABORATION_BLOCKED,
            "the partner's m365CollaborationInbound is null, and the default's, which it inherits, lets no one in",
        ),
        # a trust for something else is not this one
        (APP_SERVICE, COLLABORATION_BLOCKED, "inherits, lets no one in"),
    ],
    ids=["nowhere", "blocked", "inherits-a-block", "other-trust"],
)
def test_a_partner_capability_without_collaboration_trust_warns(
    partner: dict[str, Any], default: dict[str, Any] | None, why: str
) -> None:
    [finding] = judged("crossTenantMailTipsLimited", allowed(), partner, default)
    assert (finding.rule.id, finding.rule.severity) == (TRUST, "warning")
    assert finding.file_path == ("m365Capabilities", "inboundAccess", "isAllowed")
    assert why in finding.violation.message
    assert (
        "write m365CollaborationInbound: {users: {accessType: allowed, targets: [{target: AllUsers, targetType: "
        "user}]}} in the partner's file" in finding.violation.message
    )


@pytest.mark.parametrize(
    ("partner", "default"),
    [
        (COLLABORATION, None),  # its own
        (COLLABORATION_FOR_A_GROUP, COLLABORATION_BLOCKED),  # its own, for a group, wins over the default
        ({}, COLLABORATION_FOR_A_GROUP),  # inherited from the default
        # blocked for one group only: everyone else is let in
        ({"m365CollaborationInbound": target("users", "blocked", GROUP, "group")}, None),
    ],
    ids=["own", "own-over-default", "inherited", "blocks-a-group"],
)
def test_a_partner_capability_with_its_trust_is_fine(partner: dict[str, Any], default: dict[str, Any] | None) -> None:
    assert judged("crossTenantMailTipsLimited", allowed(), partner, default) == []


def test_a_partner_capability_turned_off_needs_no_trust() -> None:
    assert judged("crossTenantMailTipsLimited", allowed(False), {}) == []


def test_mailbox_migration_needs_app_service_connect_not_collaboration() -> None:
    [finding] = judged("crossTenantMigration", allowed(), COLLABORATION)
    assert "appServiceConnectInbound is set neither on the partner nor on the default" in finding.violation.message
    assert "write appServiceConnectInbound: {applications: {accessType: allowed" in finding.violation.message
    assert judged("crossTenantMigration", allowed(), APP_SERVICE) == []


def test_a_partner_inherits_the_live_default_where_default_yaml_leaves_it_unmanaged() -> None:
    """default.yaml without m365CollaborationInbound leaves the tenant's as it is: that one applies."""
    live = {Address(DEFAULT.name, "default"): COLLABORATION_FOR_A_GROUP}
    assert judged("crossTenantMailTipsLimited", allowed(), {}, default={}) != []
    assert judged("crossTenantMailTipsLimited", allowed(), {}, default={}, live=live) == []


def test_live_a_capability_whose_partners_trust_was_removed_out_of_band_warns() -> None:
    """The files have the trust; a portal admin removed it from the partner. Only live sees it."""
    name = f"{PARTNER_ID}/crossTenantMailTipsLimited"
    live = {
        Address(PARTNER.name, PARTNER_ID): {"tenantId": PARTNER_ID, **COLLABORATION_BLOCKED},
        Address(M365_CAPABILITY.name, name): {"name": "crossTenantMailTipsLimited", **allowed()},
    }
    [finding] = judged("crossTenantMailTipsLimited", allowed(), COLLABORATION, live=live)
    assert (finding.rule.id, finding.subject.state) == (TRUST, LIVE)
    assert finding.subject.file == "p.yaml"  # reported at the file that declares it


# --- partner-m365-capability-not-anonymous -------------------------------------------------------


def test_an_anonymous_capability_on_a_partner_is_a_note_and_on_the_default_nothing() -> None:
    [finding] = judged("anonymousCalendarSharingFreeBusySimple", allowed(False), COLLABORATION)
    assert (finding.rule.id, finding.rule.severity, finding.violation.path) == (ANONYMOUS, "note", ())
    assert "decide it in default.yaml" in finding.violation.message
    assert judged("anonymousCalendarSharingFreeBusySimple", allowed(True, A_GROUP), holder=DEFAULT.name) == []


# --- the engine: a nested subject's parent and what a partner inherits ---------------------------


def test_a_capability_subject_has_its_partner_and_the_partner_the_default() -> None:
    partner = Address(PARTNER.name, PARTNER_ID)
    capability = Address(M365_CAPABILITY.name, f"{PARTNER_ID}/crossTenantMailTipsLimited")
    desired = Desired(
        {
            partner: DesiredInstance({"tenantId": PARTNER_ID}, "p.yaml:1"),
            capability: DesiredInstance({"name": "crossTenantMailTipsLimited", **allowed()}, "p.yaml:2"),
            Address(DEFAULT.name, "default"): DesiredInstance(COLLABORATION, "default.yaml:1"),
        }
    )
    found: dict[Address, Subject] = {subject.address: subject for subject in subjects(desired)}
    parent = found[capability].parent
    assert parent is not None and parent.address == partner and found[capability].tenant == PARTNER_ID
    assert parent.setting("m365CollaborationInbound") == COLLABORATION["m365CollaborationInbound"]
    assert found[Address(DEFAULT.name, "default")].inherited is None


# --- xtap check, as a user runs it ---------------------------------------------------------------

PARTNER_FILE = """tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1
m365CollaborationInbound:
  users:
    accessType: allowed
    targets:
      - target: AllUsers
        targetType: user
m365Capabilities:
  - "@odata.type": "#microsoft.graph.crossTenantOpenProfileCard"
    inboundAccess:
      isAllowed: true
  - "@odata.type": "#microsoft.graph.crossTenantMigration"
    inboundAccess:
      isAllowed: true
  - "@odata.type": "#microsoft.graph.anonymousCalendarSharingFreeBusySimple"
    inboundAccess:
      isAllowed: false
"""


def test_check_points_at_the_capability_that_lacks_its_trust(tmp_path: Path) -> None:
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "fabrikam.yaml").write_text(PARTNER_FILE)
    run = run_xtap("check", "--policies", str(tmp_path / "policies"))
    assert run.code == 0, run.stdout + run.stderr  # a warning: reported, not failed
    at = f"{partners}/fabrikam.yaml:14:7: warning [{TRUST}] m365Capability {PARTNER_ID}/crossTenantMigration: "
    assert at + "crossTenantMigration is allowed, but appServiceConnectInbound" in run.stdout
    assert "crossTenantOpenProfileCard is allowed" not in run.stdout  # it has its trust
    # a finding about the item as a whole points at where the item starts
    assert f"{partners}/fabrikam.yaml:15:5: note [{ANONYMOUS}]" in run.stdout
    assert "https://learn.microsoft.com/graph/api/resources/m365-cross-tenant-access-policy-overview" in run.stdout
