"""`check/engine.py`: how findings are judged (a waiver holds through its day and fails after,
xtap.yaml turns a rule off or re-levels it), and `xtap check` as a user runs it: findings at the
file's line, exit codes, xtap.yaml's adjustments, waivers that expire, rules of one's own in CEL
judged in the worker, and `--live` against the emulator catching what changed out of band. The
built-in rules one by one are in test_builtin.py, the `xtap:` key's validation in
tests/core/test_rules.py, the JSON, SARIF and annotation reports in tests/render/test_check.py."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support.checks import MFA, OWN_RULE, PARTNER_ID, SOON, TODAY, WAIVER, findings_of, folder
from support.xtap import client_for, run_xtap

from reconciler.core.rules import RuleSetting, ToolKey, Waiver
from reconciler.emulator import Emulator

PARTNERS = "/policies/crossTenantAccessPolicy/partners"


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


def test_a_waiver_passes_until_it_expires(tmp_path: Path) -> None:
    live = run_xtap("check", "--policies", str(folder(tmp_path / "a", WAIVER.format(expires=SOON))))
    assert live.code == 0, live.stdout + live.stderr
    assert f"waived until {SOON} by alice@contoso.com: pilot until the partner review" in live.stdout
    gone = run_xtap("check", "--policies", str(folder(tmp_path / "b", WAIVER.format(expires="2020-01-31"))))
    assert gone.code == 1
    assert "waiver by alice@contoso.com expired on 2020-01-31" in gone.stdout


def test_xtap_yaml_adjusts_a_built_in_with_a_reason(tmp_path: Path) -> None:
    settings = (
        "rules:\n  inbound-trust-only-trusted:\n    severity: warning\n    reason: MFA trust is reviewed by IAM\n"
    )
    run = run_xtap("check", "--policies", str(folder(tmp_path, settings=settings)))
    assert run.code == 0, run.stdout + run.stderr
    assert "warning [inbound-trust-only-trusted]" in run.stdout
    assert "severity set in xtap.yaml: MFA trust is reviewed by IAM" in run.stdout


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


NAMES_ROLES = ("Policy.Read.All", "CrossTenantInformation.ReadBasic.All", "Directory.Read.All")
HOSTILE_NAME = "Fabrikam\x1b[31m\n::error::forged [x](http://evil.example)"


def _out_of_band_mfa(emulator: Emulator) -> None:
    with client_for(emulator) as graph:
        assert graph.post(PARTNERS, json={"tenantId": PARTNER_ID}).status_code == 201
        assert graph.patch(f"{PARTNERS}/{PARTNER_ID}", json=MFA).status_code == 204
    emulator.clear_requests()


def test_live_findings_name_the_partner_in_every_format(tmp_path: Path, emulator: Emulator) -> None:
    """With --live, the partner a finding is about is looked up (one tenant-information
    `$batch`) and named; Graph's name is escaped as each format escapes outside text."""
    policies = folder(tmp_path, partner=f"tenantId: {PARTNER_ID}\n")
    _out_of_band_mfa(emulator)
    emulator.put_known_tenant({"tenantId": PARTNER_ID, "displayName": HOSTILE_NAME, "defaultDomainName": "fab.com"})
    common = ("check", "--live", "--policies", str(policies))
    text = run_xtap(*common, emulator=emulator, roles=NAMES_ROLES)
    assert text.code == 1, text.stdout + text.stderr
    shown = "Fabrikam\\u001b[31m\\u000a::error::forged [x](http://evil.example) (fab.com)"
    assert f"partner {PARTNER_ID} ({shown}) (live tenant)" in text.stdout
    assert "\x1b" not in text.stdout and "\n::error::" not in text.stdout
    found = json.loads(run_xtap(*common, "--format", "json", emulator=emulator, roles=NAMES_ROLES).stdout)
    names = {finding["name"] for finding in found["findings"] if finding["id"] == PARTNER_ID}
    assert names == {f"{HOSTILE_NAME} (fab.com)"}
    sarif = json.loads(run_xtap(*common, "--format", "sarif", emulator=emulator, roles=NAMES_ROLES).stdout)
    messages = [result["message"]["text"] for result in sarif["runs"][0]["results"]]
    assert any("forged \\[x\\](http://evil.example)" in message for message in messages)
    assert not any("\x1b" in message for message in messages)
    github = run_xtap(*common, "--format", "github", emulator=emulator, roles=NAMES_ROLES).stdout
    assert all(line.startswith("::") for line in github.splitlines()) and "\\u000a::error::forged" in github
    # Without the permission: the GUID alone, and one line saying why.
    plain = run_xtap(*common, emulator=emulator, roles=("Policy.Read.All",))
    assert f"partner {PARTNER_ID} (live tenant)" in plain.stdout and plain.stderr.count("Names not shown") == 1


def test_offline_commands_send_graph_nothing_not_even_a_name_lookup(tmp_path: Path, emulator: Emulator) -> None:
    """validate, check without --live and schema are offline: with a token that may look names
    up and a partner with findings whose name Graph knows, the emulator serves no request."""
    policies = folder(tmp_path, partner=f"tenantId: {PARTNER_ID}\n" + "inboundTrust:\n  isMfaAccepted: true\n")
    emulator.put_known_tenant({"tenantId": PARTNER_ID, "displayName": "Fabrikam", "defaultDomainName": "fab.com"})
    for args in (
        ("validate", "--policies", str(policies)),
        ("check", "--policies", str(policies)),
        ("check", "--policies", str(policies), "--format", "json"),
        ("schema",),
    ):
        done = run_xtap(*args, emulator=emulator, roles=NAMES_ROLES)
        assert "Fabrikam" not in done.stdout, args
    assert emulator.requests == []
