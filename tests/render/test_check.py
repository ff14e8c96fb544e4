"""The reports of `xtap check` (`render/check.py`) where tools and reviewers read them: JSON with
the rule, reason and position, SARIF that validates against the OASIS schema for code scanning,
and workflow annotations that a value in a policy file cannot forge; neither makes a link, a
placeholder or a tag of outside text."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from support.checks import OWN_RULE, PARTNER_ID, SOON, WAIVER, folder
from support.markup import MARKUP_FILE, MARKUP_MESSAGE
from support.paths import TESTS
from support.seeds import SEED_000_CREATE_BODY
from support.xtap import run_xtap


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


def test_check_sarif_makes_no_link_placeholder_or_tag_from_outside_text(tmp_path: Path) -> None:
    """A hostile file name is percent-encoded in the SARIF location; a rule's message from
    xtap.yaml keeps its brackets, braces and angle brackets as text."""
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    tenant = SEED_000_CREATE_BODY["tenantId"]
    (partners / MARKUP_FILE).write_text(f"tenantId: {tenant}\ninboundTrust:\n  isMfaAccepted: true\n")
    rule = {
        "select": {"types": ["partner"]},
        "expression": "false",
        "message": f"{MARKUP_MESSAGE} {{0}}",
        "reason": "a test",
    }
    (tmp_path / "policies" / "xtap.yaml").write_text(json.dumps({"rules": {"hostile": rule}}))
    # A subprocess: the rule of your own is judged in a forked worker (`check.worker`).
    result = run_xtap("check", "--policies", "policies", "--format", "sarif", cwd=tmp_path, subprocess=True)
    assert result.code == 1, result.stderr
    [run] = json.loads(result.stdout)["runs"]
    texts = {r["ruleId"]: r["message"]["text"] for r in run["results"]}
    assert re.search(r"(?<!\\)\]\(", texts["hostile"]) is None  # every bracket escaped: no link
    assert "\\[here\\](http://evil.example)" in texts["hostile"]
    # `<` written as `visible` writes an escape, whose backslash SARIF doubles like any other
    assert "\\\\u003cdetails\\\\u003e" in texts["hostile"] and "<" not in texts["hostile"]
    assert texts["hostile"].endswith(" {{0}}")  # a literal brace, not a placeholder
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"policies/partners/%3Cimg%20src%3Dx%3E%5Bx%5D%28http%3Aevil.example%29.yaml"}
