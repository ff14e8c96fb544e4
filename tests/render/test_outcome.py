"""Apply's lines as it goes (reconciler/render/outcome.py): each change's outcome, with Graph's
error escaped, and the summary that makes a partial failure or an interruption plain."""

from __future__ import annotations

from reconciler.apply.writes import ApplyReport, Outcome
from reconciler.plan.model import Action, Change
from reconciler.render.outcome import render_apply_summary, render_outcome

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


def change(action: Action = "update") -> Change:
    return Change(resource="partner", id=TENANT, action=action, source=None, diff=(), requests=())


def test_an_outcome_is_one_line_with_the_error_escaped() -> None:
    assert render_outcome(Outcome(change("create"), "applied"), color=False) == f"applied: + partner {TENANT}"
    failed = render_outcome(Outcome(change(), "failed", "403 denied\n\x1b[2J"), color=False)
    assert failed == f"failed: ~ partner {TENANT}: 403 denied\\u000a\\u001b[2J"
    assert (
        render_outcome(Outcome(change("delete"), "skipped"), color=True)
        == f"\x1b[33mskipped: - partner {TENANT}\x1b[0m"
    )


def test_the_summary_counts_each_status_and_says_whether_it_is_complete() -> None:
    done = ApplyReport((Outcome(change(), "applied"),))
    assert render_apply_summary(done, color=False) == "Apply complete: 1 applied, 0 failed, 0 skipped.\n"
    partial = ApplyReport((Outcome(change(), "applied"), Outcome(change(), "failed", "x")))
    assert render_apply_summary(partial, color=True) == (
        "\x1b[1mApply incomplete (xtap plan shows what is left): 1 applied, 1 failed, 0 skipped.\x1b[0m\n"
    )


def test_an_interrupted_apply_counts_the_interrupted_write_and_says_it_may_have_happened() -> None:
    report = ApplyReport((Outcome(change(), "applied"), Outcome(change(), "interrupted")), interrupted=True)
    line = render_apply_summary(report, color=False)
    assert line.startswith("Apply interrupted (the interrupted write may or may not have happened")
    assert line.endswith(": 1 applied, 0 failed, 0 skipped, 1 interrupted.\n")
