"""`xtap drift`: what changed behind git's back, live against policies/, read-only; with
`--attribute`, who changed it, from the directory audit log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.commands.planning import plan_with
from reconciler.commands.run import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Formats, Options, on_graph, say, say_unnamed
from reconciler.core.names import Names
from reconciler.core.registry import REGISTRY_BY_NAME
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
    planned = await plan_with(graph, layout, prune=False, cloud=cloud)  # prune acts at apply only
    found = await _named(graph, from_plan(planned.plan), planned.names)
    return await _attributed(graph, found) if attributed else found


async def _named(graph: Graph, found: Drift, known: Names) -> Drift:
    """`found` with the names of the partners the plan did not look up: those in the tenant
    with no file (unmanaged) and those whose file is in error, which the plan shows but does
    not change. One tenant-information `$batch` per 20 of them; what the token may not look up
    was said by the plan, and is said here only if this lookup found a new reason."""
    from reconciler.graph.names import look_up

    tenants = {
        tenant
        for item in found.items
        if (tenant := REGISTRY_BY_NAME[item.resource].tenant_of(item.id)) is not None and tenant not in found.names
    }
    if not tenants:
        return found
    names = await look_up(graph, tenants=tenants)
    say_unnamed(Names(unavailable={k: why for k, why in names.unavailable.items() if k not in known.unavailable}))
    labelled = {tenant: label for tenant in tenants if (label := names.tenant(tenant)) is not None}
    return replace(found, names=dict(sorted({**found.names, **labelled}.items())))


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
