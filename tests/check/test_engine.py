"""`xtap check`: every built-in rule fires and stays quiet (pure, no I/O), and the command as a
user runs it: findings at the file's line, exit codes, xtap.yaml's adjustments, waivers that
expire, and `--live` against the emulator catching what changed out of band."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.paths import TESTS
from support.xtap import client_for, run_xtap

from reconciler.check.builtin import BUILTIN
from reconciler.check.engine import DESIRED, Subject, effective_rules, evaluate
from reconciler.core.address import Address
from reconciler.core.rules import RuleSetting, ToolKey, Waiver
from reconciler.emulator import Emulator

TODAY = date(2026, 11, 30)
PARTNER_ID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
PARTNERS = "/policies/crossTenantAccessPolicy/partners"


def everyone(access: str, users: str = "AllUsers", apps: str = "AllApplications") -> dict[str, Any]:
    return {
        "usersAndGroups": {"accessType": access, "targets": [{"target": users, "targetType": "user"}]},
        "applications": {"accessType": access, "targets": [{"target": apps, "targetType": "application"}]},
    }


BLOCKED = everyone("blocked")
OPEN = everyone("allowed")
CLOSED_DEFAULT = {"b2bCollaborationInbound": BLOCKED, "b2bDirectConnectInbound": BLOCKED, "tenantRestrictions": BLOCKED}
BLOCKED_GROUP = {
    "accessType": "blocked",
    "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
}
MFA = {"inboundTrust": {"isMfaAccepted": True}}

# Each built-in rule: a resource it fires on, and the same resource put right.
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], ToolKey]] = {
    "default-b2b-collaboration-inbound-blocked": (
        "default",
        {**CLOSED_DEFAULT, "b2bCollaborationInbound": OPEN},
        CLOSED_DEFAULT,
        ToolKey(),
    ),
    "default-b2b-direct-connect-inbound-blocked": (
        "default",
        # blocked for one group only: everyone else is let in, to every application
        {**CLOSED_DEFAULT, "b2bDirectConnectInbound": {**OPEN, "usersAndGroups": BLOCKED_GROUP}},
        CLOSED_DEFAULT,
        ToolKey(),
    ),
    "inbound-trust-only-trusted": ("partner", MFA, MFA, ToolKey(trusted=True)),
    "no-b2b-direct-connect-inbound-to-everyone": (
        "partner",
        {"b2bDirectConnectInbound": OPEN},
        {"b2bDirectConnectInbound": everyone("allowed", apps="Office365")},
        ToolKey(),
    ),
    "default-tenant-restrictions-declared": (
        "default",
        {**CLOSED_DEFAULT, "tenantRestrictions": {"usersAndGroups": None, "applications": None}},
        CLOSED_DEFAULT,
        ToolKey(),
    ),
}


def findings_of(resource: str, values: dict[str, Any], tool: ToolKey, settings: dict[str, RuleSetting] | None = None):
    rules, _ = effective_rules(BUILTIN, settings or {})
    address = Address(resource, "default" if resource == "default" else PARTNER_ID)
    return evaluate(rules, [Subject(address, DESIRED, values, tool, "f.yaml")], TODAY)


def test_every_built_in_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(rule.id for rule in BUILTIN)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_built_in_rule_fires(rule_id: str) -> None:
    resource, bad, _, _ = CASES[rule_id]
    assert rule_id in [finding.rule.id for finding in findings_of(resource, bad, ToolKey())]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_built_in_rule_stays_quiet(rule_id: str) -> None:
    resource, _, good, tool = CASES[rule_id]
    assert rule_id not in [finding.rule.id for finding in findings_of(resource, good, tool)]


def test_a_waiver_holds_through_its_day_and_fails_after() -> None:
    def waived(expires: date) -> Any:
        waiver = Waiver(rule="inbound-trust-only-trusted", reason="pilot", owner="sec", expires=expires)
        (finding,) = findings_of("partner", MFA, ToolKey(waivers=[waiver]))
        return finding

    assert waived(TODAY).waiver is not None and not waived(TODAY).fails
    expired = waived(date(2026, 11, 29))
    assert expired.waiver is None and expired.expired is not None and expired.fails


def test_xtap_yaml_turns_off_and_relevels() -> None:
    rule = "inbound-trust-only-trusted"
    assert findings_of("partner", MFA, ToolKey(), {rule: RuleSetting(enabled=False, reason="r")}) == []
    (finding,) = findings_of("partner", MFA, ToolKey(), {rule: RuleSetting(severity="warning", reason="r")})
    assert finding.rule.severity == "warning" and not finding.fails


# --- the command, as a user runs it ------------------------------------------------------------

UNTRUSTED = """tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1
xtap:
  name: Fabrikam{extra}
inboundTrust:
  isMfaAccepted: true
b2bCollaborationInbound:
  usersAndGroups:
    accessType: allowed
    targets:
      - target: AllUsers
        targetType: user
"""


def folder(tmp_path: Path, extra: str = "", settings: str | None = None, partner: str = UNTRUSTED) -> Path:
    policies = tmp_path / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "partners" / "fabrikam.yaml").write_text(partner.format(extra=extra))
    if settings is not None:
        (policies / "xtap.yaml").write_text(settings)
    return policies


def test_a_partner_trusting_mfa_without_the_mark_fails_at_its_line(tmp_path: Path) -> None:
    policies = folder(tmp_path)
    run = run_xtap("check", "--policies", str(policies))
    assert run.code == 1, run.stderr
    line = f"{policies}/partners/fabrikam.yaml:5:3: error [inbound-trust-only-trusted] partner {PARTNER_ID}"
    assert line in run.stdout
    assert "why: Trusting another tenant's MFA" in run.stdout and "Check failed: 1 error(s)" in run.stdout


def test_the_trusted_mark_passes(tmp_path: Path) -> None:
    run = run_xtap("check", "--policies", str(folder(tmp_path, "\n  trusted: true")))
    assert run.code == 0, run.stdout + run.stderr
    assert "Check passed: 0 error(s)" in run.stdout


def test_json_names_rule_reason_and_position(tmp_path: Path) -> None:
    run = run_xtap("check", "--policies", str(folder(tmp_path)), "--format", "json")
    report = json.loads(run.stdout)
    (finding,) = report["findings"]
    assert report["passed"] is False and run.code == 1
    assert (finding["rule"], finding["line"], finding["col"], finding["property"]) == (
        "inbound-trust-only-trusted",
        5,
        3,
        "inboundTrust.isMfaAccepted",
    )
    assert finding["source"].startswith("https://learn.microsoft.com/") and finding["waiver"] is None


# A waiver may expire at most 90 days ahead (waiverMaxDays' default).
SOON = (date.today() + timedelta(days=30)).isoformat()
WAIVER = """
  waivers:
    - rule: inbound-trust-only-trusted
      reason: pilot until the partner review
      owner: alice@contoso.com
      expires: "{expires}\""""


def test_a_waiver_passes_until_it_expires(tmp_path: Path) -> None:
    live = run_xtap("check", "--policies", str(folder(tmp_path / "a", WAIVER.format(expires=SOON))))
    assert live.code == 0, live.stdout + live.stderr
    assert f"waived until {SOON} by alice@contoso.com: pilot until the partner review" in live.stdout
    gone = run_xtap("check", "--policies", str(folder(tmp_path / "b", WAIVER.format(expires="2020-01-31"))))
    assert gone.code == 1
    assert "waiver by alice@contoso.com expired on 2020-01-31" in gone.stdout


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (WAIVER.format(expires="2020-02-30"), "fabrikam.yaml:8:16: expires '2020-02-30'"),
        (
            WAIVER.replace("inbound-trust-only-trusted", "no-such-rule").format(expires=SOON),
            "fabrikam.yaml:5:7: waiver of unknown rule 'no-such-rule'",
        ),
        ("\n  trusted: yes", "fabrikam.yaml:4:12: xtap.trusted: Input should be a valid boolean"),
    ],
)
def test_bad_xtap_key_values_are_positioned(tmp_path: Path, extra: str, problem: str) -> None:
    run = run_xtap("check", "--policies", str(folder(tmp_path, extra)))
    assert run.code == 1 and run.stdout == ""
    assert problem in run.stderr and "Traceback" not in run.stderr


def test_xtap_yaml_adjusts_a_built_in_with_a_reason(tmp_path: Path) -> None:
    settings = (
        "rules:\n  inbound-trust-only-trusted:\n    severity: warning\n    reason: MFA trust is reviewed by IAM\n"
    )
    run = run_xtap("check", "--policies", str(folder(tmp_path, settings=settings)))
    assert run.code == 0, run.stdout + run.stderr
    assert "warning [inbound-trust-only-trusted]" in run.stdout
    assert "severity set in xtap.yaml: MFA trust is reviewed by IAM" in run.stdout


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ("rules:\n  inbound-trust-only-trusted:\n    enabled: false\n", "xtap.yaml:3:5: turning a built-in rule off"),
        (
            "rules:\n  no-such-rule:\n    enabled: false\n    reason: x\n",
            "xtap.yaml:2:3: no built-in rule 'no-such-rule'",
        ),
    ],
)
def test_an_adjustment_without_reason_or_of_no_rule_is_refused(tmp_path: Path, settings: str, problem: str) -> None:
    run = run_xtap("validate", "--policies", str(folder(tmp_path, settings=settings)))
    assert run.code == 1 and problem in run.stderr, run.stderr


def test_off_is_listed(tmp_path: Path) -> None:
    settings = "rules:\n  inbound-trust-only-trusted:\n    enabled: false\n    reason: decided elsewhere\n"
    run = run_xtap("check", "--policies", str(folder(tmp_path, settings=settings)))
    assert run.code == 0 and "off: inbound-trust-only-trusted (decided elsewhere)" in run.stdout


def test_live_catches_an_out_of_band_change(tmp_path: Path, emulator: Emulator) -> None:
    """policies/ declares no trust; a portal admin then accepts the partner's MFA. Only --live sees it."""
    partner = f"tenantId: {PARTNER_ID}\n"
    policies = folder(tmp_path, partner=partner)
    with client_for(emulator) as graph:
        assert graph.post(PARTNERS, json={"tenantId": PARTNER_ID}).status_code == 201
        assert graph.patch(f"{PARTNERS}/{PARTNER_ID}", json=MFA).status_code == 204
    offline = run_xtap("check", "--policies", str(policies), emulator=emulator)
    assert offline.code == 0, offline.stdout + offline.stderr
    assert [request for request in emulator.requests if request.method == "GET"] == []
    live = run_xtap("check", "--live", "--policies", str(policies), emulator=emulator)
    assert live.code == 1, live.stdout + live.stderr
    expected = f"fabrikam.yaml:1:1: error [inbound-trust-only-trusted] partner {PARTNER_ID} (live tenant)"
    assert expected in live.stdout


# --- rules of your own, in CEL -----------------------------------------------------------------
# `xtap check` judges them in a forked worker (`check.worker`): those runs are subprocesses, as no
# process may be forked from the test process while the emulator's threads run in it.

OWN_RULE = """rules:
  regulated-no-guests:
    select:
      types: [partner]
      labels: [regulated]
    expression: "!has(resource.b2bCollaborationInbound) || resource.b2bCollaborationInbound == null"
    message: a regulated partner's users are never invited as guests
    property: b2bCollaborationInbound.usersAndGroups
    reason: the data-residency agreement
"""


def test_an_own_rule_catches_what_it_says_at_the_property(tmp_path: Path) -> None:
    policies = folder(tmp_path, "\n  trusted: true\n  labels: [regulated]", settings=OWN_RULE)
    run = run_xtap("check", "--policies", str(policies), "--format", "json", subprocess=True)
    assert run.code == 1, run.stderr
    (finding,) = json.loads(run.stdout)["findings"]
    assert (finding["rule"], finding["line"], finding["col"], finding["source"]) == (
        "regulated-no-guests",
        9,
        3,
        "xtap.yaml",
    )
    assert finding["message"] == "a regulated partner's users are never invited as guests"


def test_an_own_rule_selects_by_label(tmp_path: Path) -> None:
    run = run_xtap(
        "check", "--policies", str(folder(tmp_path, "\n  trusted: true", settings=OWN_RULE)), subprocess=True
    )
    assert run.code == 0 and "regulated-no-guests" not in run.stdout, run.stdout + run.stderr


NAMED_RULE = """rules:
  named-partners:
    select: {types: [partner]}
    expression: has(xtap.name)
    message: every partner file names its partner
"""


@pytest.mark.parametrize(("tool", "fails"), [("", True), ("\n  name: Fabrikam", False)])
def test_has_tells_whether_the_file_names_its_partner(tmp_path: Path, tool: str, fails: bool) -> None:
    partner = f"tenantId: {PARTNER_ID}\nxtap:\n  trusted: true{tool}\n"
    run = run_xtap("check", "--policies", str(folder(tmp_path, settings=NAMED_RULE, partner=partner)), subprocess=True)
    assert run.code == (1 if fails else 0), run.stdout + run.stderr
    assert ("[named-partners]" in run.stdout) is fails


def test_an_own_rule_that_cannot_evaluate_fails(tmp_path: Path) -> None:
    settings = OWN_RULE.replace('"!has(resource.b2bCollaborationInbound) ||', '"resource.missing.x ||')
    policies = folder(tmp_path, "\n  trusted: true\n  labels: [regulated]", settings=settings)
    run = run_xtap("check", "--policies", str(policies), subprocess=True)
    assert run.code == 1 and "(could not evaluate: " in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("== null", "== null &&"),
            "xtap.yaml:6:17: rule 'regulated-no-guests': CEL expression does not compile at 1:",
        ),
        (("types: [partner]", "types: [partners]"), "xtap.yaml:4:14: unknown resource type 'partners'"),
        (("    message: a regulated", "    note: a regulated"), "xtap.yaml:7:5: unknown property 'note'"),
    ],
)
def test_a_broken_own_rule_is_a_positioned_problem(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    policies = folder(tmp_path, settings=OWN_RULE.replace(*change))
    run = run_xtap("plan", "--policies", str(policies))  # plan too: nothing is sent to Graph
    assert run.code == 1 and problem in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


# --- findings where reviewers look: SARIF for code scanning, workflow annotations ---------------

# OASIS's SARIF 2.1.0 schema (errata 01), from oasis-tcs/sarif-spec sarif-2.1/schema/.
SARIF_SCHEMA = TESTS / "schemas" / "sarif-schema-2.1.0.json"


def test_sarif_validates_and_points_at_the_line(tmp_path: Path) -> None:
    policies = folder(tmp_path)
    waiver = WAIVER.format(expires=SOON).replace("inbound-trust-only-trusted", "default-tenant-restrictions-declared")
    (policies / "default.yaml").write_text(f"xtap:{waiver}\n")
    run = run_xtap("check", "--policies", "policies", "--format", "sarif", cwd=tmp_path)
    assert run.code == 1, run.stderr
    report = tmp_path / "check.sarif"
    report.write_text(run.stdout)
    valid = subprocess.run(
        ["check-jsonschema", "--schemafile", str(SARIF_SCHEMA), str(report)], capture_output=True, text=True, timeout=60
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr
    results = {result["ruleId"]: result for result in json.loads(run.stdout)["runs"][0]["results"]}
    trust = results["inbound-trust-only-trusted"]["locations"][0]["physicalLocation"]
    assert trust == {
        "artifactLocation": {"uri": "policies/partners/fabrikam.yaml"},
        "region": {"startLine": 5, "startColumn": 3},
    }
    assert results["inbound-trust-only-trusted"]["level"] == "error"
    assert "suppressions" not in results["inbound-trust-only-trusted"]
    # default.yaml declares the system default: B2B collaboration open to all, direct connect blocked
    assert results["default-b2b-collaboration-inbound-blocked"]["level"] == "warning"
    assert "default-b2b-direct-connect-inbound-blocked" not in results
    assert results["default-tenant-restrictions-declared"]["suppressions"][0]["status"] == "accepted"


def test_sarif_schema_rejects_a_broken_report(tmp_path: Path) -> None:
    """The validation above can fail: a result without its message is refused."""
    report = tmp_path / "broken.sarif"
    report.write_text(json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}))
    valid = subprocess.run(
        ["check-jsonschema", "--schemafile", str(SARIF_SCHEMA), str(report)], capture_output=True, text=True, timeout=60
    )
    assert valid.returncode == 1


def test_github_annotations_cannot_be_forged(tmp_path: Path) -> None:
    """A value in a file reaches the annotation escaped: no newline starts a second command, and
    `,` `:` `%` cannot end a property early."""
    forged = "x\\n::error file=evil::owned, 100%"
    settings = OWN_RULE.replace(
        "message: a regulated partner's users are never invited as guests", f'message: "{forged}"'
    )
    folder(tmp_path, "\n  trusted: true\n  labels: [regulated]", settings=settings)
    run = run_xtap("check", "--policies", "policies", "--format", "github", cwd=tmp_path, subprocess=True)
    assert run.code == 1, run.stderr
    (line,) = run.stdout.splitlines()
    command, message = line.removeprefix("::").split("::", 1)
    title = "regulated-no-guests%3A x\\u000a%3A%3Aerror file=evil%3A%3Aowned%2C 100%25"
    assert command == f"error file=policies/partners/fabrikam.yaml,line=9,col=3,title={title}"
    assert message.startswith(f"partner {PARTNER_ID}: x\\u000a::error file=evil::owned, 100%25 Why: ")
