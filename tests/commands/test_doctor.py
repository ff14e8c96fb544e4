"""`xtap doctor` against the real emulator over HTTP, with tokens it minted for chosen roles and
tenants; and the sign-in error every Graph command gives when no credential works, with the
environment cleared of every credential azure-identity could find."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.policy_files import write_policies
from support.stub_servers import serving
from support.xtap import run_xtap

from reconciler.emulator import Emulator
from reconciler.graph.errors import credential_reasons

PARTNER = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
OTHER_TENANT = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
EVERYTHING = (
    "Policy.Read.All",
    "Policy.ReadWrite.CrossTenantAccess",
    "Policy.ReadWrite.CrossTenantCapability",
    "AuditLog.Read.All",
    "CrossTenantInformation.ReadBasic.All",
    "Directory.Read.All",
)
CAPABILITY = {
    "@odata.type": "#microsoft.graph.crossTenantMailTipsLimited",
    "inboundAccess": {
        "isAllowed": True,
        "resourceScopes": {"included": [{"resourceId": "All", "resourceType": "user"}], "excluded": []},
    },
}
CLOSED = "http://127.0.0.1:9/v1.0"  # the discard port: nothing listens on loopback


def policies(tmp_path: Path, tenant: str, capabilities: bool = False) -> Path:
    """A folder bound to `tenant` declaring one partner, with a Microsoft 365 capability if asked."""
    partner: dict[str, object] = {"tenantId": PARTNER}
    if capabilities:
        partner["m365Capabilities"] = [CAPABILITY]
    root = write_policies(tmp_path / "policies", [partner])
    (root / "xtap.yaml").write_text(f"tenant: {tenant}\n")
    return root


def lines(stdout: str, status: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(f"{status} ")]


def test_a_full_token_passes_every_check(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, emulator.tenant_id, capabilities=True)
    result = run_xtap("doctor", "--policies", str(folder), emulator=emulator, roles=EVERYTHING)

    assert result.code == 0, result.stdout + result.stderr
    assert lines(result.stdout, "FAIL") == lines(result.stdout, "warn") == []
    checks = [line.split(":", 1)[0].split(maxsplit=1)[1] for line in lines(result.stdout, "ok")]
    assert checks == [
        "sign-in",
        "tenant",
        "plan",
        "apply",
        "apply",
        "capability reads",
        "drift --attribute",
        "names",
        "names",
        "graph",
        "policies",
    ]
    assert "ok    sign-in: XTAP_ACCESS_TOKEN: app " in result.stdout
    assert f"tenant {emulator.tenant_id}, expires " in result.stdout
    probe = re.escape(f"{emulator.base_url}/policies/crossTenantAccessPolicy/default")
    assert re.search(rf"ok    graph: GET {probe} answered 200 in \d+ ms", result.stdout)
    assert [request.path for request in emulator.requests] == [
        f"/{emulator.base_url.rsplit('/', 1)[1]}/policies/crossTenantAccessPolicy/default"
    ]
    token = emulator.mint_token(roles=EVERYTHING, name="xtap tests")
    assert token.split(".")[1] not in result.stdout + result.stderr


def test_a_read_only_token_fails_apply_naming_the_write_permission(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, emulator.tenant_id)
    result = run_xtap("doctor", "--policies", str(folder), emulator=emulator, roles=("Policy.Read.All",))

    assert result.code == 1
    [failed] = lines(result.stdout, "FAIL")
    assert failed.startswith("FAIL  apply: needs Policy.ReadWrite.CrossTenantAccess ")
    assert "(it holds: Policy.Read.All)" in failed
    assert "fix: grant app " in result.stdout
    assert "the application permission Policy.ReadWrite.CrossTenantAccess, with admin consent" in result.stdout
    assert "ok    plan: Policy.Read.All" in result.stdout
    # Names and attribution are optional: warned of, never failed.
    assert {line.split(":")[0] for line in lines(result.stdout, "warn")} == {"warn  drift --attribute", "warn  names"}


def test_declared_capabilities_without_their_permission_fail(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, emulator.tenant_id, capabilities=True)
    roles = ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
    result = run_xtap("doctor", "--policies", str(folder), emulator=emulator, roles=roles)

    assert result.code == 1
    [failed] = lines(result.stdout, "FAIL")
    assert failed.startswith(
        "FAIL  apply: needs Policy.ReadWrite.CrossTenantCapability to write the files' m365Capabilities"
    )
    assert "ok    apply: Policy.ReadWrite.CrossTenantAccess" in result.stdout


def test_the_same_token_passes_when_the_files_declare_no_capabilities(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, emulator.tenant_id)
    roles = ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
    result = run_xtap("doctor", "--policies", str(folder), emulator=emulator, roles=roles)

    assert result.code == 0, result.stdout
    assert "CrossTenantCapability" not in result.stdout


def test_a_token_for_another_tenant_fails_and_says_which_identity(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, OTHER_TENANT)
    result = run_xtap("doctor", "--policies", str(folder), emulator=emulator, roles=EVERYTHING)

    assert result.code == 1
    [failed] = lines(result.stdout, "FAIL")
    assert failed.startswith(f"FAIL  tenant: the access token is for tenant {emulator.tenant_id}, ")
    assert f"bound to tenant {OTHER_TENANT} (xtap.yaml)" in failed
    assert "signed in as app " in failed and "from XTAP_ACCESS_TOKEN" in failed
    assert f"fix: set XTAP_ACCESS_TOKEN to a token of an identity in tenant {OTHER_TENANT}" in result.stdout


def test_an_unreachable_graph_fails_with_its_url(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, emulator.tenant_id)
    result = run_xtap(
        "doctor",
        "--policies",
        str(folder),
        token=emulator.mint_token(roles=EVERYTHING),
        extra_env={"XTAP_GRAPH_URL": CLOSED},
        emulator=emulator,
    )

    assert result.code == 1
    [failed] = lines(result.stdout, "FAIL")
    assert failed.startswith(f"FAIL  graph: GET {CLOSED}/policies/crossTenantAccessPolicy/default: no answer after ")
    assert "fix: check --graph-url (XTAP_GRAPH_URL) or --cloud" in result.stdout
    assert emulator.requests == []


def test_json_says_the_same(tmp_path: Path, emulator: Emulator) -> None:
    folder = policies(tmp_path, emulator.tenant_id)
    result = run_xtap(
        "doctor", "--policies", str(folder), "--format", "json", emulator=emulator, roles=("Policy.Read.All",)
    )

    report = json.loads(result.stdout)
    assert result.code == 1
    assert report["ok"] is False
    [failed] = [check for check in report["checks"] if check["status"] == "FAIL"]
    assert failed["check"] == "apply"
    assert "Policy.ReadWrite.CrossTenantAccess" in failed["fix"][0]


def test_a_missing_folder_is_a_warning_not_a_failure(tmp_path: Path, emulator: Emulator) -> None:
    result = run_xtap("doctor", "--policies", str(tmp_path / "nowhere"), emulator=emulator, roles=EVERYTHING)

    assert result.code == 0, result.stdout
    assert f"warn  policies: no folder at {tmp_path / 'nowhere'}" in result.stdout


# What the managed identity endpoint answers on a machine with no identity assigned
# (https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling).
NO_IDENTITY = (400, "application/json", b'{"error":"invalid_request","error_description":"Identity not found"}')


@pytest.fixture
def signed_out(tmp_path: Path) -> Iterator[dict[str, str | None]]:
    """No credential at all: no token, no AZURE_* (removed by `xtap_environment`), no `az`,
    `pwsh` or `azd` on PATH, an empty home (no shared token cache), and the managed identity's
    endpoint on loopback, answering as it does where no identity is assigned, so the chain fails
    fast and never leaves the machine. (A closed port would not do: with the endpoint set,
    azure-identity skips its probe and retries the refused connection for 5 s.)"""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    (tmp_path / "home").mkdir()
    with serving({"/metadata/identity/oauth2/token": NO_IDENTITY}) as stub:
        yield {
            "XTAP_ACCESS_TOKEN": None,
            "XTAP_GRAPH_URL": None,
            "PATH": str(empty),
            "HOME": str(tmp_path / "home"),
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": stub.removesuffix("/v1.0"),
            "IDENTITY_ENDPOINT": None,
            "MSI_ENDPOINT": None,
            "XTAP_DEBUG": None,
        }


@pytest.mark.parametrize("debug", [False, True])
def test_no_credential_says_how_to_sign_in_in_short_lines(
    tmp_path: Path, signed_out: dict[str, str | None], debug: bool
) -> None:
    folder = policies(tmp_path, OTHER_TENANT)
    env = signed_out | ({"XTAP_DEBUG": "1"} if debug else {})
    # azure-identity's chain keeps process-wide state (msal's caches): a process of its own.
    result = run_xtap("plan", "--policies", str(folder), extra_env=env, subprocess=True)

    assert result.code == 1
    errors = result.stderr.splitlines()
    assert "Error: xtap could not sign in to Microsoft Graph (global cloud): no credential gave a token" in errors
    assert "\\u000a" not in result.stderr and "\\u0009" not in result.stderr
    assert max(map(len, errors)) <= 200, max(errors, key=len)
    assert any("az login" in line for line in errors)
    assert any("XTAP_ACCESS_TOKEN" in line for line in errors)
    assert any("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH" in line for line in errors)
    assert any("allow-no-subscriptions" in line and "AZURE_FEDERATED_TOKEN_FILE" in line for line in errors)
    assert any("managed identity" in line for line in errors)
    assert any(line.startswith("Then: xtap doctor") for line in errors)
    assert ("  EnvironmentCredential: Environment variables are not fully configured" in errors) == debug
    assert ("  AzureCliCredential: Azure CLI not found on path" in errors) == debug
    assert any(line.startswith("azure-identity tried") for line in errors)
    assert "Traceback" not in result.stderr


def test_doctor_without_a_credential_fails_sign_in_with_each_reason(
    tmp_path: Path, signed_out: dict[str, str | None]
) -> None:
    folder = policies(tmp_path, OTHER_TENANT)
    result = run_xtap("doctor", "--policies", str(folder), extra_env=signed_out, subprocess=True)

    assert result.code == 1
    assert lines(result.stdout, "FAIL")[0].startswith("FAIL  sign-in: xtap could not sign in to Microsoft Graph")
    assert "      EnvironmentCredential: Environment variables are not fully configured" in result.stdout
    assert "      AzureCliCredential: Azure CLI not found on path" in result.stdout
    assert "fix: sign in one of these ways: a person: az login" in result.stdout
    assert "warn  graph: https://graph.microsoft.com/v1.0 not tried: there is no token to send" in result.stdout
    assert "\\u000a" not in result.stdout


def test_the_reasons_are_one_short_line_each_and_outside_text_stays_escaped() -> None:
    message = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tEnvironmentCredential: EnvironmentCredential authentication unavailable. "
        "Environment variables are not fully configured.\nVisit https://aka.ms/x to troubleshoot this issue.\n"
        "\tAzureCliCredential: " + "x" * 500 + "\n\tEvilCredential: \x1b[2Jgone\r\n::error::forged"
        "\nTo mitigate this issue, please refer to https://aka.ms/y."
    )
    reasons = dict(credential_reasons(message))

    assert reasons["EnvironmentCredential"] == "Environment variables are not fully configured"
    assert len(reasons["AzureCliCredential"]) <= 101
    assert "\n" not in reasons["EvilCredential"] and "\r" not in reasons["EvilCredential"]
    assert "\x1b" in reasons["EvilCredential"]  # escaped by `visible` as it is printed, like any outside text


def test_doctor_names_the_azure_identity_credential_that_gave_the_token(tmp_path: Path, emulator: Emulator) -> None:
    """An `az` on PATH that answers as `az account get-access-token` does, with the emulator's
    token: doctor names AzureCliCredential, which azure-identity's chain logs as the one that
    gave it, and suggests `az login --tenant` for a token of the wrong tenant."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answer = json.dumps({"accessToken": emulator.mint_token(roles=EVERYTHING), "expires_on": 4102444800})
    (bin_dir / "az").write_text(f"#!{sys.executable}\nprint({answer!r})\n")
    (bin_dir / "az").chmod(0o755)
    env = {"XTAP_ACCESS_TOKEN": None, "AZURE_TOKEN_CREDENTIALS": "dev", "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}
    folder = policies(tmp_path, OTHER_TENANT)
    result = run_xtap("doctor", "--policies", str(folder), emulator=emulator, extra_env=env, subprocess=True)

    assert "ok    sign-in: azure-identity's AzureCliCredential: app " in result.stdout, result.stdout
    assert f"fix: sign in to tenant {OTHER_TENANT}: az login --tenant {OTHER_TENANT} --allow-no-subscriptions" in (
        result.stdout
    )
    assert "ok    graph: GET " in result.stdout


def test_a_token_that_says_nothing_readable_is_a_warning_graph_decides(tmp_path: Path, emulator: Emulator) -> None:
    unbound = write_policies(tmp_path / "policies", [{"tenantId": PARTNER}])
    result = run_xtap("doctor", "--policies", str(unbound), emulator=emulator, token="opaque-token")

    assert "warn  sign-in: a token from XTAP_ACCESS_TOKEN, but not one xtap can read" in result.stdout
    assert "warn  permissions: the token names no permissions xtap can read" in result.stdout
    assert "cannot tell; Graph will decide" in result.stdout
    assert "FAIL  graph: GET " in result.stdout and " answered 401 InvalidAuthenticationToken in " in result.stdout
    assert "opaque-token" not in result.stdout + result.stderr
    assert result.code == 1
