"""Apply's permission check (reconciler/commands/apply.py) as a user runs it, against the
emulator, which refuses what Graph refuses: a plan whose writes need a permission the token's
`roles` or `scp` lack writes nothing at all (not even the writes the token could make), names
the permission and what needs it, and exits 1; a token holding every permission the plan needs
applies it. Microsoft 365 capabilities take Policy.ReadWrite.CrossTenantCapability alone
(https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.in_process import Run
from support.policy_files import write_policies
from support.seeds import (
    CAPABILITY_DEFAULT_POST_BODIES,
    CAPABILITY_PARTNER_POST_BODIES,
    CAPABILITY_PARTNER_TENANT,
    SEED_000_CREATE_BODY,
)
from support.xtap import run_xtap, writes_served

from reconciler.emulator import Emulator
from reconciler.emulator.auth import CAPABILITY, READ_WRITE

READ = "Policy.Read.All"
# The default's capabilities of the docs' examples but crossTenantMigration, which only a partner takes.
DEFAULT_CAPABILITIES = [body for body in CAPABILITY_DEFAULT_POST_BODIES if "Migration" not in body["@odata.type"]]
NO_WRITE = "The access token lacks a permission the plan needs; nothing was written."


def capabilities_folder(tmp_path: Path) -> Path:
    """A new partner with the docs' two capabilities, and one capability of the default."""
    root = write_policies(
        tmp_path / "policies",
        [{"tenantId": CAPABILITY_PARTNER_TENANT, "m365Capabilities": CAPABILITY_PARTNER_POST_BODIES}],
    )
    (root / "default.yaml").write_text(json.dumps({"m365Capabilities": DEFAULT_CAPABILITIES}, indent=2))
    return root


def refused_apply(emulator: Emulator, policies: Path, *args: str, **token: Any) -> Run:
    """`xtap apply ARGS` of `policies` (with --auto-approve unless ARGS name a saved plan) with
    the token `token` describes (`run_xtap`'s roles or token), which must be refused before any
    write: exit 1, the emulator served no write, its last line says nothing was written."""
    args = args or ("--auto-approve",)
    refused = run_xtap("apply", *args, "--policies", str(policies), emulator=emulator, **token)
    assert refused.code == 1, refused.stdout + refused.stderr
    assert writes_served(emulator) == []
    assert emulator.partners() == {}
    assert refused.stderr.splitlines()[-1] == NO_WRITE
    return refused


def refusal(refused: Run) -> str:
    """The one error line of a refused apply."""
    [line] = [line for line in refused.stderr.splitlines() if line.startswith("Error: ")]
    return line


def test_a_token_that_reads_capabilities_but_may_not_write_them_writes_nothing(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Not even the partner's own POST, which the token could make: a partner without the
    capabilities its file declares is half of what the files say."""
    policies = capabilities_folder(tmp_path)
    refused = refused_apply(emulator, policies, roles=(READ, READ_WRITE))
    assert refusal(refused) == (
        f"Error: the plan changes 3 m365Capability(s) ({CAPABILITY_PARTNER_TENANT}/crossTenantMailTipsLimited, "
        f"{CAPABILITY_PARTNER_TENANT}/crossTenantPlacesRoomBooking, default/crossTenantOpenProfileCard), whose "
        f"writes need {CAPABILITY}, which the token lacks (it holds: {READ}, {READ_WRITE}); grant it "
        "(docs/github.md) or leave m365Capabilities out of the files"
    )
    assert "+ m365Capability" in refused.stdout  # the plan was shown first


def test_a_token_that_may_not_even_read_capabilities_writes_nothing(tmp_path: Path, emulator: Emulator) -> None:
    """The capabilities are not read, so they are not in the plan; the partner's create is. The
    files still declare them, so applying the partner alone would be half of what they say."""
    policies = capabilities_folder(tmp_path)
    refused = refused_apply(emulator, policies, roles=(READ_WRITE,))
    said = refusal(refused)
    assert said.startswith(
        f"Error: {policies}/default.yaml, {policies}/partners/{CAPABILITY_PARTNER_TENANT}.yaml declare "
        "m365Capabilities, which the token may not even read"
    )
    assert f"whose writes need {CAPABILITY}, which the token lacks (it holds: {READ_WRITE})" in said
    assert "+ partner" in refused.stdout


def test_a_delegated_token_without_the_capability_scope_writes_nothing(tmp_path: Path, emulator: Emulator) -> None:
    policies = capabilities_folder(tmp_path)
    token = emulator.mint_token(roles=None, scp=f"{READ} {READ_WRITE}")
    refused = refused_apply(emulator, policies, token=token)
    assert f"whose writes need {CAPABILITY}, which the token lacks (it holds: {READ}, {READ_WRITE})" in refusal(refused)


@pytest.mark.parametrize(
    "token_for",
    [
        lambda emulator: emulator.mint_token(roles=(READ_WRITE, CAPABILITY)),
        lambda emulator: emulator.mint_token(roles=None, scp=f"{READ_WRITE} {CAPABILITY}"),
    ],
    ids=["application", "delegated"],
)
def test_a_token_with_both_write_permissions_applies_and_replans_clean(
    tmp_path: Path, emulator: Emulator, token_for: object
) -> None:
    policies = capabilities_folder(tmp_path)
    token = token_for(emulator)  # type: ignore[operator]
    applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator, token=token)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Warning" not in applied.stderr
    served = sorted((request.method, request.path.rsplit("/", 1)[-1]) for request in writes_served(emulator))
    assert served == [("POST", "m365Capabilities")] * 3 + [("POST", "partners")]
    again = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator, token=token)
    assert again.code == 0, again.stdout + again.stderr


def test_an_app_token_without_cross_tenant_access_may_not_create_a_partner(tmp_path: Path, emulator: Emulator) -> None:
    """The capability permission is not the cross-tenant access one: each implies only itself."""
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    refused = refused_apply(emulator, policies, roles=(READ, CAPABILITY))
    assert refusal(refused) == (
        f"Error: the plan changes 1 partner(s) ({SEED_000_CREATE_BODY['tenantId']}), whose writes need {READ_WRITE}, "
        f"which the token lacks (it holds: {READ}, {CAPABILITY}); grant it (docs/github.md)"
    )


def test_a_saved_plan_is_refused_the_same_way(tmp_path: Path, emulator: Emulator) -> None:
    policies, plan_file = capabilities_folder(tmp_path), tmp_path / "plan.json"
    roles = (READ, READ_WRITE)
    made = run_xtap("plan", "--out", str(plan_file), "--policies", str(policies), emulator=emulator, roles=roles)
    assert made.code == 0, made.stderr
    refused = refused_apply(emulator, policies, str(plan_file), roles=roles)
    assert f"whose writes need {CAPABILITY}, which the token lacks" in refusal(refused)


def test_plan_never_checks_write_permissions(tmp_path: Path, emulator: Emulator) -> None:
    """Plan is read-only: a reviewer's token may read everything and write nothing."""
    policies = capabilities_folder(tmp_path)
    planned = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator, roles=(READ,))
    assert planned.code == 2, planned.stdout + planned.stderr
    assert "Error" not in planned.stderr and CAPABILITY not in planned.stderr
    assert "+ m365Capability default/crossTenantOpenProfileCard" in planned.stdout
