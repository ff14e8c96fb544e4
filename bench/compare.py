"""The plan compare alone, run as its own process by bench/run.py: it loads policies/ as
`xtap plan` does, reads the live tenant through the real code path (a Graph built as the CLI
builds it, read_live over the same scope), then times only the compare, `xtap plan`'s own
(make_plan with the collector paused and what it built frozen, as the command runs it). It prints the
compare's wall and process CPU seconds as JSON (the load and the read are not in them), and
how many changes it planned, for bench/run.py to check against `xtap plan`'s own.

    XTAP_ACCESS_TOKEN=... python bench/compare.py GRAPH_URL POLICIES_DIR
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from reconciler.commands.run import collector_paused
from reconciler.core.clouds import DEFAULT_TIMEOUT
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.graph.client import connect
from reconciler.graph.read import read_live, scope
from reconciler.plan.planner import make_plan
from reconciler.policies.load import load_policies


async def read(graph_url: str, desired: Desired) -> Live:
    """The live tenant as `xtap plan --graph-url` reads it: same client, same scope."""
    token = os.environ.get("XTAP_ACCESS_TOKEN")
    async with connect(graph_url, "global", token, DEFAULT_TIMEOUT, desired.tenant) as graph:
        return await read_live(graph, scope(desired))


def main() -> None:
    graph_url, policies = sys.argv[1], Path(sys.argv[2])
    desired = load_policies(policies)
    live = asyncio.run(read(graph_url, desired))
    wall, cpu = time.perf_counter(), time.process_time()
    with collector_paused():
        plan = make_plan(desired, live)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"wall": wall, "cpu": cpu, "changes": len(plan.changes)}))


if __name__ == "__main__":
    main()
