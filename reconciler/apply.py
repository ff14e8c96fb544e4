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

from reconciler.address import Address
from reconciler.canonical import canonical_property
from reconciler.graph import Graph, GraphError
from reconciler.live import Live
from reconciler.plan import Change, Plan
from reconciler.registry import REGISTRY_BY_NAME

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
    """Write every change in plan order, reporting each outcome as it is known. A change whose
    dependency was not applied is skipped. A cancellation (Ctrl-C, see `signals`) is caught
    here so the report can still say which write was in flight and which were never started;
    the caller gets `interrupted=True` and decides how to exit."""
    outcomes: dict[Address, Outcome] = {}
    skip_reason: str | None = None
    for change in plan.changes:
        blocked = next((a for a in change.depends_on if a in outcomes and outcomes[a].status != "applied"), None)
        if skip_reason is not None:
            outcome = Outcome(change, "skipped", skip_reason)
        elif blocked is not None:
            outcome = Outcome(change, "skipped", f"not attempted: it needs {blocked}, which was not applied")
        else:
            try:
                outcome, fatal = await _write_change(graph, change)
            except asyncio.CancelledError:
                outcome, skip_reason = Outcome(change, "interrupted", IN_FLIGHT_REASON), INTERRUPTED_SKIPPED_REASON
            else:
                skip_reason = SKIPPED_REASON if fatal else None
        outcomes[change.address] = outcome
        if on_outcome is not None:
            on_outcome(outcome)
    return ApplyReport(tuple(outcomes.values()), interrupted=skip_reason == INTERRUPTED_SKIPPED_REASON)


def unconfirmed(report: ApplyReport, live: Live) -> list[str]:
    """What was applied but does not read back as written, from a fresh read of the tenant.

    Pure, so the check is tested without a tenant. A mismatch means Graph accepted a write and
    kept something else (or is still replicating it): worth a warning, never silence. A reset
    is checked by the next plan, not here: what it restores is Graph's to say."""
    problems: list[str] = []
    for outcome in report.outcomes:
        change = outcome.change
        if outcome.status != "applied" or change.action == "reset":
            continue
        rtype = REGISTRY_BY_NAME[change.resource]
        current = live.instances.get(change.address)
        if change.action == "delete":
            if current is not None:
                problems.append(f"{change.address}: still there after its delete")
            continue
        written = {name: value for request in change.requests for name, value in (request.body or {}).items()}
        for name, value in written.items():
            if name == rtype.key:
                continue
            if current is None or canonical_property(rtype, name, current.get(name)) != canonical_property(
                rtype, name, value
            ):
                problems.append(f"{change.address}: {name} does not read back as it was written")
    return problems


async def _write_change(graph: Graph, change: Change) -> tuple[Outcome, bool]:
    """Send a change's requests in order; the first failure ends the change. A request with a
    fallback is sent again with the fallback's verb when Graph answers one of its statuses
    (the identity sync verbs Microsoft's sources disagree on, GRAPH_FACTS §7.3)."""
    for request in change.requests:
        try:
            try:
                await graph.write(request)
            except GraphError as exc:
                if request.fallback is None or exc.status not in request.fallback_statuses:
                    raise
                await graph.write(request.fallback)
        except GraphError as exc:
            return Outcome(change, "failed", str(exc)), exc.status in FATAL_STATUSES
    return Outcome(change, "applied"), False
