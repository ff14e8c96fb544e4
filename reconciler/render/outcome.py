"""Apply's lines as it goes: each change's outcome, then the summary that makes a partial
failure plain. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.core.escape import visible
from reconciler.render.plan import SYMBOLS
from reconciler.render.terminal import BOLD, GREEN, RED

if TYPE_CHECKING:  # apply imports msgraph-sdk; rendering must not pay for that import
    from reconciler.apply.writes import ApplyReport, Outcome, Status


_STATUS_SGR: dict[Status, str] = {"applied": GREEN, "failed": RED, "skipped": "33", "interrupted": "35"}


def render_outcome(outcome: Outcome, color: bool) -> str:
    """One line per change as apply goes: applied, failed (with Graph's error) or skipped."""
    change = outcome.change
    line = f"{outcome.status}: {SYMBOLS[change.action]} {visible(change.resource)} {visible(change.id)}"
    if outcome.error:
        line += f": {visible(outcome.error)}"
    return f"\x1b[{_STATUS_SGR[outcome.status]}m{line}\x1b[0m" if color else line


def render_apply_summary(report: ApplyReport, color: bool) -> str:
    """The last line of apply, so a partial failure is plain: counts of applied, failed, skipped."""
    shown = [status for status in _STATUS_SGR if status != "interrupted" or report.interrupted]
    counts = ", ".join(f"{report.count(status)} {status}" for status in shown)
    if report.interrupted:
        verdict = "Apply interrupted (the interrupted write may or may not have happened; xtap plan shows what is left)"
    else:
        verdict = "Apply complete" if report.ok else "Apply incomplete (xtap plan shows what is left)"
    line = f"{verdict}: {counts}."
    return f"\x1b[{BOLD}m{line}\x1b[0m\n" if color else line + "\n"
