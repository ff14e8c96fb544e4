"""What a national cloud's Graph lacks, judged offline by the loader from the registry: a file
that manages a global-only type is a problem at `file:line:col` naming the cloud; a property the
cloud's published v1.0 metadata lacks is a warning at its key, and the folder still loads. In
the global cloud, neither."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from support.seeds import CAPABILITY_PARTNER_POST_BODIES

from reconciler.core.clouds import CLOUDS, GLOBAL
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME
from reconciler.policies import workers as pool_module
from reconciler.policies.layout import read_layout
from reconciler.policies.load import PolicyError, Problem, load_policies
from reconciler.policies.workers import load_files

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
NATIONAL = ("usgov", "china")
# A block as Graph's create examples write it (JSON is YAML): its key is on one line.
CAPABILITIES = f"m365Capabilities: {json.dumps(CAPABILITY_PARTNER_POST_BODIES)}\n"
RESTRICTIONS = """\
tenantRestrictions:
  usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}
  applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def problems(root: Path, cloud: str) -> list[Problem]:
    with pytest.raises(PolicyError) as raised:
        load_policies(root, cloud=cloud)
    return raised.value.problems


def loaded_warnings(root: Path, cloud: str) -> list[Problem]:
    warnings: list[Problem] = []
    load_policies(root, cloud=cloud, warnings=warnings)
    return warnings


@pytest.mark.parametrize("cloud", NATIONAL)
@pytest.mark.parametrize("template", ["mto-partner-template.yaml", "mto-identity-sync-template.yaml"])
def test_a_template_file_is_a_problem_at_its_start_naming_the_cloud(tmp_path: Path, cloud: str, template: str) -> None:
    root = write(tmp_path, {template: "# reset to the defaults\n", f"partners/{TENANT}.yaml": f"tenantId: {TENANT}\n"})
    [problem] = problems(root, cloud)
    assert (problem.file, problem.line, problem.col) == (str(root / template), 1, 1)
    assert "only in the global cloud" in problem.message
    assert f"Graph in the {cloud} cloud has no such API" in problem.message
    assert f"remove this file for --cloud {cloud}" in problem.message
    assert "https://learn.microsoft.com/graph/api/multitenantorganization" in problem.message


@pytest.mark.parametrize("cloud", NATIONAL)
def test_an_m365_capabilities_block_is_a_problem_at_its_key(tmp_path: Path, cloud: str) -> None:
    root = write(
        tmp_path,
        {
            f"partners/{TENANT}.yaml": f"# a partner\ntenantId: {TENANT}\ninboundTrust: {{isMfaAccepted: true}}\n"
            + CAPABILITIES,
            "default.yaml": "b2bCollaborationInbound: null\n  # even an empty block manages them\n"
            "m365Capabilities: []\n",
        },
    )
    found = problems(root, cloud)
    assert [(Path(p.file).name, p.line, p.col) for p in found] == [("default.yaml", 3, 1), (f"{TENANT}.yaml", 4, 1)]
    for problem in found:
        assert problem.message.startswith(
            "m365Capabilities: Graph offers Microsoft 365 capabilities only in the global"
        )
        assert f"Graph in the {cloud} cloud has no such API" in problem.message
        assert "crosstenantaccesspolicyconfigurationpartner-post-m365capabilities" in problem.message
        assert f"remove the m365Capabilities block for --cloud {cloud}" in problem.message


@pytest.mark.parametrize("cloud", [*NATIONAL, "usgovdod"])
def test_properties_the_national_metadata_lacks_warn_at_their_key(tmp_path: Path, cloud: str) -> None:
    root = write(
        tmp_path,
        {
            f"partners/{TENANT}.yaml": f"tenantId: {TENANT}\ninboundTrust: {{isMfaAccepted: true}}\n{RESTRICTIONS}",
            "policy.yaml": "# the clouds B2B may reach\nallowedCloudEndpoints: [microsoftonline.us]\n",
        },
    )
    warnings = loaded_warnings(root, cloud)  # loads: a warning stops nothing
    assert [(Path(w.file).name, w.line, w.col, w.message.split(":")[0]) for w in warnings] == [
        (f"{TENANT}.yaml", 3, 1, "tenantRestrictions"),
        ("policy.yaml", 2, 1, "allowedCloudEndpoints"),
    ]
    metadata = "v1.0-Mooncake.csdl" if cloud == "china" else "v1.0-Fairfax.csdl"
    assert all(f"the {cloud} cloud's published Graph v1.0 metadata ({metadata} in" in w.message for w in warnings)
    assert all("https://github.com/microsoftgraph/msgraph-metadata/tree/master/schemas" in w.message for w in warnings)


def test_the_global_cloud_neither_refuses_nor_warns(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            f"partners/{TENANT}.yaml": f"tenantId: {TENANT}\ninboundTrust: {{isMfaAccepted: true}}\n"
            + RESTRICTIONS
            + CAPABILITIES,
            "policy.yaml": "allowedCloudEndpoints: [microsoftonline.us]\n",
            "mto-partner-template.yaml": "# reset\n",
        },
    )
    assert loaded_warnings(root, GLOBAL) == []
    warnings: list[Problem] = []
    desired = load_policies(root, warnings=warnings)  # the default cloud is the global one
    assert warnings == [] and desired.manages("m365Capability") and desired.manages("mtoPartnerTemplate")


def test_warnings_are_given_even_when_the_folder_has_problems(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            f"partners/{TENANT}.yaml": f"tenantId: {TENANT}\ninboundTrust: {{isMfaAccepted: true}}\n{RESTRICTIONS}",
            "mto-partner-template.yaml": "# reset\n",
        },
    )
    warnings: list[Problem] = []
    with pytest.raises(PolicyError):
        load_policies(root, cloud="usgov", warnings=warnings)
    assert [(w.line, w.message.split(":")[0]) for w in warnings] == [(3, "tenantRestrictions")]


def test_what_crosses_the_worker_pipe_keeps_the_cloud_s_problems_and_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(
        tmp_path,
        {
            "partners/a.yaml": f"tenantId: {TENANT}\n{RESTRICTIONS}",
            "partners/b.yaml": "tenantId: 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\n" + CAPABILITIES,
        },
    )
    files = read_layout(root).files
    here = list(load_files(files, False, None, "china"))
    assert [(len(loaded.problems), len(loaded.warnings)) for loaded in here] == [(0, 1), (1, 0)]
    monkeypatch.setattr(pool_module, "PARALLEL_FILES", 1)
    with ThreadPoolExecutor(2) as pool:
        sent = list(load_files(files, False, pool, "china"))
    assert [(loaded.problems, loaded.warnings) for loaded in sent] == [(one.problems, one.warnings) for one in here]


def test_the_cloud_data_names_known_clouds_and_properties() -> None:
    """`clouds_lacking` is data every loader reads: each cloud it names is one xtap knows, and
    each property one of the type's model (else the warning could never be given)."""
    for rtype in REGISTRY:
        for name, clouds in rtype.clouds_lacking.items():
            assert name in rtype.model.model_fields, (rtype.name, name)
            assert clouds and clouds <= set(CLOUDS) - {GLOBAL}, (rtype.name, name)
        assert not rtype.global_only or (rtype.availability or "").startswith("https://learn.microsoft.com/")
    assert {name for name in REGISTRY_BY_NAME if REGISTRY_BY_NAME[name].global_only} == {
        "m365Capability",
        "mtoPartnerTemplate",
        "mtoIdentitySyncTemplate",
    }


def test_cloud_data_the_loader_could_not_read_is_refused() -> None:
    """A nested type's block is not searched for `clouds_lacking`, so such data is refused at
    import rather than silently never warned of; a global-only type must say where that is
    documented, for the problem to cite it."""
    capability = REGISTRY_BY_NAME["m365Capability"]
    with pytest.raises(ValueError, match="clouds_lacking is read in a file's own keys"):
        replace(capability, clouds_lacking={"inboundAccess": frozenset({"china"})})
    with pytest.raises(ValueError, match="names its availability page and its title"):
        replace(capability, availability=None)
