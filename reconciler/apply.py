"""Apply a plan: send its requests, and report each change as applied, failed or skipped.

All writes go through `_write_change`, so a later version can batch them (`$batch`) in one
place. A failed change does not stop the others (they are independent), except when the
failure says no further write can succeed (bad token, missing permission, Graph unreachable):
then the rest are skipped, not attempted. Either way the next plan shows exactly what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reconciler.graph import Graph, GraphError
from reconciler.plan import Change, Plan

Status = Literal["applied", "failed", "skipped"]
# Failures after which every other write would fail the same way: None = Graph unreachable.
FATAL_STATUSES = frozenset({None, 401, 403})
SKIPPED_REASON = "not attempted: an earlier failure means no write can succeed"


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def ok(self) -> bool:
        return all(outcome.status == "applied" for outcome in self.outcomes)


async def apply_plan(graph: Graph, plan: Plan, on_outcome: Callable[[Outcome], None] | None = None) -> ApplyReport:
    outcomes: list[Outcome] = []
    fatal = False
    for change in plan.changes:
        if fatal:
            outcome = Outcome(change, "skipped", SKIPPED_REASON)
        else:
            outcome, fatal = await _write_change(graph, change)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return ApplyReport(tuple(outcomes))


async def _write_change(graph: Graph, change: Change) -> tuple[Outcome, bool]:
    """Send a change's requests in order; the first failure ends the change."""
    for request in change.requests:
        try:
            await graph.write(request)
        except GraphError as exc:
            return Outcome(change, "failed", str(exc)), exc.status in FATAL_STATUSES
    return Outcome(change, "applied"), False
