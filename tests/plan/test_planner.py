"""The planner, without I/O: desired files and live JSON → the exact requests. That Graph's and a
file's spellings of one setting are no change is in tests/core/test_canonical.py."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from support.capability_plans import MAIL_TIPS, PROFILE, ROOMS, capability, folder, live_with
from support.planner_cases import UNSET_PARTNER, live_state, plan_for, write_policies
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES, SEED_001_TENANT, SEED_003_TEMPLATE_BODY

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Live
from reconciler.core.registry import DEFAULT, M365_CAPABILITY, PARTNER, POLICY_ROOT, REGISTRY
from reconciler.plan.model import Plan
from reconciler.plan.planner import Forms, _digest, desired_form, live_form, live_line, make_plan
from reconciler.policies.load import load_policies


def test_create_posts_exactly_the_file(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, [SEED_000_CREATE_BODY], [])
    [change] = plan.changes
    assert (change.action, change.id) == ("create", SEED_000_CREATE_BODY["tenantId"])
    [request] = change.requests
    assert (request.method, request.url) == ("POST", "/policies/crossTenantAccessPolicy/partners")
    assert request.body == SEED_000_CREATE_BODY
    assert change.source.endswith(".yaml:2")


@pytest.mark.parametrize("body", SEED_001_PATCH_BODIES, ids=lambda b: next(iter(b)))
def test_update_patches_only_the_changed_property(tmp_path: Path, body: dict[str, Any]) -> None:
    plan = plan_for(tmp_path, [{"tenantId": SEED_001_TENANT, **body}], [UNSET_PARTNER])
    [change] = plan.changes
    [request] = change.requests
    assert (request.method, request.url) == ("PATCH", f"/policies/crossTenantAccessPolicy/partners/{SEED_001_TENANT}")
    assert request.body == body


def test_removed_property_is_patched_to_null(tmp_path: Path) -> None:
    live = {**UNSET_PARTNER, **SEED_001_PATCH_BODIES[0], **SEED_001_PATCH_BODIES[1]}
    plan = plan_for(tmp_path, [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[1]}], [live])
    [change] = plan.changes
    assert change.requests[0].body == {"inboundTrust": None}
    assert [(d.path, d.after) for d in change.diff] == [("inboundTrust", None)]


def test_target_set_change_is_reported_as_the_whole_set(tmp_path: Path) -> None:
    live = {**UNSET_PARTNER, **SEED_001_PATCH_BODIES[2]}
    desired = copy.deepcopy(SEED_001_PATCH_BODIES[2])
    desired["tenantRestrictions"]["applications"]["targets"] = [
        {"target": "AllApplications", "targetType": "application"}
    ]
    [change] = plan_for(tmp_path, [{"tenantId": SEED_001_TENANT, **desired}], [live]).changes
    [entry] = change.diff
    assert entry.path == "tenantRestrictions.applications.targets"
    assert entry.after == [{"target": "AllApplications", "targetType": "application"}]
    assert change.requests[0].body == desired  # the whole top-level value, not a fragment


def test_changing_is_service_provider_is_an_error_for_that_partner_only(tmp_path: Path) -> None:
    other = {"tenantId": "11111111-2222-3333-4444-555555555555", **SEED_001_PATCH_BODIES[0]}
    live = {**UNSET_PARTNER, "isServiceProvider": False}
    plan = plan_for(tmp_path, [{"tenantId": SEED_001_TENANT, "isServiceProvider": True}, other], [live])
    [error] = plan.errors
    assert (error.resource, error.id) == ("partner", SEED_001_TENANT)
    assert "isServiceProvider is false in the tenant but true in the file" in error.message
    assert [(c.action, c.id) for c in plan.changes] == [("create", other["tenantId"])]  # the rest still plans


def test_a_partner_file_without_is_service_provider_leaves_it_alone(tmp_path: Path) -> None:
    """GDAP partners are made by Partner Center with isServiceProvider true."""
    gdap = {**UNSET_PARTNER, "isServiceProvider": True, **SEED_001_PATCH_BODIES[0]}
    assert plan_for(tmp_path, [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]}], [gdap]).changes == ()


def test_unmanaged_partners_are_listed_not_touched(tmp_path: Path) -> None:
    other = {**UNSET_PARTNER, "tenantId": "11111111-2222-3333-4444-555555555555"}
    plan = plan_for(tmp_path, [], [other])
    assert plan.changes == ()
    assert [(u.resource, u.id) for u in plan.unmanaged] == [("partner", other["tenantId"])]


def test_template_patch_and_default_application_level(tmp_path: Path) -> None:
    live_template = {
        "id": "75b1889b-6f42-4cc5-8e62-e774b8db243c",
        "templateApplicationLevel": "newPartners,existingPartners",
        "inboundTrust": None,
        "b2bCollaborationOutbound": None,
        "b2bCollaborationInbound": None,
        "b2bDirectConnectOutbound": None,
        "b2bDirectConnectInbound": None,
        "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None},
    }
    [change] = plan_for(tmp_path, [], [], template=SEED_003_TEMPLATE_BODY, live_template=live_template).changes
    # The level is already the default (in another order): only the two settings are sent.
    assert change.requests[0].body == {
        k: v for k, v in SEED_003_TEMPLATE_BODY.items() if k != "templateApplicationLevel"
    }
    reordered = {**live_template, **SEED_003_TEMPLATE_BODY, "templateApplicationLevel": "existingPartners, newPartners"}
    assert plan_for(tmp_path, [], [], template=SEED_003_TEMPLATE_BODY, live_template=reordered).changes == ()
    none_level = {**reordered, "templateApplicationLevel": "none"}
    no_level = {k: v for k, v in SEED_003_TEMPLATE_BODY.items() if k != "templateApplicationLevel"}
    [change] = plan_for(tmp_path, [], [], template=no_level, live_template=none_level).changes
    assert change.requests[0].body == {"templateApplicationLevel": "newPartners,existingPartners"}


def test_live_digest_ignores_order_but_not_values(tmp_path: Path) -> None:
    live = {**UNSET_PARTNER, **SEED_001_PATCH_BODIES[2]}
    shuffled = copy.deepcopy(live)
    shuffled["tenantRestrictions"]["usersAndGroups"]["targets"].reverse()
    changed = {**live, "inboundTrust": {"isMfaAccepted": False}}
    digests = [plan_for(tmp_path, [], [state]).live_digest for state in (live, shuffled, changed)]
    assert digests[0] == digests[1] != digests[2]


def test_live_digest_is_the_hash_of_the_live_forms_as_json(tmp_path: Path) -> None:
    """Written out piece by piece, it is still the hash its docstring states: of every live form,
    by address, and of the types read, as `json.dumps(..., sort_keys=True)` writes them."""
    partners = [
        {**UNSET_PARTNER, **body, "tenantId": f"{n:08x}-5d3d-455c-8016-e2af1ae4d31a"}
        for n, body in enumerate(SEED_001_PATCH_BODIES)
    ]
    state = live_state(partners, {"templateApplicationLevel": "newPartners"})
    whole = {
        "read": sorted(state.read),
        "instances": {str(address): live_form(address, wire) for address, wire in state.instances.items()},
    }
    expected = "sha256:" + hashlib.sha256(json.dumps(whole, sort_keys=True).encode()).hexdigest()
    assert make_plan(load_policies(write_policies(tmp_path, [])), state).live_digest == expected


def test_live_digest_orders_the_addresses_as_json_orders_their_keys() -> None:
    """The digest sorts addresses as tuples, not as the "resource id" keys `json.dumps` sorts:
    the same order while a type's name is letters and digits, here with names where one begins
    another (the space after the shorter sorts first, as the shorter tuple member does)."""
    assert all(rtype.name.isalnum() for rtype in REGISTRY)
    keys = [("ab", "z"), ("a", "y"), ("abc", "a"), ("a", "b b"), ("aB", "c")]
    forms = {Address(resource, id_): {"n": n} for n, (resource, id_) in enumerate(keys)}
    live = Live({address: {} for address in forms}, read=("a", "ab"))
    whole = {"read": ["a", "ab"], "instances": {str(address): form for address, form in forms.items()}}
    expected = "sha256:" + hashlib.sha256(json.dumps(whole, sort_keys=True).encode()).hexdigest()
    lines = {address: live_line(address, form) for address, form in forms.items()}
    assert _digest(live, Forms(live_lines=lines)) == expected


def test_nested_members_the_tenant_holds_are_cleared_explicitly(tmp_path: Path) -> None:
    """Under OData merge an absent member would survive the PATCH: send it as null."""
    users = {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    apps = {"accessType": "allowed", "targets": [{"target": "Office365", "targetType": "application"}]}
    live = {**UNSET_PARTNER, "b2bCollaborationInbound": {"usersAndGroups": users, "applications": apps}}
    desired = {"tenantId": SEED_001_TENANT, "b2bCollaborationInbound": {"usersAndGroups": users}}
    [change] = plan_for(tmp_path, [desired], [live]).changes
    assert change.requests[0].body == {"b2bCollaborationInbound": {"usersAndGroups": users, "applications": None}}


def test_a_member_xtap_does_not_model_is_neither_compared_nor_cleared(tmp_path: Path) -> None:
    """A member Graph adds tomorrow must not become a perpetual diff, nor be PATCHed away."""
    trust = SEED_001_PATCH_BODIES[0]["inboundTrust"]
    live = {**UNSET_PARTNER, "inboundTrust": {**trust, "isPasskeyAccepted": True}, **SEED_001_PATCH_BODIES[1]}
    desired = {"tenantId": SEED_001_TENANT, "inboundTrust": {**trust, "isMfaAccepted": False}}
    [change] = plan_for(tmp_path, [desired], [live]).changes
    assert [d.path for d in change.diff] == ["automaticUserConsentSettings", "inboundTrust.isMfaAccepted"]
    assert change.requests[0].body == {"inboundTrust": desired["inboundTrust"], "automaticUserConsentSettings": None}


def test_diff_names_each_differing_leaf_and_list_item(tmp_path: Path) -> None:
    """Only the leaves that differ, however deep; a reordered list (unlike `targets`, an order of
    preference) by the items that moved."""
    order = ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"]
    invitation = {"primaryIdentityProviderPrecedenceOrder": order, "fallbackIdentityProvider": "microsoftAccount"}
    trust = {"isMfaAccepted": True, "isCompliantDeviceAccepted": True}
    policies = tmp_path / "policies"
    policies.mkdir()
    written = {"inboundTrust": trust, "invitationRedemptionIdentityProviderConfiguration": invitation}
    (policies / "default.yaml").write_text(json.dumps(written))
    reordered = {**invitation, "primaryIdentityProviderPrecedenceOrder": [order[1], order[0], order[2]]}
    live = {
        "inboundTrust": {**trust, "isMfaAccepted": False},
        "invitationRedemptionIdentityProviderConfiguration": reordered,
    }
    address = Address(DEFAULT.name, DEFAULT.singleton_id or "")
    [change] = make_plan(load_policies(policies), Live({address: live}, (DEFAULT.name,))).changes
    precedence = "invitationRedemptionIdentityProviderConfiguration.primaryIdentityProviderPrecedenceOrder"
    assert [entry.path for entry in change.diff] == ["inboundTrust.isMfaAccepted", f"{precedence}.0", f"{precedence}.1"]
    assert (change.diff[0].before, change.diff[0].after) == (False, True)


# -- Microsoft 365 capabilities: a block under a partner or the default --------------------------

PARTNERS_URL = "/policies/crossTenantAccessPolicy/partners"
CAPABILITIES_OF = f"{PARTNERS_URL}/{SEED_001_TENANT}/m365Capabilities"


def capability_plan(tmp_path: Path, files: list[dict[str, Any]], live: Live, **kw: Any) -> Plan:
    return make_plan(load_policies(folder(tmp_path / "policies", files, **kw)), live)


def capability_changes(plan: Plan) -> list[tuple[str, str, str]]:
    return [(c.action, r.method, r.url) for c in plan.changes if c.resource == M365_CAPABILITY.name for r in c.requests]


def test_a_file_without_the_capabilities_key_leaves_the_live_ones_alone(tmp_path: Path) -> None:
    live = live_with({SEED_001_TENANT: [capability(MAIL_TIPS)]}, default=[capability(PROFILE)])
    plan = capability_plan(tmp_path, [{"tenantId": SEED_001_TENANT}], live, default={"inboundTrust": None})
    assert capability_changes(plan) == [] and plan.errors == ()


def test_an_empty_list_on_a_partner_deletes_each_of_its_capabilities(tmp_path: Path) -> None:
    live = live_with({SEED_001_TENANT: [capability(MAIL_TIPS), capability(ROOMS)]})
    plan = capability_plan(tmp_path, [{"tenantId": SEED_001_TENANT, "m365Capabilities": []}], live)
    assert capability_changes(plan) == [
        ("delete", "DELETE", f"{CAPABILITIES_OF}/{MAIL_TIPS}"),
        ("delete", "DELETE", f"{CAPABILITIES_OF}/{ROOMS}"),
    ]
    assert [c.resource for c in plan.changes] == [M365_CAPABILITY.name] * 2


def test_a_capability_differing_is_patched_with_its_whole_inbound_access(tmp_path: Path) -> None:
    group = {"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"}
    live = live_with({SEED_001_TENANT: [capability(MAIL_TIPS, included=[group])]})
    files = [{"tenantId": SEED_001_TENANT, "m365Capabilities": [capability(MAIL_TIPS, allowed=False)]}]
    [change] = capability_plan(tmp_path, files, live).changes
    [request] = change.requests
    assert (request.method, request.url) == ("PATCH", f"{CAPABILITIES_OF}/{MAIL_TIPS}")
    assert request.body == {"inboundAccess": {"isAllowed": False, "resourceScopes": {"included": [], "excluded": []}}}


def test_a_default_capability_leaving_the_list_is_a_plan_error_and_nothing_else_changes(tmp_path: Path) -> None:
    live = live_with({}, default=[capability(PROFILE), capability(MAIL_TIPS)])
    default = {"inboundTrust": None, "m365Capabilities": [capability(MAIL_TIPS)]}
    plan = capability_plan(tmp_path, [], live, default=default)
    assert plan.changes == ()  # not even a reset of the default: it holds the system values
    [error] = plan.errors
    assert (error.resource, error.id) == (M365_CAPABILITY.name, f"default/{PROFILE}")
    assert "Graph has no delete for the default's capabilities" in error.message
    assert "keep it in the list with inboundAccess.isAllowed: false to turn it off" in error.message
    assert error.source is not None and error.source.endswith("default.yaml:3")  # the list's own line


def test_a_default_file_of_only_capabilities_patches_the_default_rather_than_resetting_it(tmp_path: Path) -> None:
    """Its settings are the system's, as in a file of only comments, but a reset is not sent: what
    resetToSystemDefault does to the default's capabilities is not documented."""
    live = live_with({}, default=[capability(PROFILE)], inboundTrust={"isMfaAccepted": True})
    plan = capability_plan(tmp_path, [], live, default={"m365Capabilities": [capability(PROFILE)]})
    [change] = plan.changes
    assert (change.resource, change.action, [r.method for r in change.requests]) == (DEFAULT.name, "update", ["PATCH"])


def test_a_pruned_partner_s_capabilities_are_deleted_before_it(tmp_path: Path) -> None:
    live = live_with({SEED_001_TENANT: [capability(MAIL_TIPS)]})
    plan = capability_plan(tmp_path, [], live, settings="prune: true\npruneLimit: 1\n")
    deletes = {c.resource: c for c in plan.changes if c.action == "delete"}
    assert capability_changes(plan) == [("delete", "DELETE", f"{CAPABILITIES_OF}/{MAIL_TIPS}")]
    assert deletes[PARTNER.name].depends_on == (Address(M365_CAPABILITY.name, f"{SEED_001_TENANT}/{MAIL_TIPS}"),)


def test_a_new_partner_s_capabilities_are_posted_after_it(tmp_path: Path) -> None:
    files = [{"tenantId": SEED_001_TENANT, "m365Capabilities": [capability(ROOMS)]}]
    plan = capability_plan(tmp_path, files, live_with({}))
    partner, created = plan.changes
    assert (partner.resource, partner.action) == (PARTNER.name, "create")
    assert created.depends_on == (Address(PARTNER.name, SEED_001_TENANT),)
    [post] = created.requests
    assert (post.method, post.url, post.body) == ("POST", CAPABILITIES_OF, capability(ROOMS))


def test_a_type_the_token_may_not_read_is_not_planned(tmp_path: Path) -> None:
    live = live_with({SEED_001_TENANT: []}, skipped={M365_CAPABILITY.name: "Insufficient privileges"})
    files = [{"tenantId": SEED_001_TENANT, "m365Capabilities": [capability(ROOMS)], "inboundTrust": None}]
    plan = capability_plan(tmp_path, files, live, default={"m365Capabilities": []})
    assert capability_changes(plan) == [] and plan.errors == ()


def test_a_file_that_manages_none_of_its_type_s_settings_changes_nothing() -> None:
    """policy.yaml without allowedCloudEndpoints leaves the clouds as they are: its compared
    form holds no setting, so no live value differs from it."""
    address = Address(POLICY_ROOT.name, POLICY_ROOT.singleton_id or "")
    desired = Desired({address: DesiredInstance({}, "policy.yaml:1")})
    live = Live({address: {"id": address.id, "allowedCloudEndpoints": ["microsoftonline.us"]}}, (POLICY_ROOT.name,))
    assert desired_form(address, desired.instances[address]) == {}
    assert make_plan(desired, live).changes == ()
