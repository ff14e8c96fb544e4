"""Apply under Graph's write quota: how close to the quota's floor a large apply finishes.

Graph allows 3,000 writes per 2 min 30 s per app and tenant
(https://learn.microsoft.com/en-us/graph/throttling-limits, identity and access), so W > 3,000
writes cannot finish before (W - 3,000) / (3,000 / 150 s). The emulator models that quota with
its window scaled down (`--window`), and this times `apply_changes` of W trust updates against
it, as tests/apply/test_writes.py drives it for correctness (each write once, no 429s). Apply is
told the scaled window (`Graph.write_quota`), as it knows Graph's. The ratio of the wall time to
that floor is the figure: 1.00 is the quota's own pace.

    python bench/quota.py [--writes 5000] [--window 10] [--repeat 5]

Importable: `samples(repeat)` returns each run's wall time and the floor, per run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.apply_changes import plant, trust_updates
from support.xtap import writes_served

from reconciler.apply.writes import ApplyReport, apply_plan
from reconciler.core.clouds import CLOUDS
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph.client import Graph, WriteQuota
from reconciler.plan.model import Change, Plan

QUOTA = 3000  # writes per window
RUN, FLOOR = "quota run s", "quota floor s"


def applied(base_url: str, changes: tuple[Change, ...], token: str, quota: WriteQuota) -> ApplyReport:
    async def run() -> ApplyReport:
        async with Graph(base_url, CLOUDS["global"], token) as graph:
            graph.write_quota = quota
            return await apply_plan(graph, Plan(changes=changes))

    return asyncio.run(run())


def once(writes: int, window: float) -> tuple[float, int]:
    """Seconds to apply `writes` trust updates under the quota, and the 429s drawn."""
    with Emulator(EmulatorConfig(write_quota=QUOTA, write_quota_window_s=window)) as emulator:
        plant(emulator, writes)
        changes = trust_updates(writes)
        started = time.monotonic()
        report = applied(emulator.base_url, changes, emulator.mint_token(), WriteQuota(QUOTA, window))
        elapsed = time.monotonic() - started
        throttled = sum(1 for request in writes_served(emulator) if request.status == 429)
    if not report.ok:
        raise SystemExit("the apply failed: the figure would mean nothing")
    return elapsed, throttled


def floor_s(writes: int, window: float) -> float:
    return max(0, writes - QUOTA) * window / QUOTA


def samples(repeat: int, writes: int = 5000, window: float = 10.0) -> dict[str, list[float]]:
    """Each of `repeat` runs' wall time, and the floor it is held against (the same each run)."""
    runs = [once(writes, window)[0] for _ in range(repeat)]
    return {RUN: runs, FLOOR: [floor_s(writes, window)] * repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=5000)
    parser.add_argument("--window", type=float, default=10.0, help="the quota window, in seconds (Graph's: 150)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    floor = floor_s(args.writes, args.window)
    runs = [once(args.writes, args.window) for _ in range(args.repeat)]
    ratios = sorted(elapsed / floor for elapsed, _ in runs) if floor else []
    print(f"{args.writes} writes, quota {QUOTA} per {args.window:g} s: floor {floor:.2f} s")
    for elapsed, throttled in runs:
        print(f"  {elapsed:.2f} s, {throttled} throttled (429)")
    if ratios:
        print(f"wall / floor: min {ratios[0]:.2f}x, median {statistics.median(ratios):.2f}x, max {ratios[-1]:.2f}x")


if __name__ == "__main__":
    main()
