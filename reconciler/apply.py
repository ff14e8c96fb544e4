"""Apply a plan: send its requests, report each change as applied, failed or skipped, and
check that what was applied reads back as written.

All writes go through `_write_change`, so a later version can batch them (`$batch`) in one
place. A failed change does not stop the others (they are independent), except when the
failure says no further write can succeed (bad token, missing permission, Graph unreachable):
then the rest are skipped, not attempted. Either way the next plan shows exactly what is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reconciler.canonical import canonical_property
from reconciler.graph import Graph, GraphError
from reconciler.live import Live
from reconciler.models import PARTNER_KEY
from reconciler.plan import MTO_PARTNER_TEMPLATE, Change, Plan

# "interrupted": the change's write was in flight when Ctrl-C came, so whether Graph carried it
# out is unknown (the next plan shows it either way).
Status = Literal["applied", "failed", "skipped", "interrupted"]
# Failures after which every other write would fail the same way: None = Graph unreachable.
FATAL_STATUSES = frozenset({None, 401, 403})
SKIPPED_REASON = "not attempted: an earlier failure means no write can succeed"
INTERRUPTED_SKIPPED_REASON = "not attempted: apply was interrupted"
IN_FLIGHT_REASON = "in flight when apply was interrupted: Graph may or may not have applied it"


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def ok(self) -> bool:
        return all(outcome.status == "applied" for outcome in self.outcomes)


async def apply_plan(graph: Graph, plan: Plan, on_outcome: Callable[[Outcome], None] | None = None) -> ApplyReport:
    """Write every change, reporting each outcome as it is known. A cancellation (Ctrl-C, see
    `signals`) is caught here so the report can still say which write was in flight and which
    were never started; the caller gets `interrupted=True` and decides how to exit."""
    outcomes: list[Outcome] = []
    skip_reason: str | None = None
    for change in plan.changes:
        if skip_reason is not None:
            outcome = Outcome(change, "skipped", skip_reason)
        else:
            try:
                outcome, fatal = await _write_change(graph, change)
            except asyncio.CancelledError:
                outcome, skip_reason = Outcome(change, "interrupted", IN_FLIGHT_REASON), INTERRUPTED_SKIPPED_REASON
            else:
                skip_reason = SKIPPED_REASON if fatal else None
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return ApplyReport(tuple(outcomes), interrupted=skip_reason == INTERRUPTED_SKIPPED_REASON)


def unconfirmed(report: ApplyReport, live: Live) -> list[str]:
    """What was applied but does not read back as written, from a fresh read of the tenant.

    Pure, so the check is tested without a tenant. A mismatch means Graph accepted a write and
    kept something else (or is still replicating it): worth a warning, never silence."""
    problems: list[str] = []
    for outcome in report.outcomes:
        change = outcome.change
        if outcome.status != "applied":
            continue
        current = live.mto_partner_template if change.resource == MTO_PARTNER_TEMPLATE else live.partners.get(change.id)
        written = {name: value for request in change.requests for name, value in (request.body or {}).items()}
        for name, value in written.items():
            if name == PARTNER_KEY:
                continue
            if current is None or canonical_property(name, current.get(name)) != canonical_property(name, value):
                problems.append(f"{change.resource} {change.id}: {name} does not read back as it was written")
    return problems


async def _write_change(graph: Graph, change: Change) -> tuple[Outcome, bool]:
    """Send a change's requests in order; the first failure ends the change."""
    for request in change.requests:
        try:
            await graph.write(request)
        except GraphError as exc:
            return Outcome(change, "failed", str(exc)), exc.status in FATAL_STATUSES
    return Outcome(change, "applied"), False
