"""Many tenants (tenants-per-job): tenants.sh's groups, run as the workflows' tenants steps run it,
so that no matrix holds more than GitHub's 256 jobs; the grouped lookup of reviewed plans
(reviewed.sh); and the grouped plan job's steps against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.workflow_steps import Runner, StepRun, commit, git, repository, scripts, workflow

GUID = "00000000-0000-4000-8000-{:012d}"
MATRIX_LIMIT = 256


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
