"""Hostile and mistaken policy files through the real CLI: each is one exact `file:line:col: message`,
exit 1, no traceback, and `xtap plan` sends not one request to Graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.bad_files import APP, CASES, FILE_CASES, HEAD, RESERVED, RESOURCE_CASES, TENANT
from support.policy_files import write_policies
from support.seeds import SEED_001_TENANT
from support.xtap import run_xtap, writes_served

from reconciler.emulator import Emulator
from reconciler.policies.layout import LINK_OUTSIDE
from reconciler.policies.load import PolicyError, load_policies
from reconciler.policies.workers import PARALLEL_FILES


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


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_a_file_wrong_as_a_whole_or_in_its_bytes_says_what_to_write_instead(tmp_path: Path, case: str) -> None:
    """A tab, a byte that is not UTF-8, an empty file, a list: each said in the author's words at
    its own line and column, never in the YAML parser's or the codec's."""
    data, problem, parser_words = FILE_CASES[case]
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "p.yaml").write_bytes(data)
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"))
    assert result.code == 1
    assert result.stderr.splitlines()[0] == f"{tmp_path}/policies/partners/p.yaml:{problem}", result.stderr
    assert parser_words not in result.stderr and "YAML syntax error" not in result.stderr


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
    # End to end, a bad file as a user validates it: in a process of its own, which its timeout
    # would stop were the link ever read.
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"), subprocess=True)
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
    # Subprocesses: the workers are forked, which only xtap's own process may do (`support.in_process`).
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"), subprocess=True)
    assert result.code == 1
    assert result.stderr.splitlines()[:-1] == expected
    for name in ("p00007.yaml", "p01500.yaml", "p01999.yaml", "p02010.yaml"):
        (partners / name).unlink()
    valid = run_xtap("validate", "--policies", str(tmp_path / "policies"), subprocess=True)
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
    # A subprocess: the workers are forked only from a process with no other thread, which the test
    # process, running the emulator's, is not (`load.workers`).
    policies = str(tmp_path / "policies")
    result = run_xtap("plan", "--format", "json", "--policies", policies, emulator=emulator, subprocess=True)
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


def test_partner_files_in_subfolders_are_an_error_not_silently_skipped(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [])
    (policies / "partners" / "eu").mkdir()
    (policies / "partners" / "eu" / "x.yaml").write_text(f"tenantId: {SEED_001_TENANT}\n")
    result = run_xtap("validate", "--policies", str(policies))
    assert result.code == 1 and "partners/eu:1:1:" in result.stderr and "not read" in result.stderr
