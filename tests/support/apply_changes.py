"""Changes applied straight through `apply.writes` (msgraph-sdk, `$batch`, real HTTP) against the
emulator, without planning: the partners they need planted, and what came of them."""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.apply.writes import ApplyReport, apply_plan
from reconciler.core.clouds import CLOUDS
from reconciler.core.registry import PARTNER
from reconciler.emulator import Emulator, RecordedRequest
from reconciler.graph.client import GRAPH_WRITE_QUOTA, Graph, WriteQuota
from reconciler.plan import actions
from reconciler.plan.model import Change, Plan
from support.emulator_http import TRUST


def tenant(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-000000000000"


def trust_updates(count: int) -> tuple[Change, ...]:
    """One PATCH of inboundTrust per partner 1..count (which must exist to apply)."""
    return tuple(
        Change(
            PARTNER.name, tenant(n), "update", None, (), actions.update(PARTNER, tenant(n), {"inboundTrust": TRUST}, {})
        )
        for n in range(1, count + 1)
    )


def plant(emulator: Emulator, count: int) -> None:
    for n in range(1, count + 1):
        emulator.put_partner({"tenantId": tenant(n)})


def apply_changes(
    base_url: str, changes: tuple[Change, ...], token: str, quota: WriteQuota = GRAPH_WRITE_QUOTA
) -> ApplyReport:
    """`changes` applied, paced by `quota` (the emulator's, when its window is scaled down)."""

    async def run() -> ApplyReport:
        async with Graph(base_url, CLOUDS["global"], token) as graph:
            graph.write_quota = quota
            return await apply_plan(graph, Plan(changes=changes))

    return asyncio.run(run())


def envelopes(emulator: Emulator) -> list[RecordedRequest]:
    """The `$batch` POSTs that carry writes: apply's re-read sends its GETs in batches too."""
    return [r for r in emulator.requests if r.path.endswith("/$batch") and _writes(r.body)]


def _writes(body: Any) -> bool:
    items = body.get("requests") if isinstance(body, dict) else None
    return not isinstance(items, list) or any(isinstance(i, dict) and i.get("method") != "GET" for i in items)


def statuses(report: ApplyReport) -> list[str]:
    return [outcome.status for outcome in report.outcomes]
