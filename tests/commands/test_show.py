"""`xtap show` (reconciler/commands/show.py) says what a partner's null means: the value it inherits
from the default; which Microsoft 365 capabilities are in effect for it, its own or the
default's; and what Microsoft's service set on it (serviceProviderConstraints), read-only. The
plan saying the same of nulls is in test_plan.py."""

from __future__ import annotations

import json
import uuid

from support.xtap import READ_ONLY, READ_WRITE, client_for, run_xtap

from reconciler.emulator import Emulator

FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
BLOCK_DIRECT_CONNECT = {
    "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]},
}


def test_show_marks_each_setting_own_or_inherited_with_the_value(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": FABRIKAM, "inboundTrust": TRUST})
    shown = run_xtap("show", FABRIKAM.upper(), "--format", "json", emulator=emulator, roles=READ_ONLY)
    assert shown.code == 0, shown.stderr
    [partner] = json.loads(shown.stdout)
    settings = partner["settings"]
    assert settings["inboundTrust"] == {"value": TRUST, "inheritedFrom": None}
    # Null on the partner: the default's system value applies.
    assert settings["b2bDirectConnectInbound"] == {"value": BLOCK_DIRECT_CONNECT, "inheritedFrom": "default"}
    assert settings["automaticUserConsentSettings"] == {
        "value": {"inboundAllowed": False, "outboundAllowed": False},
        "inheritedFrom": "default",
    }
    text = run_xtap("show", FABRIKAM, emulator=emulator, roles=READ_ONLY).stdout
    assert f"partner {FABRIKAM}" in text
    assert any(line.split()[:2] == ["b2bDirectConnectInbound", "from"] for line in text.splitlines())
    assert any(line.split()[:2] == ["inboundTrust", "own"] for line in text.splitlines())
    # Twice: partners and the default, both capability lists in one $batch, the partner's constraints.
    assert [r.method for r in emulator.requests] == ["GET", "GET", "GET", "GET", "POST", "GET"] * 2


def test_show_of_an_unknown_or_malformed_partner_is_an_error(emulator: Emulator) -> None:
    missing = run_xtap("show", "11111111-2222-3333-4444-555555555555", emulator=emulator)
    assert missing.code == 1 and "the tenant has no partner 11111111-2222-3333-4444-555555555555" in missing.stderr
    malformed = run_xtap("show", "fabrikam", emulator=emulator)
    assert malformed.code == 1 and "'fabrikam' is not a tenant id" in malformed.stderr
    assert len(emulator.requests) == 2  # the malformed id sent nothing


GDAP = "aaaaaaaa-0000-4000-8000-000000000001"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
SUPPORT_ENGINEER = "ab0d3d6c-0000-4000-8000-000000000007"  # not a well-known id: shown as is
CONSTRAINTS = {
    "@odata.type": "#microsoft.graph.delegatedAdminServiceProviderConstraints",
    "id": "0d1f6c2e-6c0e-4d6e-9d1a-7b1c5e3f9a10",
    "allowedRoleTemplateIds": [GLOBAL_ADMINISTRATOR, SUPPORT_ENGINEER],
    "createdDateTime": "2026-08-03T10:00:00Z",
    "lastModifiedDateTime": "2026-08-03T10:00:00Z",
}
CAPABILITIES = "/policies/crossTenantAccessPolicy/{holder}/m365Capabilities"
ALL_USERS = {"included": [{"resourceId": "All", "resourceType": "user"}], "excluded": []}


def create_capability(emulator: Emulator, holder: str, name: str, allowed: bool) -> None:
    body = {
        "@odata.type": f"#microsoft.graph.{name}",
        "inboundAccess": {"isAllowed": allowed, "resourceScopes": ALL_USERS},
    }
    with client_for(emulator, emulator.mint_token(roles=("Policy.ReadWrite.CrossTenantCapability",))) as graph:
        assert graph.post(CAPABILITIES.format(holder=holder), json=body).status_code == 201


def lines_of(text: str) -> dict[str, list[str]]:
    """Each line of a text report by its first word: its origin and value."""
    return {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith("  ")}


def test_capabilities_in_effect_are_the_partners_own_else_the_defaults(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": FABRIKAM})
    create_capability(emulator, f"partners/{FABRIKAM}", "crossTenantMailTipsLimited", False)
    create_capability(emulator, "default", "crossTenantMailTipsLimited", True)  # the partner's own wins
    create_capability(emulator, "default", "crossTenantCalendarAvailabilityBasic", True)

    shown = run_xtap("show", FABRIKAM, "--format", "json", emulator=emulator, roles=READ_ONLY)

    assert shown.code == 0, shown.stderr
    [partner] = json.loads(shown.stdout)
    scoped = {"included": [{"resourceId": "All", "resourceType": "user"}]}  # canonical: an empty list is none
    assert partner["m365Capabilities"] == {
        "crossTenantCalendarAvailabilityBasic": {
            "value": {"inboundAccess": {"isAllowed": True, "resourceScopes": scoped}},
            "inheritedFrom": "default",
        },
        "crossTenantMailTipsLimited": {
            "value": {"inboundAccess": {"isAllowed": False, "resourceScopes": scoped}},
            "inheritedFrom": None,
        },
    }
    assert partner["notRead"] == {}
    text = lines_of(run_xtap("show", FABRIKAM, emulator=emulator, roles=READ_ONLY).stdout)
    assert text["m365Capabilities.crossTenantMailTipsLimited"][:2] == ["own", '{"isAllowed":']
    assert text["m365Capabilities.crossTenantCalendarAvailabilityBasic"][:3] == ["from", "default", '{"isAllowed":']


def test_a_partner_and_default_without_capabilities_say_none(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": FABRIKAM})
    shown = run_xtap("show", FABRIKAM, emulator=emulator, roles=READ_ONLY)
    assert shown.code == 0, shown.stderr
    assert lines_of(shown.stdout)["m365Capabilities"] == [
        "none",
        "neither",
        "the",
        "partner",
        "nor",
        "the",
        "default",
        "has",
        "any",
    ]
    assert (
        json.loads(run_xtap("show", FABRIKAM, "--format", "json", emulator=emulator, roles=READ_ONLY).stdout)[0][
            "m365Capabilities"
        ]
        == {}
    )


def test_a_token_that_may_not_read_capabilities_shows_the_rest(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": FABRIKAM, "inboundTrust": TRUST})
    create_capability(emulator, "default", "crossTenantMailTipsLimited", True)

    shown = run_xtap("show", FABRIKAM, emulator=emulator, roles=READ_WRITE)  # CrossTenantAccess alone: 403

    assert shown.code == 0, shown.stderr
    assert "Skipped: m365Capabilities (m365Capability) were not read" in shown.stderr
    text = lines_of(shown.stdout)
    assert text["m365Capabilities"][:2] == ["not", "read"] and "may not read them" in " ".join(text["m365Capabilities"])
    assert text["inboundTrust"][0] == "own" and "serviceProviderConstraints" in text
    assert not any(name.startswith("m365Capabilities.") for name in text)
    [partner] = json.loads(run_xtap("show", FABRIKAM, "--format", "json", emulator=emulator, roles=READ_WRITE).stdout)
    assert partner["m365Capabilities"] is None and "m365Capabilities" in partner["notRead"]
    assert partner["settings"]["inboundTrust"]["value"] == TRUST


def test_service_provider_constraints_are_shown_read_only_with_role_names(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": GDAP, "isServiceProvider": True})
    emulator.put_service_provider_constraints(GDAP, CONSTRAINTS)
    emulator.put_partner({"tenantId": FABRIKAM})

    text = run_xtap("show", GDAP, emulator=emulator, roles=READ_ONLY)
    fabrikam = run_xtap("show", FABRIKAM, emulator=emulator, roles=READ_ONLY)
    as_json = run_xtap("show", GDAP, "--format", "json", emulator=emulator, roles=READ_ONLY)

    assert text.code == fabrikam.code == as_json.code == 0, text.stderr + fabrikam.stderr + as_json.stderr
    assert lines_of(text.stdout)["serviceProviderConstraints"] == [
        "service-managed",
        "allowedRoleTemplateIds:",
        GLOBAL_ADMINISTRATOR,
        "(Global",
        "Administrator),",
        SUPPORT_ENGINEER,
    ]
    assert lines_of(fabrikam.stdout)["serviceProviderConstraints"] == ["service-managed", "none"]  # Graph's 404
    [partner] = json.loads(as_json.stdout)
    assert partner["serviceManaged"] == {"serviceProviderConstraints": {"value": CONSTRAINTS, "readOnly": True}}
    constraint_reads = [r for r in emulator.requests if r.path.endswith("/serviceProviderConstraints")]
    assert [r.method for r in constraint_reads] == ["GET"] * 3  # one per partner shown, never a write


def test_showing_every_partner_reads_constraints_of_the_service_made_ones_only(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": GDAP, "isServiceProvider": True})
    emulator.put_service_provider_constraints(GDAP, CONSTRAINTS)
    emulator.put_partner({"tenantId": FABRIKAM})

    shown = run_xtap("show", "--format", "json", emulator=emulator, roles=READ_ONLY)

    assert shown.code == 0, shown.stderr
    by_id = {partner["id"]: partner for partner in json.loads(shown.stdout)}
    assert by_id[GDAP]["serviceManaged"]["serviceProviderConstraints"]["value"] == CONSTRAINTS
    assert by_id[FABRIKAM]["serviceManaged"] == {}  # not read: no service made it
    constraint_reads = [r.path for r in emulator.requests if r.path.endswith("/serviceProviderConstraints")]
    assert constraint_reads == [f"/v1.0/policies/crossTenantAccessPolicy/partners/{GDAP}/serviceProviderConstraints"]


def test_what_graph_says_is_escaped_in_text(emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": GDAP, "isServiceProvider": True})
    emulator.put_service_provider_constraints(
        GDAP, {**CONSTRAINTS, "allowedRoleTemplateIds": ["\x1b]8;;https://evil.example\x07x", "a\nb"]}
    )
    shown = run_xtap("show", GDAP, emulator=emulator, roles=READ_ONLY)
    assert shown.code == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    [line] = [line for line in shown.stdout.splitlines() if "serviceProviderConstraints" in line]
    assert "a\\u000ab" in line  # one line: the newline is shown escaped


def test_a_national_cloud_reads_neither_capabilities_nor_constraints(emulator: Emulator) -> None:
    """Their APIs are the global cloud's only: a national cloud's Graph would answer 400."""
    emulator.put_partner({"tenantId": GDAP, "isServiceProvider": True})
    shown = run_xtap("show", GDAP, "--cloud", "usgov", "--format", "json", emulator=emulator, roles=READ_ONLY)
    assert shown.code == 0, shown.stderr
    [partner] = json.loads(shown.stdout)
    assert "m365Capabilities" not in partner and partner["serviceManaged"] == {}
    assert [r.method for r in emulator.requests] == ["GET", "GET"]  # the partners and the default alone


CONTOSO = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
LIAISONS = "6f546279-4da5-4b53-a095-09ea0cef9971"  # this tenant's group
THEIR_GROUP = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"  # the partner's group: never looked up
PAYROLL_APP = "5d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5"  # this tenant's app, by appId
TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"  # first party: from the table, never looked up
NAMES_ROLES = (*READ_ONLY, "CrossTenantInformation.ReadBasic.All", "Directory.Read.All")


def _named_tenant(emulator: Emulator) -> None:
    """Two partners, Contoso with targets of both sides, and the names Graph knows."""
    emulator.put_partner({"tenantId": FABRIKAM})
    emulator.put_partner(
        {
            "tenantId": CONTOSO,
            "b2bCollaborationInbound": {
                "usersAndGroups": {
                    "accessType": "allowed",
                    "targets": [{"target": THEIR_GROUP, "targetType": "group"}],
                },
                "applications": {
                    "accessType": "allowed",
                    "targets": [{"target": PAYROLL_APP, "targetType": "application"}],
                },
            },
            "b2bCollaborationOutbound": {
                "usersAndGroups": {"accessType": "allowed", "targets": [{"target": LIAISONS, "targetType": "group"}]},
                "applications": {"accessType": "allowed", "targets": [{"target": TEAMS, "targetType": "application"}]},
            },
        }
    )
    emulator.put_known_tenant({"tenantId": CONTOSO, "displayName": "Contoso Ltd", "defaultDomainName": "contoso.com"})
    emulator.put_known_tenant({"tenantId": FABRIKAM, "displayName": "Fabrikam", "defaultDomainName": "fabrikam.com"})
    emulator.put_directory_object({"@odata.type": "#microsoft.graph.group", "id": LIAISONS, "displayName": "Liaisons"})
    emulator.put_directory_object(
        {
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": str(uuid.uuid4()),
            "appId": PAYROLL_APP,
            "displayName": "Payroll",
        }
    )


def _lookups(emulator: Emulator) -> list[str]:
    """The paths of the name lookups the emulator served (batch items included)."""
    marks = ("findTenantInformation", "getByIds", "servicePrincipals(")
    return [r.path for r in emulator.requests if any(mark in r.path for mark in marks)]


def test_show_names_the_partner_and_each_target_and_looks_up_only_what_it_shows(emulator: Emulator) -> None:
    _named_tenant(emulator)
    text = run_xtap("show", CONTOSO, emulator=emulator, roles=NAMES_ROLES)
    assert text.code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"partner {CONTOSO}  Contoso Ltd (contoso.com)"
    assert f"  {LIAISONS} = Liaisons (group)" in lines
    assert f"  {THEIR_GROUP} = the partner's group" in lines
    assert f"  {PAYROLL_APP} = Payroll" in lines
    assert f"  {TEAMS} = Microsoft Teams" in lines
    assert "  AllUsers = all users" in lines  # what the default's keywords mean, inherited
    assert "Names not shown" not in text.stderr
    # Only the partner shown, this tenant's group and app: not Fabrikam, not the partner's group
    # nor Teams (first party, from the table).
    looked_up = _lookups(emulator)
    assert any(CONTOSO in path for path in looked_up) and not any(FABRIKAM in path for path in looked_up)
    assert not any(TEAMS in path for path in looked_up) and any(PAYROLL_APP in path for path in looked_up)
    [getbyids] = [r for r in emulator.requests if r.path.endswith("/getByIds")]
    assert getbyids.body["ids"] == [LIAISONS]
    [partner] = json.loads(run_xtap("show", CONTOSO, "--format", "json", emulator=emulator, roles=NAMES_ROLES).stdout)
    assert partner["name"] == "Contoso Ltd (contoso.com)"
    assert partner["names"][LIAISONS] == "Liaisons (group)" and partner["names"][THEIR_GROUP] == "the partner's group"


def test_show_without_the_lookup_permissions_shows_guids_and_says_so_once(emulator: Emulator) -> None:
    _named_tenant(emulator)
    shown = run_xtap("show", emulator=emulator, roles=READ_ONLY)
    assert shown.code == 0, shown.stderr
    assert f"partner {CONTOSO}\n" in shown.stdout and "Contoso Ltd" not in shown.stdout
    assert f"{LIAISONS} = " not in shown.stdout
    # What needs no lookup is still named: the partner's objects by whose, first party by the table.
    assert f"  {THEIR_GROUP} = the partner's group" in shown.stdout and f"  {TEAMS} = Microsoft Teams" in shown.stdout
    assert shown.stderr.count("Names not shown") == 1
    assert _lookups(emulator) == []


def test_show_escapes_a_hostile_partner_name(emulator: Emulator) -> None:
    _named_tenant(emulator)
    emulator.put_known_tenant(
        {"tenantId": CONTOSO, "displayName": "Evil\x1b[2J\n::error::x", "defaultDomainName": None}
    )
    shown = run_xtap("show", CONTOSO, emulator=emulator, roles=NAMES_ROLES)
    assert "\x1b" not in shown.stdout and "\n::error::" not in shown.stdout
    assert shown.stdout.splitlines()[0] == f"partner {CONTOSO}  Evil\\u001b[2J\\u000a::error::x"
