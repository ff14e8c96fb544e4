"""Hostile and mistaken policy files through the real CLI: each is one exact `file:line:col: message`,
exit 1, no traceback, and `xtap plan` sends not one request to Graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_xtap, writes_served

from reconciler.emulator import Emulator
from reconciler.policies.layout import LINK_OUTSIDE
from reconciler.policies.load import PolicyError, load_policies
from reconciler.policies.workers import PARALLEL_FILES

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
HEAD = f"tenantId: {TENANT}\n"
APP = "0be493dc-cb56-4a53-936f-9cf64410b8b0"
DEEP = "[" * 1000 + "]" * 1000  # 2 KB: the composer gave RecursionError
DEEPER = "[" * 50_000 + "]" * 50_000  # 100 KB: the composer segfaulted
TAGGED = "explicit YAML tags are not allowed: write the plain value"
RESERVED = "'unknownFutureValue' is reserved by Graph for values it adds later; it cannot be written"
USERS_ONLY = "usersAndGroups and users take only AllUsers or a user or group id"
APPS_ONLY = "applications takes only AllApplications, AllMicrosoftApps, Office365 or an application id"


def setting(name: str, slot: str, target: str, target_type: str, access: str = "allowed") -> str:
    target_line = f"      - {{target: {target}, targetType: {target_type}}}\n"
    return f"{name}:\n  {slot}:\n    accessType: {access}\n    targets:\n{target_line}"


# name: (partners/p.yaml's text, the one problem expected after "partners/p.yaml:")
CASES: dict[str, tuple[str, str]] = {
    "!!bool yes": (HEAD + "inboundTrust:\n  isMfaAccepted: !!bool yes\n", f"3:18: {TAGGED}"),
    "!!null nope": (HEAD + "inboundTrust:\n  isMfaAccepted: !!null nope\n", f"3:18: {TAGGED}"),
    "!!str": (f"tenantId: !!str {TENANT}\n", f"1:11: {TAGGED}"),
    "!!int": (HEAD + "xtap:\n  notes: !!int 7\n", f"3:10: {TAGGED}"),
    "!custom": (HEAD + "xtap:\n  notes: !custom x\n", f"3:10: {TAGGED}"),
    "verbatim": (HEAD + "xtap:\n  notes: !<tag:yaml.org,2002:str> x\n", f"3:10: {TAGGED}"),
    "non-specific": (HEAD + "xtap:\n  notes: ! x\n", f"3:10: {TAGGED}"),
    "tagged mapping": (HEAD + "inboundTrust: !!map {}\n", f"2:15: {TAGGED}"),
    "python object": ("tenantId: !!python/object/apply:os.system [echo pwned]\n", f"1:11: {TAGGED}"),
    "deep brackets": (
        HEAD + f"xtap:\n  notes: {DEEP}\n",
        "3:28: nested deeper than 20 levels, the limit for a policy file",
    ),
    "deeper brackets": (f"{DEEPER}\n", "1:21: nested deeper than 20 levels, the limit for a policy file"),
    "over 1 MiB": (
        HEAD + "xtap:\n  notes: " + "x" * (1 << 20) + "\n",
        "1:1: larger than 1 MiB, the limit for a policy file",
    ),
    "date": (
        HEAD + "xtap:\n  notes: 2026-11-24\n",
        "3:10: unsupported YAML value '2026-11-24': quote it to make it a string",
    ),
    "accessType unknownFutureValue": (
        HEAD + setting("b2bCollaborationInbound", "usersAndGroups", "AllUsers", "user", "unknownFutureValue"),
        f"4:17: {RESERVED}",
    ),
    "targetType unknownFutureValue": (
        HEAD + setting("b2bDirectConnectOutbound", "usersAndGroups", APP, "unknownFutureValue"),
        f"6:68: {RESERVED}",
    ),
    "tenantId with a newline": (
        f"tenantId: |\n  {TENANT}\n",
        f"1:11: tenantId '{TENANT}\\n' is not a GUID (like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)",
    ),
    "target GUID with a newline": (
        HEAD + setting("b2bCollaborationOutbound", "applications", f'"{APP}\\n"', "application"),
        f"6:9: target '{APP}\\n' is neither an object id (GUID) nor one of AllUsers, AllApplications, "
        "AllMicrosoftApps, Office365",
    ),
    "devices": (
        HEAD + "tenantRestrictions:\n  devices:\n    mode: allowed\n    rule: device.deviceAttribute2 -eq 'PAW'\n",
        "3:3: 'devices' isn't supported on the server side yet (Graph's documentation); remove it from the file",
    ),
    "another @odata.type": (
        HEAD + '"@odata.type": "#microsoft.graph.crossTenantAccessPolicyTarget"\n',
        "2:16: '@odata.type' '#microsoft.graph.crossTenantAccessPolicyTarget' is not this object's type, "
        "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
    ),
    "a nested @odata.type": (
        HEAD + 'inboundTrust:\n  "@odata.type": microsoft.graph.inboundOutboundPolicyConfiguration\n',
        "3:18: '@odata.type' 'microsoft.graph.inboundOutboundPolicyConfiguration' is not this object's type, "
        "#microsoft.graph.crossTenantAccessPolicyInboundTrust",
    ),
}


# A target in the wrong slot: (setting, slot, target, targetType, what the slot takes)
WRONG_SLOTS = [
    ("b2bCollaborationInbound", "applications", "AllUsers", "user", APPS_ONLY),
    ("b2bDirectConnectInbound", "applications", APP, "group", APPS_ONLY),
    ("tenantRestrictions", "usersAndGroups", "Office365", "application", USERS_ONLY),
    ("m365CollaborationInbound", "users", APP, "application", USERS_ONLY),
    ("appServiceConnectInbound", "applications", APP, "user", APPS_ONLY),
]
CASES.update(
    {
        f"{target_type} target in {name}.{slot}": (
            HEAD + setting(name, slot, target, target_type),
            f"6:9: target {target!r} has targetType {target_type!r}; {takes}",
        )
        for name, slot, target, target_type, takes in WRONG_SLOTS
    }
)


def policies_with(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    (tmp_path / "policies" / "partners").mkdir(parents=True, exist_ok=True)
    (tmp_path / "policies" / "partners" / name).write_text(text)
    return tmp_path / "policies"


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_file_is_one_exact_problem(tmp_path: Path, case: str) -> None:
    text, problem = CASES[case]
    policies = policies_with(tmp_path, text)
    result = run_xtap("validate", "--policies", str(policies))
    assert result.code == 1, result.stderr
    assert result.stderr.splitlines()[0] == f"{policies}/partners/p.yaml:{problem}", result.stderr
    assert "1 problem(s)" in result.stderr and "Traceback" not in result.stderr


def test_plan_writes_nothing_for_any_of_them(tmp_path: Path, emulator: Emulator) -> None:
    for n, case in enumerate(sorted(CASES)):
        policies = policies_with(tmp_path, CASES[case][0], f"p{n}.yaml")
    result = run_xtap("plan", "--policies", str(policies), emulator=emulator)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert f"{len(CASES)} problem(s)" in result.stderr, result.stderr
    assert all(r.method == "GET" for r in emulator.requests)  # reads may start while files load; no write


def test_a_partner_file_for_the_folder_s_own_tenant_is_refused_by_every_command(
    tmp_path: Path, emulator: Emulator
) -> None:
    """A file copied from the wrong folder: the bound tenant as its own partner. validate finds
    it offline, and plan and apply stop with it before any write."""
    own = emulator.tenant_id
    policies = policies_with(tmp_path, f"tenantId: {own.upper()}\ninboundTrust: {{isMfaAccepted: true}}\n")
    (policies / "xtap.yaml").write_text(f"tenant: {own}\n")
    problem = (
        f"{policies}/partners/p.yaml:1:11: tenantId {own} is this folder's own tenant (tenant: in xtap.yaml); "
        "a tenant is never its own partner: remove this file, or correct the tenant id here or in xtap.yaml"
    )
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = run_xtap(*command, "--policies", str(policies), emulator=emulator)

        assert result.code == 1, (command, result.stderr)
        assert result.stderr.splitlines()[0] == problem, result.stderr
    assert writes_served(emulator) == [] and emulator.partners() == {}


IDP = "invitationRedemptionIdentityProviderConfiguration"
SYNC_HEAD = HEAD + "identitySynchronization:\n"


def redemption(order: str, fallback: str = "defaultConfiguredIdp") -> str:
    return f"{IDP}:\n  primaryIdentityProviderPrecedenceOrder: [{order}]\n  fallbackIdentityProvider: {fallback}\n"


# The new resource types' rules, each in its own file: (file, text, the one problem expected after "file:")
RESOURCE_CASES: dict[str, tuple[str, str, str]] = {
    "default isServiceDefault": (
        "default.yaml",
        "# the tenant default\nisServiceDefault: false\n",
        "2:1: 'isServiceDefault' is read-only: Graph sets it, true after resetToSystemDefault and false after "
        "any change; remove it from the file",
    ),
    "default automaticUserConsentSettings": (
        "default.yaml",
        "automaticUserConsentSettings:\n  inboundAllowed: false\n",
        "1:1: 'automaticUserConsentSettings' is read-only: its inboundAllowed and outboundAllowed are always "
        "false and can't be updated in the default configuration; remove it from the file",
    ),
    "default id": (
        "default.yaml",
        "id: 75b1889b-6f42-4cc5-8e62-e774b8db243c\n",
        "1:1: 'id' is read-only: Graph assigns the default configuration's id; remove it from the file",
    ),
    "default tenantRestrictions for a group": (
        "default.yaml",
        setting("tenantRestrictions", "usersAndGroups", APP, "group", "blocked"),
        "3:5: the default's tenantRestrictions.usersAndGroups can only target AllUsers",
    ),
    "default repeated identity provider": (
        "default.yaml",
        redemption("azureActiveDirectory, externalFederation, azureActiveDirectory"),
        "2:43: primaryIdentityProviderPrecedenceOrder repeats 'azureActiveDirectory'",
    ),
    "default identity provider unknownFutureValue": (
        "default.yaml",
        redemption("azureActiveDirectory, unknownFutureValue"),
        f"2:66: {RESERVED}",
    ),
    "default fallback unknownFutureValue": (
        "default.yaml",
        redemption("azureActiveDirectory", "unknownFutureValue"),
        f"3:29: {RESERVED}",
    ),
    "default misspelled key": (
        "default.yaml",
        "# the tenant default\ninboundTrusts: {}\n",
        "2:1: unknown property 'inboundTrusts'; did you mean 'inboundTrust'? (names are Graph's, case-sensitive)",
    ),
    "default partner-only key": (
        "default.yaml",
        "isServiceProvider: true\n",
        "1:1: 'isServiceProvider' is not a property (it belongs to another object)",
    ),
    "sync tenantId": (
        "partners/p.yaml",
        SYNC_HEAD + f"  tenantId: {TENANT}\n  displayName: Fabrikam\n",
        "3:13: 'tenantId' is read-only: it is the partner's tenantId, which the file declares at its top; "
        "remove it from the file",
    ),
    "sync misspelled key": (
        "partners/p.yaml",
        SYNC_HEAD + "  displayname: Fabrikam\n",
        "3:3: unknown property 'displayname' of 'identitySynchronization'; did you mean 'displayName'? "
        "(names are Graph's, case-sensitive)",
    ),
    "sync misspelled member": (
        "partners/p.yaml",
        SYNC_HEAD + "  userSyncInbound:\n    isSyncAllow: true\n",
        "4:5: unknown property 'isSyncAllow' of 'userSyncInbound'; did you mean 'isSyncAllowed'? "
        "(names are Graph's, case-sensitive)",
    ),
    "sync not a boolean": (
        "partners/p.yaml",
        SYNC_HEAD + "  userSyncInbound:\n    isSyncAllowed: yes\n",
        "4:20: identitySynchronization.userSyncInbound.isSyncAllowed: Input should be a valid boolean, got 'yes'",
    ),
    "sync template id": (
        "mto-identity-sync-template.yaml",
        "id: 0e7aad84-cb46-4b8e-a881-522ef25939f1\n",
        "1:1: 'id' is read-only: Graph assigns the template's id; remove it from the file",
    ),
    "sync template misspelled key": (
        "mto-identity-sync-template.yaml",
        "userSyncInbnd:\n  isSyncAllowed: true\n",
        "1:1: unknown property 'userSyncInbnd'; did you mean 'userSyncInbound'? (names are Graph's, case-sensitive)",
    ),
    "sync template null level": (
        "mto-identity-sync-template.yaml",
        "templateApplicationLevel: null\n",
        "1:27: templateApplicationLevel cannot be null; leave it out for the default",
    ),
}


@pytest.mark.parametrize("case", sorted(RESOURCE_CASES))
def test_each_new_resource_rule_is_one_exact_problem_and_nothing_is_written(
    tmp_path: Path, emulator: Emulator, case: str
) -> None:
    file, text, problem = RESOURCE_CASES[case]
    policies = tmp_path / "policies"
    (policies / file).parent.mkdir(parents=True)
    (policies / file).write_text(text)
    result = run_xtap("plan", "--policies", str(policies), emulator=emulator)
    assert result.code == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[0] == f"{policies}/{file}:{problem}", result.stderr
    assert "1 problem(s)" in result.stderr and "Traceback" not in result.stderr
    assert all(r.method == "GET" for r in emulator.requests)  # reads may start while files load; no write


TEMPLATE_FILES = ("mto-partner-template.yaml", "mto-identity-sync-template.yaml")


@pytest.mark.parametrize("file", TEMPLATE_FILES)
@pytest.mark.parametrize(
    ("level", "problem"),
    [
        (
            "none,newPartners",
            "2:27: templateApplicationLevel 'none,newPartners': 'none' cannot be combined with other flags",
        ),
        ("newPartners, unknownFutureValue", f"2:27: {RESERVED}"),
        (
            "newPartners,everyone",
            "2:27: templateApplicationLevel 'newPartners,everyone': unknown flag(s) 'everyone'; "
            "use a comma-separated subset of none, newPartners, existingPartners",
        ),
    ],
)
def test_template_flags_that_contradict_or_are_reserved(tmp_path: Path, file: str, level: str, problem: str) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / file).write_text(f"# the template\ntemplateApplicationLevel: {level}\n")
    result = run_xtap("validate", "--policies", str(policies))
    assert result.code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == f"{policies}/{file}:{problem}"


def test_a_link_to_a_file_that_never_ends_is_not_read(tmp_path: Path) -> None:
    """A link to /dev/zero, which a hostile pull request can add, leads outside the folder: it is
    refused from the listing, without a byte read (`reader.bounded_read` would stop at 1 MiB)."""
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "p.yaml").symlink_to("/dev/zero")
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"))
    assert result.code == 1
    assert result.stderr.splitlines()[0] == f"{partners / 'p.yaml'}:1:1: {LINK_OUTSIDE}"


def test_json_files_get_a_hint_and_hidden_and_backup_files_are_skipped(tmp_path: Path) -> None:
    policies = policies_with(tmp_path, HEAD)
    for junk in (".#p.yaml", ".p.yaml.swp", ".DS_Store", "p.yaml~"):
        (policies / "partners" / junk).write_text("{{{ not yaml")
        (policies / junk).write_text("{{{ not yaml")
    (policies / ".git").mkdir()
    (policies / "partners" / ".hidden").mkdir()
    assert run_xtap("validate", "--policies", str(policies)).code == 0
    (policies / "partners" / "q.json").write_text(json.dumps({"tenantId": APP}))
    (policies / "extra.JSON").write_text("{}")
    result = run_xtap("validate", "--policies", str(policies))
    assert result.code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[:2] == [
        f"{policies}/extra.JSON:1:1: xtap reads YAML files only; JSON is YAML, so rename it to extra.yaml",
        f"{policies}/partners/q.json:1:1: xtap reads YAML files only; JSON is YAML, so rename it to q.yaml",
    ]


def test_docs_annotations_are_accepted_and_never_sent(tmp_path: Path, emulator: Emulator) -> None:
    """A block copied from the docs' JSON representation carries @odata.type, with or without '#'."""
    partner = {
        "@odata.type": "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
        "tenantId": TENANT,
        "inboundTrust": {"@odata.type": "microsoft.graph.crossTenantAccessPolicyInboundTrust", "isMfaAccepted": True},
        "b2bCollaborationInbound": {
            "@odata.type": "microsoft.graph.crossTenantAccessPolicyB2BSetting",
            "applications": {
                "@odata.type": "microsoft.graph.crossTenantAccessPolicyTargetConfiguration",
                "accessType": "allowed",
                "targets": [
                    {
                        "@odata.type": "#microsoft.graph.crossTenantAccessPolicyTarget",
                        "target": "Office365",
                        "targetType": "application",
                    }
                ],
            },
        },
    }
    policies = policies_with(tmp_path, json.dumps(partner, indent=2))
    result = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
    assert result.code == 0, result.stderr
    [change] = json.loads(result.stdout)["changes"]
    [request] = change["requests"]
    assert "@odata" not in json.dumps(request["body"])
    assert request["body"]["b2bCollaborationInbound"]["applications"]["targets"] == [
        {"target": "Office365", "targetType": "application"}
    ]


def test_template_flags_are_sent_in_one_normal_form(tmp_path: Path, emulator: Emulator) -> None:
    emulator.set_template({**emulator.template(), "templateApplicationLevel": "none"})
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "mto-partner-template.yaml").write_text(
        "templateApplicationLevel: ' existingPartners,newPartners, newPartners'\n"
    )
    result = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
    assert result.code == 0, result.stderr
    [change] = json.loads(result.stdout)["changes"]
    assert [r["body"] for r in change["requests"]] == [{"templateApplicationLevel": "newPartners,existingPartners"}]


def test_a_large_folder_is_validated_in_workers_with_the_same_problems_in_the_same_order(tmp_path: Path) -> None:
    """Past PARALLEL_FILES, validate reads files in worker processes; what it reports must be
    exactly what the one-process reading (the plan's) finds, file order included."""
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    for n in range(PARALLEL_FILES + 50):
        (partners / f"p{n:05d}.yaml").write_text(f"tenantId: {n:08x}-0000-4000-8000-000000000001\n")
    (partners / "p00007.yaml").write_text("tenantId: 00000007-0000-4000-8000-000000000001\ninboundTrust: yes\n")
    (partners / "p01500.yaml").write_text("tenantId: 00000003-0000-4000-8000-000000000001\n")  # a duplicate
    (partners / "p01999.yaml").write_text("tenantId: [unclosed\n")
    waived = "xtap:\n  waivers:\n  - {rule: no-such-rule, reason: r, owner: o, expires: '2020-01-01'}\n"
    (partners / "p02010.yaml").write_text(f"tenantId: 00002010-0000-4000-8000-000000000001\n{waived}")
    with pytest.raises(PolicyError) as one_process:
        load_policies(tmp_path / "policies")  # with the properties, as plan reads: never in workers
    expected = [str(problem) for problem in one_process.value.problems]
    assert len(expected) == 4 and "waiver of unknown rule 'no-such-rule'" in expected[-1]
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"))
    assert result.code == 1
    assert result.stderr.splitlines()[:-1] == expected
    for name in ("p00007.yaml", "p01500.yaml", "p01999.yaml", "p02010.yaml"):
        (partners / name).unlink()
    valid = run_xtap("validate", "--policies", str(tmp_path / "policies"))
    assert valid.code == 0 and f"partner: {PARALLEL_FILES + 46}" in valid.stderr, valid.stderr


def test_a_large_folder_is_planned_from_workers_exactly_as_its_files_say(tmp_path: Path, emulator: Emulator) -> None:
    """Past PARALLEL_FILES, plan reads the files in worker processes too, properties and all,
    while it reads the tenant: each partner's create carries exactly its file's properties and
    names its file and line, and its identity sync comes after it."""
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    written: dict[str, tuple[str, dict[str, object]]] = {}
    for n in range(PARALLEL_FILES + 10):
        tenant = f"{n:08x}-0000-4000-8000-00000000000{n % 3}"
        body: dict[str, object] = {"tenantId": tenant, "inboundTrust": {"isMfaAccepted": n % 2 == 0}}
        if n % 7 == 0:
            body["identitySynchronization"] = {
                "displayName": f"partner {n}",
                "userSyncInbound": {"isSyncAllowed": True},
            }
        (partners / f"p{n:05d}.yaml").write_text(f"# partner {n}\n{json.dumps(body)}\n")
        written[tenant] = (str(partners / f"p{n:05d}.yaml"), body)
    result = run_xtap("plan", "--format", "json", "--policies", str(tmp_path / "policies"), emulator=emulator)
    assert result.code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    creates = {c["id"]: c for c in changes if c["resource"] == "partner"}
    syncs = {c["id"]: c for c in changes if c["resource"] == "identitySynchronization"}
    assert creates.keys() == written.keys() and len(changes) == len(creates) + len(syncs)
    for tenant, (file, body) in written.items():
        [create] = creates[tenant]["requests"]
        assert creates[tenant]["source"] == f"{file}:2"
        assert create["body"] == {k: v for k, v in body.items() if k != "identitySynchronization"}
        if "identitySynchronization" in body:
            assert syncs[tenant]["requests"][0]["body"] == body["identitySynchronization"]
            assert syncs[tenant]["dependsOn"] == [{"resource": "partner", "id": tenant}]
    assert len(syncs) == sum(1 for _, body in written.values() if "identitySynchronization" in body)
