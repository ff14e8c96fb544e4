"""One policy file on its own (`policies/policy_file.py`), the unit the worker processes share
out: the instances it declares (a partner and the identity sync written in it, sharing its
`xtap:` key), with the source line of each and its key's position; a singleton's file of only
comments declaring the unconfigured state; and the `xtap:` key's shape refused where written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.core.address import Address
from reconciler.core.registry import (
    DEFAULT,
    IDENTITY_SYNC,
    M365_CAPABILITY,
    MTO_IDENTITY_SYNC_TEMPLATE,
    PARTNER,
    REGISTRY_BY_NAME,
)
from reconciler.policies.policy_file import load_file

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"
PARTNER_FILE = f"""tenantId: {TENANT.upper()}
xtap:
  labels: [regulated]
inboundTrust:
  isMfaAccepted: false
identitySynchronization:
  displayName: Contoso
"""


def test_a_partner_file_declares_the_partner_and_its_identity_sync(tmp_path: Path) -> None:
    path = tmp_path / "contoso.yaml"
    path.write_text(PARTNER_FILE)
    loaded = load_file(str(path), PARTNER)
    assert loaded.problems == []
    [(partner, want, key_at), (sync, sync_want, _)] = loaded.declared
    assert (partner, sync) == (Address(PARTNER.name, TENANT), Address(IDENTITY_SYNC.name, TENANT))
    assert want.written == {"tenantId": TENANT.upper(), "inboundTrust": {"isMfaAccepted": False}}
    assert sync_want.written == {"displayName": "Contoso"}
    assert (want.source, sync_want.source) == (f"{path}:1", f"{path}:6")
    assert want.tool.labels == sync_want.tool.labels == ["regulated"]
    assert key_at == (1, 11)  # where the tenantId stands, for a duplicate to be reported at


def test_a_singletons_file_of_only_comments_declares_its_unconfigured_state(tmp_path: Path) -> None:
    path = tmp_path / "mto-identity-sync-template.yaml"
    path.write_text("# only comments\n")
    [(address, want, _)] = load_file(str(path), MTO_IDENTITY_SYNC_TEMPLATE).declared
    assert address.resource == MTO_IDENTITY_SYNC_TEMPLATE.name and want.written == {}
    partner = tmp_path / "empty.yaml"
    partner.write_text("# only comments\n")
    assert load_file(str(partner), PARTNER).declared == []


def test_the_xtap_key_must_be_a_mapping_of_known_keys(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"tenantId: {TENANT}\nxtap: trusted\n")
    [problem] = load_file(str(path), PARTNER).problems
    assert (problem.line, problem.col) == (2, 7) and "'xtap' holds tool-only settings" in problem.message
    path.write_text(f"tenantId: {TENANT}\nxtap:\n  trustd: true\n")
    loaded = load_file(str(path), PARTNER)
    assert loaded.declared == []
    [problem] = loaded.problems
    assert problem.line == 3 and "unknown key 'trustd' under 'xtap'" in problem.message


def test_equal_xtap_keys_are_one_object_and_a_key_is_told_apart_by_its_values_types(tmp_path: Path) -> None:
    def tool_of(name: str, xtap: str) -> tuple[Any, list[str]]:
        path = tmp_path / name
        path.write_text(f"tenantId: {TENANT}\nxtap: {xtap}\n")
        loaded = load_file(str(path), PARTNER)
        return next((instance.tool for _, instance, _ in loaded.declared), None), [p.message for p in loaded.problems]

    (first, _), (second, _) = tool_of("a.yaml", "{trusted: true}"), tool_of("b.yaml", "{trusted: true}")
    assert first is second and first.model_fields_set == {"trusted"}
    # The same text as another type: "1" is a name, 1 is not (the model is strict), whatever came first.
    (named, _), (_, problems) = tool_of("c.yaml", "{name: '1'}"), tool_of("d.yaml", "{name: 1}")
    assert named.name == "1" and len(problems) == 1 and "name" in problems[0]
    (_, problems), (unmarked, _) = tool_of("e.yaml", "{trusted: 1}"), tool_of("f.yaml", "{}")
    assert len(problems) == 1 and unmarked.model_fields_set == set()


# -- Microsoft 365 capabilities ----------------------------------------------------------------

MAIL_TIPS = "'#microsoft.graph.crossTenantMailTipsAll'"
ALLOWED = "  inboundAccess:\n    isAllowed: true\n"
HEAD = f"tenantId: {TENANT}\nm365Capabilities:\n"


def scoped(resource_id: str, resource_type: str = "group") -> str:
    scopes = "    resourceScopes:\n      included:\n"
    item = f"      - resourceId: {resource_id}\n        resourceType: {resource_type}\n"
    return f"{HEAD}- '@odata.type': {MAIL_TIPS}\n{ALLOWED}{scopes}{item}"


# name: (the file's text, its type, line, column, what the message says to write instead)
CAPABILITY_PROBLEMS: dict[str, tuple[str, str, int, int, str]] = {
    "listed twice": (
        f"{HEAD}- '@odata.type': {MAIL_TIPS}\n{ALLOWED}- name: crossTenantMailTipsAll\n{ALLOWED}",
        "partner",
        3,
        1,
        "m365Capabilities lists crossTenantMailTipsAll more than once; one item per capability",
    ),
    "unknown type": (
        f"{HEAD}- '@odata.type': '#microsoft.graph.crossTenantTeleport'\n{ALLOWED}",
        "partner",
        3,
        3,
        "'@odata.type' '#microsoft.graph.crossTenantTeleport' is not a Microsoft 365 capability: write "
        "'#microsoft.graph.' and one of crossTenantCalendarAvailabilityBasic",
    ),
    "migration on the default": (
        f"m365Capabilities:\n- '@odata.type': '#microsoft.graph.crossTenantMigration'\n{ALLOWED}",
        "default",
        2,
        1,
        "crossTenantMigration is available only in a partner policy (Graph's documentation); move it to the "
        "partner's file",
    ),
    "name is not the type": (
        f"{HEAD}- '@odata.type': {MAIL_TIPS}\n  name: crossTenantMailTipsLimited\n{ALLOWED}",
        "partner",
        3,
        3,
        "'name' 'crossTenantMailTipsLimited' differs from the '@odata.type' '#microsoft.graph.crossTenantMailTipsAll':"
        " Graph names a capability by its type, so write name: crossTenantMailTipsAll or leave name out",
    ),
    "null": (
        f"tenantId: {TENANT}\nm365Capabilities: null\n",
        "partner",
        2,
        19,
        "m365Capabilities cannot be null: write [] to turn every capability off here, or leave the key out to "
        "leave them alone",
    ),
    "resourceId neither All nor a GUID": (
        scoped("everyone"),
        "partner",
        8,
        9,
        "resourceId 'everyone' is neither All nor a user or group id (a GUID like",
    ),
    "resourceType none with a GUID": (
        scoped(TENANT, "none"),
        "partner",
        8,
        9,
        f"resourceId '{TENANT}' names an object, so resourceType must be user or group",
    ),
    "isAllowed missing": (
        f"{HEAD}- '@odata.type': {MAIL_TIPS}\n  inboundAccess:\n    resourceScopes: {{}}\n",
        "partner",
        5,
        5,
        "isAllowed is missing: write isAllowed: true to allow the capability, or false to block it",
    ),
}


@pytest.mark.parametrize("case", sorted(CAPABILITY_PROBLEMS))
def test_a_capability_problem_is_refused_at_its_place_saying_what_to_write(tmp_path: Path, case: str) -> None:
    text, resource, line, col, message = CAPABILITY_PROBLEMS[case]
    path = tmp_path / "p.yaml"
    path.write_text(text)
    loaded = load_file(str(path), REGISTRY_BY_NAME[resource])
    assert loaded.declared == []
    [problem] = loaded.problems
    assert (problem.line, problem.col) == (line, col), problem.message
    assert message in problem.message


@pytest.mark.parametrize(("block", "holds"), [("m365Capabilities: []\n", {M365_CAPABILITY.name}), ("", set())])
def test_a_file_that_writes_the_capabilities_key_holds_them_even_empty(
    tmp_path: Path, block: str, holds: set[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"tenantId: {TENANT}\n{block}")
    [(address, want, _)] = load_file(str(path), PARTNER).declared
    assert address == Address(PARTNER.name, TENANT) and set(want.holds) == holds
    assert all(source == f"{path}:2" for source in want.holds.values())  # where the block stands
    assert want.written == {"tenantId": TENANT}  # the block is its own resources, not a setting
    default = tmp_path / "default.yaml"
    default.write_text(f"{block}inboundTrust: null\n")
    [(_, want, _)] = load_file(str(default), DEFAULT).declared
    assert set(want.holds) == holds


def test_each_capability_in_a_file_is_its_own_instance_at_the_key_s_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"{HEAD}- name: crossTenantMigration\n{ALLOWED}- '@odata.type': {MAIL_TIPS}\n{ALLOWED}")
    [_, (first, migration, _), (second, tips, _)] = load_file(str(path), PARTNER).declared
    assert (first.id, second.id) == (f"{TENANT}/crossTenantMigration", f"{TENANT}/crossTenantMailTipsAll")
    assert migration.source == tips.source == f"{path}:2"  # where m365Capabilities stands
    assert tips.written["inboundAccess"]["resourceScopes"] == {"included": [], "excluded": []}


def test_an_empty_partner_file_says_its_key_and_an_empty_singleton_file_is_its_reset(tmp_path: Path) -> None:
    """What an empty file must hold at least comes from its type's key (its key kind's
    placeholder): a partner needs its tenantId, a singleton needs nothing."""
    path = tmp_path / "p.yaml"
    path.write_text("# Fabrikam, to do\n")
    assert [str(problem) for problem in load_file(str(path), PARTNER).problems] == [
        f"{path}:1:1: empty: a partner file needs at least tenantId: <GUID>"
    ]
    assert load_file(str(path), DEFAULT).problems == []
    path.write_text("- inboundTrust: {}\n")
    assert [problem.message for problem in load_file(str(path), DEFAULT).problems] == [
        "a policy file holds one mapping (key: value lines), not a list"
    ]
