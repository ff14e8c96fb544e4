"""The `xtap:` key of a policy file and xtap.yaml's `rules:` (`core/rules.py`) as strictly as the
Graph properties: a bad waiver date, a waiver of no rule, a non-boolean mark, an adjustment
without its reason and a rule of one's own that does not compile or names no type are each a
positioned problem, never a silent pass or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.checks import OWN_RULE, SOON, WAIVER, folder
from support.xtap import run_xtap


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (WAIVER.format(expires="2020-02-30"), "fabrikam.yaml:8:16: expires '2020-02-30'"),
        (
            WAIVER.replace("inbound-trust-only-trusted", "no-such-rule").format(expires=SOON),
            "fabrikam.yaml:5:7: waiver of unknown rule 'no-such-rule'",
        ),
        ("\n  trusted: yes", "fabrikam.yaml:4:12: trusted must be true or false, not 'yes' (xtap reads YAML 1.2"),
    ],
)
def test_bad_xtap_key_values_are_positioned(tmp_path: Path, extra: str, problem: str) -> None:
    run = run_xtap("check", "--policies", str(folder(tmp_path, extra)))
    assert run.code == 1 and run.stdout == ""
    assert problem in run.stderr and "Traceback" not in run.stderr


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
