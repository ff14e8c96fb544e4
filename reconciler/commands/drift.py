"""`xtap drift`: what changed behind git's back, live against policies/, read-only; with
`--attribute`, who changed it, from the directory audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.commands import tenants
from reconciler.commands.planning import plan_with
from reconciler.commands.run import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    Formats,
    Options,
    on_graph,
    on_graph_of,
    say,
    say_unnamed,
)
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


def drift_many(
    options: Options,
    patterns: Sequence[str],
    out_dir: Path,
    fmt: str = "text",
    attributed: bool = False,
    parallel: int = tenants.PARALLEL,
) -> int:
    """The drift of each folder the patterns name, `parallel` at once, each with the token of the
    tenant its xtap.yaml binds: `out_dir/<name>/report.<ext>` (`fmt`, without color), and on
    stdout one line per tenant. Exit 2 when any drifts, 1 when any failed."""
    named = tenants.named(patterns)
    if named is None:
        return EXIT_ERROR

    async def one(tenant: tenants.Tenant, into: Path) -> tenants.Outcome:
        ours = replace(options, policies=tenant.policies)
        bound, found = await on_graph_of(ours, lambda graph, layout: _drift(graph, layout, attributed, options.cloud))
        if found is None:
            return tenants.Outcome(tenant, bound, "error", EXIT_ERROR)
        await tenants.write(into, {tenants.report_name(fmt): FORMATS.render(found, fmt, colored=False)})
        if found.has_drift:
            return tenants.Outcome(tenant, bound, "drift", EXIT_CHANGES)
        return tenants.Outcome(tenant, bound, "no-drift", EXIT_OK)

    outcomes, code = tenants.work_on(named, parallel, out_dir, one, "drift")
    print(tenants.SUMMARIES[fmt](outcomes), end="")
    return code


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
