"""Settings are changes to review: every plan states the settings of xtap.yaml and the `xtap:`
keys that are not the defaults; against the base branch's folder it shows each one a pull
request changes, with what it will do; a saved plan reviewed under other settings is refused;
and apply stops where a guardrail of severity error fails. Pure tests first, then the CLI
against the emulator as the pull request and the merge run it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.policy_files import write_policies
from support.settings_folder import KEPT, SOON, WAIVED, folder
from support.xtap import run_xtap, writes_served

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.rules import ToolKey
from reconciler.emulator import Emulator
from reconciler.plan.model import Plan
from reconciler.plan.settings import changed, stated
from reconciler.policies.load import load_policies
from reconciler.render.plan import render_markdown, render_text

PORTAL = "22222222-2222-4222-8222-222222222222"  # added by an admin in the portal after review
TENANT = "99999999-9999-4999-8999-999999999999"


def test_defaults_state_nothing(tmp_path: Path) -> None:
    assert stated(load_policies(folder(tmp_path))) == ()


def test_every_setting_that_is_not_its_default_is_stated_with_where_it_is_written(tmp_path: Path) -> None:
    settings = (
        f"tenant: {TENANT.upper()}\nprune: true\npruneLimit: 0.25\nprotected: [{PORTAL}]\n"
        "rules:\n  default-tenant-restrictions-declared: {enabled: false, reason: not licensed}\n"
    )
    found = stated(load_policies(folder(tmp_path, settings, WAIVED)))
    shown = {(s.scope, s.name): (s.value, s.source) for s in found}
    xtap_yaml, partner_file = str(tmp_path / "xtap.yaml"), str(tmp_path / "partners" / "kept.yaml")
    assert shown == {
        ("xtap.yaml", "tenant"): (TENANT, f"{xtap_yaml}:1"),
        ("xtap.yaml", "prune"): (True, f"{xtap_yaml}:2"),
        ("xtap.yaml", "pruneLimit"): (0.25, f"{xtap_yaml}:3"),
        ("xtap.yaml", "protected"): ([PORTAL], f"{xtap_yaml}:4"),
        ("xtap.yaml", "rules.default-tenant-restrictions-declared"): (
            {"enabled": False, "reason": "not licensed"},
            f"{xtap_yaml}:5",
        ),
        (f"partner {KEPT}", "xtap.labels"): (["pilot"], partner_file),
        (f"partner {KEPT}", "xtap.waivers"): (
            [
                {
                    "rule": "inbound-trust-only-trusted",
                    "reason": "pilot until the partner review",
                    "owner": "alice@contoso.com",
                    "expires": SOON,
                }
            ],
            partner_file,
        ),
    }


def test_files_sharing_one_xtap_key_each_state_it() -> None:
    """The loader shares equal `xtap:` keys as one object: each file still states it as its own."""
    shared = ToolKey(trusted=True, labels=["finance"])
    first, second = Address("partner", PORTAL), Address("partner", TENANT)
    desired = Desired({address: DesiredInstance({}, f"{address.id}.yaml:1", shared) for address in (first, second)})
    assert [(s.scope, s.name, s.value, s.source) for s in stated(desired)] == [
        (str(address), name, value, f"{address.id}.yaml")
        for address in (first, second)
        for name, value in (("xtap.trusted", True), ("xtap.labels", ["finance"]))
    ]


def test_a_change_shows_before_after_and_what_it_will_do(tmp_path: Path) -> None:
    base = stated(load_policies(folder(tmp_path / "base")))
    now = stated(load_policies(folder(tmp_path / "now", "prune: true\n", WAIVED)))
    changes = {(c.scope, c.name): c for c in changed(base, now)}
    prune = changes[("xtap.yaml", "prune")]
    assert (prune.before, prune.after) == (None, True)
    assert "is deleted by apply" in prune.effect and "portal" in prune.effect
    waiver = changes[(f"partner {KEPT}", "xtap.waivers")]
    assert waiver.before is None and f"waives inbound-trust-only-trusted until {SOON}" in waiver.effect
    assert "owner alice@contoso.com" in waiver.effect
    back = {(c.scope, c.name): c for c in changed(now, base)}
    assert back[("xtap.yaml", "prune")].effect.startswith("prune off")
    assert "fails again" in back[(f"partner {KEPT}", "xtap.waivers")].effect
    assert changed(now, now) == ()


@pytest.mark.parametrize(
    ("rule", "effect"),
    [
        ("{enabled: false, reason: r}", "off: its findings no longer fail the check nor block apply"),
        ("{severity: note, reason: r}", "now has severity note"),
        ("{expression: 'true', message: m, reason: r}", "rule of your own"),
    ],
)
def test_rule_changes_say_what_they_turn_off(tmp_path: Path, rule: str, effect: str) -> None:
    rule_id = "inbound-trust-only-trusted" if "expression" not in rule else "mine"
    now = stated(load_policies(folder(tmp_path, f"rules:\n  {rule_id}: {rule}\n")))
    (change,) = changed((), now)
    assert change.name == f"rules.{rule_id}" and effect in change.effect


def test_text_and_markdown_show_settings_and_escape_them(tmp_path: Path) -> None:
    hostile = "<img src=x>[x](http:evil.example) @team `|`"
    partner = WAIVED.replace("pilot until the partner review", json.dumps(hostile))
    now = stated(load_policies(folder(tmp_path, "prune: true\n", partner)))
    plan = Plan(settings=now, settings_changes=changed((), now))
    text = render_text(plan, color=False)
    assert "Settings in force" in text and "xtap.yaml prune = true" in text
    assert "~ xtap.yaml prune: default → true" in text
    markdown = render_markdown(plan)
    assert "| xtap.yaml `prune` | _default_ | `true` |" in markdown
    prose = re.sub(r"(`+).*?\1", "", markdown)  # a code span shows its text verbatim, and safely
    assert "<img" not in prose and "](" not in prose and " @team" not in prose
    assert "alice@&#8203;contoso.com" in prose  # outside a code span, escaped: no mention


def test_markdown_bounds_the_settings_it_lists(tmp_path: Path) -> None:
    (tmp_path / "partners").mkdir(parents=True)
    for n in range(40):
        (tmp_path / "partners" / f"p{n}.yaml").write_text(
            f"tenantId: {n:08x}-0000-4000-8000-000000000001\nxtap: {{labels: [x]}}\n"
        )
    now = stated(load_policies(tmp_path))
    markdown = render_markdown(Plan(settings=now, settings_changes=changed((), now)))
    assert markdown.count("_…and 15 more;") == 1 and len(now) == 40  # the changes, 25 shown
    assert "xtap.labels set in 40 files &#40;each listed in the JSON plan&#41;" in markdown  # in force: counted


# --- the pull request and the merge, through the CLI --------------------------------------------


def test_a_pull_request_turning_prune_on_shows_it_and_its_plan_is_refused_after_a_portal_add(
    tmp_path: Path, emulator: Emulator
) -> None:
    """The case that once applied unreviewed: a PR that only adds `prune: true` planned "No
    changes", an admin added a partner in the portal, and the merge deleted it."""
    emulator.put_partner({"tenantId": KEPT})
    base = folder(tmp_path / "base")
    head = folder(tmp_path / "head", "prune: true\n")
    saved = tmp_path / "plan.json"
    args = ("--policies", str(head), "--base-policies", str(base), "--out", str(saved))
    review = run_xtap("plan", *args, "--format", "markdown", emulator=emulator)
    assert review.code == 0, review.stderr
    assert "No changes" in review.stdout
    assert "| xtap.yaml `prune` | _default_ | `true` |" in review.stdout
    assert "is deleted by apply" in review.stdout
    planned = json.loads(saved.read_text())
    assert planned["settingsChanges"][0]["name"] == "prune" and planned["settings"][0]["value"] is True

    emulator.put_partner({"tenantId": PORTAL})  # the admin, after review
    before = len(writes_served(emulator))
    merge = run_xtap("apply", str(saved), "--auto-approve", "--policies", str(head), emulator=emulator)
    assert merge.code == 1 and "is stale" in merge.stderr
    assert len(writes_served(emulator)) == before


def test_a_saved_plan_is_refused_when_a_setting_changed_since_review(tmp_path: Path, emulator: Emulator) -> None:
    emulator.put_partner({"tenantId": KEPT})
    policies = folder(tmp_path / "p")
    saved = tmp_path / "plan.json"
    assert run_xtap("plan", "--policies", str(policies), "--out", str(saved), emulator=emulator).code == 0
    (policies / "xtap.yaml").write_text("rules:\n  inbound-trust-only-trusted: {enabled: false, reason: later}\n")
    merge = run_xtap("apply", str(saved), "--auto-approve", "--policies", str(policies), emulator=emulator)
    assert (
        merge.code == 1
        and "was planned with rules.inbound-trust-only-trusted of xtap.yaml at its default" in merge.stderr
    )
    assert writes_served(emulator) == []


def test_apply_stops_on_a_guardrail_error_unless_told_to_skip_checks(tmp_path: Path, emulator: Emulator) -> None:
    trusting = write_policies(tmp_path / "p", [{"tenantId": KEPT, "inboundTrust": {"isMfaAccepted": True}, "xtap": {}}])
    refused = run_xtap("apply", "--auto-approve", "--policies", str(trusting), emulator=emulator)
    assert refused.code == 1, refused.stderr
    assert f"{KEPT}.yaml:4:5: error" in refused.stderr and "[inbound-trust-only-trusted]" in refused.stderr
    assert "1 guardrail error(s)" in refused.stderr and writes_served(emulator) == []

    saved = tmp_path / "plan.json"
    assert run_xtap("plan", "--policies", str(trusting), "--out", str(saved), emulator=emulator).code == 0
    again = run_xtap("apply", str(saved), "--auto-approve", "--policies", str(trusting), emulator=emulator)
    assert again.code == 1 and "1 guardrail error(s)" in again.stderr and writes_served(emulator) == []

    forced = run_xtap("apply", "--auto-approve", "--skip-checks", "--policies", str(trusting), emulator=emulator)
    assert forced.code == 0, forced.stderr
    assert "--skip-checks: the guardrails of xtap check are NOT run" in forced.stderr
    assert [request.method for request in writes_served(emulator)] == ["POST"]
