"""The reviewed plan's way from a pull request to its tenant: plan.yml keeps the saved plan with the
commit it was made for; on the merge, apply.yml finds that plan (.github/reviewed.sh, against a
fake `gh`) and applies it and nothing else (.github/apply.sh, against the emulator); converge.yml
does the same within one run. A tenant without a reviewed plan, or whose plan is refused, gets
no write, and the pull request a comment that says why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from support.plan_runs import PULL, PULLS, RUNS, jobs, routes
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY, SEED_001_TENANT
from support.workflow_steps import (
    HEAD_SHA,
    MAIN_SHA,
    PLAN_CONTEXT,
    REPOSITORY,
    ROOT,
    RUN_URL,
    FakeGitHub,
    Runner,
    StepRun,
    scripts,
    workflow,
)
from support.xtap import client_for, run_xtap, writes_served

from reconciler.emulator import Emulator

CONTOSO = {"name": "contoso", "policies": "tenants/contoso/policies", "suffix": "_CONTOSO"}
FABRIKAM = {"name": "fab-rikam", "policies": "tenants/fab-rikam/policies", "suffix": "_FAB_RIKAM"}
PARTNER = SEED_000_CREATE_BODY["tenantId"]
OUT_OF_BAND = "0b4f0a2e-1111-4222-8333-944455556666"

# -- finding the reviewed plan (reviewed.sh) ----------------------------------------------------


def find_reviewed(tmp_path: Path, answers: dict[str, Any], tenants: list[dict[str, str]]) -> tuple[StepRun, FakeGitHub]:
    github = FakeGitHub(tmp_path / "github", answers)
    runner = Runner.at(tmp_path / "runner", {"needs.tenants.outputs.tenants": json.dumps(tenants)})
    runner.env = github.env()
    scripts(runner.workspace)
    return runner.run("reusable-apply.yml", "reviewed", "reviewed"), github


def found(ran: StepRun) -> tuple[str, list[dict[str, str]], list[dict[str, str]]]:
    assert ran.code == 0, ran.log
    return ran.output("pr"), json.loads(ran.output("ready")), json.loads(ran.output("refused"))


def test_the_last_plan_run_of_the_merged_pull_request_s_last_commit_is_found(tmp_path: Path) -> None:
    ran, github = find_reviewed(tmp_path, routes(), [CONTOSO, FABRIKAM])
    pr, ready, refused = found(ran)
    assert pr == "7"
    run = {"run": "12", "head": HEAD_SHA, "url": f"https://github.com/{REPOSITORY}/actions/runs/12"}
    assert ready == [{**CONTOSO, **run}, {**FABRIKAM, **run}]
    assert refused == []
    assert all(call["repo"] == REPOSITORY and call["token"] for call in github.calls())
    assert [call["args"][-1] for call in github.calls()] == [
        PULLS,
        RUNS,
        f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100",
        f"repos/{REPOSITORY}/actions/runs/12/artifacts?per_page=100",
    ]


def test_the_plan_workflow_is_the_one_named_and_its_jobs_are_found_called_or_not(tmp_path: Path) -> None:
    runs = RUNS.replace("/plan.yml/", "/xtap-plan.yml/")
    answers = routes(
        **{RUNS: None, runs: routes()[RUNS]},
        **{f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100": jobs("contoso", caller="")},
    )
    github = FakeGitHub(tmp_path / "github", answers)
    runner = Runner.at(tmp_path / "runner", {"needs.tenants.outputs.tenants": json.dumps([CONTOSO])})
    runner.env = github.env()
    scripts(runner.workspace)
    ran = runner.run("reusable-apply.yml", "reviewed", "reviewed", {"inputs.plan-workflow": "xtap-plan.yml"})
    _, ready, refused = found(ran)
    assert [t["name"] for t in ready] == ["contoso"] and refused == []
    assert github.calls()[1]["args"][-1] == runs
    bad = runner.run("reusable-apply.yml", "reviewed", "reviewed", {"inputs.plan-workflow": "../x.yml"})
    assert bad.code == 1 and "::error::PLAN_WORKFLOW is not a workflow's file name" in bad.log


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({PULLS: []}, f"no pull request was merged by this push ({MAIN_SHA[:12]}), so no plan was reviewed"),
        ({PULLS: [{**PULL, "merge_commit_sha": "e" * 40}]}, "no pull request was merged by this push"),
        (
            {RUNS: {"workflow_runs": []}},
            f"pull request #7 has no completed plan run for its last commit {HEAD_SHA[:12]}",
        ),
        (
            {
                f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100": jobs(
                    "contoso", "fab-rikam", **{"plan_(contoso)": "failure"}
                )
            },
            "its plan job in https://github.com/octo/xtap/actions/runs/12 did not succeed (failure)",
        ),
        (
            {
                f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100": jobs(
                    "contoso", "fab-rikam", **{"comment_(contoso)": "skipped"}
                )
            },
            "its plan comment was not posted by https://github.com/octo/xtap/actions/runs/12 (comment job: skipped)",
        ),
        (
            {f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100": jobs("fab-rikam")},
            "its plan job in https://github.com/octo/xtap/actions/runs/12 did not succeed (missing)",
        ),
        (
            {
                f"repos/{REPOSITORY}/actions/runs/12/artifacts?per_page=100": {
                    "artifacts": [
                        {"name": "plan-contoso", "expired": True},
                        {"name": "plan-fab-rikam", "expired": False},
                    ]
                }
            },
            "the saved plan (artifact plan-contoso) of https://github.com/octo/xtap/actions/runs/12 is missing"
            " or expired",
        ),
    ],
    ids=["direct-push", "other-merge", "no-plan-run", "plan-failed", "no-comment", "not-planned", "expired"],
)
def test_a_tenant_without_a_reviewed_plan_is_refused_and_says_why(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    ran, _ = find_reviewed(tmp_path, routes(**changes), [CONTOSO])
    _, ready, refused = found(ran)
    assert ready == []
    [tenant] = refused
    assert tenant == {**CONTOSO, "reason": tenant["reason"]}
    assert tenant["reason"].startswith(reason)


def test_a_github_api_error_fails_the_lookup(tmp_path: Path) -> None:
    ran, _ = find_reviewed(tmp_path, routes(**{RUNS: None}), [CONTOSO])
    assert ran.code != 0
    assert "gh: Not Found (HTTP 404)" in ran.log
    assert ran.outputs == ""


def test_the_tenants_without_a_reviewed_plan_fail_the_run_and_its_summary_says_why(tmp_path: Path) -> None:
    refused = [{**CONTOSO, "reason": "no pull request was merged by this push (aaaaaaaaaaaa), so no plan was reviewed"}]
    runner = Runner.at(tmp_path, {"needs.reviewed.outputs.refused": json.dumps(refused)})
    ran = runner.run("reusable-apply.yml", "not-applied", "refused")
    assert ran.code == 1
    assert ran.summary.startswith(
        "### Not applied: no reviewed plan\n- `contoso` (`tenants/contoso/policies`): no pull request was merged"
    )
    assert "run the converge workflow" in ran.summary
    assert "::error::tenants/contoso/policies: not applied: no pull request was merged by this push" in ran.log


# -- applying it (apply.sh), against the emulator ------------------------------------------------


class Handover:
    """A pull request planned in one job's workspace (plan.yml), then merged: main's checkout in
    the apply job's workspace, with the plan job's artifact downloaded to RUNNER_TEMP/reviewed."""

    def __init__(self, root: Path, emulator: Emulator) -> None:
        self.emulator = emulator
        self.planner = Runner.at(root / "plan", PLAN_CONTEXT)
        self.planner.emulator = emulator
        self.applier = Runner.at(root / "apply", {**PLAN_CONTEXT, "matrix.tenant.head": HEAD_SHA})
        self.applier.emulator = emulator
        self.base = self.planner.workspace / "base" / "policies"
        self.head = self.planner.workspace / "pr" / "policies"
        self.main = scripts(self.applier.workspace) / "policies"

    def plan(self) -> StepRun:
        assert self.planner.run("reusable-plan.yml", "plan", "validate").code == 0
        return self.planner.run("reusable-plan.yml", "plan", "plan")

    def merge(self) -> None:
        """main gets the pull request's files, and the apply job its plan job's artifact."""
        shutil.copytree(self.head, self.main)
        (self.applier.temp / "reviewed").mkdir()
        for name in ("plan.md", "plan.json", "reviewed.json"):
            if (self.planner.workspace / name).exists():
                shutil.copy(self.planner.workspace / name, self.applier.temp / "reviewed" / name)

    def apply(self) -> StepRun:
        self.emulator.clear_requests()
        return self.applier.run("reusable-apply.yml", "apply", "apply")

    def reason(self) -> str:
        return (self.applier.temp / "not-applied" / "default").read_text()


@pytest.fixture
def handover(tmp_path: Path, emulator: Emulator) -> Handover:
    """The base branch binds policies/ to the emulator's tenant and declares Fabrikam, which the
    tenant already has as declared."""
    flow = Handover(tmp_path, emulator)
    write_policies(flow.base, [{"tenantId": SEED_001_TENANT}])
    (flow.base / "xtap.yaml").write_text(f"tenant: {emulator.tenant_id}\n")
    converged = run_xtap("apply", "--auto-approve", "--policies", str(flow.base), emulator=emulator)
    assert converged.code == 0, converged.stderr
    shutil.copytree(flow.base, flow.head)
    return flow


def admin_adds_a_partner(emulator: Emulator) -> None:
    """A portal admin's change, out of band."""
    with client_for(emulator) as admin:
        added = admin.post("/policies/crossTenantAccessPolicy/partners", json={"tenantId": OUT_OF_BAND})
        assert added.status_code == 201, added.text


def test_the_merge_applies_the_reviewed_plan_and_its_closing_plan_is_clean(handover: Handover) -> None:
    write_policies(handover.head, [SEED_000_CREATE_BODY])
    assert handover.plan().output("changes") == "true"
    handover.merge()
    applied = handover.apply()
    assert applied.code == 0, applied.log
    assert [(w.method, w.path) for w in writes_served(handover.emulator)] == [
        ("POST", "/v1.0/policies/crossTenantAccessPolicy/partners")
    ]
    assert applied.summary == (
        f"### xtap apply: policies\nThe plan reviewed for commit `{HEAD_SHA}`:\n```\n"
        f"applied: + partner {PARTNER}\nApply complete: 1 applied, 0 failed, 0 skipped.\n```\n"
        "Closing plan: no changes.\n"
    )
    assert not (handover.applier.temp / "not-applied" / "default").exists()


def test_a_prune_reviewed_as_no_changes_does_not_delete_a_partner_added_before_the_merge(handover: Handover) -> None:
    """The pull request only adds `prune: true`: its plan shows no changes. An admin then adds a
    partner in the portal. Planning main afresh at the merge would delete it; the reviewed plan
    is refused instead, and nothing is written."""
    (handover.head / "xtap.yaml").write_text(f"tenant: {handover.emulator.tenant_id}\nprune: true\n")
    planned = handover.plan()
    assert planned.output("changes") == "false"
    # No Graph write, but the comment shows what the merge turns on (--base-policies).
    assert "No changes" in planned.summary
    assert "| xtap.yaml `prune` | _default_ | `true` |" in planned.summary
    admin_adds_a_partner(handover.emulator)
    handover.merge()
    refused = handover.apply()
    assert refused.code == 1
    assert writes_served(handover.emulator) == []
    assert OUT_OF_BAND in handover.emulator.partners()
    assert "is stale: the tenant changed since it was planned. Nothing was written" in refused.summary
    assert "is stale: the tenant changed since it was planned" in handover.reason()


def test_drift_between_review_and_merge_is_not_applied_unreviewed(handover: Handover) -> None:
    write_policies(handover.head, [SEED_000_CREATE_BODY])
    handover.plan()
    with client_for(handover.emulator) as admin:  # the admin edits Fabrikam in the portal
        edited = admin.patch(
            f"/policies/crossTenantAccessPolicy/partners/{SEED_001_TENANT}",
            json={"inboundTrust": {"isMfaAccepted": True}},
        )
        assert edited.status_code == 204, edited.text
    handover.merge()
    assert handover.apply().code == 1
    assert writes_served(handover.emulator) == []
    assert "is stale" in handover.reason()


def test_a_merge_that_writes_more_than_its_plan_showed_is_refused(handover: Handover) -> None:
    """main moved while the pull request waited: the merge would also create another partner."""
    write_policies(handover.head, [SEED_000_CREATE_BODY])
    handover.plan()
    handover.merge()
    write_policies(handover.main, [{"tenantId": OUT_OF_BAND}])
    assert handover.apply().code == 1
    assert writes_served(handover.emulator) == []
    assert (
        f"is not the plan xtap makes from policies and the tenant: the plan made now also changes partner {OUT_OF_BAND}"
        in (handover.reason())
    )


def test_a_reviewed_plan_that_breaks_a_guardrail_is_not_applied(handover: Handover) -> None:
    """apply.yml runs no check of its own: xtap apply's guardrails refuse, and nothing is written."""
    trusting = {**SEED_000_CREATE_BODY, "inboundTrust": {"isMfaAccepted": True}}  # not marked trusted
    (handover.head / "partners" / f"{PARTNER}.yaml").write_text(json.dumps(trusting))
    assert handover.plan().output("changes") == "true"
    handover.merge()
    refused = handover.apply()
    assert refused.code == 1
    assert writes_served(handover.emulator) == []
    assert "[inbound-trust-only-trusted]" in handover.reason()
    assert "[inbound-trust-only-trusted]" in refused.summary
    for job in (workflow("reusable-apply.yml")["jobs"]["apply"], workflow("reusable-converge.yml")["jobs"]["apply"]):
        assert not [s for s in job["steps"] if "xtap check" in s.get("run", "")]
    assert "--skip-checks" not in "".join(path.read_text() for path in (ROOT / ".github").rglob("*.*"))


def test_outside_text_in_the_apply_summary_cannot_close_its_code_fence(handover: Handover) -> None:
    """A file name (or a Graph message) holding a fence of its own stays inside the summary's."""
    trusting = {**SEED_000_CREATE_BODY, "inboundTrust": {"isMfaAccepted": True}}
    (handover.head / "partners" / "p```\n# forged.yaml").write_text(json.dumps(trusting))
    handover.plan()
    handover.merge()
    refused = handover.apply()
    assert refused.code == 1 and "[inbound-trust-only-trusted]" in refused.summary
    fences = [line for line in refused.summary.splitlines() if line.startswith("```")]
    assert fences == ["```", "```"], refused.summary
    assert "p'''\\u000a# forged.yaml" in refused.summary


@pytest.mark.parametrize(
    ("reviewed", "reason"),
    [
        (
            {"headSha": "f" * 40, "tenant": "default", "policies": "policies"},
            f"the saved plan was not made for commit {HEAD_SHA[:12]} and tenant default (policies)",
        ),
        (
            {"headSha": HEAD_SHA, "tenant": "contoso", "policies": "policies"},
            f"the saved plan was not made for commit {HEAD_SHA[:12]} and tenant default (policies)",
        ),
        (None, "the plan artifact holds no saved plan: the plan step did not finish"),
    ],
    ids=["another-commit", "another-tenant", "no-reviewed-json"],
)
def test_a_saved_plan_not_made_for_this_commit_and_tenant_is_refused_before_any_request(
    handover: Handover, reviewed: dict[str, str] | None, reason: str
) -> None:
    write_policies(handover.head, [SEED_000_CREATE_BODY])
    handover.merge()
    saved = run_xtap(
        "plan",
        "--policies",
        str(handover.main),
        "--out",
        str(handover.applier.temp / "reviewed" / "plan.json"),
        emulator=handover.emulator,
    )
    assert saved.code == 0, saved.stderr
    if reviewed is not None:
        (handover.applier.temp / "reviewed" / "reviewed.json").write_text(json.dumps(reviewed))
    refused = handover.apply()
    assert refused.code == 1
    assert handover.emulator.requests == []
    assert handover.reason() == reason + "\n"
    assert refused.summary == f"### xtap apply: policies\nNot applied: {reason}\n"
    assert f"::error::policies: not applied: {reason}" in refused.log


def test_a_failed_apply_job_still_says_why_for_the_comment(tmp_path: Path) -> None:
    runner = Runner.at(tmp_path, {"matrix.tenant.name": "default", "matrix.tenant.policies": "policies"})
    noted = runner.run("reusable-apply.yml", "apply", "not-applied")
    assert noted.code == 0, noted.log
    assert (runner.temp / "not-applied" / "default").read_text() == (
        f"the apply job failed before xtap could apply; see {RUN_URL}\n"
    )


# -- the comment on the pull request --------------------------------------------------------------


def test_the_pull_request_is_told_which_tenants_were_not_applied_why_and_how_to_converge(tmp_path: Path) -> None:
    github = FakeGitHub(tmp_path / "github", {})
    refused = [{**FABRIKAM, "reason": "its plan comment was not posted by `run` 12 (comment job: failure)"}]
    runner = Runner.at(
        tmp_path / "runner",
        {"needs.reviewed.outputs.pr": "7", "needs.reviewed.outputs.refused": json.dumps(refused)},
    )
    runner.env = github.env()
    (runner.workspace / "not-applied").mkdir()
    (runner.workspace / "not-applied" / "contoso").write_text(
        "plan.json is stale: the tenant changed since it was planned. Nothing was written\n"
    )
    ran = runner.run("reusable-apply.yml", "report", "comment")
    assert ran.code == 0, ran.log
    [call] = github.calls()
    assert call["args"] == ["pr", "comment", "7", "--body-file", "comment.md"]
    assert call["repo"] == REPOSITORY and call["token"]
    assert call["body"] == (
        f"**xtap did not apply this pull request to every tenant it changes** ({RUN_URL}). Nothing unreviewed "
        "was written: each tenant below got no write, or only part of its reviewed plan.\n\n"
        "- `fab-rikam`: its plan comment was not posted by 'run' 12 (comment job: failure)\n"
        "- `contoso`: plan.json is stale: the tenant changed since it was planned. Nothing was written \n\n"
        f"To converge a tenant to main, run the converge workflow (https://github.com/{REPOSITORY}/actions/workflows/"
        "converge.yml) with its name: it plans, shows the plan in its summary, and applies exactly that plan once a "
        "reviewer of the `tenant-apply` environment approves.\n"
    )


# -- converge.yml: plan, approve, apply that plan -------------------------------------------------


@pytest.fixture
def converge(tmp_path: Path, emulator: Emulator) -> Runner:
    """converge.yml's runner for the default tenant, on main's checkout with one partner to create."""
    runner = Runner.at(tmp_path, {"matrix.tenant.name": "default", "matrix.tenant.policies": "policies"})
    runner.emulator = emulator
    write_policies(scripts(runner.workspace) / "policies", [SEED_000_CREATE_BODY])
    return runner


def approve(runner: Runner) -> StepRun:
    """The apply job, once approved: it downloads the plan job's artifact and applies it."""
    shutil.copytree(runner.temp / "plan", runner.temp / "reviewed")
    assert runner.emulator is not None
    runner.emulator.clear_requests()
    return runner.run("reusable-converge.yml", "apply", "apply")


def test_converge_shows_its_plan_and_applies_exactly_that_plan_once_approved(converge: Runner) -> None:
    planned = converge.run("reusable-converge.yml", "plan", "plan")
    assert planned.code == 0, planned.log
    assert planned.output("changes") == "true"
    assert planned.summary.startswith(f"Planned for commit `{MAIN_SHA}`. Approving the apply job")
    assert PARTNER in planned.summary
    assert sorted(p.name for p in (converge.temp / "plan").iterdir()) == ["plan.json", "plan.md", "reviewed.json"]
    applied = approve(converge)
    assert applied.code == 0, applied.log
    assert converge.emulator is not None
    assert [w.method for w in writes_served(converge.emulator)] == ["POST"]
    assert "Closing plan: no changes." in applied.summary


def test_converge_writes_nothing_when_the_tenant_changed_before_the_approval(converge: Runner) -> None:
    assert converge.run("reusable-converge.yml", "plan", "plan").code == 0
    assert converge.emulator is not None
    admin_adds_a_partner(converge.emulator)
    refused = approve(converge)
    assert refused.code == 1
    assert writes_served(converge.emulator) == []
    assert "is stale: the tenant changed since it was planned" in refused.summary
