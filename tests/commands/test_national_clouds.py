"""`--cloud` end to end: a folder that manages what the cloud's Graph has no API for is refused
offline by validate and by plan, which then sends Graph nothing at all; a property the cloud's
published metadata lacks is a warning that leaves the exit code alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from support.seeds import CAPABILITY_PARTNER_POST_BODIES
from support.xtap import run_xtap

from reconciler.emulator import Emulator, EmulatorConfig

OTHERS = 400
TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
PARTNER = f"""\
tenantId: {TENANT}
b2bCollaborationInbound:
  usersAndGroups: {{accessType: allowed, targets: [{{target: AllUsers, targetType: user}}]}}
"""
# A block as Graph's create examples write it (JSON is YAML): its key is on one line.
CAPABILITIES = f"m365Capabilities: {json.dumps(CAPABILITY_PARTNER_POST_BODIES)}\n"


@pytest.fixture
def china() -> Iterator[Emulator]:
    """Graph as the china cloud serves it: no global-only API, the national metadata's schema."""
    with Emulator(EmulatorConfig(cloud="china")) as emu:
        yield emu


def policies(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "policies"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_validate_refuses_global_only_types_for_usgov(tmp_path: Path) -> None:
    root = policies(
        tmp_path, {"partners/contoso.yaml": PARTNER + CAPABILITIES, "mto-identity-sync-template.yaml": "# reset\n"}
    )
    assert run_xtap("validate", "--policies", str(root)).code == 0  # the global cloud has both
    result = run_xtap("validate", "--policies", str(root), "--cloud", "usgov")
    assert result.code == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{root}/mto-identity-sync-template.yaml:1:1: Graph offers the multitenant organization")
    assert lines[1].startswith(f"{root}/partners/contoso.yaml:4:1: m365Capabilities: Graph offers Microsoft 365")
    assert all("Graph in the usgov cloud has no such API" in line for line in lines[:2])
    assert lines[2] == f"2 problem(s) in {root}; nothing was sent to Graph."
    from_env = run_xtap("validate", "--policies", str(root), extra_env={"XTAP_CLOUD": "usgov"})
    assert (from_env.code, from_env.stderr) == (1, result.stderr)


def test_validate_warns_of_what_the_national_metadata_lacks_and_still_passes(tmp_path: Path) -> None:
    root = policies(
        tmp_path,
        {
            "partners/contoso.yaml": PARTNER
            + "m365CollaborationOutbound:\n  usersAndGroups: {accessType: allowed, targets: []}\n",
            "policy.yaml": "allowedCloudEndpoints: [microsoftonline.com]\n",
        },
    )
    result = run_xtap("validate", "--policies", str(root), "--cloud", "usgov")
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{root}/partners/contoso.yaml:4:1: warning: m365CollaborationOutbound: not in the usgov cloud's published "
        "Graph v1.0 metadata (v1.0-Fairfax.csdl in https://github.com/microsoftgraph/msgraph-metadata/tree/master/"
        "schemas), though Microsoft Learn documents it; that metadata is known to be incomplete, so this is only a "
        "warning: should Graph in usgov refuse it, apply fails with Graph's 400, and then remove it from this file",
        f"{root}/policy.yaml:1:1: warning: allowedCloudEndpoints: not in the usgov cloud's published Graph v1.0 "
        "metadata (v1.0-Fairfax.csdl in https://github.com/microsoftgraph/msgraph-metadata/tree/master/schemas), "
        "though Microsoft Learn documents it; that metadata is known to be incomplete, so this is only a warning: "
        "should Graph in usgov refuse it, apply fails with Graph's 400, and then remove it from this file",
        f"{root}: valid (partner: 1, policy: 1).",
    ]
    assert "warning" not in run_xtap("validate", "--policies", str(root)).stderr


@pytest.mark.parametrize(
    "files",
    [
        {"partners/contoso.yaml": PARTNER + CAPABILITIES},
        {"partners/contoso.yaml": PARTNER, "default.yaml": CAPABILITIES},
        {"partners/contoso.yaml": PARTNER, "mto-partner-template.yaml": "templateApplicationLevel: newPartners\n"},
    ],
    ids=["partner-capabilities", "default-capabilities", "template"],
)
def test_plan_with_a_global_only_type_sends_china_s_graph_nothing(
    tmp_path: Path, china: Emulator, files: dict[str, str]
) -> None:
    # Enough other partners that the files take longer to load than a first read takes to go out,
    # were reads started while they load (as they are in the global cloud).
    others = {f"partners/{n}.yaml": f"tenantId: {UUID(int=n)}\n" for n in range(1, OTHERS + 1)}
    root = policies(tmp_path, {**others, **files})
    result = run_xtap("plan", "--policies", str(root), "--cloud", "china", emulator=china)
    assert result.code == 1, result.stderr
    assert "Graph in the china cloud has no such API" in result.stderr
    assert "1 problem(s)" in result.stderr and "Reading the live tenant" not in result.stderr
    assert china.requests == []  # not even a read: the folder was refused before the first request


def test_plan_for_china_warns_and_plans(tmp_path: Path, china: Emulator) -> None:
    root = policies(tmp_path, {"partners/contoso.yaml": PARTNER + "tenantRestrictions: null\n"})
    result = run_xtap("plan", "--policies", str(root), "--cloud", "china", "--detailed-exitcode", emulator=china)
    assert result.code == 2, result.stderr  # the partner is to be created: the warning changes no exit code
    assert f"{root}/partners/contoso.yaml:4:1: warning: tenantRestrictions: not in the china cloud's" in result.stderr
    assert "v1.0-Mooncake.csdl" in result.stderr
    assert f"+ partner {TENANT}" in result.stdout
    assert china.requests and all(request.method == "GET" for request in china.requests)


@pytest.mark.parametrize("command", [("validate",), ("check",), ("plan",), ("apply", "--auto-approve"), ("drift",)])
def test_every_command_that_takes_cloud_refuses_alike(
    tmp_path: Path, china: Emulator, command: tuple[str, ...]
) -> None:
    root = policies(tmp_path, {"partners/contoso.yaml": PARTNER, "default.yaml": CAPABILITIES})
    result = run_xtap(*command, "--policies", str(root), "--cloud", "china", emulator=china)
    assert result.code == 1, result.stderr
    assert result.stderr.startswith(
        f"{root}/default.yaml:1:1: m365Capabilities: Graph offers Microsoft 365 capabilities"
    )
    assert "Graph in the china cloud has no such API" in result.stderr and "1 problem(s)" in result.stderr
    assert china.requests == []
