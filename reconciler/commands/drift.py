"""`xtap drift`: what changed behind git's back, live against policies/, read-only; with
`--attribute`, who changed it, from the directory audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.commands.planning import plan_with
from reconciler.commands.run import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Formats, Options, on_graph, say
from reconciler.plan.drift import AUDIT_CATEGORIES, Drift, attribute, from_plan, not_attributed
from reconciler.policies.load import Layout
from reconciler.render import drift as render

if TYPE_CHECKING:
    from reconciler.graph.client import Graph

# How far back `drift --attribute` reads the directory audit log: Entra keeps it 30 days
# (with an Entra ID P1 or P2 licence; 7 without).
AUDIT_DAYS = 30
FORMATS = Formats[Drift](
    colored={"text": render.render_drift_text},
    plain={"markdown": render.render_drift_markdown, "json": render.render_drift_json},
)


def drift(options: Options, fmt: str = "text", attributed: bool = False) -> int:
    """What changed behind git's back: live vs policies/, read-only. Exit 2 on drift, so a
    scheduled job can open an issue on that code alone."""
    found = on_graph(options, lambda graph, layout: _drift(graph, layout, attributed, options.cloud))
    if found is None:
        return EXIT_ERROR
    print(FORMATS.render(found, fmt), end="")
    return EXIT_CHANGES if found.has_drift else EXIT_OK


async def _drift(graph: Graph, layout: Layout, attributed: bool, cloud: str) -> Drift:
    found = from_plan((await plan_with(graph, layout, prune=False, cloud=cloud)).plan)  # prune acts at apply only
    return await _attributed(graph, found) if attributed else found


async def _attributed(graph: Graph, found: Drift) -> Drift:
    """`found` with who changed each drifted resource, from one query of the directory audit
    log. Without the permission, or when Graph refuses the query, the drift still stands and
    the report says why it names no one."""
    from reconciler.graph.audit import directory_audits
    from reconciler.graph.errors import GraphError

    if not found.has_drift:
        return attribute(found, ())
    try:
        entries = await directory_audits(graph, AUDIT_CATEGORIES, datetime.now(UTC) - timedelta(days=AUDIT_DAYS))
    except GraphError as exc:
        reason = "the identity lacks AuditLog.Read.All (Graph answered 403)" if exc.status == 403 else str(exc)
        say(f"Warning: attribution was not possible: {reason}")
        return not_attributed(found, reason)
    say(f"Read {len(entries)} audit entries of the last {AUDIT_DAYS} days.")
    return attribute(found, entries)
