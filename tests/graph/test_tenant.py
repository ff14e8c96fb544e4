"""One tenant per folder: xtap.yaml's `tenant:` and the token's `tid`, through the CLI and the emulator.

A folder bound to a tenant is never planned or applied with another tenant's token: the refusal
comes before any request (the emulator's log stays empty) and names both tenants."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import pytest
from support.emulator_cli import serving
from support.policy_files import write_policies
from support.xtap import run_xtap

from reconciler.core.wire import NOT_A_TENANT_ID
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph.tenant import token_tenant

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
OTHER_TENANT = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
OPAQUE_TOKEN = "EwBwA8l6BAAUopaque-token-from-somewhere"


def _claims(**claims: str) -> str:
    """A JWT's payload segment: the claims' JSON in base64url without its padding."""
    return base64.urlsafe_b64encode(json.dumps(claims, ensure_ascii=False).encode()).decode().rstrip("=")


def bound_policies(tmp_path: Path, tenant: str | None) -> Path:
    """A policies/ folder declaring Fabrikam, bound to `tenant` (unbound when None)."""
    root = write_policies(tmp_path / "policies", [{"tenantId": FABRIKAM}])
    if tenant is not None:
        (root / "xtap.yaml").write_text(f"# which tenant these policies are for\ntenant: {tenant}\n")
    return root


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["drift", "--attribute"]])
def test_a_token_for_another_tenant_is_refused_before_any_request(
    tmp_path: Path, emulator: Emulator, command: list[str]
) -> None:
    policies = bound_policies(tmp_path, OTHER_TENANT)
    token = emulator.mint_token()
    result = run_xtap(*command, "--policies", str(policies), emulator=emulator, token=token)

    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: the access token is for tenant {emulator.tenant_id}, but the policies are bound to tenant "
        f"{OTHER_TENANT} (xtap.yaml); use the identity of that tenant"
    )
    assert emulator.requests == []
    assert emulator.partners() == {}
    assert token not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_token_without_a_tenant_is_refused_when_the_folder_is_bound(tmp_path: Path, emulator: Emulator) -> None:
    policies = bound_policies(tmp_path, OTHER_TENANT)
    result = run_xtap("plan", "--policies", str(policies), emulator=emulator, token=OPAQUE_TOKEN)

    assert result.code == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"Error: the policies are bound to tenant {OTHER_TENANT} (xtap.yaml), but the access")
    assert "names no tenant (no readable tid claim)" in last
    assert emulator.requests == []
    assert OPAQUE_TOKEN not in result.stdout + result.stderr


def test_the_right_tenant_plans_and_the_plan_records_it(tmp_path: Path, emulator: Emulator) -> None:
    # Written in upper case: a GUID is the same tenant in any case.
    policies = bound_policies(tmp_path, emulator.tenant_id.upper())
    result = run_xtap("plan", "--policies", str(policies), "--format", "json", emulator=emulator)

    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["tenant"] == emulator.tenant_id
    assert [(c["resource"], c["id"], c["action"]) for c in plan["changes"]] == [("partner", FABRIKAM, "create")]
    assert emulator.requests  # it did read the tenant


def test_an_unbound_folder_plans_with_any_token_and_records_no_tenant(tmp_path: Path, emulator: Emulator) -> None:
    policies = bound_policies(tmp_path, None)
    result = run_xtap("plan", "--policies", str(policies), "--format", "json", emulator=emulator)

    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["tenant"] is None


def test_apply_of_the_right_tenant_converges(tmp_path: Path, emulator: Emulator) -> None:
    policies = bound_policies(tmp_path, emulator.tenant_id)
    applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
    again = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator)

    assert applied.code == 0, applied.stderr
    assert list(emulator.partners()) == [FABRIKAM]
    assert again.code == 0, again.stdout + again.stderr


@pytest.mark.parametrize("planned_for", [None, OTHER_TENANT])
def test_a_saved_plan_for_another_binding_is_refused(
    tmp_path: Path, emulator: Emulator, planned_for: str | None
) -> None:
    policies = bound_policies(tmp_path, emulator.tenant_id)
    saved = tmp_path / "plan.json"
    planned = run_xtap("plan", "--policies", str(policies), "--out", str(saved), emulator=emulator)
    assert planned.code == 0, planned.stderr
    data = json.loads(saved.read_text())
    assert data["tenant"] == emulator.tenant_id
    saved.write_text(json.dumps({**data, "tenant": planned_for}))
    emulator.clear_requests()

    result = run_xtap("apply", str(saved), "--policies", str(policies), emulator=emulator)

    shown = "no tenant" if planned_for is None else f"tenant {planned_for}"
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: {saved} was planned for {shown}, but {policies} is bound to tenant {emulator.tenant_id} "
        "(xtap.yaml); nothing was written. Plan again."
    )
    assert emulator.requests == []


def test_a_saved_plan_of_the_bound_tenant_applies(tmp_path: Path, emulator: Emulator) -> None:
    policies = bound_policies(tmp_path, emulator.tenant_id)
    saved = tmp_path / "plan.json"
    planned = run_xtap("plan", "--policies", str(policies), "--out", str(saved), emulator=emulator)
    applied = run_xtap("apply", str(saved), "--policies", str(policies), emulator=emulator)

    assert planned.code == 0, planned.stderr
    assert applied.code == 0, applied.stderr
    assert list(emulator.partners()) == [FABRIKAM]


def test_show_refuses_a_token_for_another_tenant_than_xtap_yaml_binds(tmp_path: Path, emulator: Emulator) -> None:
    """show reads xtap.yaml alone of --policies (a broken partner file does not stop it), and a
    token for another tenant than it binds is refused before any request, as plan refuses it."""
    policies = bound_policies(tmp_path, OTHER_TENANT)
    (policies / "partners" / "broken.yaml").write_text("tenantId: [\n")
    refused = run_xtap("show", "--policies", str(policies), emulator=emulator)

    assert refused.code == 1
    token = emulator.tenant_id
    refusal = f"the access token is for tenant {token}, but the policies are bound to tenant {OTHER_TENANT}"
    assert refusal in refused.stderr
    assert emulator.requests == []

    (policies / "xtap.yaml").write_text(f"tenant: {emulator.tenant_id}\n")
    shown = run_xtap("show", "--policies", str(policies), emulator=emulator)
    assert shown.code == 0, shown.stderr


def test_show_without_a_folder_binds_nothing_unless_one_is_named(tmp_path: Path, emulator: Emulator) -> None:
    unbound = run_xtap("show", cwd=tmp_path, emulator=emulator)  # no policies/ here: the tenant as it is
    assert unbound.code == 0, unbound.stderr

    emulator.clear_requests()
    named = run_xtap("show", "--policies", str(tmp_path / "typo"), emulator=emulator)
    assert named.code == 1
    assert "policies directory not found" in named.stderr
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("tenant: nope\n", "xtap.yaml:1:9: tenant 'nope' is not a tenant id (a GUID like "),
        ("tenant: null\n", "xtap.yaml:1:9: tenant cannot be null; leave it out to bind the folder to no tenant"),
        ("tenant: 5\n", f"xtap.yaml:1:9: tenant 5 {NOT_A_TENANT_ID}"),
        ("# c\nignore: {}\n", "xtap.yaml:2:1: 'ignore' is not supported yet in xtap.yaml (supported: tenant, prune,"),
        ("Tenant: x\n", "xtap.yaml:1:1: unknown setting 'Tenant' in xtap.yaml (supported: tenant, prune,"),
        ("- tenant\n", "xtap.yaml:1:1: a policy file holds one mapping (key: value lines), not a list"),
        ("tenant: [\n", "xtap.yaml:2:1: YAML syntax error"),
    ],
)
def test_a_bad_xtap_yaml_is_a_problem_at_its_line(tmp_path: Path, content: str, problem: str) -> None:
    policies = bound_policies(tmp_path, None)
    (policies / "xtap.yaml").write_text(content)
    for command in ("validate", "plan"):
        result = run_xtap(command, "--policies", str(policies))

        assert result.code == 1
        lines = result.stderr.splitlines()
        assert lines[0].removeprefix(f"{policies}/").startswith(problem), result.stderr
        assert lines[-1] == f"1 problem(s) in {policies}; nothing was sent to Graph."


@pytest.mark.parametrize("content", ["", "# only a comment\n", "{}\n"])
def test_an_empty_xtap_yaml_binds_nothing(tmp_path: Path, emulator: Emulator, content: str) -> None:
    policies = bound_policies(tmp_path, None)
    (policies / "xtap.yaml").write_text(content)
    result = run_xtap("plan", "--policies", str(policies), "--format", "json", emulator=emulator, token=None)

    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["tenant"] is None


def test_the_emulator_mints_tokens_of_its_configured_tenant() -> None:
    with Emulator(EmulatorConfig(tenant_id=OTHER_TENANT.upper())) as configured, Emulator() as random:
        assert configured.tenant_id == OTHER_TENANT
        assert token_tenant(configured.mint_token()) == OTHER_TENANT
        assert token_tenant(random.mint_token()) == random.tenant_id != OTHER_TENANT


@pytest.mark.parametrize("bad", ["nope", f"{{{FABRIKAM}}}", FABRIKAM.replace("-", ""), f"{FABRIKAM}\n"])
def test_the_emulator_takes_only_a_guid_as_tenant_id(bad: str) -> None:
    result = run_xtap("emulator", "--port", "0", "--tenant-id", bad)

    assert result.code == 1
    assert "Error: tenant id must be a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "token",
    [
        OPAQUE_TOKEN,
        "a.b.c",
        "",
        "e30.e30.",
        "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJub3QtYS1ndWlkIn0.",
        "x" * 5000,
        # {"tid": <a GUID>} as the payload, in what is not a JWT: a header that is a list, a JSON
        # string, four segments, a signature that is not base64url, a character outside base64url.
        f"W10.{_claims(tid=FABRIKAM)}.",
        f"IngiIA.{_claims(tid=FABRIKAM)}.",
        f"e30.{_claims(tid=FABRIKAM)}..",
        f"e30.{_claims(tid=FABRIKAM)}.a",
        f"e30.{_claims(tid=FABRIKAM)}*.",
        f"é30.{_claims(tid=FABRIKAM)}.",
    ],
)
def test_a_token_without_a_readable_tenant_has_none(token: str) -> None:
    assert token_tenant(token) is None


def test_a_tokens_tenant_is_read_from_its_unpadded_payload_whatever_its_signature() -> None:
    assert token_tenant(f"e30.{_claims(tid=FABRIKAM.upper())}.bm90IGEgc2lnbmF0dXJl") == FABRIKAM
    assert token_tenant(f"e30.{_claims(tid=FABRIKAM, name='Zoë')}.") == FABRIKAM


def az_cli(tmp_path: Path, token: str) -> dict[str, str | None]:
    """The environment for xtap to get `token` through DefaultAzureCredential, as `az login`
    would give it: an `az` on PATH that answers `az account get-access-token` (the one Azure CLI
    call azure-identity makes) and logs the arguments it was asked with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    answer = json.dumps({"accessToken": token, "expires_on": 4102444800, "tokenType": "Bearer"})
    az.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(tmp_path / 'az.log')!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"print({answer!r})\n"
    )
    az.chmod(0o755)
    return {
        "XTAP_ACCESS_TOKEN": None,
        "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential",  # no managed-identity probe in a test
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }


@pytest.mark.parametrize(("bound_to_emulator", "code"), [(False, 1), (True, 0)])
def test_an_azure_identity_token_is_checked_before_any_request(
    tmp_path: Path, emulator: Emulator, bound_to_emulator: bool, code: int
) -> None:
    policies = bound_policies(tmp_path, emulator.tenant_id if bound_to_emulator else OTHER_TENANT)
    token = emulator.mint_token()
    result = run_xtap("plan", "--policies", str(policies), emulator=emulator, extra_env=az_cli(tmp_path, token))

    assert result.code == code, result.stderr
    assert (
        (tmp_path / "az.log")
        .read_text()
        .startswith("account get-access-token --output json --resource https://graph.microsoft.com")
    )
    assert bool(emulator.requests) == bound_to_emulator
    assert (f"the access token is for tenant {emulator.tenant_id}" in result.stderr) != bound_to_emulator
    assert token not in result.stdout + result.stderr


def test_xtap_emulator_serves_the_tenant_it_is_given(tmp_path: Path) -> None:
    policies = bound_policies(tmp_path, OTHER_TENANT)
    with serving("--tenant-id", OTHER_TENANT.upper()) as (url, token):
        result = run_xtap(
            "plan", "--policies", str(policies), extra_env={"XTAP_GRAPH_URL": url, "XTAP_ACCESS_TOKEN": token}
        )

    assert token_tenant(token) == OTHER_TENANT
    assert result.code == 0, result.stderr
