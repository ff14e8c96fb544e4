"""Identity sync, the tenant default and both MTO templates as a user meets them: `xtap` in a
subprocess, msgraph-sdk over real HTTP, the emulator as Graph, and the exact requests it served.

One file across commands on purpose: each resource type is followed end to end (plan, apply,
show, a saved plan), so a type's whole story reads in one place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.policy_files import write_policies
from support.seeds import (
    DEFAULT_PATCH_BODIES,
    POLICY_PATCH_BODY,
    SEED_000_CREATE_BODY,
    SEED_001_PATCH_BODIES,
    SEED_001_TENANT,
    SYNC_PUT_BODY,
    SYNC_TEMPLATE_BODY,
    SYNC_UPDATE_BODY,
)
from support.xtap import run_xtap, writes_served

from reconciler.emulator import Emulator, EmulatorConfig

POLICY = "/v1.0/policies/crossTenantAccessPolicy"
PARTNER = f"{POLICY}/partners/{SEED_001_TENANT}"
SYNC = f"{PARTNER}/identitySynchronization"
DEFAULT = f"{POLICY}/default"
TEMPLATES = f"{POLICY}/templates"
TENANT_RESTRICTIONS = SEED_001_PATCH_BODIES[2]
ALL_TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": True, "isHybridAzureADJoinedDeviceAccepted": True}
NO_TRUST = dict.fromkeys(ALL_TRUST, False)

Write = tuple[str, str, Any, int]


def writes(emulator: Emulator) -> list[Write]:
    """What xtap asked Graph to change, in the order the emulator answered, with its status."""
    return [(r.method, r.path, r.body, r.status) for r in writes_served(emulator)]


def apply(policies: Path, emulator: Emulator) -> None:
    applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Warning" not in applied.stderr  # what was written read back as written


def assert_clean(policies: Path, emulator: Emulator) -> None:
    again = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator)
    assert again.code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def singleton_file(policies: Path, name: str, text: str) -> Path:
    policies.mkdir(parents=True, exist_ok=True)
    (policies / name).write_text(text)
    return policies


def planted_partner(emulator: Emulator, sync: dict[str, Any] | None = None, **settings: Any) -> None:
    """A partner as the tenant holds it (with its identity sync policy, if any)."""
    emulator.put_partner({"tenantId": SEED_001_TENANT, **settings})
    if sync is not None:
        emulator.put_identity_sync(SEED_001_TENANT, {"tenantId": SEED_001_TENANT, **sync})


# --- identity synchronization ---------------------------------------------------------------------


@pytest.mark.parametrize("sync_put_replaces", [False, True], ids=["put-on-existing-409s", "put-replaces"])
def test_a_new_partner_is_posted_then_patched_then_its_sync_put(tmp_path: Path, sync_put_replaces: bool) -> None:
    tenant = SEED_000_CREATE_BODY["tenantId"]
    partner = {**SEED_000_CREATE_BODY, **TENANT_RESTRICTIONS, "identitySynchronization": SYNC_PUT_BODY}
    policies = write_policies(tmp_path / "policies", [partner])
    with Emulator(EmulatorConfig(sync_put_replaces=sync_put_replaces)) as emulator:
        apply(policies, emulator)
        # The POST carries the create properties only (Graph's create example exactly);
        # tenantRestrictions, documented on update only, follows as a PATCH; the sync policy waits
        # for its partner.
        assert writes(emulator) == [
            ("POST", f"{POLICY}/partners", SEED_000_CREATE_BODY, 201),
            ("PATCH", f"{POLICY}/partners/{tenant}", TENANT_RESTRICTIONS, 204),
            ("PUT", f"{POLICY}/partners/{tenant}/identitySynchronization", SYNC_PUT_BODY, 204),
        ]
        assert_clean(policies, emulator)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (EmulatorConfig(), [("PATCH", SYNC, SYNC_UPDATE_BODY, 204)]),
        (
            EmulatorConfig(sync_patch=False, sync_put_replaces=True),
            # A 405 is answered before the body is read, so the emulator records no body for it.
            [("PATCH", SYNC, None, 405), ("PUT", SYNC, SYNC_PUT_BODY, 204)],
        ),
    ],
    ids=["patch", "patch-405-then-put"],
)
def test_a_changed_sync_is_patched_or_put_where_graph_refuses_the_patch(
    tmp_path: Path, config: EmulatorConfig, expected: list[Write]
) -> None:
    policies = write_policies(
        tmp_path / "policies", [{"tenantId": SEED_001_TENANT, "identitySynchronization": SYNC_PUT_BODY}]
    )
    with Emulator(config) as emulator:
        planted_partner(emulator, sync={**SYNC_PUT_BODY, "userSyncInbound": {"isSyncAllowed": False}})
        apply(policies, emulator)
        assert writes(emulator) == expected  # only the changed member; a PUT needs the whole policy
        assert emulator.identity_sync(SEED_001_TENANT) == {"tenantId": SEED_001_TENANT, **SYNC_PUT_BODY}
        assert_clean(policies, emulator)


def test_a_sync_added_for_an_existing_partner_is_put_alone(tmp_path: Path, emulator: Emulator) -> None:
    planted_partner(emulator)
    policies = write_policies(
        tmp_path / "policies", [{"tenantId": SEED_001_TENANT, "identitySynchronization": SYNC_PUT_BODY}]
    )
    apply(policies, emulator)
    assert writes(emulator) == [("PUT", SYNC, SYNC_PUT_BODY, 204)]
    assert_clean(policies, emulator)


def test_a_sync_removed_from_its_file_is_deleted_and_its_partner_kept(tmp_path: Path, emulator: Emulator) -> None:
    planted_partner(emulator, sync=SYNC_PUT_BODY, **SEED_001_PATCH_BODIES[0])
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]}])
    apply(policies, emulator)
    assert writes(emulator) == [("DELETE", SYNC, None, 204)]
    assert SEED_001_TENANT in emulator.partners() and emulator.identity_sync(SEED_001_TENANT) is None
    assert_clean(policies, emulator)


def test_a_partner_without_a_file_keeps_its_sync_untouched(tmp_path: Path, emulator: Emulator) -> None:
    planted_partner(emulator, sync=SYNC_PUT_BODY)
    policies = write_policies(tmp_path / "policies", [])
    shown = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
    assert shown.code == 0, shown.stderr
    plan = json.loads(shown.stdout)
    assert plan["changes"] == [] and plan["unmanaged"] == [{"resource": "partner", "id": SEED_001_TENANT}]
    apply(policies, emulator)
    assert writes(emulator) == []


# --- the tenant default ---------------------------------------------------------------------------


def _everyone(access: str) -> dict[str, Any]:
    return {
        "usersAndGroups": {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]},
    }


@pytest.mark.parametrize("name", sorted(DEFAULT_PATCH_BODIES))
def test_the_defaults_documented_bodies_go_out_verbatim(tmp_path: Path, emulator: Emulator, name: str) -> None:
    body = DEFAULT_PATCH_BODIES[name]
    policies = singleton_file(tmp_path / "policies", "default.yaml", json.dumps(body, indent=2))
    apply(policies, emulator)
    assert writes(emulator) == [("PATCH", DEFAULT, body, 204)]
    assert emulator.default()["isServiceDefault"] is False
    assert_clean(policies, emulator)


def test_the_default_file_sets_absent_documented_properties_to_system_values(
    tmp_path: Path, emulator: Emulator
) -> None:
    """The file is the whole truth where Microsoft documents a system value; where it documents
    none (tenantRestrictions), an absent property is left as the tenant has it."""
    restrictions = {
        "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {"accessType": "allowed", "targets": [{"target": "Office365", "targetType": "application"}]},
    }
    customised = {"inboundTrust": ALL_TRUST, "b2bDirectConnectInbound": _everyone("allowed")}
    emulator.set_default(
        {**emulator.default(), **customised, "tenantRestrictions": restrictions, "isServiceDefault": False}
    )
    body = DEFAULT_PATCH_BODIES["block a group's outbound B2B"]
    policies = singleton_file(tmp_path / "policies", "default.yaml", json.dumps(body, indent=2))
    apply(policies, emulator)
    [(method, path, sent, status)] = writes(emulator)
    assert (method, path, status) == ("PATCH", DEFAULT, 204)
    assert sent == {**body, "inboundTrust": NO_TRUST, "b2bDirectConnectInbound": _everyone("blocked")}
    assert emulator.default()["tenantRestrictions"] == restrictions
    assert_clean(policies, emulator)


# --- resets: a file with only comments declares the unconfigured state -----------------------------


def _customise_default(emulator: Emulator) -> None:
    emulator.set_default({**emulator.default(), "inboundTrust": ALL_TRUST, "isServiceDefault": False})


def _customise_template(emulator: Emulator) -> None:
    emulator.set_template({**emulator.template(), "inboundTrust": ALL_TRUST})


def _customise_sync_template(emulator: Emulator) -> None:
    emulator.set_sync_template({**emulator.sync_template(), "userSyncInbound": {"isSyncAllowed": True}})


RESETS: dict[str, tuple[Callable[[Emulator], None], str]] = {
    "default.yaml": (_customise_default, f"{DEFAULT}/resetToSystemDefault"),
    "mto-partner-template.yaml": (
        _customise_template,
        f"{TEMPLATES}/multiTenantOrganizationPartnerConfiguration/resetToDefaultSettings",
    ),
    "mto-identity-sync-template.yaml": (
        _customise_sync_template,
        f"{TEMPLATES}/multiTenantOrganizationIdentitySynchronization/resetToDefaultSettings",
    ),
}


@pytest.mark.parametrize("file", sorted(RESETS))
def test_a_file_of_comments_resets_what_was_customised(tmp_path: Path, emulator: Emulator, file: str) -> None:
    customise, reset_url = RESETS[file]
    policies = singleton_file(tmp_path / "policies", file, "# the unconfigured state: nothing customised\n")
    assert_clean(policies, emulator)  # already in that state: nothing to do
    customise(emulator)
    apply(policies, emulator)
    assert writes(emulator) == [("POST", reset_url, None, 204)]
    assert_clean(policies, emulator)


def test_the_reset_makes_the_default_the_service_default_again(tmp_path: Path, emulator: Emulator) -> None:
    body = DEFAULT_PATCH_BODIES["block a group's outbound B2B"]
    policies = singleton_file(tmp_path / "policies", "default.yaml", json.dumps(body))
    apply(policies, emulator)
    singleton_file(policies, "default.yaml", "# back to the system default\n")
    apply(policies, emulator)
    assert [(method, path) for method, path, _, _ in writes(emulator)] == [
        ("PATCH", DEFAULT),
        ("POST", f"{DEFAULT}/resetToSystemDefault"),
    ]
    assert emulator.default()["isServiceDefault"] is True
    assert emulator.default()["b2bCollaborationOutbound"] == _everyone("allowed")


def test_the_sync_templates_documented_body_goes_out_verbatim(tmp_path: Path, emulator: Emulator) -> None:
    emulator.set_sync_template({**emulator.sync_template(), "templateApplicationLevel": "none"})
    policies = singleton_file(tmp_path / "policies", "mto-identity-sync-template.yaml", json.dumps(SYNC_TEMPLATE_BODY))
    apply(policies, emulator)
    url = f"{TEMPLATES}/multiTenantOrganizationIdentitySynchronization"
    assert writes(emulator) == [("PATCH", url, SYNC_TEMPLATE_BODY, 204)]
    assert_clean(policies, emulator)


# --- isServiceProvider: managed only where a file writes it ----------------------------------------


def test_a_gdap_partner_whose_file_omits_is_service_provider_is_not_written_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    planted_partner(emulator, isServiceProvider=True)
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]}])
    apply(policies, emulator)
    assert writes(emulator) == [("PATCH", PARTNER, SEED_001_PATCH_BODIES[0], 204)]
    assert emulator.partners()[SEED_001_TENANT]["isServiceProvider"] is True
    assert_clean(policies, emulator)


def test_a_file_contradicting_is_service_provider_is_an_error_for_that_partner(
    tmp_path: Path, emulator: Emulator
) -> None:
    planted_partner(emulator, isServiceProvider=True)
    gdap = {"tenantId": SEED_001_TENANT, "isServiceProvider": False, **SEED_001_PATCH_BODIES[0]}
    policies = write_policies(tmp_path / "policies", [gdap, SEED_000_CREATE_BODY])
    planned = run_xtap("plan", "--policies", str(policies), emulator=emulator)
    assert planned.code == 1 and "Traceback" not in planned.stderr
    source = f"{policies}/partners/{SEED_001_TENANT}.yaml:2"
    assert f"Error: {source}: partner {SEED_001_TENANT}: isServiceProvider is true in the tenant but false" in (
        planned.stderr
    )
    # The rest of the plan is still computed and shown, the error beside it.
    assert f"+ partner {SEED_000_CREATE_BODY['tenantId']}" in planned.stdout
    assert f"partner {SEED_001_TENANT} ({source}): isServiceProvider is true" in planned.stdout
    refused = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
    assert refused.code == 1 and "nothing can be applied until they are fixed" in refused.stderr
    assert writes(emulator) == []


# --- what a partner's null inherits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("default_file", "inherited"),
    [(None, NO_TRUST), ({"inboundTrust": {**NO_TRUST, "isMfaAccepted": True}}, {**NO_TRUST, "isMfaAccepted": True})],
    ids=["live default", "declared default"],
)
def test_a_partners_null_shows_what_it_inherits_from_the_default(
    tmp_path: Path, emulator: Emulator, default_file: dict[str, Any] | None, inherited: dict[str, bool]
) -> None:
    """The value is the default's as declared in default.yaml (what it will be after this
    apply), else as read from the tenant."""
    planted_partner(emulator, inboundTrust=ALL_TRUST)
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT}])
    if default_file is not None:
        singleton_file(policies, "default.yaml", json.dumps(default_file))
    shown = run_xtap("plan", "--policies", str(policies), emulator=emulator)
    assert shown.code == 0, shown.stderr
    assert f"after: null (inherit default: {json.dumps(inherited)})" in shown.stdout, shown.stdout


# --- a saved plan ---------------------------------------------------------------------------------


def test_a_saved_plan_of_every_new_type_applies_as_planned(tmp_path: Path, emulator: Emulator) -> None:
    """The saved-plan check rebuilds each change's requests the way the planner did: a create
    that becomes three requests, a PATCH and a reset all pass it and go out as planned."""
    _customise_template(emulator)
    partner = {**SEED_000_CREATE_BODY, **TENANT_RESTRICTIONS, "identitySynchronization": SYNC_PUT_BODY}
    policies = write_policies(tmp_path / "policies", [partner])
    singleton_file(policies, "default.yaml", json.dumps(DEFAULT_PATCH_BODIES["block a group's outbound B2B"]))
    singleton_file(policies, "mto-partner-template.yaml", "# unconfigured\n")
    plan_file = tmp_path / "plan.json"
    assert run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator).code == 0
    planned = [
        (request["method"], f"/v1.0{request['url']}", request.get("body"))
        for change in json.loads(plan_file.read_text())["changes"]
        for request in change["requests"]
    ]
    applied = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=emulator)
    assert applied.code == 0, applied.stdout + applied.stderr
    # Independent writes share a batch, whose items Graph runs in any order.
    sent = [(method, path, body) for method, path, body, _ in writes(emulator)]
    assert sorted(sent, key=repr) == sorted(planned, key=repr)
    assert [method for method, _, _ in planned] == ["POST", "PATCH", "PUT", "PATCH", "POST"]
    assert_clean(policies, emulator)


# --- the policy itself (policy.yaml) --------------------------------------------------------------

# The update page's v1.0 example, verbatim, is support.seeds.POLICY_PATCH_BODY:
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-update


def test_the_policys_documented_body_goes_out_verbatim_and_converges(tmp_path: Path, emulator: Emulator) -> None:
    policies = singleton_file(tmp_path / "policies", "policy.yaml", json.dumps(POLICY_PATCH_BODY))
    apply(policies, emulator)
    assert writes(emulator) == [("PATCH", POLICY, POLICY_PATCH_BODY, 204)]
    assert_clean(policies, emulator)


def test_the_clouds_are_a_set_written_whole_and_none_is_an_empty_list(tmp_path: Path, emulator: Emulator) -> None:
    both = ["partner.microsoftonline.cn", "microsoftonline.us"]
    policies = singleton_file(tmp_path / "policies", "policy.yaml", f"allowedCloudEndpoints: {json.dumps(both)}\n")
    apply(policies, emulator)
    reordered = singleton_file(policies, "policy.yaml", f"allowedCloudEndpoints: {json.dumps(both[::-1])}\n")
    assert_clean(reordered, emulator)  # the order is not a difference
    none = singleton_file(policies, "policy.yaml", "allowedCloudEndpoints: []\n")
    apply(none, emulator)
    assert writes(emulator)[-1] == ("PATCH", POLICY, {"allowedCloudEndpoints": []}, 204)  # never null
    assert_clean(none, emulator)


def test_a_policy_file_without_the_key_leaves_the_clouds_alone(tmp_path: Path, emulator: Emulator) -> None:
    policies = singleton_file(tmp_path / "policies", "policy.yaml", json.dumps(POLICY_PATCH_BODY))
    apply(policies, emulator)
    unmanaged = singleton_file(policies, "policy.yaml", "# the clouds are set in the portal\n")
    assert_clean(unmanaged, emulator)
