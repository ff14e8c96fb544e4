"""xtap as a user runs it: the CLI in a subprocess, msgraph-sdk over real HTTP, the emulator as Graph."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.bad_files import BROKEN
from support.paths import REPO
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES, SEED_001_TENANT, SEED_003_TEMPLATE_BODY
from support.xtap import READ_ONLY, run_xtap, writes_served

from reconciler.emulator import Emulator, EmulatorConfig

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"


def writes(emulator: Emulator) -> list[Any]:
    return writes_served(emulator)


def test_seed_000_create_sends_exactly_the_seed_body(tmp_path: Path, emulator: Emulator) -> None:
    """End to end, as a user runs it: each `xtap` a process of its own."""
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator, subprocess=True)
    assert applied.code == 0, applied.stderr
    assert "Warning" not in applied.stderr  # it read back as written
    [post] = writes(emulator)
    assert (post.method, post.path, post.body) == ("POST", PARTNERS, SEED_000_CREATE_BODY)
    again = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator, subprocess=True)
    assert again.code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


@pytest.mark.parametrize("body", SEED_001_PATCH_BODIES, ids=lambda b: next(iter(b)))
def test_seed_001_patches_only_the_changed_property(tmp_path: Path, emulator: Emulator, body: dict) -> None:
    emulator.put_partner({"tenantId": SEED_001_TENANT})
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **body}])
    assert run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator).code == 0
    [patch] = writes(emulator)
    assert (patch.method, patch.path, patch.body) == ("PATCH", f"{PARTNERS}/{SEED_001_TENANT}", body)
    assert run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator).code == 0


def test_all_three_seed_001_changes_go_in_one_patch(tmp_path: Path, emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]})
    merged = {k: v for body in SEED_001_PATCH_BODIES for k, v in body.items()}
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **merged}])
    assert run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator).code == 0
    [patch] = writes(emulator)
    # inboundTrust already matches, so it is not sent.
    assert patch.body == {**SEED_001_PATCH_BODIES[1], **SEED_001_PATCH_BODIES[2]}


def test_removed_property_is_patched_to_explicit_null(tmp_path: Path, emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0], **SEED_001_PATCH_BODIES[1]})
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[1]}])
    assert run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator).code == 0
    [patch] = writes(emulator)
    assert patch.body == {"inboundTrust": None}
    assert emulator.partners()[SEED_001_TENANT]["inboundTrust"] is None
    assert run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator).code == 0


def test_template_is_patched_with_the_seed_body(tmp_path: Path, emulator: Emulator) -> None:
    emulator.set_template({**emulator.template(), "templateApplicationLevel": "none"})
    policies = write_policies(tmp_path / "policies", [], template=SEED_003_TEMPLATE_BODY)
    assert run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator).code == 0
    [patch] = writes(emulator)
    assert patch.path.endswith("/templates/multiTenantOrganizationPartnerConfiguration")
    assert patch.body == SEED_003_TEMPLATE_BODY
    assert run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator).code == 0


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_input_is_reported_and_nothing_is_sent(tmp_path: Path, case: str) -> None:
    """validate sends nothing. plan and apply read the tenant while the files load, so a read may
    have left; the bad file cancels the rest (the list has five slow pages here: at most the
    first is read) and nothing is ever written."""
    text, position, message = BROKEN[case]
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "broken.yaml").write_text(text)
    with Emulator(EmulatorConfig(page_size=10, latency_s=0.05)) as emulator:
        for n in range(50):
            emulator.put_partner({"tenantId": f"0b4f0a2e-1111-4222-8333-{n:012x}"})
        for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
            emulator.clear_requests()
            result = run_xtap(*command, "--policies", str(tmp_path / "policies"), emulator=emulator)
            assert result.code == 1, (command, result.stderr)
            assert f"broken.yaml{position}" in result.stderr and message in result.stderr, result.stderr
            assert "Traceback" not in result.stderr
            if command == ("validate",):
                assert emulator.requests == []
            assert all(r.method == "GET" for r in emulator.requests), command
            assert len([r for r in emulator.requests if r.path.startswith(PARTNERS)]) <= 1, command


def test_duplicate_tenant_across_files(tmp_path: Path, emulator: Emulator) -> None:
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "a.yaml").write_text(f"tenantId: {SEED_001_TENANT}\n")
    (partners / "b.yaml").write_text(f"# again\ntenantId: {SEED_001_TENANT.upper()}\n")
    result = run_xtap("plan", "--policies", str(tmp_path / "policies"), emulator=emulator)
    assert result.code == 1
    assert "b.yaml:2:11:" in result.stderr and "already declared in" in result.stderr and "a.yaml:1" in result.stderr
    assert writes(emulator) == []


def test_unmanaged_partners_are_reported_and_never_touched(tmp_path: Path, emulator: Emulator) -> None:
    other = "0b4f0a2e-1111-4222-8333-944455556666"
    emulator.put_partner({"tenantId": other, **SEED_001_PATCH_BODIES[0]})
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    shown = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
    assert {"resource": "partner", "id": other} in json.loads(shown.stdout)["unmanaged"]
    assert run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator).code == 0
    assert all(other not in r.path for r in writes(emulator))
    assert emulator.partners()[other]["inboundTrust"] == SEED_001_PATCH_BODIES[0]["inboundTrust"]


def test_plan_needs_only_read_permission_and_apply_names_the_missing_one(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    assert run_xtap("plan", "--policies", str(policies), emulator=emulator, roles=READ_ONLY).code == 0
    denied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator, roles=READ_ONLY)
    assert denied.code == 1
    assert (
        "403" in denied.stdout + denied.stderr and "Policy.ReadWrite.CrossTenantAccess" in denied.stdout + denied.stderr
    )
    assert "failed" in denied.stdout


def test_saved_plan_applies_and_a_stale_one_is_refused(tmp_path: Path, emulator: Emulator) -> None:
    """End to end, as a user runs it: each `xtap` a process of its own."""
    emulator.put_partner({"tenantId": SEED_001_TENANT})
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]}])
    plan_file = tmp_path / "plan.json"
    made = run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator, subprocess=True)
    assert made.code == 0 and json.loads(plan_file.read_text())["summary"]["update"] == 1
    emulator.put_partner({"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[1]})  # someone edits
    stale = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=emulator, subprocess=True)
    assert stale.code == 1 and "stale" in stale.stderr
    assert writes(emulator) == []
    run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator, subprocess=True)
    fresh = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=emulator, subprocess=True)
    assert fresh.code == 0, fresh.stderr
    assert [w.body for w in writes(emulator)] == [{**SEED_001_PATCH_BODIES[0], "automaticUserConsentSettings": None}]


UNMANAGED = "a1b2c3d4-0000-4000-8000-00000000f00d"


def _edit_saved_plan(data: dict[str, Any], edit: str) -> None:
    change = data["changes"][0]
    request = change["requests"][0]
    if edit == "PATCH an unmanaged partner":
        change["id"] = UNMANAGED
        request["url"] = f"/policies/crossTenantAccessPolicy/partners/{UNMANAGED}"
        data["unmanaged"] = []
    elif edit == "send isServiceProvider":
        request["body"]["isServiceProvider"] = True
    elif edit == "send a body Entra rejects":
        request["body"]["inboundTrust"] = {"isMfaAccepted": "yes"}
    elif edit == "repeat the change":
        data["changes"].append(change)
    elif edit == "smuggle in a DELETE":
        data["changes"].append({**change, "action": "delete", "requests": [{**request, "method": "DELETE"}]})
    elif edit == "another URL":
        request["url"] = "/policies/crossTenantAccessPolicy/default"


@pytest.mark.parametrize(
    "edit",
    [
        "PATCH an unmanaged partner",
        "send isServiceProvider",
        "send a body Entra rejects",
        "repeat the change",
        "smuggle in a DELETE",
        "another URL",
    ],
)
def test_an_edited_saved_plan_is_refused_with_no_write(tmp_path: Path, emulator: Emulator, edit: str) -> None:
    emulator.put_partner({"tenantId": SEED_001_TENANT})
    emulator.put_partner({"tenantId": UNMANAGED})
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]}])
    plan_file = tmp_path / "plan.json"
    assert run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator).code == 0
    data = json.loads(plan_file.read_text())
    _edit_saved_plan(data, edit)
    plan_file.write_text(json.dumps(data))
    refused = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=emulator)
    assert refused.code == 1, refused.stdout + refused.stderr
    assert "is not the plan xtap makes" in refused.stderr and "Nothing was written" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert writes(emulator) == []


def test_a_saved_plan_is_refused_once_policies_change(tmp_path: Path, emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": SEED_001_TENANT})
    policies = write_policies(tmp_path / "policies", [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[0]}])
    plan_file = tmp_path / "plan.json"
    assert run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator).code == 0
    write_policies(policies, [{"tenantId": SEED_001_TENANT, **SEED_001_PATCH_BODIES[1]}])
    refused = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=emulator)
    assert refused.code == 1 and f"its change to partner {SEED_001_TENANT} differs" in refused.stderr
    assert writes(emulator) == []


def test_apply_without_approval_outside_a_terminal_changes_nothing(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    refused = run_xtap("apply", "--policies", str(policies), emulator=emulator, stdin="yes\n")
    assert refused.code == 1 and "--auto-approve" in refused.stderr
    assert writes(emulator) == []


def test_many_pages_of_partners(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(page_size=3)) as emulator:
        tenants = [f"00000000-0000-4000-8000-{n:012d}" for n in range(10)]
        for tid in tenants:
            emulator.put_partner({"tenantId": tid})
        policies = write_policies(tmp_path / "policies", [{"tenantId": t} for t in tenants[:5]])
        result = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
        assert result.code == 0, result.stderr
        plan = json.loads(result.stdout)
        assert plan["changes"] == []  # all five found, across pages: no creates
        assert sorted(u["id"] for u in plan["unmanaged"]) == tenants[5:]
        pages = [r for r in emulator.requests if r.method == "GET" and "/partners" in r.path]
        assert len(pages) == 4  # 10 partners / 3 per page
        assert all("$expand=identitySynchronization" in r.path for r in pages)  # no GET per partner


def test_formats_are_pure_on_stdout(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    as_json = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
    data = json.loads(as_json.stdout)
    assert data["formatVersion"] == 1 and data["changes"][0]["requests"][0]["body"] == SEED_000_CREATE_BODY
    as_markdown = run_xtap("plan", "--format", "markdown", "--policies", str(policies), emulator=emulator)
    assert as_markdown.stdout.startswith("### xtap plan") and "Reading" not in as_markdown.stdout
    assert "Reading the live tenant" in as_markdown.stderr  # progress still shown, on stderr
    assert "\x1b" not in as_markdown.stdout + as_json.stdout


def test_a_foreign_token_is_refused_with_a_clear_error(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [])
    with Emulator(EmulatorConfig()) as stranger:  # signs with a key of its own
        foreign = stranger.mint_token(roles=("Policy.ReadWrite.CrossTenantAccess",))
    result = run_xtap("plan", "--policies", str(policies), emulator=emulator, token=foreign)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "401 InvalidAuthenticationToken" in result.stderr and foreign not in result.stderr + result.stdout


def test_the_emulator_command_serves_a_tenant_xtap_can_plan(tmp_path: Path) -> None:
    state = tmp_path / "tenant.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--port", "0", "--state", str(state)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        exports: dict[str, str] = {}
        while len(exports) < 2:
            line = server.stderr.readline()
            assert line, "the emulator exited before printing its URL and token"
            if match := re.search(r"export (XTAP_\w+)=(\S+)", line):
                exports[match[1]] = match[2]
        policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
        env = {**os.environ, **exports, "NO_COLOR": "1"}
        command = [sys.executable, "-m", "reconciler"]
        applied = subprocess.run(
            [*command, "apply", "--auto-approve", "--policies", str(policies)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert applied.returncode == 0, applied.stderr
        assert SEED_000_CREATE_BODY["tenantId"] in state.read_text()  # kept in the state file
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_demo_runs_end_to_end() -> None:
    demo = run_xtap("demo", cwd=REPO)
    assert demo.code == 0, demo.stderr
    assert "Demo complete" in demo.stderr and "Traceback" not in demo.stderr
    assert "inboundTrust.isMfaAccepted: false → true" in demo.stdout  # the drift is caught
    assert "Unmanaged (live, no policy file; never touched):\n  partner a1b2c3d4-" in demo.stdout


def test_blocking_all_users_without_all_applications_is_caught_offline(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "p.yaml").write_text(
        f"tenantId: {SEED_001_TENANT}\n"
        "b2bCollaborationInbound:\n"
        "  usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}\n"
        "  applications: {accessType: allowed, targets: [{target: Office365, targetType: application}]}\n"
    )
    result = run_xtap("plan", "--policies", str(tmp_path / "policies"), emulator=emulator)
    assert result.code == 1 and "p.yaml:3:" in result.stderr and "must block AllApplications" in result.stderr
    assert writes(emulator) == []


def test_partner_files_in_subfolders_are_an_error_not_silently_skipped(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [])
    (policies / "partners" / "eu").mkdir()
    (policies / "partners" / "eu" / "x.yaml").write_text(f"tenantId: {SEED_001_TENANT}\n")
    result = run_xtap("validate", "--policies", str(policies))
    assert result.code == 1 and "partners/eu:1:1:" in result.stderr and "not read" in result.stderr


def test_usage_errors_exit_1_so_2_always_means_changes(tmp_path: Path) -> None:
    assert run_xtap("plan", "--no-such-option").code == 1
    assert run_xtap("apply", str(tmp_path / "missing.json")).code == 1


def test_a_saved_plan_is_applied_only_where_it_was_planned(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    plan_file = tmp_path / "plan.json"
    assert run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator).code == 0
    with Emulator(EmulatorConfig()) as other_tenant:
        moved = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=other_tenant)
        assert moved.code == 1 and f"was planned against {emulator.base_url}" in moved.stderr
        assert other_tenant.requests == []
