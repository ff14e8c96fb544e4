"""The GitHub workflows: their security properties, their linters, and every step that runs xtap
or the tenant matrix, run as a runner runs it (bash -eo pipefail, GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY pointing at files) against the emulator.

Steps are read from the YAML, never copied here, so a test cannot pass against a command line
the workflow no longer runs. azure/login is the one step that cannot run here: the emulator's
token in XTAP_ACCESS_TOKEN stands in for the identity it provides."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import READ_ONLY
from policy_files import write_policies
from ruamel.yaml import YAML
from seeds import SEED_000_CREATE_BODY

from reconciler.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
TENANTS_SCRIPT = ROOT / ".github" / "tenants.sh"
# Where pip put xtap and the linters: the runner finds them on PATH after `pip install`.
VENV_BIN = Path(sys.executable).parent
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
# What the expressions in a step's or job's `env:` evaluate to on a runner, for the steps run here.
RUN_URL = "https://github.com/octo/xtap/actions/runs/1"
EXPRESSIONS = {
    "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}": RUN_URL,
}


def workflow(name: str) -> dict[str, Any]:
    # YAML 1.2, as GitHub reads it: `on` is a string key, not the boolean true.
    loaded: dict[str, Any] = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    return loaded


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: workflow(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def step(workflow_name: str, job: str, step_id: str) -> dict[str, Any]:
    [found] = [s for s in workflow(workflow_name)["jobs"][job]["steps"] if s.get("id") == step_id]
    return found


def uses_azure_login(job: dict[str, Any]) -> bool:
    return any(s.get("uses", "").startswith("azure/login@") for s in job["steps"])


@dataclass
class StepRun:
    code: int
    log: str
    outputs: str
    summary: str


def run_step(
    workflow_name: str,
    job: str,
    step_id: str,
    cwd: Path,
    emulator: Emulator | None = None,
    token: str | None = None,
    policies: Path | None = None,
) -> StepRun:
    """One step's `run:` script as a runner runs it with `shell: bash`, in the job's and the
    step's environment, with the azure/login identity replaced by an emulator token. The script
    and the runner's files live outside `cwd`, as on a runner, so no diff ever sees them."""
    flow = workflow(workflow_name)
    assert flow["defaults"]["run"]["shell"] == "bash"  # so the runner adds -eo pipefail, as here
    declared = {**flow["jobs"][job].get("env", {}), **step(workflow_name, job, step_id).get("env", {})}
    expressions = {**EXPRESSIONS, "${{ matrix.tenant.policies }}": str(policies)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_", "GITHUB_"))}
    env.update({name: expressions.get(value, value) for name, value in declared.items()})
    assert not [v for v in env.values() if "${{" in v], f"an expression this test cannot evaluate: {declared}"
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    if emulator is not None:
        env.update(XTAP_GRAPH_URL=emulator.base_url, XTAP_ACCESS_TOKEN=token or emulator.mint_token(name="workflow"))
    with tempfile.TemporaryDirectory() as runner_temp:
        output, summary, script = (Path(runner_temp) / name for name in ("output", "summary", "step.sh"))
        output.write_text("")
        summary.write_text("")
        env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
        script.write_text(step(workflow_name, job, step_id)["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        return StepRun(done.returncode, done.stdout + done.stderr, output.read_text(), summary.read_text())


# -- security properties ----------------------------------------------------------------------


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version() -> None:
    lines = [line for path in WORKFLOWS.glob("*.yml") for line in path.read_text().splitlines() if "uses:" in line]
    assert lines
    pinned = re.compile(r"^\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    assert [line for line in lines if not pinned.match(line)] == []


def test_no_checkout_leaves_the_token_in_git_config() -> None:
    checkouts = [
        s
        for flow in all_workflows().values()
        for job in flow["jobs"].values()
        for s in job["steps"]
        if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) == 8
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_no_workflow_runs_on_pull_request_target_and_none_grants_by_default() -> None:
    for name, flow in all_workflows().items():
        assert "pull_request_target" not in flow["on"], name
        assert flow["permissions"] == {}, name  # every job names what it needs


# Each job's whole grant. A job that runs azure/login needs id-token: write and nothing that
# writes to the repository; the token that can comment or file issues never meets an Azure identity.
PERMISSIONS = {
    ("plan.yml", "tenants"): {"contents": "read"},
    # security-events: code scanning takes check's SARIF; it cannot touch the repository's contents.
    ("plan.yml", "plan"): {"contents": "read", "id-token": "write", "security-events": "write"},
    ("plan.yml", "comment"): {"pull-requests": "write"},
    ("apply.yml", "tenants"): {"contents": "read"},
    ("apply.yml", "apply"): {"contents": "read", "id-token": "write"},
    ("drift.yml", "tenants"): {"contents": "read"},
    ("drift.yml", "drift"): {"contents": "read", "id-token": "write"},
    ("drift.yml", "issue"): {"issues": "write"},
    ("ci.yml", "test"): {"contents": "read"},
    ("ci.yml", "workflows"): {"contents": "read"},
}


def test_each_job_has_the_least_permissions_it_needs() -> None:
    jobs = {(name, job_id): job for name, flow in all_workflows().items() for job_id, job in flow["jobs"].items()}
    assert {key: job["permissions"] for key, job in jobs.items()} == PERMISSIONS
    for key, job in jobs.items():
        assert uses_azure_login(job) == (job["permissions"].get("id-token") == "write"), key


def test_a_fork_pull_request_gets_no_azure_identity_nor_a_comment() -> None:
    jobs = workflow("plan.yml")["jobs"]
    guarded = [
        s for s in jobs["plan"]["steps"] if s.get("uses", "").startswith("azure/login@") or s.get("id") == "plan"
    ]
    assert len(guarded) == 2
    assert all(s["if"] == FORK_GUARD for s in guarded)
    assert FORK_GUARD in jobs["comment"]["if"]


def test_applies_to_a_tenant_never_overlap_and_wait_for_the_environment() -> None:
    apply = workflow("apply.yml")["jobs"]["apply"]
    assert apply["environment"] == "tenant-apply"
    assert apply["concurrency"] == {"group": "xtap-apply-${{ matrix.tenant.name }}", "cancel-in-progress": False}
    assert workflow("apply.yml")["on"]["push"]["branches"] == ["main"]


def test_the_workflows_pass_the_schema_actionlint_and_zizmor() -> None:
    # The lint step of ci.yml, run on this checkout: the same tools, options and files as in CI.
    missing = [
        tool for tool in ("check-jsonschema", "zizmor", "actionlint", "shellcheck") if not (VENV_BIN / tool).exists()
    ]
    assert not missing, f"{missing}: pip install -e '.[test]'"
    linted = run_step("ci.yml", "workflows", "lint", ROOT)
    assert linted.code == 0, linted.log
    assert "No findings to report" in linted.log


# -- the steps that run xtap, against the emulator ------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository's working tree with one partner to create."""
    write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    return tmp_path


def test_pull_request_plan_with_changes_passes_and_fills_the_summary(checkout: Path, emulator: Emulator) -> None:
    policies = checkout / "policies"
    assert run_step("plan.yml", "plan", "validate", checkout, emulator, policies=policies).code == 0
    planned = run_step("plan.yml", "plan", "plan", checkout, emulator, policies=policies)
    assert planned.code == 0, planned.log  # changes are for review, not a failed check
    assert planned.outputs == "changes=true\n"
    assert planned.summary.startswith("### xtap plan")
    assert SEED_000_CREATE_BODY["tenantId"] in planned.summary
    assert (checkout / "plan.md").read_text() == planned.summary
    assert json.loads((checkout / "plan.json").read_text())["summary"]["create"] == 1
    assert [r.method for r in emulator.requests] == ["GET"] * len(emulator.requests)


def test_the_check_step_writes_sarif_and_fails_on_an_error(checkout: Path) -> None:
    policies = checkout / "policies"
    passed = run_step("plan.yml", "plan", "check", checkout, policies=policies)
    assert passed.code == 0, passed.log
    assert json.loads((checkout / "check.sarif").read_text())["runs"][0]["results"] == []
    trusting = {**SEED_000_CREATE_BODY, "inboundTrust": {"isMfaAccepted": True}}
    (policies / "partners" / f"{trusting['tenantId']}.yaml").write_text(json.dumps(trusting))
    failed = run_step("plan.yml", "plan", "check", checkout, policies=policies)
    assert failed.code == 1
    (result,) = json.loads((checkout / "check.sarif").read_text())["runs"][0]["results"]
    assert result["ruleId"] == "inbound-trust-only-trusted"


def test_invalid_policies_fail_the_check_before_any_request(checkout: Path, emulator: Emulator) -> None:
    (checkout / "policies" / "partners" / "bad.yaml").write_text("tenantId: not-a-guid\n")
    validated = run_step("plan.yml", "plan", "validate", checkout, emulator, policies=checkout / "policies")
    assert validated.code == 1
    assert "partners/bad.yaml:1:11: tenantId 'not-a-guid' is not a GUID" in validated.log
    assert emulator.requests == []


def test_a_graph_error_fails_the_plan_and_the_comment_says_so(checkout: Path, emulator: Emulator) -> None:
    policies = checkout / "policies"
    planned = run_step(
        "plan.yml", "plan", "plan", checkout, emulator, token=emulator.mint_token(roles=()), policies=policies
    )
    assert planned.code == 1
    assert "403 Authorization_RequestDenied" in planned.log
    assert planned.outputs == "changes=false\n"
    noted = run_step("plan.yml", "plan", "failed", checkout, policies=policies)
    assert noted.code == 0, noted.log
    assert (
        checkout / "plan.md"
    ).read_text() == f"xtap could not plan `{policies}`; the errors are in the log of {RUN_URL}\n"


def test_apply_on_main_fills_the_summary_and_its_closing_plan_is_clean(checkout: Path, emulator: Emulator) -> None:
    policies = checkout / "policies"
    applied = run_step("apply.yml", "apply", "apply", checkout, emulator, policies=policies)
    assert applied.code == 0, applied.log
    tenant = SEED_000_CREATE_BODY["tenantId"]
    assert applied.summary == (
        f"### xtap apply: {policies}\n```\napplied: + partner {tenant}\n"
        "Apply complete: 1 applied, 0 failed, 0 skipped.\n```\n"
    )
    closing = run_step("apply.yml", "apply", "closing-plan", checkout, emulator, policies=policies)
    assert closing.code == 0, closing.log
    assert closing.summary == "Closing plan: no changes.\n"
    # Converged, the pull request's plan of the same files reports no changes.
    assert run_step("plan.yml", "plan", "plan", checkout, emulator, policies=policies).outputs == "changes=false\n"


def test_a_failed_apply_fails_the_job_and_its_summary_names_the_failure(checkout: Path, emulator: Emulator) -> None:
    token = emulator.mint_token(roles=READ_ONLY)
    applied = run_step("apply.yml", "apply", "apply", checkout, emulator, token=token, policies=checkout / "policies")
    assert applied.code == 1
    assert f"failed: + partner {SEED_000_CREATE_BODY['tenantId']}: POST" in applied.summary
    assert "Apply incomplete" in applied.summary


def test_a_closing_plan_with_changes_fails_the_job(checkout: Path, emulator: Emulator) -> None:
    policies = checkout / "policies"
    closing = run_step("apply.yml", "apply", "closing-plan", checkout, emulator, policies=policies)
    assert closing.code == 2
    assert closing.summary.startswith("Closing plan is not clean (exit 2):\n\n### xtap plan")


# -- the tenant matrix ------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    identity = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **identity}, check=True, capture_output=True, timeout=30
    )


def repository(root: Path, files: list[str]) -> Path:
    """A git repository holding the tenant script and `files`, all committed."""
    (root / ".github").mkdir()
    shutil.copy(TENANTS_SCRIPT, root / ".github" / "tenants.sh")
    git(root, "init", "-q")
    change(root, files)
    return root


def change(repo: Path, files: list[str]) -> None:
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        with (repo / name).open("a") as file:
            file.write("# changed\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")


def matrix(ran: StepRun) -> list[dict[str, str]]:
    assert ran.code == 0, ran.log
    assert ran.outputs.startswith("tenants=")
    tenants: list[dict[str, str]] = json.loads(ran.outputs.removeprefix("tenants="))
    return tenants


DEFAULT = {"name": "default", "policies": "policies", "suffix": ""}
CONTOSO = {"name": "contoso", "policies": "tenants/contoso/policies", "suffix": "_CONTOSO"}
FABRIKAM = {"name": "fab-rikam", "policies": "tenants/fab-rikam/policies", "suffix": "_FAB_RIKAM"}
TWO_TENANTS = ["tenants/contoso/policies/default.yaml", "tenants/fab-rikam/policies/partners/p.yaml"]


def test_a_single_policies_folder_is_the_default_tenant(tmp_path: Path) -> None:
    repo = repository(tmp_path, ["policies/partners/p.yaml", "README.md"])
    assert matrix(run_step("apply.yml", "tenants", "tenants", repo)) == [DEFAULT]


def test_apply_and_drift_cover_every_tenant_folder(tmp_path: Path) -> None:
    repo = repository(tmp_path, TWO_TENANTS)
    assert matrix(run_step("apply.yml", "tenants", "tenants", repo)) == [CONTOSO, FABRIKAM]
    assert matrix(run_step("drift.yml", "tenants", "tenants", repo)) == [CONTOSO, FABRIKAM]


def test_a_pull_request_touching_one_tenant_plans_that_tenant_only(tmp_path: Path) -> None:
    repo = repository(tmp_path, TWO_TENANTS)
    change(repo, ["tenants/fab-rikam/policies/partners/q.yaml"])
    assert matrix(run_step("plan.yml", "tenants", "tenants", repo)) == [FABRIKAM]
    change(repo, ["tenants/contoso/notes.md"])
    assert matrix(run_step("plan.yml", "tenants", "tenants", repo)) == [CONTOSO]


def test_a_pull_request_changing_code_plans_every_tenant(tmp_path: Path) -> None:
    repo = repository(tmp_path, TWO_TENANTS)
    change(repo, ["tenants/contoso/policies/default.yaml", "reconciler/plan.py"])
    assert matrix(run_step("plan.yml", "tenants", "tenants", repo)) == [CONTOSO, FABRIKAM]


def test_a_pull_request_removing_a_tenant_plans_nothing(tmp_path: Path) -> None:
    repo = repository(tmp_path, TWO_TENANTS)
    git(repo, "rm", "-rq", "tenants/contoso")
    git(repo, "commit", "-qm", "remove")
    assert matrix(run_step("plan.yml", "tenants", "tenants", repo)) == []
    assert workflow("plan.yml")["jobs"]["plan"]["if"] == "needs.tenants.outputs.tenants != '[]'"


@pytest.mark.parametrize("name", ["default", "two words"])
def test_a_tenant_folder_name_that_cannot_name_variables_is_refused(tmp_path: Path, name: str) -> None:
    repo = repository(tmp_path, [f"tenants/{name}/policies/default.yaml"])
    ran = run_step("apply.yml", "tenants", "tenants", repo)
    assert ran.code == 1
    assert "::error::tenants/" in ran.log
    assert "a tenant folder's name is letters, digits, '_' or '-', and not 'default'" in ran.log
    assert ran.outputs == ""


def test_the_scheduled_drift_step_reports_drift_without_failing_and_fills_the_summary(
    checkout: Path, emulator: Emulator
) -> None:
    """Exit 2 (drift) is a report for the issue job, not a failed job; the status file says which."""
    policies = checkout / "policies"
    drifted = run_step("drift.yml", "drift", "drift", checkout, emulator, policies=policies)
    assert drifted.code == 0, drifted.log
    assert (checkout / "drift.status").read_text().strip() == "2"  # the declared partner is missing
    assert SEED_000_CREATE_BODY["tenantId"] in drifted.summary
    assert (checkout / "drift.md").read_text() == drifted.summary
    assert {r.method for r in emulator.requests} == {"GET"}  # drift never writes
    assert "Attribution was not possible" in drifted.summary  # the token lacks AuditLog.Read.All


def test_a_drift_step_that_cannot_read_the_tenant_fails_the_job(checkout: Path, emulator: Emulator) -> None:
    denied = emulator.mint_token(roles=("AuditLog.Read.All",))
    failed = run_step("drift.yml", "drift", "drift", checkout, emulator, token=denied, policies=checkout / "policies")
    assert failed.code != 0
    assert (checkout / "drift.status").read_text().strip() == "1"
