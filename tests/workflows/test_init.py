"""`xtap init`: the policy repository it writes (files, the pin, no overwrite), linted as CI lints
this repository's workflows and validated by xtap; and `.github/setup.sh`, the environment setup
it copies there, against a fake `gh` that records each call."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.workflow_steps import ROOT, VENV_BIN, WORKFLOWS, FakeGitHub
from support.xtap import run_xtap

XTAP = "contoso/xtap"
SHA = "0123456789abcdef0123456789abcdef01234567"
TENANT = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
TREE = [
    ".github/setup.sh",
    ".github/workflows/xtap-apply.yml",
    ".github/workflows/xtap-converge.yml",
    ".github/workflows/xtap-drift.yml",
    ".github/workflows/xtap-plan.yml",
    ".gitignore",
    "README.md",
    "policies/default.yaml",
    "policies/partners/README.md",
    "policies/xtap.yaml",
]
REUSABLE = {
    "xtap-plan.yml": "reusable-plan.yml",
    "xtap-apply.yml": "reusable-apply.yml",
    "xtap-converge.yml": "reusable-converge.yml",
    "xtap-drift.yml": "reusable-drift.yml",
}


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return loaded


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    ran = run_xtap("init", str(tmp_path / "repo"), "--tenant", TENANT.upper(), "--xtap", f"{XTAP}@{SHA}")
    assert ran.code == 0, ran.stderr
    return tmp_path / "repo"


def test_init_writes_a_policy_repository_that_calls_xtap_at_the_pinned_commit(repo: Path) -> None:
    assert files(repo) == TREE
    assert (repo / ".github/setup.sh").stat().st_mode & 0o111
    assert (repo / ".github/setup.sh").read_text() == (ROOT / ".github/setup.sh").read_text()
    assert f"\ntenant: {TENANT}\n" in (repo / "policies/xtap.yaml").read_text()  # in lower case
    # Only comments: a file the tenant's export fills, never a setting of init's own.
    assert all(not line or line.startswith("#") for line in (repo / "policies/default.yaml").read_text().splitlines())
    for name, reusable in REUSABLE.items():
        flow = load(repo / ".github/workflows" / name)
        assert flow["permissions"] == {}, name
        [job] = flow["jobs"].values()
        assert job["uses"] == f"{XTAP}/.github/workflows/{reusable}@{SHA}", name
        assert {k: job["with"][k] for k in ("xtap-repository", "xtap-ref")} == {
            "xtap-repository": XTAP,
            "xtap-ref": SHA,
        }
        # The caller grants what the called jobs need together, and nothing more.
        needed: dict[str, str] = {}
        for called in load(WORKFLOWS / reusable)["jobs"].values():
            for scope, level in called["permissions"].items():
                if needed.get(scope) != "write":
                    needed[scope] = level
        assert job["permissions"] == needed, name
        # Every input it passes is one the reusable workflow takes, and every required one is passed.
        inputs = load(WORKFLOWS / reusable)["on"]["workflow_call"]["inputs"]
        assert set(job["with"]) <= set(inputs), name
        assert {k for k, v in inputs.items() if v.get("required")} <= set(job["with"]), name
        # The input that groups tenants, at its default, so that a provider finds where to set it.
        assert job["with"]["tenants-per-job"] == inputs["tenants-per-job"]["default"] == "1", name
    assert list(load(repo / ".github/workflows/xtap-apply.yml")["on"]) == ["push"]  # no workflow_dispatch
    apply_paths = load(repo / ".github/workflows/xtap-apply.yml")["on"]["push"]["paths"]
    assert set(apply_paths) <= set(load(repo / ".github/workflows/xtap-plan.yml")["on"]["pull_request"]["paths"])
    readme = (repo / "README.md").read_text()
    for step in ("xtap doctor", "xtap export", ".github/setup.sh --reviewer", "pull request", SHA):
        assert step in readme


def test_what_init_writes_passes_actionlint_zizmor_shellcheck_and_xtap_validate(repo: Path) -> None:
    """actionlint does not fetch a remote reusable workflow (`owner/repo/...@sha`): it checks the
    call's syntax only, and passes. The inputs and permissions of the call are checked by running
    it again with each `uses:` pointed at a copy of this repository's reusable workflow."""
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, timeout=30)
    for args in (
        ("actionlint",),
        ("zizmor", "--offline", "--strict-collection", ".github/workflows"),
        (
            "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, (repo / ".github/workflows").glob("*.yml")),
        ),
        ("shellcheck", ".github/setup.sh"),
    ):
        done = tool(*args, cwd=repo)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert run_xtap("validate", cwd=repo).code == 0
    # The same files, calling local copies of the reusable workflows: actionlint checks the call.
    for name, reusable in REUSABLE.items():
        shutil.copy(WORKFLOWS / reusable, repo / ".github/workflows" / reusable)
        flow = repo / ".github/workflows" / name
        flow.write_text(
            flow.read_text().replace(f"{XTAP}/.github/workflows/{reusable}@{SHA}", f"./.github/workflows/{reusable}")
        )
    done = tool("actionlint", cwd=repo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_init_without_a_tenant_binds_nothing_and_validates(tmp_path: Path) -> None:
    assert run_xtap("init", str(tmp_path), "--xtap", f"{XTAP}@{SHA}").code == 0
    assert not re.search(r"^tenant:", (tmp_path / "policies/xtap.yaml").read_text(), re.M)
    assert run_xtap("validate", cwd=tmp_path).code == 0


@pytest.mark.parametrize("ref", ["main", "v1.2.0", SHA[:12], SHA.upper(), f"{SHA}0"])
def test_init_refuses_a_branch_a_tag_or_a_short_commit_and_writes_nothing(tmp_path: Path, ref: str) -> None:
    ran = run_xtap("init", str(tmp_path / "repo"), "--xtap", f"{XTAP}@{ref}")
    assert ran.code == 1
    assert "pin a commit, not a branch or tag" in ran.stderr
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize("pin", [SHA, f"contoso@{SHA}", f"https://github.com/{XTAP}@{SHA}"])
def test_init_refuses_a_pin_that_is_not_owner_repo_at_sha(tmp_path: Path, pin: str) -> None:
    ran = run_xtap("init", str(tmp_path / "repo"), "--xtap", pin)
    assert ran.code == 1 and "is not OWNER/REPO@SHA" in ran.stderr
    assert not (tmp_path / "repo").exists()


def test_init_refuses_a_tenant_that_is_not_a_guid(tmp_path: Path) -> None:
    ran = run_xtap("init", str(tmp_path / "repo"), "--tenant", "contoso.com", "--xtap", f"{XTAP}@{SHA}")
    assert ran.code == 1 and "is not a tenant id (a GUID)" in ran.stderr
    assert not (tmp_path / "repo").exists()


def test_init_overwrites_nothing_and_lists_every_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies/xtap.yaml").write_text("prune: true\n")
    (tmp_path / "README.md").write_text("mine\n")
    ran = run_xtap("init", str(tmp_path), "--xtap", f"{XTAP}@{SHA}")
    assert ran.code == 1
    assert "2 file(s) already exist" in ran.stderr and "nothing written" in ran.stderr
    assert "  README.md\n" in ran.stderr and "  policies/xtap.yaml\n" in ran.stderr
    assert files(tmp_path) == ["README.md", "policies/xtap.yaml"]
    assert (tmp_path / "README.md").read_text() == "mine\n"


# -- .github/setup.sh ---------------------------------------------------------------------------

REPO = "octo/policies"
ENVIRONMENT = f"repos/{REPO}/environments/tenant-apply"
BRANCHES = f"{ENVIRONMENT}/deployment-branch-policies"


def setup(tmp_path: Path, routes: dict[str, Any], *args: str) -> tuple[subprocess.CompletedProcess[str], FakeGitHub]:
    github = FakeGitHub(tmp_path / "github", routes)
    done = subprocess.run(
        ["bash", str(ROOT / ".github/setup.sh"), *args],
        cwd=tmp_path,
        env={**github.env(), "GH_REPO": REPO, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, github


def github_routes(**changes: Any) -> dict[str, Any]:
    routes: dict[str, Any] = {
        "users/octocat": {"login": "octocat", "id": 583231},
        "orgs/octo/teams/tenant-admins": {"slug": "tenant-admins", "id": 42},
        f"PUT {ENVIRONMENT}": {"name": "tenant-apply"},
        f"{BRANCHES}?per_page=100": {"total_count": 0, "branch_policies": []},
        f"POST {BRANCHES}": {"id": 7, "name": "main", "type": "branch"},
    }
    routes.update(changes)
    return routes


def calls(github: FakeGitHub) -> list[tuple[str, ...]]:
    return [tuple(call["args"]) for call in github.calls()]


def test_setup_creates_the_environment_with_reviewers_and_main_as_its_only_branch(tmp_path: Path) -> None:
    done, github = setup(tmp_path, github_routes(), "--reviewer", "octocat", "--reviewer", "octo/tenant-admins")
    assert done.returncode == 0, done.stderr
    assert calls(github) == [
        ("api", "users/octocat"),
        ("api", "orgs/octo/teams/tenant-admins"),
        ("api", "-X", "PUT", ENVIRONMENT, "--input", "-"),
        ("api", f"{BRANCHES}?per_page=100"),
        ("api", "-X", "POST", BRANCHES, "-f", "name=main", "-f", "type=branch"),
    ]
    assert github.calls()[2]["input"] == {
        "reviewers": [{"type": "User", "id": 583231}, {"type": "Team", "id": 42}],
        "prevent_self_review": True,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }
    assert "deployment branches: main only" in done.stdout


def test_setup_run_again_keeps_main_and_deletes_any_other_branch_rule(tmp_path: Path) -> None:
    existing = {
        "branch_policies": [{"id": 7, "name": "main", "type": "branch"}, {"id": 8, "name": "dev/*", "type": "branch"}]
    }
    routes = github_routes(**{f"{BRANCHES}?per_page=100": existing, f"DELETE {BRANCHES}/8": {}})
    done, github = setup(tmp_path, routes, "--reviewer", "octocat", "--allow-self-review")
    assert done.returncode == 0, done.stderr
    assert calls(github)[2:] == [("api", f"{BRANCHES}?per_page=100"), ("api", "-X", "DELETE", f"{BRANCHES}/8")]
    assert github.calls()[1]["input"]["prevent_self_review"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name at least one required reviewer"),
        (("--reviewer", "octo/x/y"), "is neither a user (LOGIN) nor a team (ORG/TEAM)"),
        (tuple(a for i in range(7) for a in ("--reviewer", f"u{i}")), "at most six required reviewers"),
        (("--repo", "not a repo", "--reviewer", "octocat"), "is not OWNER/REPO"),
    ],
)
def test_setup_refuses_what_github_would_not_take_before_any_write(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done, github = setup(tmp_path, github_routes(), *args)
    assert done.returncode == 1 and message in done.stderr
    assert not [c for c in calls(github) if "-X" in c]


def test_setup_says_why_when_github_refuses_the_environment(tmp_path: Path) -> None:
    refused = {"error": "Failed to create the environment protection rule (HTTP 422)"}
    done, github = setup(tmp_path, github_routes(**{f"PUT {ENVIRONMENT}": refused}), "--reviewer", "octocat")
    assert done.returncode == 1
    assert "could not set up the tenant-apply environment of octo/policies" in done.stderr
    assert not [c for c in calls(github) if "POST" in c]  # no branch rule for an environment not set up
    assert json.dumps(calls(github))  # every call was recorded


def test_setup_sets_up_the_rest_where_github_refuses_prevent_self_review_and_says_so(tmp_path: Path) -> None:
    refused = {"error": "Validation Failed (HTTP 422)"}
    routes = github_routes(**{f"PUT {ENVIRONMENT}": {"in_turn": [refused, {"name": "tenant-apply"}]}})
    done, github = setup(tmp_path, routes, "--reviewer", "octocat")
    assert done.returncode == 0, done.stderr
    puts = [call["input"] for call in github.calls() if "PUT" in call["args"]]
    assert [put["prevent_self_review"] for put in puts] == [True, False]
    assert puts[1]["reviewers"] == [{"type": "User", "id": 583231}]
    assert "warning: prevent_self_review was refused" in done.stderr
    assert ("api", "-X", "POST", BRANCHES, "-f", "name=main", "-f", "type=branch") in calls(github)


def test_init_help_lists_what_it_writes() -> None:
    ran = run_xtap("init", "--help")
    assert ran.code == 0
    listed = re.findall(r"^\s+(?:Writes:\s+)?(\.?[\w./-]+\.(?:md|yaml|yml|sh)|\.gitignore)\b", ran.stdout, re.M)
    assert sorted(listed) == TREE
