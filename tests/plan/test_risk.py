"""The risk classifier: deletes, grants, other updates and resets, creates, and why. Changes come
from the real planner (policy files on disk, live JSON) wherever the diff's shape matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.policy_files import write_policies

from reconciler.core.address import Address
from reconciler.core.live import Live
from reconciler.core.registry import (
    DEFAULT,
    IDENTITY_SYNC,
    M365_CAPABILITY,
    MTO_IDENTITY_SYNC_TEMPLATE,
    MTO_PARTNER_TEMPLATE,
    PARTNER,
)
from reconciler.core.request import Request
from reconciler.plan.model import Change, DiffEntry, Plan
from reconciler.plan.planner import make_plan
from reconciler.plan.risk import CLASSES, Risk, by_risk, classify, grant_paths
from reconciler.policies.load import load_policies

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6a1b0f8e-3c1d-4e7e-9b55-0d1f2a3b4c5d"
ALL_USERS = {"target": "AllUsers", "targetType": "user"}
ALL_APPS = {"target": "AllApplications", "targetType": "application"}
A_GROUP = {"target": GROUP, "targetType": "group"}


def half(access: str, *targets: dict[str, str]) -> dict[str, Any]:
    return {"accessType": access, "targets": list(targets)}


def setting(users: dict[str, Any], apps: dict[str, Any]) -> dict[str, Any]:
    return {"usersAndGroups": users, "applications": apps}


BLOCK_ALL = setting(half("blocked", ALL_USERS), half("blocked", ALL_APPS))
ALLOW_ALL = setting(half("allowed", ALL_USERS), half("allowed", ALL_APPS))


def planned(tmp_path: Path, declared: dict[str, Any], live: dict[str, Any] | None, default: Any = None) -> Plan:
    """The plan for one partner file against one live partner (None: it does not exist yet),
    with the live default (None: not read) that a partner's null inherits."""
    desired = load_policies(write_policies(tmp_path / "policies", [{"tenantId": TENANT, **declared}]))
    instances = {} if live is None else {Address(PARTNER.name, TENANT): {"tenantId": TENANT, **live}}
    read: tuple[str, ...] = (PARTNER.name,)
    if default is not None:
        instances[Address(DEFAULT.name, "default")] = default
        read += (DEFAULT.name,)
    return make_plan(desired, Live(instances, read))


def risk_of(plan: Plan) -> Risk:
    [change] = plan.changes
    return classify(change, plan.inherited.get(change.resource, {}))


# --- which paths can grant, per resource type, from the registry ---------------------------------


def test_grant_paths_follow_each_types_own_properties() -> None:
    partner = {".".join(path): kind for path, kind in grant_paths(PARTNER)}
    assert partner["inboundTrust.isMfaAccepted"] == "flag"
    assert partner["automaticUserConsentSettings.outboundAllowed"] == "flag"
    for half_path in ("b2bCollaborationInbound.usersAndGroups", "b2bDirectConnectOutbound.applications"):
        assert partner[half_path] == "access"
    assert partner["tenantRestrictions.usersAndGroups"] == partner["m365CollaborationInbound.users"] == "access"
    assert "isServiceProvider" not in partner and "tenantRestrictions.devices" not in partner
    # The default shares the names, but its consent settings are read-only: never written, never a grant.
    default = {".".join(path) for path, _ in grant_paths(DEFAULT)}
    assert "inboundTrust.isMfaAccepted" in default and "tenantRestrictions.applications" in default
    assert not any(path.startswith("automaticUserConsentSettings") for path in default)
    # The MTO partner template has the B2B, trust and consent settings, not tenant restrictions.
    template = {".".join(path) for path, _ in grant_paths(MTO_PARTNER_TEMPLATE)}
    assert "automaticUserConsentSettings.inboundAllowed" in template
    assert not any(path.startswith("tenantRestrictions") for path in template)
    sync = [(".".join(path), kind) for path, kind in grant_paths(IDENTITY_SYNC)]
    assert (
        sync
        == [("userSyncInbound.isSyncAllowed", "flag")]
        == [(".".join(path), kind) for path, kind in grant_paths(MTO_IDENTITY_SYNC_TEMPLATE)]
    )


# --- updates -----------------------------------------------------------------------------------


def test_an_mfa_trust_granted_to_an_existing_partner_is_a_grant(tmp_path: Path) -> None:
    trust = {"isMfaAccepted": False, "isCompliantDeviceAccepted": False}
    plan = planned(tmp_path, {"inboundTrust": {**trust, "isMfaAccepted": True}}, {"inboundTrust": trust})
    assert risk_of(plan) == Risk("grant", ("inboundTrust.isMfaAccepted → true",))


def test_trust_withdrawn_is_an_update(tmp_path: Path) -> None:
    plan = planned(tmp_path, {"inboundTrust": {"isMfaAccepted": False}}, {"inboundTrust": {"isMfaAccepted": True}})
    assert risk_of(plan) == Risk("update")


def test_targets_opened_to_all_users_with_access_unchanged_is_a_grant(tmp_path: Path) -> None:
    """The diff names only `targets`; the unchanged `allowed` beside it is read from the PATCH."""
    live = {"b2bCollaborationInbound": setting(half("allowed", A_GROUP), half("allowed", ALL_APPS))}
    plan = planned(tmp_path, {"b2bCollaborationInbound": ALLOW_ALL}, live)
    [change] = plan.changes
    assert [entry.path for entry in change.diff] == ["b2bCollaborationInbound.usersAndGroups.targets"]
    assert risk_of(plan) == Risk("grant", ("b2bCollaborationInbound.usersAndGroups → allowed AllUsers",))


def test_access_turned_to_allowed_with_targets_unchanged_is_a_grant(tmp_path: Path) -> None:
    live = {"b2bDirectConnectOutbound": BLOCK_ALL}
    plan = planned(tmp_path, {"b2bDirectConnectOutbound": ALLOW_ALL}, live)
    [change] = plan.changes
    assert {entry.path.rsplit(".", 1)[1] for entry in change.diff} == {"accessType"}
    assert risk_of(plan) == Risk(
        "grant",
        (
            "b2bDirectConnectOutbound.usersAndGroups → allowed AllUsers",
            "b2bDirectConnectOutbound.applications → allowed AllApplications",
        ),
    )


@pytest.mark.parametrize(
    ("declared", "live"),
    [
        # narrowed to a group: access is still allowed, but for fewer
        (setting(half("allowed", A_GROUP), half("allowed", ALL_APPS)), ALLOW_ALL),
        # opened to a group only: not everyone
        (
            setting(half("allowed", A_GROUP), half("allowed", ALL_APPS)),
            setting(half("blocked", A_GROUP), half("allowed", ALL_APPS)),
        ),
        # already open to all users; only the applications half changes, to a block
        (setting(half("allowed", ALL_USERS), half("blocked", ALL_APPS)), ALLOW_ALL),
    ],
    ids=["narrowed", "a-group", "other-half-blocked"],
)
def test_access_that_is_not_newly_open_to_everyone_is_an_update(
    tmp_path: Path, declared: dict[str, Any], live: dict[str, Any]
) -> None:
    assert risk_of(
        planned(tmp_path, {"b2bCollaborationOutbound": declared}, {"b2bCollaborationOutbound": live})
    ) == Risk("update")


# --- null: what a partner's null inherits, and what a null before means -----------------------------


def test_a_block_removed_so_a_permissive_default_applies_is_a_grant(tmp_path: Path) -> None:
    """The file drops the partner's block; its null inherits the default, which the system
    default leaves open to everyone."""
    plan = planned(tmp_path, {}, {"b2bCollaborationInbound": BLOCK_ALL}, default={})
    assert risk_of(plan) == Risk(
        "grant",
        (
            "b2bCollaborationInbound.usersAndGroups → allowed AllUsers (null, inherited from default)",
            "b2bCollaborationInbound.applications → allowed AllApplications (null, inherited from default)",
        ),
    )


def test_a_block_removed_under_a_blocking_default_is_an_update(tmp_path: Path) -> None:
    plan = planned(tmp_path, {}, {"b2bCollaborationInbound": BLOCK_ALL}, default={"b2bCollaborationInbound": BLOCK_ALL})
    assert risk_of(plan) == Risk("update")


def test_an_explicit_value_that_restates_the_default_grants_nothing(tmp_path: Path) -> None:
    """A null before counts as what it inherited: the same trust, now written, is not new; over
    a default that does not trust, it is."""
    trusting = planned(
        tmp_path / "a", {"inboundTrust": {"isMfaAccepted": True}}, {}, default={"inboundTrust": {"isMfaAccepted": True}}
    )
    assert trusting.inherited[PARTNER.name]["inboundTrust"] == {"isMfaAccepted": True}
    assert risk_of(trusting) == Risk("update")
    system = planned(tmp_path / "b", {"inboundTrust": {"isMfaAccepted": True}}, {}, default={})
    assert risk_of(system) == Risk("grant", ("inboundTrust.isMfaAccepted → true",))


def test_a_templates_null_inherits_nothing() -> None:
    """Only a type with `inherits_from` inherits: the template's null is just unset."""
    change = Change(
        MTO_PARTNER_TEMPLATE.name,
        "multiTenantOrganizationPartnerConfiguration",
        "update",
        None,
        (DiffEntry("inboundTrust", {"isMfaAccepted": False}, None),),
        (Request("PATCH", "/x", {"inboundTrust": None}),),
    )
    assert classify(change, {"inboundTrust": {"isMfaAccepted": True}}) == Risk("update")


# --- creates, resets, deletes, and other types with the same names ------------------------------


def test_a_new_partner_accepting_mfa_is_a_grant_and_one_that_restates_the_default_a_create(tmp_path: Path) -> None:
    """Before its create a partner has nothing of its own: it had the default's settings. The
    system default trusts no MFA claims and leaves B2B collaboration open to everyone."""
    trusting = planned(tmp_path / "a", {"inboundTrust": {"isMfaAccepted": True}, "isServiceProvider": True}, None, {})
    assert risk_of(trusting) == Risk("grant", ("inboundTrust.isMfaAccepted → true",))
    restating = planned(tmp_path / "b", {"b2bCollaborationInbound": ALLOW_ALL}, None, {})
    assert risk_of(restating) == Risk("create")
    # Without the default's values (not read), what the create grants counts as new.
    assert risk_of(planned(tmp_path / "c", {"b2bCollaborationInbound": ALLOW_ALL}, None)).kind == "grant"
    blocking = planned(
        tmp_path / "d", {"inboundTrust": {"isMfaAccepted": False}, "b2bCollaborationInbound": BLOCK_ALL}, None
    )
    assert risk_of(blocking) == Risk("create")


def test_a_new_identity_sync_allowing_sync_is_a_grant(tmp_path: Path) -> None:
    sync = {"identitySynchronization": {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}}
    plan = planned(tmp_path, sync, {})
    [change] = plan.changes
    assert (change.resource, change.action) == ("identitySynchronization", "create")
    assert risk_of(plan) == Risk("grant", ("userSyncInbound.isSyncAllowed → true",))


@pytest.mark.parametrize(
    ("resource", "path", "before"),
    [
        (DEFAULT.name, "inboundTrust.isCompliantDeviceAccepted", False),
        (MTO_PARTNER_TEMPLATE.name, "automaticUserConsentSettings.inboundAllowed", None),
        (MTO_IDENTITY_SYNC_TEMPLATE.name, "userSyncInbound.isSyncAllowed", False),
    ],
)
def test_the_default_and_the_templates_grant_by_the_same_names(resource: str, path: str, before: Any) -> None:
    top, member = path.split(".")
    change = Change(
        resource,
        "x",
        "update",
        None,
        (DiffEntry(path, before, True),),
        (Request("PATCH", "/x", {top: {member: True}}),),
    )
    assert classify(change) == Risk("grant", (f"{path} → true",))


def test_a_reset_of_the_default_that_reopens_b2b_collaboration_is_a_grant() -> None:
    """A reset sends no body: the unchanged targets beside the accessType come from the reset
    state the registry describes (`absent_means`)."""
    path = "b2bCollaborationInbound.usersAndGroups.accessType"
    change = Change(
        DEFAULT.name, "default", "reset", None, (DiffEntry(path, "blocked", "allowed"),), (Request("POST", "/x"),)
    )
    assert classify(change) == Risk("grant", ("b2bCollaborationInbound.usersAndGroups → allowed AllUsers",))
    untrusting = Change(
        MTO_PARTNER_TEMPLATE.name, "t", "reset", None, (DiffEntry("inboundTrust", {"isMfaAccepted": True}, None),), ()
    )
    assert classify(untrusting) == Risk("update")


def test_deletes_are_deletes_whatever_they_held() -> None:
    pruned = Change(
        PARTNER.name, TENANT, "delete", "xtap.yaml:1", (DiffEntry("inboundTrust", {"isMfaAccepted": True}, None),), ()
    )
    assert classify(pruned) == Risk("delete", ("pruned: no policy file",))
    sync = Change(IDENTITY_SYNC.name, TENANT, "delete", "p.yaml:9", (), ())
    assert classify(sync) == Risk("delete", ("no policy file declares it",))


def test_by_risk_orders_deletes_grants_updates_creates_keeping_order_within_a_class() -> None:
    def change(name: str, action: Any, diff: tuple[DiffEntry, ...] = ()) -> Change:
        return Change(PARTNER.name, name, action, None, diff, ())

    grant = (DiffEntry("inboundTrust", None, {"isMfaAccepted": True}),)
    changes = [
        change("create-1", "create"),
        change("update-1", "update"),
        change("delete-1", "delete"),
        change("grant-1", "update", grant),
        change("update-2", "reset"),
        change("grant-2", "create", grant),
        change("create-2", "create"),
        change("delete-2", "delete"),
    ]
    ordered = [(c.id, risk.kind) for c, risk in by_risk(changes, {})]
    assert ordered == [
        ("delete-1", "delete"),
        ("delete-2", "delete"),
        ("grant-1", "grant"),
        ("grant-2", "grant"),
        ("update-1", "update"),
        ("update-2", "update"),
        ("create-1", "create"),
        ("create-2", "create"),
    ]
    assert CLASSES == ("delete", "grant", "update", "create")


# --- Microsoft 365 capabilities: allowed, and allowed for All -------------------------------------

MAILTIPS = "crossTenantMailTipsLimited"
ALL_OF_THEM = {"resourceId": "All", "resourceType": "user"}
A_USER = {"resourceId": GROUP, "resourceType": "user"}


def capability(allowed: bool, *included: dict[str, str]) -> dict[str, Any]:
    """A capability's file item (Graph's create body)."""
    scopes = {"included": list(included), "excluded": []}
    return {
        "@odata.type": f"#microsoft.graph.{MAILTIPS}",
        "inboundAccess": {"isAllowed": allowed, "resourceScopes": scopes},
    }


def capability_plan(tmp_path: Path, declared: dict[str, Any], live: dict[str, Any] | None) -> Plan:
    """The plan for one partner capability against the live one (None: not there yet), the
    partner itself live and unchanged."""
    desired = load_policies(
        write_policies(tmp_path / "policies", [{"tenantId": TENANT, "m365Capabilities": [declared]}])
    )
    instances: dict[Address, dict[str, Any]] = {Address(PARTNER.name, TENANT): {"tenantId": TENANT}}
    if live is not None:
        wire = {**live, "@odata.type": live["@odata.type"].removeprefix("#"), "name": MAILTIPS}
        instances[Address(M365_CAPABILITY.name, f"{TENANT}/{MAILTIPS}")] = wire
    return make_plan(desired, Live(instances, (PARTNER.name, M365_CAPABILITY.name)))


def test_capability_grant_paths_are_its_flag_and_its_scope() -> None:
    paths = [(".".join(path), kind) for path, kind in grant_paths(M365_CAPABILITY)]
    assert paths == [("inboundAccess.isAllowed", "flag"), ("inboundAccess", "scope")]


@pytest.mark.parametrize(
    ("declared", "live", "reasons"),
    [
        # turned on for one user: allowed, not for everyone
        (capability(True, A_USER), capability(False, A_USER), ("inboundAccess.isAllowed → true",)),
        # already allowed, its scope widened from one user to all of them
        (capability(True, ALL_OF_THEM), capability(True, A_USER), ("inboundAccess → allowed All users",)),
        # created allowed for all of them
        (capability(True, ALL_OF_THEM), None, ("inboundAccess.isAllowed → true", "inboundAccess → allowed All users")),
    ],
    ids=["turned-on", "widened-to-all", "created-for-all"],
)
def test_a_capability_allowed_or_widened_to_all_is_a_grant(
    tmp_path: Path, declared: dict[str, Any], live: dict[str, Any] | None, reasons: tuple[str, ...]
) -> None:
    plan = capability_plan(tmp_path, declared, live)
    [change] = plan.changes
    assert (change.resource, change.action) == (M365_CAPABILITY.name, "update" if live else "create")
    assert risk_of(plan) == Risk("grant", reasons)


@pytest.mark.parametrize(
    ("declared", "live", "kind"),
    [
        (capability(False, A_USER), capability(True, A_USER), "update"),  # turned off
        (capability(True, A_USER), capability(True, ALL_OF_THEM), "update"),  # narrowed to one user
        (capability(False, ALL_OF_THEM), capability(False, A_USER), "update"),  # widened, but not allowed
        (capability(False, ALL_OF_THEM), None, "create"),  # created turned off
    ],
    ids=["turned-off", "narrowed", "widened-while-off", "created-off"],
)
def test_a_capability_that_allows_no_more_is_no_grant(
    tmp_path: Path, declared: dict[str, Any], live: dict[str, Any] | None, kind: str
) -> None:
    assert risk_of(capability_plan(tmp_path, declared, live)) == Risk(kind)  # type: ignore[arg-type]
