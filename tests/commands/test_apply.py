"""`xtap apply` (reconciler/commands/apply.py) as a user runs it: the exact requests it sends for the
documented seed bodies, only what changed and explicit nulls, the permission it needs, the
confirmation it asks for, and a saved plan applied only as planned, where planned and while fresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES, SEED_001_TENANT, SEED_003_TEMPLATE_BODY
from support.xtap import READ_ONLY, run_xtap
from support.xtap import writes_served as writes

from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph import batch

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"


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
    # The token says what it holds, so apply refuses before any write rather than meet Graph's 403.
    assert "whose writes need Policy.ReadWrite.CrossTenantAccess, which the token lacks" in denied.stderr
    assert writes(emulator) == []


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


def test_a_saved_plan_is_applied_only_where_it_was_planned(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    plan_file = tmp_path / "plan.json"
    assert run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator).code == 0
    with Emulator(EmulatorConfig()) as other_tenant:
        moved = run_xtap("apply", str(plan_file), "--policies", str(policies), emulator=other_tenant)
        assert moved.code == 1 and f"was planned against {emulator.base_url}" in moved.stderr
        assert other_tenant.requests == []


def test_auto_approve_imports_the_sdk_while_the_pages_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK the writes go through is imported once the first page is in and the second asked
    for, not before (the first request would wait for it) nor after the plan (the first write
    would)."""
    seen: list[tuple[int, int]] = []  # at the import: pages Graph had served, writes it had taken
    tenants = [f"{n:08}-0000-4000-8000-000000000000" for n in range(1, 4)]
    # Pages a round trip apart, as Graph's are: without one, the whole read may be over before
    # apply looks at the requests sent (every 10 ms), and the first write imports the SDK.
    with Emulator(EmulatorConfig(page_size=1, latency_s=0.1)) as emulator:

        def load_sdk() -> None:
            pages = [r for r in emulator.requests if r.method == "GET" and r.path.startswith(PARTNERS)]
            seen.append((len(pages), len(writes(emulator))))

        monkeypatch.setattr(batch, "load_sdk", load_sdk)
        for tenant in tenants:
            emulator.put_partner({"tenantId": tenant})
        policies = write_policies(tmp_path / "policies", [{"tenantId": t, **SEED_001_PATCH_BODIES[0]} for t in tenants])
        applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
        assert applied.code == 0, applied.stdout + applied.stderr
        assert len(writes(emulator)) == 3
    [(pages, written)] = seen
    assert pages >= 1 and written == 0
