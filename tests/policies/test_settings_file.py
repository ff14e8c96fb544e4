"""xtap.yaml on its own, and the waivers judged against it: each problem at the key to fix, a
waiver further ahead than `waiverMaxDays` among them, in a loaded folder and from `xtap validate`."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from support.settings_folder import SOON, WAIVED, folder
from support.xtap import run_xtap

from reconciler.core.desired import DesiredInstance
from reconciler.core.rules import ToolKey, Waiver
from reconciler.core.settings import Settings
from reconciler.policies.load import PolicyError, load_policies
from reconciler.policies.problems import Problem
from reconciler.policies.settings_file import read_settings, waiver_problems

BUILTIN = "inbound-trust-only-trusted"
RULE = {"expression": "true", "message": "m"}  # a rule of your own


def settings_file(tmp_path: Path, text: str) -> tuple[str, list[str]]:
    path = tmp_path / "xtap.yaml"
    path.write_text(text)
    problems: list[Problem] = []
    read_settings(str(path), problems)
    return str(path), [str(problem).removeprefix(f"{path}:") for problem in problems]


def test_no_file_or_only_comments_binds_nothing_and_prunes_nothing(tmp_path: Path) -> None:
    assert read_settings(None, []) == (Settings(), None, {})
    assert read_settings(str(tmp_path / "missing.yaml"), []) == (Settings(), None, {})
    (tmp_path / "xtap.yaml").write_text("# nothing yet\n")
    assert read_settings(str(tmp_path / "xtap.yaml"), []) == (Settings(), None, {})


def test_each_key_is_sourced_and_prune_points_at_its_own(tmp_path: Path) -> None:
    path = tmp_path / "xtap.yaml"
    path.write_text("# the folder's settings\ntenant: 0B4F0A2E-1111-4222-8333-944455556666\nprune: true\n")
    settings, prune, sources = read_settings(str(path), [])
    assert settings.tenant == "0b4f0a2e-1111-4222-8333-944455556666"
    assert prune is not None and prune.source == f"{path}:3"
    assert sources == {"tenant": f"{path}:2", "prune": f"{path}:3"}


def test_an_unknown_setting_and_one_of_a_later_version_are_named_as_such(tmp_path: Path) -> None:
    _, found = settings_file(tmp_path, "ignore: [x]\ntenants: x\n")
    supported = "tenant, prune, protected, pruneServiceMade, pruneLimit, rules, waiverMaxDays"
    assert found == [
        f"1:1: 'ignore' is not supported yet in xtap.yaml (supported: {supported})",
        f"2:1: unknown setting 'tenants' in xtap.yaml (supported: {supported})",
    ]


def test_a_rule_id_must_be_a_built_in_one_or_a_rule_of_your_own(tmp_path: Path) -> None:
    _, found = settings_file(
        tmp_path,
        f"rules:\n  inbound-trust-only-trustd: {{severity: warning, reason: r}}\n  {BUILTIN}:\n"
        "    expression: 'true'\n    message: m\n",
    )
    assert [problem.split(" (built-in:")[0] for problem in found] == [
        "2:3: no built-in rule 'inbound-trust-only-trustd'",
        f"3:3: '{BUILTIN}' is a built-in rule; give your rule another id",
    ]


def test_a_problem_with_an_expression_names_its_rule(tmp_path: Path) -> None:
    _, found = settings_file(tmp_path, "rules:\n  mine:\n    expression: '1 +'\n    message: m\n")
    assert len(found) == 1 and found[0].startswith("3:17: rule 'mine': ")


def test_waivers_of_no_rule_or_past_the_limit_are_problems_where_written(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    far = date.today() + timedelta(days=400)
    path.write_text(
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nxtap:\n  waivers:\n"
        f"    - {{rule: mine, reason: r, owner: o, expires: '{far}'}}\n"
        f"    - {{rule: {BUILTIN}, reason: r, owner: o, expires: '{date.today()}'}}\n"
    )
    waivers = [
        Waiver(rule="mine", reason="r", owner="o", expires=far),
        Waiver(rule=BUILTIN, reason="r", owner="o", expires=date.today()),
    ]
    instance = DesiredInstance({}, f"{path}:1", ToolKey(waivers=waivers))
    latest = date.today() + timedelta(days=90)
    assert [str(problem).removeprefix(f"{path}:") for problem in waiver_problems([instance], Settings())] == [
        "4:8: waiver of unknown rule 'mine'",
        f"4:41: waiver of 'mine' expires {far}, more than 90 days from today: set it to {latest} at the latest "
        "and renew it then (waiverMaxDays in xtap.yaml sets the limit)",
    ]
    assert (
        list(waiver_problems([instance], Settings.model_validate({"rules": {"mine": RULE}, "waiverMaxDays": 500})))
        == []
    )


def test_a_waiver_may_expire_at_most_waiver_max_days_ahead(tmp_path: Path) -> None:
    far = (date.today() + timedelta(days=120)).isoformat()
    partner = WAIVED.replace(SOON, far)
    with pytest.raises(PolicyError) as refused:
        load_policies(folder(tmp_path / "a", None, partner))
    (problem,) = refused.value.problems
    assert (problem.line, problem.col) == (9, 7) and f"expires {far}, more than 90 days from today" in problem.message
    assert "waiverMaxDays" in problem.message
    assert load_policies(folder(tmp_path / "b", "waiverMaxDays: 180\n", partner)).settings.waiverMaxDays == 180


@pytest.mark.parametrize("days", ["0", "-5", "3651", "1.5", "true", ".nan", ".inf", "null"])
def test_waiver_max_days_refuses_what_is_not_a_sane_number_of_days(tmp_path: Path, days: str) -> None:
    run = run_xtap("validate", "--policies", str(folder(tmp_path, f"waiverMaxDays: {days}\n")))
    assert run.code == 1 and "xtap.yaml:1:" in run.stderr and "Traceback" not in run.stderr
