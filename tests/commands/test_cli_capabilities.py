"""Microsoft 365 capabilities as a user meets them: Graph's documented examples, verbatim, written
as files (tests/support/seeds.py), through `xtap` and msgraph-sdk over real HTTP to the
emulator, and the exact requests it served. Pages:
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-post-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-update-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-update-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-delete-m365capabilities"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from support.capability_plans import folder, listed
from support.seeds import (
    CAPABILITY_DEFAULT_POST_BODIES,
    CAPABILITY_DEFAULT_POST_RESPONSES,
    CAPABILITY_DELETE_TENANT,
    CAPABILITY_PARTNER_POST_BODIES,
    CAPABILITY_PARTNER_POST_RESPONSE,
    CAPABILITY_PARTNER_TENANT,
    CAPABILITY_PARTNER_UPDATE_BODY,
    CAPABILITY_UPDATE_BODIES,
)
from support.xtap import Run, run_xtap, writes_served

from reconciler.emulator import Emulator
from reconciler.emulator.auth import CAPABILITY, READ_WRITE

POLICY = "/v1.0/policies/crossTenantAccessPolicy"
DEFAULT_CAPABILITIES = f"{POLICY}/default/m365Capabilities"
PROFILE_BODY = CAPABILITY_DEFAULT_POST_BODIES[0]
PROFILE = "crossTenantOpenProfileCard"
ROLES = (READ_WRITE, CAPABILITY)


def capabilities_of(tenant: str) -> str:
    return f"{POLICY}/partners/{tenant}/m365Capabilities"


def xtap(command: str, policies: Path, emulator: Emulator, roles: tuple[str, ...] = ROLES) -> Run:
    extra = ("--auto-approve",) if command == "apply" else ("--detailed-exitcode",)
    return run_xtap(command, *extra, "--policies", str(policies), emulator=emulator, roles=roles)


def converge(policies: Path, emulator: Emulator) -> list[tuple[str, str, Any, int]]:
    """Apply, then plan clean; the writes the emulator served, with their statuses."""
    applied = xtap("apply", policies, emulator)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Warning" not in applied.stderr
    again = xtap("plan", policies, emulator)
    assert again.code == 0 and "No changes" in again.stdout, again.stdout + again.stderr
    return [(r.method, r.path, r.body, r.status) for r in writes_served(emulator)]


def with_capabilities(emulator: Emulator, tenant: str | None, *bodies: dict[str, Any]) -> None:
    """The partner `tenant` (or the default, for None) holding the capabilities Graph lists for these bodies."""
    held = {item["name"]: item for item in map(listed, bodies)}
    if tenant is None:
        emulator.set_default({**emulator.default(), "m365Capabilities": held})
    else:
        emulator.put_partner({"tenantId": tenant, "m365Capabilities": held})


def test_the_documented_create_bodies_are_posted_verbatim(tmp_path: Path, emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": CAPABILITY_PARTNER_TENANT})
    partner = {"tenantId": CAPABILITY_PARTNER_TENANT, "m365Capabilities": CAPABILITY_PARTNER_POST_BODIES}
    policies = folder(tmp_path / "policies", [partner], default={"m365Capabilities": [PROFILE_BODY]})
    served = converge(policies, emulator)
    expected = [
        ("POST", capabilities_of(CAPABILITY_PARTNER_TENANT), body, 201) for body in CAPABILITY_PARTNER_POST_BODIES
    ]
    assert sorted(served, key=repr) == sorted([*expected, ("POST", DEFAULT_CAPABILITIES, PROFILE_BODY, 201)], key=repr)
    stored = emulator.partners()[CAPABILITY_PARTNER_TENANT]["m365Capabilities"]["crossTenantMailTipsLimited"]
    assert {k: v for k, v in stored.items() if k != "lastModifiedDateTime"} == {
        k: v for k, v in CAPABILITY_PARTNER_POST_RESPONSE.items() if k != "lastModifiedDateTime"
    }


def test_a_new_partner_is_posted_before_its_capabilities(tmp_path: Path, emulator: Emulator) -> None:
    partner = {"tenantId": CAPABILITY_PARTNER_TENANT, "m365Capabilities": CAPABILITY_PARTNER_POST_BODIES[:1]}
    served = converge(folder(tmp_path / "policies", [partner]), emulator)
    assert [(method, path) for method, path, _, _ in served] == [
        ("POST", f"{POLICY}/partners"),
        ("POST", capabilities_of(CAPABILITY_PARTNER_TENANT)),
    ]


def test_migration_on_the_default_is_refused_offline_as_the_docs_text_says(tmp_path: Path) -> None:
    """The default's create page has an Example 2 creating crossTenantMigration; its type's page
    says "Available only in a partner policy". xtap follows the text, before any request."""
    policies = folder(tmp_path / "policies", [], default={"m365Capabilities": CAPABILITY_DEFAULT_POST_BODIES})
    validated = run_xtap("validate", "--policies", str(policies))
    assert validated.code != 0
    expected = (
        f"{policies / 'default.yaml'}:2:23: crossTenantMigration is available only in a partner policy "
        "(Graph's documentation); move it to the partner's file"
    )
    assert expected in validated.stdout + validated.stderr, validated.stdout + validated.stderr


@pytest.mark.parametrize("update", CAPABILITY_UPDATE_BODIES, ids=["isAllowed only", "isAllowed and scopes"])
def test_a_default_capability_differing_is_patched_with_its_whole_inbound_access(
    tmp_path: Path, emulator: Emulator, update: dict[str, Any]
) -> None:
    with_capabilities(emulator, None, PROFILE_BODY)
    wanted = copy.deepcopy(PROFILE_BODY)
    wanted["inboundAccess"].update(update["inboundAccess"])  # the scopes as they were, if the example keeps them
    policies = folder(tmp_path / "policies", [], default={"m365Capabilities": [wanted]})
    [(method, path, body, status)] = [w for w in converge(policies, emulator) if "m365Capabilities" in w[1]]
    assert (method, path, status) == ("PATCH", f"{DEFAULT_CAPABILITIES}/{PROFILE}", 204)
    assert body == {"inboundAccess": wanted["inboundAccess"]}  # both lists, always
    if "resourceScopes" in update["inboundAccess"]:
        assert body == update


def test_a_partner_capability_differing_is_patched_as_the_docs_do(tmp_path: Path, emulator: Emulator) -> None:
    with_capabilities(emulator, CAPABILITY_DELETE_TENANT, PROFILE_BODY)
    wanted = {"@odata.type": PROFILE_BODY["@odata.type"], **CAPABILITY_PARTNER_UPDATE_BODY}
    partner = {"tenantId": CAPABILITY_DELETE_TENANT, "m365Capabilities": [wanted]}
    served = converge(folder(tmp_path / "policies", [partner]), emulator)
    assert served == [
        ("PATCH", f"{capabilities_of(CAPABILITY_DELETE_TENANT)}/{PROFILE}", CAPABILITY_PARTNER_UPDATE_BODY, 204)
    ]


@pytest.mark.parametrize("kept", [[], CAPABILITY_PARTNER_POST_BODIES[:1]], ids=["empty list", "another kept"])
def test_a_partner_capability_left_out_of_the_list_is_deleted(
    tmp_path: Path, emulator: Emulator, kept: list[dict[str, Any]]
) -> None:
    with_capabilities(emulator, CAPABILITY_DELETE_TENANT, PROFILE_BODY, *kept)
    partner = {"tenantId": CAPABILITY_DELETE_TENANT, "m365Capabilities": kept}
    served = converge(folder(tmp_path / "policies", [partner]), emulator)
    assert served == [("DELETE", f"{capabilities_of(CAPABILITY_DELETE_TENANT)}/{PROFILE}", None, 204)]


def test_the_documented_list_plans_clean_against_the_create_body(tmp_path: Path, emulator: Emulator) -> None:
    """Graph's list item against the create body it came from: `name`, `lastModifiedDateTime`,
    the `#`, the case of a GUID and the order of `included` are no difference."""
    [live] = CAPABILITY_DEFAULT_POST_RESPONSES[:1]
    scopes = CAPABILITY_UPDATE_BODIES[1]["inboundAccess"]["resourceScopes"]
    live = {**live, "inboundAccess": {"isAllowed": True, "resourceScopes": scopes}}
    emulator.set_default({**emulator.default(), "m365Capabilities": {PROFILE: live}})
    written = {
        "@odata.type": PROFILE_BODY["@odata.type"].removeprefix("#"),
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {
                "included": [{**s, "resourceId": s["resourceId"].upper()} for s in reversed(scopes["included"])],
                "excluded": scopes["excluded"],
            },
        },
    }
    policies = folder(tmp_path / "policies", [], default={"m365Capabilities": [written]})
    planned = xtap("plan", policies, emulator)
    assert planned.code == 0 and "No changes" in planned.stdout, planned.stdout + planned.stderr


def test_a_token_that_may_not_read_capabilities_plans_the_rest_and_says_so_once(
    tmp_path: Path, emulator: Emulator
) -> None:
    with_capabilities(emulator, CAPABILITY_DELETE_TENANT, PROFILE_BODY)
    partner = {"tenantId": CAPABILITY_DELETE_TENANT, "m365Capabilities": [], "inboundTrust": {"isMfaAccepted": False}}
    policies = folder(tmp_path / "policies", [partner], default={"m365Capabilities": []})
    planned = xtap("plan", policies, emulator, roles=(READ_WRITE,))
    output = planned.stdout + planned.stderr
    assert planned.code == 2, output  # the partner's trust still differs
    assert output.count("Skipped:") == 1, output
    assert "Skipped: m365Capabilities (m365Capability) were not read" in output
    assert "Policy.ReadWrite.CrossTenantCapability" in output
    assert "~ partner" in planned.stdout and "m365Capability " not in planned.stdout  # no capability change
    assert "Not read (the token may not read them; left out of this plan):\n  m365Capability: " in planned.stdout
