"""Running the GitHub workflows' steps here as a runner runs them, for the test_workflows*.py files.

Steps are read from the YAML, never copied here, so a test cannot pass against a command line
the workflow no longer runs. Each `run:` script runs as a runner runs it with `shell: bash`
(bash -eo pipefail), in the job's and the step's environment, with the step's
`working-directory`, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY pointing at files, and the runner's
default variables (GITHUB_WORKSPACE, GITHUB_SHA, RUNNER_TEMP, ...). The `${{ }}` expressions in
that environment are looked up in a context the test gives: one this module does not know
fails the test, so none is silently left as text.

azure/login is the one step that cannot run here: the emulator's token in XTAP_ACCESS_TOKEN
stands in for the identity it provides. `gh` is tests/support/fake_gh.py, serving canned JSON."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reconciler.emulator import Emulator
from support.paths import REPO

ROOT = REPO
WORKFLOWS = ROOT / ".github" / "workflows"
# Where pip put xtap and the linters: the runner finds them on PATH after `pip install`.
VENV_BIN = Path(sys.executable).parent
REPOSITORY = "octo/xtap"
RUN_ID = "1"
RUN_URL = f"https://github.com/{REPOSITORY}/actions/runs/{RUN_ID}"
MAIN_SHA = "a" * 40
HEAD_SHA = "b" * 40  # a pull request's last commit
TOKEN = "ghs_workflow_token"
TENANT_GROUP = "xtap-tenant-${{ vars[format('XTAP_TENANT_ID{0}', matrix.tenant.suffix)] }}"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def workflow(name: str) -> dict[str, Any]:
    # YAML 1.2, as GitHub reads it: `on` is a string key, not the boolean true.
    loaded: dict[str, Any] = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    return loaded


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: workflow(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def all_jobs() -> dict[tuple[str, str], dict[str, Any]]:
    return {(name, job_id): job for name, flow in all_workflows().items() for job_id, job in flow["jobs"].items()}


def step(workflow_name: str, job: str, step_id: str) -> dict[str, Any]:
    [found] = [s for s in workflow(workflow_name)["jobs"][job]["steps"] if s.get("id") == step_id]
    return found


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The job's steps that use `action` (owner/name, any pinned version)."""
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith(f"{action}@")]


def uses_azure_login(job: dict[str, Any]) -> bool:
    return bool(uses(job, "azure/login"))


@dataclass
class StepRun:
    code: int
    log: str
    outputs: str
    summary: str
    environment: str = ""  # what the step wrote to GITHUB_ENV, for the job's later steps

    def output(self, name: str) -> str:
        [value] = [line.split("=", 1)[1] for line in self.outputs.splitlines() if line.startswith(f"{name}=")]
        return value


@dataclass
class Runner:
    """One job's runner: its workspace (GITHUB_WORKSPACE, where checkouts go), its RUNNER_TEMP,
    and what the `${{ }}` expressions of its steps evaluate to."""

    workspace: Path
    temp: Path
    context: dict[str, str] = field(default_factory=dict)
    emulator: Emulator | None = None
    token: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def at(cls, root: Path, context: dict[str, str] | None = None) -> Runner:
        (root / "work").mkdir(parents=True)
        (root / "temp").mkdir()
        return cls(root / "work", root / "temp", dict(context or {}))

    def expressions(self, context: dict[str, str] | None = None) -> dict[str, str]:
        server = "https://github.com"
        return {
            "github.server_url": server,
            "github.repository": REPOSITORY,
            "github.run_id": RUN_ID,
            "github.sha": MAIN_SHA,
            "github.token": TOKEN,
            "runner.temp": str(self.temp),
            "toJSON(vars)": "{}",
            # The reusable workflows' inputs, as this repository's own workflows pass them.
            "inputs.policies": "policies",
            "inputs.xtap-ref": MAIN_SHA,
            "inputs.plan-workflow": "plan.yml",
            "inputs.converge-workflow": "converge.yml",
            "inputs.tenants-per-job": "1",
            # tenants.sh's outputs for one job per tenant (its default).
            "needs.tenants.outputs.grouped": "false",
            "needs.tenants.outputs.groups": "[]",
            **self.context,
            **(context or {}),
        }

    def evaluate(self, text: str, context: dict[str, str] | None = None) -> str:
        known = self.expressions(context)

        def value(match: re.Match[str]) -> str:
            assert match.group(1) in known, f"an expression this test does not evaluate: {match.group(0)}"
            return known[match.group(1)]

        return EXPRESSION.sub(value, str(text))

    def run(self, workflow_name: str, job: str, step_id: str, context: dict[str, str] | None = None) -> StepRun:
        flow = workflow(workflow_name)
        assert flow["defaults"]["run"]["shell"] == "bash"  # so the runner adds -eo pipefail, as here
        found = step(workflow_name, job, step_id)
        declared = {**flow["jobs"][job].get("env", {}), **found.get("env", {})}
        known = self.expressions(context)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_", "GITHUB_", "GH_"))}
        env.update(
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_SHA=known["github.sha"],
            GITHUB_REF=known.get("github.ref", "refs/heads/main"),
            GITHUB_REPOSITORY=REPOSITORY,
            GITHUB_RUN_ID=RUN_ID,
            GITHUB_SERVER_URL=known["github.server_url"],
            RUNNER_TEMP=str(self.temp),
        )
        env.update({name: self.evaluate(value, context) for name, value in declared.items()})
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
        if self.emulator is not None:
            token = self.token or self.emulator.mint_token(name="workflow")
            env.update(XTAP_GRAPH_URL=self.emulator.base_url, XTAP_ACCESS_TOKEN=token)
        env.update(self.env)
        cwd = self.workspace / found.get("working-directory", ".")
        # The script and the runner's files live outside the workspace, as on a runner, so no
        # diff ever sees them.
        with tempfile.TemporaryDirectory() as files:
            output, summary, exported, script = (Path(files) / name for name in ("output", "summary", "env", "step.sh"))
            for file in (output, summary, exported):
                file.write_text("")
            env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary), GITHUB_ENV=str(exported))
            script.write_text(found["run"])
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            log = done.stdout + done.stderr
            return StepRun(done.returncode, log, output.read_text(), summary.read_text(), exported.read_text())


# A pull request's plan job for the default tenant (policies/).
PLAN_CONTEXT = {
    "matrix.tenant.policies": "policies",
    "matrix.tenant.name": "default",
    "github.event.pull_request.head.sha": HEAD_SHA,
}


# Where the reusable workflows check xtap out (its scripts and source), inside the workspace.
XTAP_CHECKOUT = ".xtap"


def scripts(checkout: Path) -> Path:
    """`checkout` holding this repository's .github/ scripts in its xtap checkout (.xtap/), as a
    job of the reusable workflows has them, untracked by the checkout's git."""
    (checkout / XTAP_CHECKOUT / ".github").mkdir(parents=True, exist_ok=True)
    for script in (ROOT / ".github").glob("*.sh"):
        shutil.copy(script, checkout / XTAP_CHECKOUT / ".github" / script.name)
    return checkout


# -- git repositories -----------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    identity = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **identity}, check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


def repository(root: Path, files: list[str]) -> Path:
    """A git repository holding the .github/ scripts and `files`, all committed."""
    scripts(root)
    git(root, "init", "-q")
    (root / ".git" / "info").mkdir(parents=True, exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text(f"/{XTAP_CHECKOUT}/\n")
    change(root, files)
    return root


def change(repo: Path, files: list[str]) -> str:
    """Appends a line to each of `files` (creating it) and commits; the new commit's id."""
    for name in files:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        with (repo / name).open("a") as file:
            file.write("# changed\n")
    return commit(repo)


def commit(repo: Path) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    return git(repo, "rev-parse", "HEAD")


def matrix(ran: StepRun) -> list[dict[str, str]]:
    assert ran.code == 0, ran.log
    tenants: list[dict[str, str]] = json.loads(ran.output("tenants"))
    return tenants


# -- a fake `gh` ------------------------------------------------------------------------------


class FakeGitHub:
    """`gh` on PATH, answering `gh api ENDPOINT` with the JSON given for that endpoint (a 404
    otherwise) and recording every call, and the body of `gh pr comment`."""

    def __init__(self, root: Path, routes: dict[str, Any]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "routes.json").write_text(json.dumps(routes))
        gh = root / "bin" / "gh"
        gh.parent.mkdir()
        gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).parent / "fake_gh.py"}" "$@"\n')
        gh.chmod(0o755)

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.root / 'bin'}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_ROUTES": str(self.root / "routes.json"),
            "FAKE_GH_LOG": str(self.root / "calls.jsonl"),
        }

    def calls(self) -> list[dict[str, Any]]:
        log = self.root / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
