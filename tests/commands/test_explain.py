"""`xtap explain` (reconciler/commands/explain.py) as a user runs it: the verdict and its chain from
policies/ (what the files will make true) and from the tenant (--live), partners by id or name,
inheritance from the default half by half, many questions from a file, and what it refuses."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO
from support.xtap import READ_ONLY, run_xtap

from reconciler.commands import explain as explain_module
from reconciler.emulator import Emulator

PARTNER = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
G1, A1 = "6f546279-4da5-4b53-a095-09ea0cef9971", "18fbca16-2224-45f6-85b0-f7bf2b39b3f3"


def half(access: str, target: str, kind: str) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": target, "targetType": kind}]}


def folder(tmp_path: Path, partner: dict[str, Any], default: dict[str, Any] | None = None) -> Path:
    root = tmp_path / "policies"
    (root / "partners").mkdir(parents=True)
    body = {"tenantId": PARTNER, "xtap": {"name": "Fabrikam"}, **partner}
    (root / "partners" / "fabrikam.yaml").write_text(json.dumps(body, indent=2))
    if default is not None:
        (root / "default.yaml").write_text(json.dumps(default, indent=2) if default else "# the system default\n")
    return root


def explained(root: Path, *args: str) -> dict[str, Any]:
    run = run_xtap("explain", *args, "--policies", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def test_the_partner_decides_one_half_and_the_default_the_other(tmp_path: Path) -> None:
    """The partner's setting allows only group g1; it leaves the applications half null, so the
    default's (here: block a1) applies to that half: g1 may reach anything but a1."""
    setting = {"usersAndGroups": half("allowed", G1, "group")}
    default = {
        "b2bCollaborationInbound": {
            "usersAndGroups": half("allowed", "AllUsers", "user"),
            "applications": half("blocked", A1, "application"),
        }
    }
    root = folder(tmp_path, {"b2bCollaborationInbound": setting}, default)
    reached = explained(root, "fabrikam", "--group", G1, "--app", "other-app")
    assert reached["verdict"] == "allowed"
    assert [(step["setting"], step["from"]) for step in reached["chain"][:2]] == [
        ("b2bCollaborationInbound.usersAndGroups", "partner"),
        ("b2bCollaborationInbound.applications", "default"),
    ]
    assert reached["chain"][0]["where"].endswith("fabrikam.yaml:2")  # where its tenantId stands
    assert any("null in the partner's setting" in note for note in reached["assumptions"])
    assert explained(root, "Fabrikam", "--group", G1, "--app", A1)["verdict"] == "blocked"
    assert explained(root, PARTNER.upper(), "--app", "other-app")["verdict"] == "blocked"  # not in g1


def test_a_null_setting_inherits_the_default_whole_and_unset_default_properties_are_system_values(
    tmp_path: Path,
) -> None:
    root = folder(tmp_path, {}, default={})
    inbound = explained(root, "fabrikam", "--via", "b2bDirectConnect")
    assert inbound["verdict"] == "blocked"  # the system default blocks direct connect
    assert {step["from"] for step in inbound["chain"][:2]} == {"default"}
    assert "system value" in inbound["chain"][0]["where"]
    collaboration = explained(root, "fabrikam")
    assert collaboration["verdict"] == "allowed"  # and allows B2B collaboration


def test_without_a_default_file_the_system_default_is_assumed_and_said(tmp_path: Path) -> None:
    root = folder(tmp_path, {})
    answer = explained(root, "fabrikam")
    assert answer["verdict"] == "allowed"
    assert answer["chain"][0]["where"] == "Graph's system default"
    assert any("--live" in note for note in answer["assumptions"])


def test_a_partner_policies_does_not_declare_gets_the_default(tmp_path: Path) -> None:
    root = folder(tmp_path, {}, default={})
    other = "0a0a0a0a-0000-4000-8000-000000000001"
    answer = explained(root, other, "--via", "b2bDirectConnect", "--direction", "outbound")
    assert (answer["partner"], answer["name"], answer["verdict"]) == (other, None, "blocked")
    assert "declares no partner" in answer["assumptions"][0]


def test_both_halves_blocking_block_the_pair_only(tmp_path: Path) -> None:
    """Graph's "Block users in group 'g1' from accessing application 'a1'", end to end."""
    setting = {"usersAndGroups": half("blocked", G1, "group"), "applications": half("blocked", A1, "application")}
    root = folder(tmp_path, {"b2bCollaborationOutbound": setting})
    assert explained(root, "fabrikam", "--direction", "outbound", "--group", G1, "--app", A1)["verdict"] == "blocked"
    answer = explained(root, "fabrikam", "--direction", "outbound", "--group", G1, "--app", "other-app")
    assert answer["verdict"] == "allowed"
    assert "both halves block" in answer["chain"][-1]["says"]


def test_the_text_names_the_verdict_the_chain_and_what_else_applies(tmp_path: Path) -> None:
    trust = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
    root = folder(tmp_path, {"inboundTrust": trust, "xtap": {"name": "Fabrikam", "trusted": True}})
    run = run_xtap("explain", "fabrikam", "--app", "Office365", "--policies", str(root))
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ALLOWED: a user of the partner whom no target names -> application Office365")
    assert "with Fabrikam (90e29127-71ad-49c7-9ce8-db3f41ea06f1), through b2bCollaboration inbound" in lines[0]
    assert any(line.strip().startswith("inboundTrust [partner:") and "MFA" in line for line in lines)
    assert any("no identity sync policy" in line for line in lines)


def test_live_reads_the_tenant_and_nothing_but_xtap_yaml(emulator: Emulator, tmp_path: Path) -> None:
    emulator.put_partner(
        {
            "tenantId": PARTNER,
            "b2bDirectConnectInbound": {
                "usersAndGroups": half("allowed", G1, "group"),
                "applications": half("allowed", "Office365", "application"),
            },
        }
    )
    root = tmp_path / "policies"
    (root / "partners").mkdir(parents=True)
    (root / "partners" / "broken.yaml").write_text("tenantId: [not, valid\n")  # never read with --live and an id
    run = run_xtap(
        "explain", PARTNER, "--via", "b2bDirectConnect", "--group", G1, "--app", "Office365", "--live",
        "--policies", str(root), "--format", "json", emulator=emulator, roles=READ_ONLY,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["verdict"] == "allowed"
    assert {step["where"] for step in answer["chain"][:2]} == {"the tenant"}
    assert [request.method for request in emulator.requests] == ["GET", "GET"]  # partners and the default


def test_many_questions_from_a_file_one_answer_a_line(tmp_path: Path) -> None:
    root = folder(tmp_path, {"b2bCollaborationInbound": {"usersAndGroups": half("allowed", G1, "group")}}, default={})
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"partner": "fabrikam", "groups": [G1]})
        + "\n\n"
        + json.dumps({"partner": PARTNER, "via": "b2bDirectConnect", "direction": "outbound"})
        + "\n"
    )
    run = run_xtap("explain", "--questions", str(questions), "--policies", str(root), "--format", "json")
    assert run.code == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(a["via"], a["direction"], a["verdict"]) for a in answers] == [
        ("b2bCollaboration", "inbound", "allowed"),
        ("b2bDirectConnect", "outbound", "blocked"),
    ]


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ('{"partner": "fabrikam"', "questions.jsonl:1:23: not JSON"),
        ('["fabrikam"]', "questions.jsonl:1:1: a question is a JSON object"),
        ('{"partner": "fabrikam", "grups": []}', "questions.jsonl:1: unknown key 'grups'"),
        ('{"partner": "fabrikam", "groups": "g1"}', "questions.jsonl:1: groups must be a list of group ids"),
        ('{"via": "b2bCollaboration"}', "questions.jsonl:1: every question names its partner"),
        ('{"partner": "fabrikam", "via": "b2bDirect"}', "no setting 'b2bDirect'; --via takes one of b2bCollaboration"),
        ("", "holds no question"),
    ],
)
def test_a_bad_questions_file_is_refused_at_its_line(tmp_path: Path, lines: str, error: str) -> None:
    root = folder(tmp_path, {})
    questions = tmp_path / "questions.jsonl"
    questions.write_text(lines + "\n")
    run = run_xtap("explain", "--questions", str(questions), "--policies", str(root))
    assert run.code != 0 and run.stdout == ""
    assert error in run.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["nobody"], "no partner named 'nobody' in policies/"),
        (
            ["fabrikam", "--via", "tenantRestrictions", "--direction", "inbound"],
            "tenantRestrictions has no inbound setting; give --direction outbound",
        ),
        (
            ["fabrikam", "--via", "appServiceConnect", "--direction", "outbound"],
            "appServiceConnect has no outbound setting",
        ),
        ([], "give a PARTNER, or --questions FILE"),
    ],
)
def test_a_question_that_cannot_be_asked_says_what_to_write(tmp_path: Path, args: list[str], error: str) -> None:
    run = run_xtap("explain", *args, "--policies", str(folder(tmp_path, {})))
    assert run.code != 0 and run.stdout == ""
    assert error in run.stderr


def test_a_bad_policy_file_is_reported_as_validate_reports_it(tmp_path: Path) -> None:
    root = folder(tmp_path, {})
    (root / "partners" / "bad.yaml").write_text(
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nb2bCollaborationInbound: 3\n"
    )
    run = run_xtap("explain", "fabrikam", "--policies", str(root))
    assert run.code == 1 and run.stdout == ""
    assert "bad.yaml:2:" in run.stderr


def test_outside_text_is_escaped_in_the_text_report(tmp_path: Path) -> None:
    root = folder(tmp_path, {})
    run = run_xtap("explain", "fabrikam", "--user", "u\x1b[2J1", "--policies", str(root))
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stdout and "u\\u001b[2J1" in run.stdout


def test_the_docs_example_is_what_xtap_prints() -> None:
    """docs/explain.md's first example, typed in the repository as it says, prints what the page shows."""
    doc = (REPO / "docs" / "explain.md").read_text()
    block = re.search(r"^```\n\$ (xtap explain .*?)\n(.*?)^```$", doc, re.MULTILINE | re.DOTALL)
    assert block is not None
    command, shown = block.group(1), block.group(2)
    run = run_xtap(*shlex.split(command)[1:], cwd=REPO)
    assert run.code == 0, run.stderr
    assert run.stdout == shown


@pytest.mark.parametrize(
    ("content", "bounds", "error"),
    [
        (
            b'{"partner": "fabrikam"}\n' * 2,
            {"MAX_QUESTIONS_BYTES": 30},
            "questions.jsonl: over 0 MiB; split the questions",
        ),
        (b'{"partner": "fabrikam"}\n' * 2, {"MAX_QUESTIONS": 1}, "questions.jsonl:2: more than 1 questions"),
        (b'{"partner": "fabrik\xe9m"}\n', {}, "questions.jsonl: not UTF-8 text (byte 20)"),
    ],
)
def test_a_questions_file_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, bounds: dict[str, int], error: str
) -> None:
    for name, value in bounds.items():
        monkeypatch.setattr(explain_module, name, value)
    questions = tmp_path / "questions.jsonl"
    questions.write_bytes(content)
    run = run_xtap("explain", "--questions", str(questions), "--policies", str(folder(tmp_path, {})))
    assert run.code != 0 and run.stdout == ""
    assert error in run.stderr


def test_live_takes_a_domain_name_graph_knows(emulator: Emulator, tmp_path: Path) -> None:
    emulator.put_known_tenant(
        {"tenantId": PARTNER, "displayName": "Fabrikam, Inc.", "defaultDomainName": "fabrikam.com"}
    )
    emulator.put_partner(
        {
            "tenantId": PARTNER,
            "b2bCollaborationInbound": {
                "usersAndGroups": half("blocked", "AllUsers", "user"),
                "applications": half("blocked", "AllApplications", "application"),
            },
        }
    )
    missing = tmp_path / "nowhere"  # not given: nothing binds, no file is read
    roles = (*READ_ONLY, "CrossTenantInformation.ReadBasic.All")
    run = run_xtap(
        "explain", "Fabrikam.com", "--live", "--format", "json", emulator=emulator, roles=roles, cwd=tmp_path
    )
    assert run.code == 0, run.stderr
    answer = json.loads(run.stdout)
    assert (answer["partner"], answer["name"], answer["verdict"]) == (PARTNER, "Fabrikam, Inc.", "blocked")
    assert not missing.exists()
    unknown = run_xtap("explain", "nobody.example", "--live", emulator=emulator, roles=roles, cwd=tmp_path)
    assert unknown.code == 1 and "Graph knows no tenant with the domain name nobody.example" in unknown.stderr
    denied = run_xtap("explain", "fabrikam.com", "--live", emulator=emulator, roles=READ_ONLY, cwd=tmp_path)
    assert denied.code == 1 and "needs CrossTenantInformation.ReadBasic.All" in denied.stderr
