"""The tenant matrix (.github/tenants.sh), through the workflows' own tenants steps: which tenants
a pull request plans and a push applies, and the refusals that keep one tenant to one folder,
one set of variables and one queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.workflow_steps import Runner, StepRun, change, commit, git, matrix, repository, workflow

DEFAULT = {"name": "default", "policies": "policies", "suffix": ""}
CONTOSO = {"name": "contoso", "policies": "tenants/contoso/policies", "suffix": "_CONTOSO"}
FABRIKAM = {"name": "fab-rikam", "policies": "tenants/fab-rikam/policies", "suffix": "_FAB_RIKAM"}
TWO_TENANTS = ["tenants/contoso/policies/default.yaml", "tenants/fab-rikam/policies/partners/p.yaml"]
TENANT_A = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
TENANT_B = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


def tenants(repo: Path, workflow_name: str = "reusable-apply.yml", context: dict[str, str] | None = None) -> StepRun:
    """The tenants step of `workflow_name`, run in `repo` (its checkout)."""
    runner = Runner(repo, repo.parent / "runner-temp", {"github.event.before": "", "inputs.tenant": ""})
    runner.temp.mkdir(exist_ok=True)
    return runner.run(workflow_name, "tenants", "tenants", context)


def refused(ran: StepRun, message: str) -> None:
    assert ran.code == 1, ran.log
    assert f"::error::{message}" in ran.log
    assert ran.outputs == ""


def bind(repo: Path, folder: str, line: str) -> None:
    (repo / folder / "xtap.yaml").write_text(f"# the tenant these policies are for\n{line}\nprune: false\n")


def variables(**values: str) -> dict[str, str]:
    return {"toJSON(vars)": json.dumps({f"XTAP_TENANT_ID{suffix}": value for suffix, value in values.items()})}


def test_a_single_policies_folder_is_the_default_tenant(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["policies/partners/p.yaml", "README.md"])
    assert matrix(tenants(repo)) == [DEFAULT]


def test_drift_covers_every_tenant_folder(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    assert matrix(tenants(repo, "reusable-drift.yml")) == [CONTOSO, FABRIKAM]


# -- what a pull request plans and a push applies -------------------------------------------


def test_a_pull_request_touching_one_tenant_plans_that_tenant_only(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    change(repo, ["tenants/fab-rikam/policies/partners/q.yaml"])
    assert matrix(tenants(repo, "reusable-plan.yml")) == [FABRIKAM]
    change(repo, ["tenants/contoso/notes.md"])
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO]


def test_a_pull_request_changing_code_plans_every_tenant(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    change(repo, ["tenants/contoso/policies/default.yaml", "reconciler/plan/model.py"])
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO, FABRIKAM]


def test_a_pull_request_removing_a_tenant_plans_nothing(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    git(repo, "rm", "-rq", "tenants/contoso")
    git(repo, "commit", "-qm", "remove")
    assert matrix(tenants(repo, "reusable-plan.yml")) == []
    jobs = workflow("reusable-plan.yml")["jobs"]
    assert jobs["plan"]["if"].startswith("needs.tenants.outputs.tenants != '[]' && ")
    assert jobs["plan-group"]["if"].startswith("needs.tenants.outputs.tenants != '[]' && ")


def test_a_file_moved_from_one_tenant_to_another_changes_both(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    (repo / "tenants/contoso/policies/partners").mkdir()
    git(repo, "mv", "tenants/fab-rikam/policies/partners/p.yaml", "tenants/contoso/policies/partners/p.yaml")
    commit(repo)
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO, FABRIKAM]


def test_a_push_applies_only_the_tenants_its_commits_changed(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    before = git(repo, "rev-parse", "HEAD")
    change(repo, ["tenants/contoso/policies/default.yaml"])
    change(repo, ["tenants/contoso/policies/partners/q.yaml"])  # a push of two commits
    assert matrix(tenants(repo, context={"github.event.before": before})) == [CONTOSO]
    change(repo, ["requirements.lock"])
    assert matrix(tenants(repo, context={"github.event.before": before})) == [CONTOSO, FABRIKAM]


@pytest.mark.parametrize("before", ["0" * 40, "d" * 40], ids=["new-branch", "unknown-commit"])
def test_a_push_with_nothing_to_compare_with_lists_every_tenant(tmp_path: Path, before: str) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    ran = tenants(repo, context={"github.event.before": before})
    assert matrix(ran) == [CONTOSO, FABRIKAM]
    assert "::notice::no earlier commit to compare with" in ran.log


# -- links: a tenant changes with every file it reads --------------------------------------------


def linked_tenants(tmp_path: Path) -> Path:
    """contoso's xtap.yaml and a partners folder of fab-rikam's are links into the other folder."""
    repo = repository(tmp_path / "repo", [*TWO_TENANTS, "tenants/fab-rikam/policies/xtap.yaml"])
    (repo / "tenants/contoso/policies/xtap.yaml").symlink_to("../../fab-rikam/policies/xtap.yaml")
    (repo / "tenants/fab-rikam/policies/shared").symlink_to("../../contoso/policies/partners", target_is_directory=True)
    (repo / "tenants/contoso/policies/partners").mkdir()
    (repo / "tenants/contoso/policies/partners/s.yaml").write_text("# shared\n")
    commit(repo)
    return repo


def test_a_tenant_changes_with_a_file_it_links_to_in_another_folder(tmp_path: Path) -> None:
    repo = linked_tenants(tmp_path)
    change(repo, ["tenants/fab-rikam/policies/xtap.yaml"])
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO, FABRIKAM]


def test_a_tenant_changes_with_a_file_in_a_folder_it_links_to(tmp_path: Path) -> None:
    repo = linked_tenants(tmp_path)
    change(repo, ["tenants/contoso/policies/partners/s.yaml"])
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO, FABRIKAM]
    change(repo, ["tenants/contoso/policies/default.yaml"])  # read by contoso only
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO]


def test_a_tenant_changes_when_the_file_it_links_to_is_deleted(tmp_path: Path) -> None:
    repo = linked_tenants(tmp_path)
    (repo / "tenants/fab-rikam/policies/xtap.yaml").unlink()
    commit(repo)
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO, FABRIKAM]


def test_a_tenant_with_a_link_that_cannot_be_followed_counts_as_changed(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    (repo / "tenants/contoso/policies/loop").symlink_to("loop")
    commit(repo)
    change(repo, ["tenants/fab-rikam/policies/partners/p.yaml"])
    assert matrix(tenants(repo, "reusable-plan.yml")) == [CONTOSO, FABRIKAM]


def test_a_policies_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["tenants/contoso/policies/default.yaml"])
    (repo / "tenants/copy").mkdir()
    (repo / "tenants/copy/policies").symlink_to("../contoso/policies", target_is_directory=True)
    refused(tenants(repo), "tenants/copy/policies: a policies folder may not be a symbolic link")


def test_a_policies_folder_that_resolves_outside_its_tenant_folder_is_refused(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["tenants/contoso/policies/default.yaml"])
    (repo / "tenants/copy").symlink_to("contoso", target_is_directory=True)
    refused(tenants(repo), "tenants/copy/policies: resolves outside tenants/copy/")


# -- one tenant, one folder, one set of variables -------------------------------------------------


@pytest.mark.parametrize("other", ["fab_rikam", "Fab-Rikam"])
def test_two_folders_with_the_same_variables_are_refused(tmp_path: Path, other: str) -> None:
    repo = repository(tmp_path / "repo", [*TWO_TENANTS, f"tenants/{other}/policies/default.yaml"])
    first, second = sorted(["tenants/fab-rikam/policies", f"tenants/{other}/policies"])
    refused(tenants(repo), f"{first} and {second} both use the variables XTAP_TENANT_ID_FAB_RIKAM")


@pytest.mark.parametrize(
    "line",
    [
        f"tenant: {TENANT_A.upper()}",
        f'tenant: "{TENANT_A}"   # quoted, with a comment',
        f"tenant: '{TENANT_A}'",
        f'"tenant" : {TENANT_A}#no space before the comment\r',
    ],
    ids=["upper-case", "double-quoted", "single-quoted", "quoted-key-crlf"],
)
def test_two_folders_bound_to_one_tenant_are_refused(tmp_path: Path, line: str) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    bind(repo, "tenants/contoso/policies", f"tenant: {TENANT_A}  # contoso")
    bind(repo, "tenants/fab-rikam/policies", line)
    commit(repo)
    refused(
        tenants(repo),
        f"tenants/contoso/policies and tenants/fab-rikam/policies are both bound to tenant {TENANT_A} (xtap.yaml)",
    )


def test_folders_bound_to_different_tenants_pass(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    bind(repo, "tenants/contoso/policies", f"tenant: {TENANT_A}")
    nested = f"---\n# a nested key named tenant is not the binding\nrules:\n  tenant: {TENANT_A}\ntenant: {TENANT_B}"
    bind(repo, "tenants/fab-rikam/policies", nested)
    commit(repo)
    assert matrix(tenants(repo)) == [CONTOSO, FABRIKAM]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{{tenant: {TENANT_A}}}", "write xtap.yaml as one key a line (block style)"),
        ("tenant: not-a-guid", "its 'tenant:' is not a GUID that tenants.sh can read"),
        ("tenant: null", "its 'tenant:' is not a GUID that tenants.sh can read"),
    ],
    ids=["flow-style", "not-a-guid", "null"],
)
def test_a_binding_tenants_sh_cannot_read_is_refused(tmp_path: Path, text: str, message: str) -> None:
    repo = repository(tmp_path / "repo", ["policies/default.yaml"])
    (repo / "policies/xtap.yaml").write_text(text + "\n")
    refused(tenants(repo), f"policies/xtap.yaml: {message}")


def test_two_folders_whose_variables_name_one_tenant_are_refused(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    ran = tenants(repo, context=variables(_CONTOSO=TENANT_A, _FAB_RIKAM=f" {TENANT_A.upper()}\n"))
    refused(
        ran,
        f"tenants/contoso/policies and tenants/fab-rikam/policies are both for tenant {TENANT_A} "
        "(their XTAP_TENANT_ID variables)",
    )


def test_a_folder_bound_to_another_tenant_than_its_variable_is_refused(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    bind(repo, "tenants/fab-rikam/policies", f"tenant: {TENANT_A}")
    commit(repo)
    ran = tenants(repo, context=variables(_CONTOSO=TENANT_B, _FAB_RIKAM=TENANT_B.replace("9", "8")))
    refused(ran, f"tenants/fab-rikam/policies is bound to tenant {TENANT_A} (xtap.yaml), but XTAP_TENANT_ID_FAB_RIKAM")


def test_variables_that_match_their_folders_pass_and_a_missing_one_is_a_warning(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    bind(repo, "tenants/contoso/policies", f"tenant: {TENANT_A.upper()}")
    commit(repo)
    ran = tenants(repo, context=variables(_CONTOSO=TENANT_A))
    assert matrix(ran) == [CONTOSO, FABRIKAM]
    assert (
        "::warning::tenants/fab-rikam/policies: the repository variable XTAP_TENANT_ID_FAB_RIKAM is not set" in ran.log
    )


def test_a_variable_that_is_not_a_guid_is_refused(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["policies/default.yaml"])
    refused(tenants(repo, context=variables(**{"": "contoso.onmicrosoft.com"})), "policies: the repository variable")


def test_every_tenants_step_is_given_the_variables() -> None:
    for name in ("reusable-plan.yml", "reusable-apply.yml", "reusable-converge.yml", "reusable-drift.yml"):
        [found] = [s for s in workflow(name)["jobs"]["tenants"]["steps"] if s.get("id") == "tenants"]
        assert found["env"]["XTAP_VARS"] == "${{ toJSON(vars) }}", name


@pytest.mark.parametrize("name", ["default", "two words"])
def test_a_tenant_folder_name_that_cannot_name_variables_is_refused(tmp_path: Path, name: str) -> None:
    repo = repository(tmp_path / "repo", [f"tenants/{name}/policies/default.yaml"])
    ran = tenants(repo)
    refused(ran, "tenants/")
    assert "a tenant folder's name is letters, digits, '_' or '-', and not 'default'" in ran.log


# -- converge: one tenant, by name, on main ---------------------------------------------------


def test_converge_lists_the_one_tenant_named(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    assert matrix(tenants(repo, "reusable-converge.yml", {"inputs.tenant": "fab-rikam"})) == [FABRIKAM]


@pytest.mark.parametrize("name", ["woodgrove", "fab-rikam/../contoso", "::warning::x"])
def test_converge_refuses_a_name_that_is_not_a_tenant(tmp_path: Path, name: str) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    ran = tenants(repo, "reusable-converge.yml", {"inputs.tenant": name})
    assert ran.code == 1
    assert "is not a tenant of this repository; tenants: contoso fab-rikam" in ran.log
    assert "::warning::x" not in ran.log.replace("::error::", "")


def test_converge_runs_only_on_main(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", TWO_TENANTS)
    ran = tenants(repo, "reusable-converge.yml", {"inputs.tenant": "contoso", "github.ref": "refs/heads/topic"})
    refused(ran, "converge applies main's policies: run it on main")


# -- the reusable workflows' `policies` input ---------------------------------------------------


def test_a_policies_folder_elsewhere_is_the_default_tenant(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", ["entra/xtap/partners/p.yaml", "README.md"])
    folder = {"inputs.policies": "entra/xtap"}
    assert matrix(tenants(repo, "reusable-drift.yml", folder)) == [
        {"name": "default", "policies": "entra/xtap", "suffix": ""}
    ]
    change(repo, ["README.md"])  # outside the folder: every tenant
    assert matrix(tenants(repo, "reusable-plan.yml", folder)) != []
    change(repo, ["entra/xtap/partners/p.yaml"])
    assert matrix(tenants(repo, "reusable-plan.yml", folder)) == [
        {"name": "default", "policies": "entra/xtap", "suffix": ""}
    ]


def test_a_folder_of_tenant_folders_lists_one_tenant_each_and_no_default(tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo", [*TWO_TENANTS, "policies/partners/p.yaml"])
    folder = {"inputs.policies": "tenants"}
    assert matrix(tenants(repo, "reusable-drift.yml", folder)) == [CONTOSO, FABRIKAM]
    change(repo, ["tenants/fab-rikam/policies/partners/q.yaml"])
    assert matrix(tenants(repo, "reusable-plan.yml", folder)) == [FABRIKAM]


@pytest.mark.parametrize("folder", ["/etc", "../other", "a/../b", "a b", "$(id)"])
def test_a_policies_input_outside_the_repository_is_refused(tmp_path: Path, folder: str) -> None:
    repo = repository(tmp_path / "repo", ["policies/partners/p.yaml"])
    ran = tenants(repo, "reusable-drift.yml", {"inputs.policies": folder})
    assert ran.code == 1 and "is not a relative path inside the repository" in ran.log, ran.log


@pytest.mark.parametrize("ref", ["main", "v1.2.3", "a" * 39, "A" * 40, "a" * 40 + "\nb"])
def test_an_xtap_ref_that_is_not_a_commit_is_refused_before_any_checkout(ref: str, tmp_path: Path) -> None:
    runner = Runner.at(tmp_path, {"inputs.xtap-ref": ref})
    for name in ("reusable-plan.yml", "reusable-apply.yml", "reusable-converge.yml", "reusable-drift.yml"):
        ran = runner.run(name, "tenants", "xtap-ref")
        assert ran.code == 1 and "::error::xtap-ref: pin a commit (40 hex digits), not a branch or tag" in ran.log
    assert (
        runner.run(
            "reusable-plan.yml", "tenants", "xtap-ref", {"inputs.xtap-ref": "0123456789abcdef" * 2 + "01234567"}
        ).code
        == 0
    )
