"""A plan's page path against its floors: the client CPU of one listing page through xtap's
Graph client next to a bare httpx walk of the same pages, and `xtap plan`'s wall time next to
its page floor (the list's pages one after another, since each nextLink comes from the
previous page).

The tenant is bench/run.py's (`seeded`, `write_policies`), in an emulator in this process with
`latency` added to every request. Each walk runs in a child process, as `xtap plan` does, so
its CPU (the child's process time over the walk) is the client's alone, and the client and the
emulator do not share an interpreter lock. The page walk through xtap is `Graph.get_all` of the
partner list as `read_live` asks for it: $expand included, and each page handed to a callback
as it arrives (here one that keeps nothing), not gathered into one list; the bare walk sends
the same GETs with one httpx client and `json.loads` of each body, nothing else: the least
any client could do. Neither keeps the pages: holding 10,000 parsed partners costs CPU of its
own (the garbage collector walks them: 0.2 to 0.5 ms a page, measured), the caller's, not the
client's.

    python bench/pages.py [--partners 10000] [--latency 0.03] [--repeat 5]

Importable: `samples(repeat, partners, latency)` returns each measurement's per-run values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import httpx

from reconciler.core.clouds import CLOUDS
from reconciler.core.registry import PARTNER
from reconciler.emulator import Emulator
from reconciler.graph.client import Graph

PAGE_SIZE = 100  # the emulator's page, as bench/run.py seeds it
SDK_CPU, BARE_CPU = "sdk page walk CPU ms/page", "bare httpx page walk CPU ms/page"
PLAN_WALL, PLAN_FLOOR = "plan wall s", "plan page floor s"


def _first_url(graph: Graph) -> str:
    """The partner list's first page as `read_live` asks for it."""
    from reconciler.graph.read import _expanded

    return str(_expanded(graph, PARTNER, PARTNER.collection_url).url)


async def _sdk_walk(base_url: str, token: str) -> tuple[float, int]:
    """CPU seconds of `Graph.get_all` over the partner list, and its pages."""
    async with Graph(base_url, CLOUDS["global"], token) as graph:
        first = graph.request_info("GET", _first_url(graph))
        await graph.get(graph.request_info("GET", "/policies/crossTenantAccessPolicy/default"))  # warm
        before, started = graph.request_count, time.process_time()
        await graph.get_all(first, _dropped)
        return time.process_time() - started, graph.request_count - before


def _dropped(values: list[dict[str, Any]]) -> None:
    """A page's items, heard and let go, as the bare walk lets go of each page."""


async def _bare_walk(base_url: str, token: str) -> tuple[float, int]:
    """The same pages through one bare httpx client: GET, json.loads, follow the nextLink."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(headers=headers) as client:
        graph = Graph(base_url, CLOUDS["global"], token)
        url: str | None = _first_url(graph)
        await graph.__aexit__()
        await client.get(base_url + "/policies/crossTenantAccessPolicy/default")  # warm
        pages, started = 0, time.process_time()
        while url is not None:
            page = json.loads((await client.get(url)).content)
            pages += 1
            url = page.get("@odata.nextLink")
        return time.process_time() - started, pages


WALKS = {"sdk": _sdk_walk, "bare": _bare_walk}


def _walked_ms(kind: str, emulator: Emulator, token: str) -> float:
    """CPU ms per page of one walk, run in a child process (`--walk`)."""
    argv = [sys.executable, __file__, "--walk", kind, emulator.base_url]
    env = {**os.environ, "XTAP_ACCESS_TOKEN": token}
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True, timeout=600)
    return float(done.stdout)


def _plan_wall(emulator: Emulator, policies: Path) -> float:
    """Wall seconds of `xtap plan --format json` as its own process, as bench/run.py runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_"))}
    repo = str(Path(__file__).resolve().parents[1])
    env.update(CI="1", NO_COLOR="1", PYTHONPATH=os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH")])))
    env["XTAP_ACCESS_TOKEN"] = emulator.mint_token(name="xtap bench")
    argv = [sys.executable, "-m", "reconciler", "plan", "--format", "json", "--policies", str(policies)]
    started = time.perf_counter()
    subprocess.run([*argv, "--graph-url", emulator.base_url], env=env, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def samples(repeat: int, partners: int = 10_000, latency: float = 0.03) -> dict[str, list[float]]:
    """Each measurement's value in each of `repeat` runs, against one seeded tenant."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run  # bench/run.py: its tenant, seeded and written as its plan measures it

    args = argparse.Namespace(latency=latency, page_size=PAGE_SIZE, changed=0.1)
    found: dict[str, list[float]] = {SDK_CPU: [], BARE_CPU: [], PLAN_WALL: [], PLAN_FLOOR: []}
    with tempfile.TemporaryDirectory() as workdir:
        policies = run.write_policies(Path(workdir) / "policies", partners)
        emulator = run.seeded(partners, args)
        try:
            token = emulator.mint_token()
            pages = max(1, math.ceil(partners / PAGE_SIZE))
            for _ in range(repeat):
                found[SDK_CPU].append(_walked_ms("sdk", emulator, token))
                found[BARE_CPU].append(_walked_ms("bare", emulator, token))
                found[PLAN_WALL].append(_plan_wall(emulator, policies))
                found[PLAN_FLOOR].append(pages * latency)
        finally:
            emulator.stop()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--walk", nargs=2, metavar=("KIND", "GRAPH_URL"), help=argparse.SUPPRESS)  # a child's
    args = parser.parse_args()
    if args.walk:
        cpu, walked = asyncio.run(WALKS[args.walk[0]](args.walk[1], os.environ["XTAP_ACCESS_TOKEN"]))
        print(1000 * cpu / walked)
        return
    found = samples(args.repeat, args.partners, args.latency)
    print(f"{args.partners} partners, {args.latency * 1000:g} ms a request, {args.repeat} runs: min / median / max")
    for name, values in found.items():
        print(f"  {name:34} {min(values):8.3f} {statistics.median(values):8.3f} {max(values):8.3f}")
    extra = [sdk - bare for sdk, bare in zip(found[SDK_CPU], found[BARE_CPU], strict=True)]
    ratios = [wall / floor for wall, floor in zip(found[PLAN_WALL], found[PLAN_FLOOR], strict=True)]
    print(f"  {'sdk - bare CPU ms/page':34} {min(extra):8.3f} {statistics.median(extra):8.3f} {max(extra):8.3f}")
    print(f"  {'plan wall / floor':34} {min(ratios):8.3f} {statistics.median(ratios):8.3f} {max(ratios):8.3f}")


if __name__ == "__main__":
    main()
