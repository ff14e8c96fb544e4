"""A merged pull request's plan run as GitHub's REST API lists it, for the tests of the lookup of
reviewed plans (.github/reviewed.sh) through tests/support/fake_gh.py."""

from __future__ import annotations

from typing import Any

from support.workflow_steps import HEAD_SHA, MAIN_SHA, REPOSITORY

PULL = {
    "number": 7,
    "merged_at": "2026-05-20T10:30:00Z",
    "merge_commit_sha": MAIN_SHA,
    "head": {"sha": HEAD_SHA, "ref": "add-partner"},
}


def plan_run(run_id: int, created: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": run_id,
        "html_url": f"https://github.com/{REPOSITORY}/actions/runs/{run_id}",
        "event": "pull_request",
        "status": "completed",
        "conclusion": "success",
        "head_sha": HEAD_SHA,
        "head_branch": "add-partner",
        "head_repository": {"full_name": REPOSITORY},
        "created_at": created,
        **changes,
    }


def jobs(*tenants: str, caller: str = "plan / ", **conclusions: str) -> dict[str, Any]:
    """The plan run's jobs, each a success unless `conclusions` names it (job name, `_` for ` `).
    GitHub names a called workflow's jobs after the calling job: `plan / plan (contoso)`."""
    names = [f"{kind} ({tenant})" for tenant in tenants for kind in ("plan", "comment")]
    return {
        "jobs": [
            {"name": caller + name, "conclusion": conclusions.get(name.replace(" ", "_"), "success")}
            for name in ["tenants", *names]
        ]
    }


RUNS = f"repos/{REPOSITORY}/actions/workflows/plan.yml/runs?event=pull_request&head_sha={HEAD_SHA}&per_page=100"
PULLS = f"repos/{REPOSITORY}/commits/{MAIN_SHA}/pulls?per_page=100"


def routes(**changes: Any) -> dict[str, Any]:
    """A merged pull request whose last plan run (12) planned contoso and fab-rikam. Newer runs of
    a fork, of another branch with the same commit, and one still running must not be taken."""
    answers: dict[str, Any] = {
        PULLS: [{**PULL, "number": 6, "merged_at": None, "merge_commit_sha": "e" * 40}, PULL],
        RUNS: {
            "workflow_runs": [
                plan_run(11, "2026-05-20T09:00:00Z"),
                plan_run(12, "2026-05-20T10:00:00Z"),
                plan_run(13, "2026-05-20T10:10:00Z", head_repository={"full_name": "mallory/xtap"}),
                plan_run(14, "2026-05-20T10:20:00Z", head_branch="copy"),
                plan_run(15, "2026-05-20T10:25:00Z", status="in_progress", conclusion=None),
            ]
        },
        f"repos/{REPOSITORY}/actions/runs/12/jobs?per_page=100": jobs("contoso", "fab-rikam"),
        f"repos/{REPOSITORY}/actions/runs/12/artifacts?per_page=100": {
            "artifacts": [{"name": f"plan-{t}", "expired": False} for t in ("contoso", "fab-rikam")]
        },
    }
    answers.update(changes)
    return {endpoint: answer for endpoint, answer in answers.items() if answer is not None}
