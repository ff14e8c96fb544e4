"""`xtap plan --tenants` and `xtap drift --tenants` (reconciler/commands/tenants.py): many policies
folders in one run, each with its own tenant's token, each outcome filed under its name, a tenant
that fails stopping only itself, and one exit code for all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.xtap import run_xtap
from support.xtap import writes_served as writes

from reconciler.commands.tenants import name_of, named
from reconciler.emulator import Emulator, EmulatorConfig

PARTNER = "22222222-2222-4222-8222-222222222222"
ELSEWHERE = "11111111-1111-4111-8111-111111111111"
OTHER_PARTNER = "33333333-3333-4333-8333-333333333333"


def tenant_folder(root: Path, name: str, tenant: str | None, partner: str = PARTNER) -> Path:
    policies = root / "tenants" / name / "policies"
    (policies / "partners").mkdir(parents=True)
    if tenant is not None:
        (policies / "xtap.yaml").write_text(f"tenant: {tenant}\n")
    (policies / "partners" / "p.yaml").write_text(f"tenantId: {partner}\n")
    return policies


def summary(out: Path) -> dict[str, dict[str, object]]:
    return {entry["name"]: entry for entry in json.loads((out / "tenants.json").read_text())}


def test_each_tenant_is_planned_with_its_own_token_and_filed_under_its_name(tmp_path: Path, emulator: Emulator) -> None:
    tenant_folder(tmp_path, "ours", emulator.tenant_id)
    tenant_folder(tmp_path, "theirs", ELSEWHERE)
    # Two tokens: each folder takes the one its binding names; ELSEWHERE's, minted by another
    # emulator, is refused by this one, so only "ours" can plan.
    with Emulator(EmulatorConfig(tenant_id=ELSEWHERE)) as other:
        foreign = other.mint_token()
    result = run_xtap(
        "plan", "--tenants", "tenants/*/policies", "--out-dir", "out", "--format", "markdown",
        "--detailed-exitcode", emulator=emulator, cwd=tmp_path,
        token=f"{emulator.mint_token()} {foreign}",
    )  # fmt: skip
    assert result.code == 1, result.stderr  # one tenant failed: the run fails, the other is still planned
    out = tmp_path / "out"
    assert summary(out) == {
        "ours": {"name": "ours", "policies": "tenants/ours/policies", "tenant": emulator.tenant_id,
                 "status": "changes", "exit": 2},
        "theirs": {"name": "theirs", "policies": "tenants/theirs/policies", "tenant": ELSEWHERE,
                   "status": "error", "exit": 1},
    }  # fmt: skip
    plan = json.loads((out / "ours" / "plan.json").read_text())
    assert [change["action"] for change in plan["changes"]] == ["create"]
    assert PARTNER in (out / "ours" / "report.md").read_text()
    assert not (out / "theirs" / "plan.json").exists()
    assert "| ours | changes |" in result.stdout and "| theirs | error |" in result.stdout
    # Each line on stderr says whose it is.
    assert "[theirs] Error: " in result.stderr and "401" in result.stderr
    assert "[ours] Read partner: 0" in result.stderr
    assert all(request.method == "GET" or request.path.endswith("$batch") for request in emulator.requests)


def test_the_saved_plans_of_many_are_applied_and_the_next_plan_is_clean(tmp_path: Path, emulator: Emulator) -> None:
    tenant_folder(tmp_path, "ours", emulator.tenant_id)
    planned = run_xtap("plan", "--tenants", "tenants/*/policies", "--out-dir", "out", emulator=emulator, cwd=tmp_path)
    assert planned.code == 0, planned.stderr
    refused = run_xtap("apply", "--tenants", "tenants/*/policies", "--out-dir", "out", emulator=emulator, cwd=tmp_path)
    assert refused.code == 1 and "add --auto-approve" in refused.stderr
    assert writes(emulator) == []
    applied = run_xtap(
        "apply", "--tenants", "tenants/*/policies", "--out-dir", "out", "--auto-approve",
        emulator=emulator, cwd=tmp_path,
    )  # fmt: skip
    assert applied.code == 0, applied.stderr
    assert summary(tmp_path / "out")["ours"]["status"] == "applied"
    assert "1 applied, 0 failed, 0 skipped" in (tmp_path / "out" / "ours" / "apply.txt").read_text()
    assert list(emulator.partners()) == [PARTNER]
    again = run_xtap(
        "plan", "--tenants", "tenants/*/policies", "--out-dir", "out", "--detailed-exitcode",
        emulator=emulator, cwd=tmp_path,
    )  # fmt: skip
    assert again.code == 0, again.stderr
    assert summary(tmp_path / "out")["ours"]["status"] == "no-changes"


def test_a_tenant_without_a_saved_plan_gets_no_write(tmp_path: Path, emulator: Emulator) -> None:
    tenant_folder(tmp_path, "ours", emulator.tenant_id)
    result = run_xtap(
        "apply", "--tenants", "tenants/*/policies", "--out-dir", "out", "--auto-approve",
        emulator=emulator, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1
    assert "[ours] Error: no saved plan to apply" in result.stderr
    assert emulator.requests == []


def test_two_tenants_behind_one_graph_each_read_and_written_with_its_own_token(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(tenants=(ELSEWHERE,))) as emulator:
        tenant_folder(tmp_path, "ours", emulator.tenant_id)
        tenant_folder(tmp_path, "theirs", ELSEWHERE, partner=OTHER_PARTNER)
        # Many tenants' tokens outgrow one environment variable: they come in a file.
        tokens = tmp_path / "tokens"
        tokens.write_text(f"{emulator.mint_token()}\n{emulator.mint_token(tenant=ELSEWHERE)}\n")
        in_file = {"XTAP_ACCESS_TOKEN": None, "XTAP_ACCESS_TOKEN_FILE": str(tokens)}
        for command in (["plan"], ["apply", "--auto-approve"]):
            result = run_xtap(
                *command, "--tenants", "tenants/*/policies", "--out-dir", "out", emulator=emulator, cwd=tmp_path,
                extra_env=in_file,
            )  # fmt: skip
            assert result.code == 0, result.stderr
        assert list(emulator.partners()) == [PARTNER]
        assert list(emulator.tenant(ELSEWHERE).partners()) == [OTHER_PARTNER]
        served = {request.tenant for request in emulator.requests}
        assert served == {emulator.tenant_id, ELSEWHERE}


def test_a_folder_that_binds_no_tenant_is_refused_before_any_request(tmp_path: Path, emulator: Emulator) -> None:
    tenant_folder(tmp_path, "unbound", None)
    result = run_xtap(
        "plan", "--tenants", "tenants/unbound/policies", "--out-dir", "out", emulator=emulator, cwd=tmp_path
    )
    assert result.code == 1
    assert "xtap.yaml: binds no tenant; with --tenants every folder names its tenant" in result.stderr
    assert emulator.requests == []


def test_drift_of_many_exits_2_when_one_drifts(tmp_path: Path, emulator: Emulator) -> None:
    tenant_folder(tmp_path, "ours", emulator.tenant_id)
    result = run_xtap(
        "drift", "--tenants", "tenants/ours/policies", "--out-dir", "out", emulator=emulator, cwd=tmp_path
    )
    assert result.code == 2, result.stderr
    assert summary(tmp_path / "out")["ours"]["status"] == "drift"
    assert PARTNER in (tmp_path / "out" / "ours" / "report.txt").read_text()
    assert result.stdout.split() == ["ours", "drift", "tenants/ours/policies"]


def test_base_dir_gives_each_folder_its_base(tmp_path: Path, emulator: Emulator) -> None:
    ours = tenant_folder(tmp_path, "ours", emulator.tenant_id)
    (ours / "xtap.yaml").write_text(f"tenant: {emulator.tenant_id}\nprune: true\n")
    tenant_folder(tmp_path / "base", "ours", emulator.tenant_id)
    result = run_xtap(
        "plan", "--tenants", "tenants/ours/policies", "--out-dir", "out", "--base-dir", "base", "--format", "json",
        emulator=emulator, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = json.loads((tmp_path / "out" / "ours" / "report.json").read_text())
    assert [change["name"] for change in report["settingsChanges"]] == ["prune"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenants", "tenants/*/policies"], "--tenants needs --out-dir DIR"),
        (["--out-dir", "out"], "--out-dir goes with --tenants"),
        (["--parallel", "4"], "--parallel goes with --tenants"),
        (["--base-dir", "base"], "--base-dir goes with --tenants"),
        (["--tenants", "tenants/*/policies", "--out-dir", "o", "--out", "p.json"], "--out cannot go with --tenants"),
        (["--tenants", "t", "--out-dir", "o", "--policies", "p"], "--policies cannot go with --tenants"),
        (["--tenants", "nowhere/*/policies", "--out-dir", "o"], "'nowhere/*/policies' names no folder"),
    ],
)
def test_options_that_do_not_go_together_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_xtap("plan", *args, cwd=tmp_path)
    assert result.code == 1
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"XTAP_ACCESS_TOKEN_FILE": "missing"}, "XTAP_ACCESS_TOKEN_FILE: cannot read 'missing'"),
        ({"XTAP_ACCESS_TOKEN_FILE": "empty"}, "XTAP_ACCESS_TOKEN_FILE: 'empty' is empty"),
        ({"XTAP_ACCESS_TOKEN_FILE": "empty", "XTAP_ACCESS_TOKEN": "t"}, "or XTAP_ACCESS_TOKEN_FILE, not both"),
    ],
)
def test_a_token_file_that_cannot_serve_is_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    (tmp_path / "empty").write_text("\n")
    result = run_xtap("plan", cwd=tmp_path, extra_env={"XTAP_ACCESS_TOKEN": None, **env})
    assert result.code == 1
    assert message in result.stderr


def test_two_folders_of_one_name_are_refused(tmp_path: Path) -> None:
    for root in ("a", "b"):
        tenant_folder(tmp_path / root, "same", ELSEWHERE)
    assert named([str(tmp_path / "a/tenants/same/policies"), str(tmp_path / "b/tenants/same/policies")]) is None


def test_two_folders_bound_to_one_tenant_are_refused_before_any_request(tmp_path: Path, emulator: Emulator) -> None:
    for name in ("one", "two"):
        tenant_folder(tmp_path, name, emulator.tenant_id)
    result = run_xtap("plan", "--tenants", "tenants/*/policies", "--out-dir", "out", emulator=emulator, cwd=tmp_path)
    assert result.code == 1
    assert f"tenants/one/policies and tenants/two/policies both bind tenant {emulator.tenant_id}" in result.stderr
    assert emulator.requests == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("folder", "name"),
    [("tenants/contoso/policies", "contoso"), ("policies", "default"), ("customers/fabrikam", "fabrikam")],
)
def test_a_folder_is_named_as_the_workflows_name_it(folder: str, name: str) -> None:
    assert name_of(Path(folder)) == name
