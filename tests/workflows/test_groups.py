"""Many tenants (tenants-per-job): tenants.sh's groups, run as the workflows' tenants steps run it,
so that no matrix holds more than GitHub's 256 jobs; the grouped lookup of reviewed plans
(reviewed.sh); and the grouped jobs' steps against the emulator."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from support.plan_runs import routes
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY
from support.stub_servers import Answer, serving
from support.workflow_steps import (
    HEAD_SHA,
    REPOSITORY,
    FakeGitHub,
    Runner,
    StepRun,
    commit,
    git,
    repository,
    scripts,
    uses_azure_login,
    workflow,
)
from support.xtap import run_xtap, writes_served

from reconciler.emulator import Emulator, EmulatorConfig

GUID = "00000000-0000-4000-8000-{:012d}"
MATRIX_LIMIT = 256
# The tests of the thousand tenants' repository run on one pytest-xdist worker (`--dist loadgroup`
# in pyproject.toml), which builds it once.
ON_THOUSAND = pytest.mark.xdist_group("thousand")


def tenant_folders(repo: Path, count: int, *, bound: bool = True) -> None:
    """`count` minimal tenant folders tenants/t0000/policies, ..., each bound to its own tenant."""
    for index in range(count):
        folder = repo / "tenants" / f"t{index:04d}" / "policies"
        folder.mkdir(parents=True)
        (folder / "xtap.yaml").write_text(f"tenant: {GUID.format(index)}\n" if bound else "prune: false\n")


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = repository(tmp_path_factory.mktemp("thousand") / "repo", ["README.md"])
    tenant_folders(repo, 1000)
    commit(repo)
    return repo


def tenants_step(repo: Path, workflow_name: str = "reusable-drift.yml", **context: str) -> StepRun:
    runner = Runner(repo, repo.parent / "runner-temp", {"github.event.before": "", "inputs.tenant": "", **context})
    runner.temp.mkdir(exist_ok=True)
    return runner.run(workflow_name, "tenants", "tenants")


def groups(ran: StepRun) -> list[dict[str, Any]]:
    assert ran.code == 0, ran.log
    found: list[dict[str, Any]] = json.loads(ran.output("groups"))
    assert ran.output("grouped") == json.dumps(any(group["grouped"] for group in found))
    return found


def members(found: list[dict[str, Any]]) -> list[str]:
    return [tenant["name"] for group in found for tenant in group["tenants"]]


@ON_THOUSAND
def test_a_thousand_tenants_fit_the_matrix_in_groups_of_four(thousand: Path) -> None:
    ran = tenants_step(thousand)
    found = groups(ran)
    assert len(found) == 250 <= MATRIX_LIMIT
    assert {len(group["tenants"]) for group in found} == {4}  # ceil(1000 / 256)
    assert members(found) == [f"t{index:04d}" for index in range(1000)]  # each exactly once, in order
    assert [group["name"] for group in found] == [str(n) for n in range(1, 251)]
    assert found[0]["tenants"][0] == {"name": "t0000", "policies": "tenants/t0000/policies", "suffix": "_T0000"}
    assert all(group["grouped"] for group in found)
    assert len(json.loads(ran.output("tenants"))) == 1000
    # No tenant needs variables of its own: one app signs in to them all.
    assert "::warning::" not in ran.log


@ON_THOUSAND
def test_tenants_per_job_sets_the_group_size(thousand: Path) -> None:
    found = groups(tenants_step(thousand, **{"inputs.tenants-per-job": "20"}))
    assert len(found) == 50
    assert {len(group["tenants"]) for group in found} == {20}
    assert sorted(members(found)) == [f"t{index:04d}" for index in range(1000)]


@pytest.mark.parametrize("value", ["0", "four", "-1", "1.5"])
def test_a_tenants_per_job_that_is_not_a_whole_number_is_refused(tmp_path: Path, value: str) -> None:
    repo = repository(tmp_path / "repo", ["policies/default.yaml"])
    ran = tenants_step(repo, **{"inputs.tenants-per-job": value})
    assert ran.code == 1 and "::error::tenants-per-job: write a whole number from 1" in ran.log, ran.log


@ON_THOUSAND
def test_a_tenant_keeps_its_group_whatever_a_change_lists(thousand: Path, tmp_path: Path) -> None:
    """A pull request touching two tenants plans them in the groups the drift workflow puts them
    in, so their jobs queue together."""
    repo = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(thousand), str(repo))
    scripts(repo)
    (repo / ".git" / "info" / "exclude").write_text("/.xtap/\n")
    for name in ("t0005", "t0998"):
        (repo / "tenants" / name / "policies" / "p.yaml").write_text("# changed\n")
    commit(repo)
    found = groups(tenants_step(repo, "reusable-plan.yml"))
    assert [(group["name"], members([group])) for group in found] == [("2", ["t0005"]), ("250", ["t0998"])]


def test_an_unbound_folder_is_refused_when_grouped(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["README.md"])
    tenant_folders(repo, 3)
    (repo / "tenants" / "t0001" / "policies" / "xtap.yaml").write_text("prune: false\n")
    commit(repo)
    ran = tenants_step(repo, **{"inputs.tenants-per-job": "2"})
    assert ran.code == 1, ran.log
    assert "::error::tenants/t0001/policies/xtap.yaml: add 'tenant: <GUID>'" in ran.log
    assert ran.outputs == ""
    # One job per tenant (the default), the binding stays optional.
    assert [group["grouped"] for group in groups(tenants_step(repo))] == [False] * 3


def test_256_tenants_are_256_jobs_of_one_tenant_as_before(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["README.md"])
    tenant_folders(repo, MATRIX_LIMIT, bound=False)
    commit(repo)
    ran = tenants_step(repo)
    found = groups(ran)
    listed = json.loads(ran.output("tenants"))
    assert len(found) == MATRIX_LIMIT
    assert [group["tenants"] for group in found] == [[tenant] for tenant in listed]
    assert [group["name"] for group in found] == [tenant["name"] for tenant in listed]
    assert ran.output("grouped") == "false"


def test_every_reusable_workflow_takes_tenants_per_job_and_passes_it_to_tenants_sh() -> None:
    for name in ("reusable-plan.yml", "reusable-apply.yml", "reusable-converge.yml", "reusable-drift.yml"):
        flow = workflow(name)
        assert flow["on"]["workflow_call"]["inputs"]["tenants-per-job"]["default"] == "1", name
        [found] = [s for s in flow["jobs"]["tenants"]["steps"] if s.get("id") == "tenants"]
        assert found["env"]["XTAP_TENANTS_PER_JOB"] == "${{ inputs.tenants-per-job }}", name
        outputs = flow["jobs"]["tenants"]["outputs"]
        assert outputs["groups"] == "${{ steps.tenants.outputs.groups }}", name
        assert outputs["grouped"] == "${{ steps.tenants.outputs.grouped }}", name


# -- signing in with one multi-tenant app (.github/federated-token.sh) ---------------------------

APP = "68a08b1e-2596-4281-aae8-7d31f5191426"
HOME = "11111111-2222-4333-8444-555555555555"
OIDC = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8veHRhcCJ9.c2lnbmF0dXJl"
REQUEST_TOKEN = "request-token-of-the-job"


def oidc_endpoint(asked: list[dict[str, str]]) -> Answer:
    """GitHub's token endpoint: the job's OIDC token for the bearer of the job's request token."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        asked.append({"path": handler.path, "authorization": handler.headers.get("Authorization", "")})
        body = json.dumps({"value": OIDC}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def sign_in(tmp_path: Path, job: tuple[str, str], context: dict[str, str], url: str) -> StepRun:
    runner = Runner.at(tmp_path, {"toJSON(matrix.group.tenants)": json.dumps([T1]), **context})
    scripts(runner.workspace)
    runner.env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{url.removesuffix('/v1.0')}/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }
    ran = runner.run(*job, "sign-in")
    pid = runner.temp / "azure-federated-token.pid"
    if pid.exists():  # the refresh loop this step started, and its sleep: ended as the runner ends them
        stop(int(pid.read_text()))
    return ran


def stop(pid: int) -> None:
    children = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat") if ppid(p) == pid]
    os.kill(pid, signal.SIGTERM)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGTERM)


def ppid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.mark.parametrize(
    ("job", "client"),
    [
        (("reusable-plan.yml", "plan-group"), "vars.XTAP_PLAN_CLIENT_ID"),
        (("reusable-apply.yml", "apply-group"), "vars.XTAP_APPLY_CLIENT_ID"),
        (("reusable-drift.yml", "drift-group"), "vars.XTAP_PLAN_CLIENT_ID"),
    ],
)
def test_a_grouped_job_signs_in_with_the_app_and_the_job_s_oidc_token(
    tmp_path: Path, job: tuple[str, str], client: str
) -> None:
    asked: list[dict[str, str]] = []
    context = {client: APP, "vars.XTAP_HOME_TENANT_ID": HOME}
    with serving({"/token": oidc_endpoint(asked)}) as url:
        ran = sign_in(tmp_path, job, context, url)
    assert ran.code == 0, ran.log
    path = "/token?api-version=2.0&audience=api://AzureADTokenExchange"
    assert asked == [{"path": path, "authorization": f"bearer {REQUEST_TOKEN}"}]
    token = tmp_path / "temp" / "azure-federated-token"
    assert token.read_text() == OIDC
    assert token.stat().st_mode & 0o777 == 0o600
    assert OIDC not in ran.log + ran.summary + ran.outputs
    assert ran.environment.splitlines() == [
        f"AZURE_CLIENT_ID={APP}",
        f"AZURE_TENANT_ID={HOME}",
        f"AZURE_FEDERATED_TOKEN_FILE={token}",
        "AZURE_ADDITIONALLY_ALLOWED_TENANTS=*",
    ]
    assert not uses_azure_login(workflow(job[0])["jobs"][job[1]])


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"vars.XTAP_PLAN_CLIENT_ID": "", "vars.XTAP_HOME_TENANT_ID": HOME}, "multi-tenant app's client id"),
        ({"vars.XTAP_PLAN_CLIENT_ID": APP, "vars.XTAP_HOME_TENANT_ID": ""}, "variable XTAP_HOME_TENANT_ID"),
    ],
    ids=["no-client-id", "no-home-tenant"],
)
def test_a_grouped_job_without_the_app_s_variables_says_which_to_set(
    tmp_path: Path, context: dict[str, str], message: str
) -> None:
    with serving({}) as url:
        ran = sign_in(tmp_path, ("reusable-plan.yml", "plan-group"), context, url)
    assert ran.code == 1 and "::error::" in ran.log and message in ran.log, ran.log
    assert ran.environment == ""


def test_a_grouped_job_that_gets_no_oidc_token_fails(tmp_path: Path) -> None:
    context = {"vars.XTAP_PLAN_CLIENT_ID": APP, "vars.XTAP_HOME_TENANT_ID": HOME}
    with serving({}) as url:  # 404 for the token
        ran = sign_in(tmp_path, ("reusable-plan.yml", "plan-group"), context, url)
    assert ran.code == 1 and "::error::could not get the job's OIDC token from GitHub" in ran.log
    assert not (tmp_path / "temp" / "azure-federated-token").exists()
    assert ran.environment == ""


# -- the grouped reviewed plans and comments ------------------------------------------------------

T1 = {"name": "t0001", "policies": "tenants/t0001/policies", "suffix": "_T0001"}
T2 = {"name": "t0002", "policies": "tenants/t0002/policies", "suffix": "_T0002"}
T3 = {"name": "t0003", "policies": "tenants/t0003/policies", "suffix": "_T0003"}
GROUPS = [
    {"name": "1", "grouped": True, "tenants": [T1, T2]},
    {"name": "2", "grouped": True, "tenants": [T3]},
]


def grouped_run(*conclusions: str) -> dict[str, Any]:
    """Plan run 12's routes, planned in groups: one `comment group` job per conclusion given."""
    groups = range(1, len(conclusions) + 1)
    names = ["tenants", *(f"{kind} group ({n})" for n in groups for kind in ("plan", "comment"))]
    verdict = {f"comment group ({n})": c for n, c in enumerate(conclusions, 1)}
    return routes(
        **{
            f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100": {
                "jobs": [{"name": f"plan / {name}", "conclusion": verdict.get(name, "success")} for name in names]
            },
            f"repos/{REPOSITORY}/actions/runs/12/artifacts?per_page=100": {
                "artifacts": [{"name": f"plans-{n}", "expired": False} for n in groups]
            },
        }
    )


def find_grouped(tmp_path: Path, answers: dict[str, Any]) -> StepRun:
    github = FakeGitHub(tmp_path / "github", answers)
    runner = Runner.at(
        tmp_path / "runner",
        {
            "needs.tenants.outputs.tenants": json.dumps([T1, T2, T3]),
            "needs.tenants.outputs.groups": json.dumps(GROUPS),
            "needs.tenants.outputs.grouped": "true",
        },
    )
    runner.env = github.env()
    scripts(runner.workspace)
    return runner.run("reusable-apply.yml", "reviewed", "reviewed")


def test_grouped_reviewed_plans_are_found_and_regrouped_for_the_apply_jobs(tmp_path: Path) -> None:
    ran = find_grouped(tmp_path, grouped_run("success", "success"))
    assert ran.code == 0, ran.log
    run = {"run": "12", "head": HEAD_SHA, "url": f"https://github.com/{REPOSITORY}/actions/runs/12"}
    assert json.loads(ran.output("refused")) == []
    assert json.loads(ran.output("ready-groups")) == [
        {"name": "1", "grouped": True, "tenants": [{**T1, **run}, {**T2, **run}]},
        {"name": "2", "grouped": True, "tenants": [{**T3, **run}]},
    ]


def test_a_grouped_run_with_a_comment_not_posted_applies_nothing(tmp_path: Path) -> None:
    ran = find_grouped(tmp_path, grouped_run("success", "failure"))
    assert ran.code == 0, ran.log
    assert json.loads(ran.output("ready-groups")) == []
    refused = json.loads(ran.output("refused"))
    assert [t["name"] for t in refused] == ["t0001", "t0002", "t0003"]
    assert all("a comment group job did not succeed" in t["reason"] for t in refused)


def test_a_run_planned_one_job_per_tenant_is_not_taken_for_grouped_plans(tmp_path: Path) -> None:
    ran = find_grouped(tmp_path, routes())  # plan (contoso), comment (contoso), ...: no group jobs
    assert ran.code == 0, ran.log
    assert json.loads(ran.output("ready-groups")) == []
    assert len(json.loads(ran.output("refused"))) == 3


def test_single_tenant_lookups_write_no_groups(tmp_path: Path) -> None:
    github = FakeGitHub(tmp_path / "github", routes())
    runner = Runner.at(tmp_path / "runner", {"needs.tenants.outputs.tenants": json.dumps([T1])})
    runner.env = github.env()
    scripts(runner.workspace)
    ran = runner.run("reusable-apply.yml", "reviewed", "reviewed")
    assert ran.code == 0 and ran.output("ready-groups") == "[]", ran.log


MARKER = "<!-- Sticky Pull Request Commentxtap-plan-{} -->"


def test_each_tenant_of_a_group_gets_its_own_sticky_comment(tmp_path: Path) -> None:
    comments = f"repos/{REPOSITORY}/issues/7/comments?per_page=100"
    github = FakeGitHub(
        tmp_path / "github",
        {
            comments: [
                {"id": 40, "user": {"login": "mallory"}, "body": "copied\n" + MARKER.format("t0001")},
                {"id": 41, "user": {"login": "github-actions[bot]"}, "body": "old plan\n" + MARKER.format("t0001")},
            ],
            f"PATCH repos/{REPOSITORY}/issues/comments/41": {},
            f"POST repos/{REPOSITORY}/issues/7/comments": {},
        },
    )
    runner = Runner.at(
        tmp_path / "runner",
        {"github.event.pull_request.number": "7", "toJSON(matrix.group.tenants)": json.dumps([T1, T2, T3])},
    )
    runner.env = github.env()
    for tenant in ("t0001", "t0002"):  # t0003's plan job left nothing
        (runner.workspace / "plans" / tenant).mkdir(parents=True)
        (runner.workspace / "plans" / tenant / "plan.md").write_text(f"plan of {tenant}\n")
    ran = runner.run("reusable-plan.yml", "comment-group", "comment")
    assert ran.code == 1 and "::error::no plan to show for t0003" in ran.log
    written = [(call["args"][2], call["args"][3], call["input"]) for call in github.calls() if "input" in call]
    assert written == [
        ("PATCH", f"repos/{REPOSITORY}/issues/comments/41", {"body": "plan of t0001\n\n" + MARKER.format("t0001")}),
        ("POST", f"repos/{REPOSITORY}/issues/7/comments", {"body": "plan of t0002\n\n" + MARKER.format("t0002")}),
    ]


# -- the grouped apply and plan jobs' steps, against the emulator ---------------------------------


def tenant_folder(root: Path, name: str, tenant: str, partners: list[dict[str, Any]]) -> Path:
    folder = write_policies(root / "tenants" / name / "policies", partners)
    (folder / "xtap.yaml").write_text(f"tenant: {tenant}\n")
    return folder


def test_a_grouped_apply_applies_each_tenant_s_own_reviewed_plan_and_says_why_not_for_the_others(
    tmp_path: Path, emulator: Emulator
) -> None:
    """t0001 has a reviewed plan (saved from the pull request's files); t0002's plan job left
    none: t0001 is applied and its closing plan is clean, t0002 gets no write and a reason."""
    runner = Runner.at(
        tmp_path / "apply",
        {"toJSON(matrix.group.tenants)": json.dumps([{**T1, "head": HEAD_SHA}, {**T2, "head": HEAD_SHA}])},
    )
    runner.emulator = emulator
    scripts(runner.workspace)
    for root in (tmp_path / "pr", runner.workspace):  # the pull request's files, then main's after the merge
        tenant_folder(root, "t0001", emulator.tenant_id, [SEED_000_CREATE_BODY])
        tenant_folder(root, "t0002", GUID.format(2), [])
    reviewed = runner.temp / "reviewed" / "t0001"
    reviewed.mkdir(parents=True)
    saved = run_xtap(
        "plan",
        "--policies",
        T1["policies"],
        "--out",
        str(reviewed / "plan.json"),
        cwd=tmp_path / "pr",
        emulator=emulator,
    )
    assert saved.code == 0, saved.stderr
    (reviewed / "reviewed.json").write_text(
        json.dumps({"headSha": HEAD_SHA, "tenant": "t0001", "policies": T1["policies"], "changes": True})
    )
    emulator.clear_requests()
    applied = runner.run("reusable-apply.yml", "apply-group", "apply")
    assert applied.code == 1, applied.log
    assert [(w.method, w.path) for w in writes_served(emulator)] == [
        ("POST", "/v1.0/policies/crossTenantAccessPolicy/partners")
    ]
    assert f"### xtap apply: {T1['policies']}\nThe plan reviewed for commit `{HEAD_SHA}`" in applied.summary
    assert "Closing plan: no changes." in applied.summary
    assert f"### xtap apply: {T2['policies']}\nNot applied: the plan artifact holds no saved plan" in applied.summary
    reasons = runner.temp / "not-applied"
    assert sorted(p.name for p in reasons.iterdir()) == ["t0002"]
    assert "holds no saved plan" in (reasons / "t0002").read_text()


def test_a_grouped_plan_keeps_each_tenant_s_plan_and_no_reviewed_plan_for_one_that_failed(tmp_path: Path) -> None:
    """Two tenants of one emulator, each with its own token: t0001 gains a partner, t0002 has no
    changes. t0003 is bound to a tenant the job has no token for: it cannot be planned, and the
    rest is kept."""
    other = GUID.format(2)
    with Emulator(EmulatorConfig(tenants=(other,))) as emulator:
        runner = Runner.at(
            tmp_path,
            {"toJSON(matrix.group.tenants)": json.dumps([T1, T2, T3]), "github.event.pull_request.head.sha": HEAD_SHA},
        )
        runner.emulator = emulator
        runner.token = f"{emulator.mint_token(name='workflow')} {emulator.mint_token(name='workflow', tenant=other)}"
        tenant_folder(runner.workspace / "base", "t0001", emulator.tenant_id, [])
        tenant_folder(runner.workspace / "pr", "t0001", emulator.tenant_id, [SEED_000_CREATE_BODY])
        tenant_folder(runner.workspace / "pr", "t0002", other, [])
        tenant_folder(runner.workspace / "pr", "t0003", GUID.format(3), [])
        assert runner.run("reusable-plan.yml", "plan-group", "validate").code == 0
        planned = runner.run("reusable-plan.yml", "plan-group", "plan")
        # Guardrails per tenant, offline: these pass, so the planned tenants keep their reviewed plans.
        checked = runner.run("reusable-plan.yml", "plan-group", "check")
    assert planned.code == 1, planned.log
    assert planned.output("changes") == "true"
    plans = runner.workspace / "plans"
    for tenant, changes in (("t0001", True), ("t0002", False)):
        assert {"plan.json", "plan.md", "reviewed.json"} <= {p.name for p in (plans / tenant).iterdir()}, tenant
        assert json.loads((plans / tenant / "reviewed.json").read_text()) == {
            "headSha": HEAD_SHA,
            "tenant": tenant,
            "policies": f"tenants/{tenant}/policies",
            "changes": changes,
        }
        assert (plans / tenant / "plan.md").read_text().startswith(f"Planned for commit `{HEAD_SHA}`."), tenant
    assert sorted(p.name for p in (plans / "t0003").iterdir()) == ["plan.md"]
    assert "xtap could not plan `tenants/t0003/policies`" in (plans / "t0003" / "plan.md").read_text()
    assert all(f"### {tenant}" in planned.summary for tenant in ("t0001", "t0002", "t0003"))
    assert checked.code == 0, checked.log


def test_a_grouped_drift_keeps_each_tenant_s_report_and_status_for_its_issue(
    tmp_path: Path, emulator: Emulator
) -> None:
    """t0001's files declare a partner the tenant lacks: drift, which does not fail the job."""
    runner = Runner.at(tmp_path, {"toJSON(matrix.group.tenants)": json.dumps([T1])})
    runner.emulator = emulator
    tenant_folder(runner.workspace, "t0001", emulator.tenant_id, [SEED_000_CREATE_BODY])
    drifted = runner.run("reusable-drift.yml", "drift-group", "drift")
    assert drifted.code == 0, drifted.log
    report = runner.workspace / "drift" / "t0001"
    assert (report / "drift.status").read_text().strip() == "2"
    assert (report / "drift.md").read_text() == (report / "report.md").read_text()
    assert "### t0001" in drifted.summary


def test_a_tenant_whose_files_fail_the_check_loses_its_reviewed_plan_and_its_comment_says_why(tmp_path: Path) -> None:
    runner = Runner.at(tmp_path, {"toJSON(matrix.group.tenants)": json.dumps([T1, T2])})
    for tenant in ("t0001", "t0002"):
        tenant_folder(runner.workspace / "pr", tenant, GUID.format(int(tenant[1:])), [])
        (runner.workspace / "plans" / tenant).mkdir(parents=True)
        (runner.workspace / "plans" / tenant / "plan.md").write_text("the plan\n")
        (runner.workspace / "plans" / tenant / "reviewed.json").write_text("{}")
    trusting = {**SEED_000_CREATE_BODY, "inboundTrust": {"isMfaAccepted": True}}  # not marked trusted
    partner = runner.workspace / "pr" / T2["policies"] / "partners" / "p.yaml"
    partner.write_text(json.dumps(trusting))
    checked = runner.run("reusable-plan.yml", "plan-group", "check")
    assert checked.code == 1, checked.log
    assert "inbound-trust-only-trusted" in checked.log
    assert (runner.workspace / "plans" / "t0001" / "reviewed.json").exists()
    assert not (runner.workspace / "plans" / "t0002" / "reviewed.json").exists()
    assert (
        "xtap check failed for `tenants/t0002/policies`: this plan will not be applied."
        in (runner.workspace / "plans" / "t0002" / "plan.md").read_text()
    )
