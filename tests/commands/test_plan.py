"""`xtap plan` (reconciler/commands/plan.py) as a user runs it: a tenant declared twice or a rule
broken is caught before anything is sent, every page of partners is read in one listing, and
each format is pure on stdout, saying what a partner's null inherits."""

from __future__ import annotations

import json
from pathlib import Path

from support.emulator_http import BLOCK_ALL_APPS, BLOCK_ALL_USERS, TRUST
from support.emulator_http import TID as FABRIKAM
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY, SEED_001_TENANT
from support.xtap import run_xtap
from support.xtap import writes_served as writes

from reconciler.emulator import Emulator, EmulatorConfig

# What a partner's null inherits when the default is the system default.
BLOCK_DIRECT_CONNECT = {"usersAndGroups": BLOCK_ALL_USERS, "applications": BLOCK_ALL_APPS}


def test_duplicate_tenant_across_files(tmp_path: Path, emulator: Emulator) -> None:
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "a.yaml").write_text(f"tenantId: {SEED_001_TENANT}\n")
    (partners / "b.yaml").write_text(f"# again\ntenantId: {SEED_001_TENANT.upper()}\n")
    result = run_xtap("plan", "--policies", str(tmp_path / "policies"), emulator=emulator)
    assert result.code == 1
    assert "b.yaml:2:11:" in result.stderr and "already declared in" in result.stderr and "a.yaml:1" in result.stderr
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


def test_a_plan_says_what_a_null_inherits(tmp_path: Path, emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": FABRIKAM, "inboundTrust": TRUST, "b2bDirectConnectInbound": BLOCK_DIRECT_CONNECT})
    policies = write_policies(tmp_path / "policies", [{"tenantId": FABRIKAM, "inboundTrust": TRUST}])
    plan = run_xtap("plan", "--policies", str(policies), emulator=emulator)
    assert plan.code == 0, plan.stderr
    inherited = json.dumps(BLOCK_DIRECT_CONNECT)
    assert f"null (inherit default: {inherited})" in plan.stdout
    markdown = run_xtap("plan", "--format", "markdown", "--policies", str(policies), emulator=emulator).stdout
    assert "_(inherit default: `{" in markdown
