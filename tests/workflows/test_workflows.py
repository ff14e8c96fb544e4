"""The GitHub workflows: their security properties, their linters, the lock they install from, and
the steps of plan.yml and drift.yml that run xtap, run as a runner runs them against the
emulator (workflow_steps.py). The tenant matrix is in test_tenants.py; the handover
of the reviewed plan from plan.yml to apply.yml and converge.yml in test_apply.py."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY
from support.workflow_steps import (
    HEAD_SHA,
    PLAN_CONTEXT,
    REPOSITORY,
    ROOT,
    RUN_URL,
    TENANT_GROUP,
    VENV_BIN,
    WORKFLOWS,
    FakeGitHub,
    Runner,
    all_jobs,
    all_workflows,
    step,
    uses,
    uses_azure_login,
    workflow,
)

from reconciler.emulator import Emulator

FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


# -- security properties ----------------------------------------------------------------------


CALLERS = {
    "plan.yml": "reusable-plan.yml",
    "apply.yml": "reusable-apply.yml",
    "converge.yml": "reusable-converge.yml",
    "drift.yml": "reusable-drift.yml",
}
XTAP_CHECKOUT_WITH = {
    "repository": "${{ inputs.xtap-repository }}",
    "ref": "${{ inputs.xtap-ref }}",
    "path": ".xtap",
    "persist-credentials": False,
}


def needed_before(jobs: dict[str, Any], job_id: str) -> set[str]:
    """The jobs that must succeed before `job_id` starts, directly or through others."""
    needs = jobs[job_id].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(needed_before(jobs, other) for other in direct))


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version() -> None:
    lines = [line for path in WORKFLOWS.glob("*.yml") for line in path.read_text().splitlines() if "uses:" in line]
    assert lines
    pinned = re.compile(r"^\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
    # This repository's own workflows call the reusable ones beside them, at the same commit.
    local = re.compile(r"^    uses: \./\.github/workflows/reusable-(plan|apply|converge|drift)\.yml$")
    assert [line for line in lines if not pinned.match(line) and not local.match(line)] == []


def test_no_checkout_leaves_the_token_in_git_config() -> None:
    checkouts = [s for job in all_jobs().values() for s in uses(job, "actions/checkout")]
    assert len(checkouts) == 29
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_the_reusable_workflows_run_xtap_and_its_scripts_from_the_pinned_commit_only() -> None:
    for name in CALLERS.values():
        flow = workflow(name)
        assert list(flow["on"]) == ["workflow_call"], name
        inputs = flow["on"]["workflow_call"]["inputs"]
        assert inputs["policies"] == {**inputs["policies"], "type": "string", "default": "policies"}, name
        for required in ("xtap-repository", "xtap-ref"):
            assert inputs[required]["required"] is True and inputs[required]["type"] == "string", name
        assert "secrets" not in flow["on"]["workflow_call"], name  # OIDC only: no secret to pass
        # The first job checks the pin before anything is checked out; every other job needs it.
        first = flow["jobs"]["tenants"]["steps"][0]
        assert first["id"] == "xtap-ref" and "^[0-9a-f]{40}$" in first["run"], name
        for job_id in flow["jobs"]:
            assert "tenants" in needed_before(flow["jobs"], job_id) | {job_id}, (name, job_id)
        for job_id, job in flow["jobs"].items():
            xtap = [s for s in uses(job, "actions/checkout") if s["with"].get("path") == ".xtap"]
            scripts = "\n".join(s.get("run", "") for s in job.get("steps", []))
            if ".github/" in scripts or "pip" in scripts:
                assert [s["with"] for s in xtap] == [XTAP_CHECKOUT_WITH], (name, job_id)
                # No script of the caller's own .github/ runs: only the pinned xtap's.
                assert not re.search(r"(?<!\.xtap/)\.github/", scripts), (name, job_id)


def test_this_repository_s_workflows_call_the_reusable_ones_at_their_own_commit() -> None:
    for caller, reusable in CALLERS.items():
        [job] = workflow(caller)["jobs"].values()
        assert job["uses"] == f"./.github/workflows/{reusable}", caller
        assert job["with"]["xtap-repository"] == "${{ github.repository }}", caller
        # A pull request is planned by the base branch's xtap, never by its own.
        ref = "github.event.pull_request.base.sha" if caller == "plan.yml" else "github.sha"
        assert job["with"]["xtap-ref"] == f"${{{{ {ref} }}}}", caller
        # The caller grants what the called jobs need together, and nothing more.
        needed: dict[str, str] = {}
        for called in workflow(reusable)["jobs"].values():
            for scope, level in called["permissions"].items():
                if needed.get(scope) != "write":
                    needed[scope] = level
        assert job["permissions"] == needed, caller


def test_no_workflow_runs_on_pull_request_target_and_none_grants_by_default() -> None:
    for name, flow in all_workflows().items():
        assert "pull_request_target" not in flow["on"], name
        assert flow["permissions"] == {}, name  # every job names what it needs


# Each job's whole grant. A job that runs azure/login needs id-token: write and nothing that
# writes to the repository; the token that can comment or file issues never meets an Azure identity.
PERMISSIONS = {
    ("reusable-plan.yml", "tenants"): {"contents": "read"},
    # security-events: code scanning takes check's SARIF; it cannot touch the repository's contents.
    ("reusable-plan.yml", "plan"): {"contents": "read", "id-token": "write", "security-events": "write"},
    ("reusable-plan.yml", "comment"): {"pull-requests": "write"},
    ("reusable-plan.yml", "changes"): {},
    # Grouped (tenants-per-job): no SARIF upload, so no security-events.
    ("reusable-plan.yml", "plan-group"): {"contents": "read", "id-token": "write"},
    ("reusable-plan.yml", "comment-group"): {"pull-requests": "write"},
    ("reusable-apply.yml", "tenants"): {"contents": "read"},
    ("reusable-apply.yml", "reviewed"): {"contents": "read", "pull-requests": "read", "actions": "read"},
    ("reusable-apply.yml", "not-applied"): {},
    # actions: read downloads the saved plan from the pull request's plan run.
    ("reusable-apply.yml", "apply"): {"contents": "read", "id-token": "write", "actions": "read"},
    ("reusable-apply.yml", "apply-group"): {"contents": "read", "id-token": "write", "actions": "read"},
    ("reusable-apply.yml", "report"): {"pull-requests": "write"},
    ("reusable-converge.yml", "tenants"): {"contents": "read"},
    ("reusable-converge.yml", "plan"): {"contents": "read", "id-token": "write"},
    ("reusable-converge.yml", "apply"): {"contents": "read", "id-token": "write"},
    ("reusable-drift.yml", "tenants"): {"contents": "read"},
    ("reusable-drift.yml", "drift"): {"contents": "read", "id-token": "write"},
    ("reusable-drift.yml", "issue"): {"issues": "write"},
    ("reusable-drift.yml", "drift-group"): {"contents": "read", "id-token": "write"},
    ("reusable-drift.yml", "issue-group"): {"issues": "write"},
    ("ci.yml", "test"): {"contents": "read"},
    ("ci.yml", "workflows"): {"contents": "read"},
}


def test_each_job_has_the_least_permissions_it_needs() -> None:
    jobs = {key: job for key, job in all_jobs().items() if key[0] not in CALLERS}
    assert {key: job["permissions"] for key, job in jobs.items()} == PERMISSIONS
    for key, job in jobs.items():
        assert signs_in(job) == (job["permissions"].get("id-token") == "write"), key


def signs_in(job: dict[str, Any]) -> bool:
    """azure/login, or (grouped) the multi-tenant app's federated token."""
    federated = [s for s in job["steps"] if s.get("run") == ".xtap/.github/federated-token.sh"]
    return uses_azure_login(job) or bool(federated)


def test_a_fork_pull_request_gets_no_azure_identity_nor_a_comment() -> None:
    jobs = workflow("reusable-plan.yml")["jobs"]
    guarded = [
        s for s in jobs["plan"]["steps"] if s.get("uses", "").startswith("azure/login@") or s.get("id") == "plan"
    ]
    assert len(guarded) == 2
    assert all(s["if"] == FORK_GUARD for s in guarded)
    assert FORK_GUARD in jobs["comment"]["if"]
    assert FORK_GUARD in step("reusable-plan.yml", "plan", "code-scanning")["if"]


def test_only_reviewed_plans_are_applied_on_main_and_by_hand_only_in_the_protected_environment() -> None:
    apply, converge = workflow("apply.yml"), workflow("converge.yml")
    assert apply["on"] == {
        "push": {"branches": ["main"], "paths": apply["on"]["push"]["paths"]}
    }  # no workflow_dispatch
    assert list(converge["on"]) == ["workflow_dispatch"]
    assert converge["on"]["workflow_dispatch"]["inputs"]["tenant"]["required"] is True
    environments = {key: job.get("environment") for key, job in all_jobs().items() if "environment" in job}
    assert environments == {
        ("reusable-apply.yml", "apply"): "tenant-apply",
        ("reusable-apply.yml", "apply-group"): "tenant-apply",
        ("reusable-converge.yml", "apply"): "tenant-apply",
    }
    # Every job that holds the write identity applies a saved plan, never a plan of its own.
    for key in environments:
        [applying] = [s for s in all_jobs()[key]["steps"] if s.get("id") == "apply"]
        if key[1] == "apply-group":  # each tenant's own reviewed plan, from the reviewed run's artifacts
            assert '.xtap/.github/apply.sh "$RUNNER_TEMP/reviewed/$tenant" || status=1' in applying["run"]
            assert "xtap " not in applying["run"]
        else:
            assert applying["run"].strip().endswith('.xtap/.github/apply.sh "$RUNNER_TEMP/reviewed"'), key
    assert 'xtap apply "$reviewed/plan.json" --auto-approve' in (ROOT / ".github" / "apply.sh").read_text()


def test_the_saved_plan_comes_from_the_reviewed_run_and_converge_from_its_own() -> None:
    [merged] = uses(workflow("reusable-apply.yml")["jobs"]["apply"], "actions/download-artifact")
    assert merged["with"] == {
        "name": "plan-${{ matrix.tenant.name }}",
        "run-id": "${{ matrix.tenant.run }}",
        "github-token": "${{ github.token }}",
        "path": "${{ runner.temp }}/reviewed",
    }
    assert workflow("reusable-apply.yml")["jobs"]["apply"]["strategy"]["matrix"]["tenant"] == (
        "${{ fromJSON(needs.reviewed.outputs.ready) }}"
    )
    # Grouped: the reviewed run's group artifacts, each tenant's plan under <tenant>/.
    [grouped] = uses(workflow("reusable-apply.yml")["jobs"]["apply-group"], "actions/download-artifact")
    assert grouped["with"] == {
        "pattern": "plans-*",
        "merge-multiple": True,
        "run-id": "${{ matrix.group.tenants[0].run }}",
        "github-token": "${{ github.token }}",
        "path": "${{ runner.temp }}/reviewed",
    }
    assert workflow("reusable-apply.yml")["jobs"]["apply-group"]["strategy"]["matrix"]["group"] == (
        "${{ fromJSON(needs.reviewed.outputs.ready-groups) }}"
    )
    [own] = uses(workflow("reusable-converge.yml")["jobs"]["apply"], "actions/download-artifact")
    assert own["with"] == {"name": "plan-${{ matrix.tenant.name }}", "path": "${{ runner.temp }}/reviewed"}
    assert workflow("reusable-converge.yml")["jobs"]["apply"]["if"] == "needs.plan.outputs.changes == 'true'"


def test_every_merge_that_applies_was_planned_in_its_pull_request() -> None:
    applied = workflow("apply.yml")["on"]["push"]["paths"]
    planned = workflow("plan.yml")["on"]["pull_request"]["paths"]
    assert set(applied) <= set(planned)
    assert {"requirements.lock", "pyproject.toml", "reconciler/**"} <= set(applied)


def test_applies_converges_and_drift_of_a_tenant_share_one_queue_keyed_by_its_id() -> None:
    queued = {key: job["concurrency"] for key, job in all_jobs().items() if "concurrency" in job}
    one_queue = {"group": TENANT_GROUP, "cancel-in-progress": False, "queue": "max"}
    # Grouped (tenants-per-job), a tenant is always in the same group: one queue per group.
    group_queue = {**one_queue, "group": "xtap-group-${{ matrix.group.name }}"}
    either = (
        "${{ needs.tenants.outputs.grouped == 'true' && format('xtap-group-{0}', "
        "fromJSON(needs.tenants.outputs.groups)[0].name) || "
        "format('xtap-tenant-{0}', vars[format('XTAP_TENANT_ID{0}', matrix.tenant.suffix)]) }}"
    )
    assert queued == {
        ("reusable-apply.yml", "apply"): one_queue,
        ("reusable-apply.yml", "apply-group"): group_queue,
        ("reusable-converge.yml", "apply"): {**one_queue, "group": either},
        ("reusable-drift.yml", "drift"): one_queue,
        ("reusable-drift.yml", "drift-group"): group_queue,
    }
    # No workflow-wide group would hold every tenant's apply or drift behind another tenant's.
    assert [name for name, flow in all_workflows().items() if "concurrency" in flow] == ["ci.yml", "plan.yml"]


# -- nothing from a pull request runs with an identity ------------------------------------------


def install(source: str) -> str:
    """The install step of every job that holds an identity: the lock's hashes, then xtap."""
    lock = "requirements.lock" if source == "." else f"{source}/requirements.lock"
    package = "." if source == "." else f"./{source}"
    return (
        f"python -I -m pip install --quiet --require-hashes --no-deps --only-binary :all: -r {lock}\n"
        f"python -I -m pip install --quiet --no-deps --no-build-isolation --no-index {package}\n"
    )


def test_jobs_with_an_identity_install_xtap_hash_checked_from_a_source_no_pull_request_changes() -> None:
    identity = {key: job for key, job in all_jobs().items() if job.get("permissions", {}).get("id-token") == "write"}
    assert {key for key in identity if key[0] not in CALLERS} == {
        ("reusable-plan.yml", "plan"),
        ("reusable-plan.yml", "plan-group"),
        ("reusable-apply.yml", "apply"),
        ("reusable-apply.yml", "apply-group"),
        ("reusable-converge.yml", "plan"),
        ("reusable-converge.yml", "apply"),
        ("reusable-drift.yml", "drift"),
        ("reusable-drift.yml", "drift-group"),
    }
    for key, job in identity.items():
        if key[0] in CALLERS:
            continue
        [installed] = [s for s in job["steps"] if "pip" in s.get("run", "")]
        assert installed["id"] == "install" and installed["run"] == install(".xtap"), key
        assert [s["with"]["python-version"] for s in uses(job, "actions/setup-python")] == ["3.12"], key
        # pip's cache is keyed on the lock; --require-hashes above still checks every file it serves.
        [python] = uses(job, "actions/setup-python")
        assert {k: python["with"].get(k) for k in ("cache", "cache-dependency-path")} == {
            "cache": "pip",
            "cache-dependency-path": ".xtap/requirements.lock",
        }, key
        # python -m puts the working directory on sys.path: -I keeps it (and PYTHON* variables) out.
        scripts = "\n".join(s.get("run", "") for s in job["steps"])
        assert not re.search(r"\bpython3?\b(?! -I )", scripts), key
        assert not [s for s in job["steps"] if s.get("uses", "").startswith("./")], key


def test_the_pull_request_plan_runs_the_pinned_xtap_and_only_reads_the_pull_request() -> None:
    job = workflow("reusable-plan.yml")["jobs"]["plan"]
    base, pr, xtap = uses(job, "actions/checkout")
    assert base["with"] == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "path": "base",
        "persist-credentials": False,
    }
    assert pr["with"] == {"path": "pr", "persist-credentials": False}
    assert xtap["with"] == XTAP_CHECKOUT_WITH
    for ran in [s for s in job["steps"] if "run" in s]:
        # No script of the repository's runs here: a pull request could have changed it.
        assert ".github/" not in ran["run"], ran["id"]
        if ran.get("working-directory") == "pr":
            assert not re.search(r"\b(bash|sh|source|python3?|pip|make)\b|\.(sh|py)\b", ran["run"]), ran["id"]
    assert '--base-policies "../base/$XTAP_POLICIES"' in step("reusable-plan.yml", "plan", "plan")["run"]


def test_no_code_of_the_pull_request_is_imported_by_the_steps_that_read_it(
    pull_request: Runner, emulator: Emulator
) -> None:
    """A pull request's reconciler/ and sitecustomize.py, next to the policies it plans: xtap
    runs from where pip put it, and never imports them (python -m would: it puts the working
    directory first on sys.path)."""
    pr = pull_request.workspace / "pr"
    marker = pull_request.workspace / "pwned"
    (pr / "reconciler").mkdir()
    for module in (pr / "reconciler" / "__init__.py", pr / "reconciler" / "cli.py", pr / "sitecustomize.py"):
        module.write_text(f"open({str(marker)!r}, 'w').close()\n")
    pull_request.emulator = emulator
    (pull_request.workspace / "base" / "policies" / "partners").rmdir()
    (pull_request.workspace / "base" / "policies").rmdir()
    for step_id in ("validate", "plan", "check"):
        assert pull_request.run("reusable-plan.yml", "plan", step_id).code == 0, step_id
    assert not marker.exists()


def lock_problems(pyproject: str, lock: str) -> list[str]:
    """Why `lock` does not pin every dependency of `pyproject` (and its build backend) at a version
    its specifier allows, with hashes; empty when it does."""
    project = tomllib.loads(pyproject)
    entries = re.findall(r"^([A-Za-z0-9._-]+)==(\S+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", lock, re.M)
    pinned = {canonicalize_name(name): version for name, version, _ in entries}
    problems = [
        f"{pin} has no hash"
        for pin in re.findall(r"^([A-Za-z0-9._-]+)==", lock, re.M)
        if pin not in {name for name, _, _ in entries}
    ]
    for text in project["project"]["dependencies"] + project["build-system"]["requires"]:
        requirement = Requirement(text)
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not pinned")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    return problems


def test_the_lock_pins_every_dependency_at_an_allowed_version_with_its_hashes() -> None:
    pyproject, lock = (ROOT / "pyproject.toml").read_text(), (ROOT / "requirements.lock").read_text()
    assert lock_problems(pyproject, lock) == []
    # Locked for the Python the workflows set up (checked in the install test above).
    assert "--python-version 3.12 --python-platform x86_64-unknown-linux-gnu" in lock.splitlines()[1]


def test_the_lock_check_names_a_pin_outside_its_specifier_a_missing_one_and_one_without_hashes() -> None:
    pyproject, lock = (ROOT / "pyproject.toml").read_text(), (ROOT / "requirements.lock").read_text()
    deepdiff = re.search(r"^deepdiff==(\S+) ", lock, re.M)
    click = re.search(r"^click==\S+ \\\n(    --hash=\S+(?: \\)?\n)+", lock, re.M)
    assert deepdiff and click
    doctored = lock.replace(deepdiff.group(0), "deepdiff==7.0.0 ").replace(click.group(0), "")
    doctored = re.sub(r"^(rich==\S+) \\\n(    --hash=\S+(?: \\)?\n)+", r"\1\n", doctored, flags=re.M)
    assert lock_problems(pyproject, doctored) == [
        "rich has no hash",
        "deepdiff==7.0.0 is outside <10,>=8",
        "click is not pinned",
        "rich is not pinned",
    ]


def test_the_workflows_pass_the_schema_actionlint_and_zizmor(tmp_path: Path) -> None:
    # The lint step of ci.yml, run on this checkout: the same tools, options and files as in CI.
    missing = [
        tool for tool in ("check-jsonschema", "zizmor", "actionlint", "shellcheck") if not (VENV_BIN / tool).exists()
    ]
    assert not missing, f"{missing}: pip install -e '.[test]'"
    linted = Runner(ROOT, tmp_path).run("ci.yml", "workflows", "lint")
    assert linted.code == 0, linted.log
    assert "No findings to report" in linted.log


# -- the plan of a pull request, against the emulator --------------------------------------------


@pytest.fixture
def pull_request(tmp_path: Path) -> Runner:
    """A plan job's workspace: the base branch's commit in base/, the pull request's in pr/, which
    adds one partner to create."""
    runner = Runner.at(tmp_path, PLAN_CONTEXT)
    write_policies(runner.workspace / "base" / "policies", [])
    write_policies(runner.workspace / "pr" / "policies", [SEED_000_CREATE_BODY])
    return runner


def test_pull_request_plan_with_changes_passes_and_keeps_the_plan_for_its_commit(
    pull_request: Runner, emulator: Emulator
) -> None:
    pull_request.emulator = emulator
    assert pull_request.run("reusable-plan.yml", "plan", "validate").code == 0
    planned = pull_request.run("reusable-plan.yml", "plan", "plan")
    assert planned.code == 0, planned.log  # changes are for review, not a failed check
    assert planned.outputs == "changes=true\n"
    work = pull_request.workspace
    # The comment names the commit it shows, and what the merge will do with it.
    assert planned.summary.startswith(f"Planned for commit `{HEAD_SHA}`. When this pull request is merged")
    assert "\n\n### xtap plan" in planned.summary
    assert SEED_000_CREATE_BODY["tenantId"] in planned.summary
    assert (work / "plan.md").read_text() == planned.summary
    assert json.loads((work / "plan.json").read_text())["summary"]["create"] == 1
    assert json.loads((work / "reviewed.json").read_text()) == {
        "headSha": HEAD_SHA,
        "tenant": "default",
        "policies": "policies",
        "changes": True,
    }
    # Outputs go next to the checkouts, never into the pull request's files.
    assert sorted(p.name for p in (work / "pr").iterdir()) == ["policies"]
    assert [r.method for r in emulator.requests] == ["GET"] * len(emulator.requests)


def test_a_new_tenant_folder_is_planned_without_a_base(pull_request: Runner, emulator: Emulator) -> None:
    """A folder the base branch does not have yet: nothing to compare xtap.yaml with."""
    pull_request.emulator = emulator
    (pull_request.workspace / "base" / "policies" / "partners").rmdir()
    (pull_request.workspace / "base" / "policies").rmdir()
    planned = pull_request.run("reusable-plan.yml", "plan", "plan")
    assert planned.code == 0, planned.log
    assert json.loads((pull_request.workspace / "plan.json").read_text())["summary"]["create"] == 1


def test_the_check_step_writes_sarif_and_fails_on_an_error(pull_request: Runner) -> None:
    policies = pull_request.workspace / "pr" / "policies"
    passed = pull_request.run("reusable-plan.yml", "plan", "check")
    assert passed.code == 0, passed.log
    sarif = pull_request.workspace / "check.sarif"
    assert json.loads(sarif.read_text())["runs"][0]["results"] == []
    trusting = {**SEED_000_CREATE_BODY, "inboundTrust": {"isMfaAccepted": True}}
    (policies / "partners" / f"{trusting['tenantId']}.yaml").write_text(json.dumps(trusting))
    failed = pull_request.run("reusable-plan.yml", "plan", "check")
    assert failed.code == 1
    (result,) = json.loads(sarif.read_text())["runs"][0]["results"]
    assert result["ruleId"] == "inbound-trust-only-trusted"
    # Paths as code scanning wants them: relative to the pull request's checkout (checkout_path).
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert location.startswith("policies/partners/")
    [upload] = uses(workflow("reusable-plan.yml")["jobs"]["plan"], "github/codeql-action/upload-sarif")
    assert upload["with"]["checkout_path"] == "pr"


def test_invalid_policies_fail_the_check_before_any_request(pull_request: Runner, emulator: Emulator) -> None:
    (pull_request.workspace / "pr" / "policies" / "partners" / "bad.yaml").write_text("tenantId: not-a-guid\n")
    pull_request.emulator = emulator
    validated = pull_request.run("reusable-plan.yml", "plan", "validate")
    assert validated.code == 1
    assert "partners/bad.yaml:1:11: tenantId 'not-a-guid' is not a GUID" in validated.log
    assert emulator.requests == []


def test_a_graph_error_fails_the_plan_keeps_no_plan_and_the_comment_says_so(
    pull_request: Runner, emulator: Emulator
) -> None:
    pull_request.emulator, pull_request.token = emulator, emulator.mint_token(roles=())
    planned = pull_request.run("reusable-plan.yml", "plan", "plan")
    assert planned.code == 1
    assert "403 Authorization_RequestDenied" in planned.log
    assert planned.outputs == "changes=false\n"
    assert not (pull_request.workspace / "reviewed.json").exists()  # nothing for apply.yml to apply
    noted = pull_request.run("reusable-plan.yml", "plan", "failed")
    assert noted.code == 0, noted.log
    assert (
        pull_request.workspace / "plan.md"
    ).read_text() == f"xtap could not plan `policies`; the errors are in the log of {RUN_URL}\n"


@pytest.mark.parametrize(
    ("saved", "changes"),
    [({}, "false"), ({"a": False}, "false"), ({"a": False, "b": True}, "true"), ({"failed": None}, "false")],
)
def test_the_plan_workflow_s_changes_output_is_true_when_any_tenant_s_plan_has_changes(
    tmp_path: Path, saved: dict[str, bool | None], changes: str
) -> None:
    """Read from every tenant's saved plan (a matrix job's own outputs would keep one tenant's);
    a tenant whose plan failed has no reviewed.json, only the plan.md that says so."""
    runner = Runner.at(tmp_path)
    for tenant, has_changes in saved.items():
        folder = runner.workspace / "plans" / f"plan-{tenant}"
        folder.mkdir(parents=True)
        (folder / "plan.md").write_text("...")
        if has_changes is not None:
            (folder / "reviewed.json").write_text(json.dumps({"tenant": tenant, "changes": has_changes}))
    ran = runner.run("reusable-plan.yml", "changes", "changes")
    assert ran.code == 0, ran.log
    assert ran.outputs == f"changes={changes}\n"
    flow = workflow("reusable-plan.yml")
    assert flow["on"]["workflow_call"]["outputs"]["changes"]["value"] == "${{ jobs.changes.outputs.changes }}"


# -- code scanning, or a notice without it --------------------------------------------------------

ADVANCED_SECURITY = "Advanced Security must be enabled for this repository to use code scanning. (HTTP 403)"
ALERTS = f"repos/{REPOSITORY}/code-scanning/alerts?per_page=1"


@pytest.mark.parametrize(
    ("private", "answer", "available"),
    [
        ("false", None, "true"),  # every public repository has code scanning: not even asked
        ("true", [], "true"),
        ("true", {"error": "no analysis found (HTTP 404)"}, "true"),  # enabled, nothing uploaded yet
        ("true", {"error": ADVANCED_SECURITY}, "false"),
        ("true", {"error": "Code scanning is not enabled for this repository. (HTTP 404)"}, "false"),
    ],
    ids=["public", "private-with-alerts", "private-no-analysis-yet", "private-without-ghas", "not-enabled"],
)
def test_the_sarif_is_uploaded_only_where_code_scanning_is_and_a_notice_says_why_not(
    tmp_path: Path, private: str, answer: Any, available: str
) -> None:
    github = FakeGitHub(tmp_path / "github", {} if answer is None else {ALERTS: answer})
    runner = Runner.at(tmp_path / "runner", {**PLAN_CONTEXT, "github.event.repository.private": private})
    runner.env = github.env()
    ran = runner.run("reusable-plan.yml", "plan", "code-scanning")
    assert ran.code == 0, ran.log  # the check step decides whether the job fails, never this one
    assert ran.outputs == f"available={available}\n"
    assert [call["args"][-1] for call in github.calls()] == ([] if private == "false" else [ALERTS])
    if available == "false":
        assert f"::notice::xtap check's SARIF is not uploaded: {REPOSITORY} has no code scanning (gh: " in ran.log
    [upload] = uses(workflow("reusable-plan.yml")["jobs"]["plan"], "github/codeql-action/upload-sarif")
    assert upload["if"] == "${{ !cancelled() && steps.code-scanning.outputs.available == 'true' }}"


# -- drift ----------------------------------------------------------------------------------------


@pytest.fixture
def main_checkout(tmp_path: Path) -> Runner:
    """A job's workspace holding main's checkout, with one partner to create."""
    runner = Runner.at(tmp_path, {"matrix.tenant.policies": "policies", "matrix.tenant.name": "default"})
    write_policies(runner.workspace / "policies", [SEED_000_CREATE_BODY])
    return runner


def test_the_scheduled_drift_step_reports_drift_without_failing_and_fills_the_summary(
    main_checkout: Runner, emulator: Emulator
) -> None:
    """Exit 2 (drift) is a report for the issue job, not a failed job; the status file says which."""
    main_checkout.emulator = emulator
    drifted = main_checkout.run("reusable-drift.yml", "drift", "drift")
    assert drifted.code == 0, drifted.log
    work = main_checkout.workspace
    assert (work / "drift.status").read_text().strip() == "2"  # the declared partner is missing
    assert SEED_000_CREATE_BODY["tenantId"] in drifted.summary
    assert (work / "drift.md").read_text() == drifted.summary
    assert {r.method for r in emulator.requests} == {"GET"}  # drift never writes
    assert "Attribution was not possible" in drifted.summary  # the token lacks AuditLog.Read.All


def test_a_drift_step_that_cannot_read_the_tenant_fails_the_job(main_checkout: Runner, emulator: Emulator) -> None:
    main_checkout.emulator, main_checkout.token = emulator, emulator.mint_token(roles=("AuditLog.Read.All",))
    failed = main_checkout.run("reusable-drift.yml", "drift", "drift")
    assert failed.code != 0
    assert (main_checkout.workspace / "drift.status").read_text().strip() == "1"
