"""CPU and memory of the in-memory work at scale: `xtap validate` of N varied files, the plan
compare, and the peak RSS of a whole plan.

No network: the files are written to a temp dir and loaded as `xtap validate` does; the live
state is built in memory. The inputs are the golden plan test's (tests/plan/test_planner_golden.py),
scaled up, so what is timed is what that test pins byte for byte. The peak RSS is a separate
process's: it loads the files, builds the live state, plans and renders the JSON plan, as
`xtap plan --format json` does minus the HTTP. To compare before and after a change, run it on
both (`git stash`, run, `git stash pop`, run) and quote both outputs.

    python bench/cpu.py [--partners 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import CSafeLoader  # type: ignore[attr-defined]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.golden_tenant import desired_partner, live_partner, live_sync, tenant

from reconciler.commands.run import collector_paused
from reconciler.core.address import Address
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.registry import IDENTITY_SYNC, PARTNER
from reconciler.plan.planner import make_plan
from reconciler.policies.load import load_policies
from reconciler.render import plan as render


def compared(desired: Desired, live: Live) -> None:
    """The plan's compare as `xtap plan` runs it: the collector paused, what it built frozen."""
    with collector_paused():
        make_plan(desired, live)


def write_files(root: Path, count: int) -> Path:
    """One YAML file per partner, with a comment, flow or block style varying."""
    (root / "partners").mkdir(parents=True)
    for n in range(count):
        body = json.dumps(desired_partner(n), indent=2 if n % 2 else None)
        (root / "partners" / f"p{n:05}.yaml").write_text(f"# partner {n}\n{body}\n")
    return root


def live_state(count: int) -> Live:
    instances: dict[Address, dict[str, Any]] = {}
    for n in range(count):
        instances[Address(PARTNER.name, tenant(n))] = live_partner(n)
        if n % 5 in (0, 3):
            instances[Address(IDENTITY_SYNC.name, tenant(n))] = live_sync(n)
    return Live(instances, (PARTNER.name,))


def libyaml_load(root: Path) -> None:
    """The floor `validate` is measured against: libyaml parsing every file, nothing else."""
    for path in sorted((root / "partners").iterdir()):
        CSafeLoader(path.read_text()).get_single_data()


def cpu_seconds(work: Callable[[], object], repeat: int, clock: Callable[[], float] = time.process_time) -> float:
    """Median process CPU of `repeat` runs: wall time would count the disk cache and other load
    (`clock` is another clock, for work done in other processes)."""
    runs = []
    for _ in range(repeat):
        start = clock()
        work()
        runs.append(clock() - start)
    return statistics.median(runs)


def plan_once(root: Path, count: int) -> None:
    """A whole plan in this process, for its peak RSS: what `xtap plan` holds, but the HTTP."""
    render.render_json(make_plan(load_policies(root), live_state(count)))


def plan_peak_rss_mb(root: Path, count: int) -> float:
    """The peak RSS of `plan_once` in a fresh process, so this one's files and state don't count."""
    command = [sys.executable, __file__, "--plan-only", str(root), "--partners", str(count)]
    subprocess.run(command, check=True, timeout=600)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plan-only", type=Path, help=argparse.SUPPRESS)  # the child of plan_peak_rss_mb
    args = parser.parse_args()
    if args.plan_only:
        plan_once(args.plan_only, args.partners)
        return
    with tempfile.TemporaryDirectory() as workdir:
        root = write_files(Path(workdir) / "policies", args.partners)
        floor = cpu_seconds(lambda: libyaml_load(root), args.repeat)
        validate = cpu_seconds(lambda: load_policies(root), args.repeat)
        desired, live = load_policies(root), live_state(args.partners)
        peak = plan_peak_rss_mb(root, args.partners)
    compare = cpu_seconds(lambda: compared(desired, live), args.repeat)
    print(f"partners: {args.partners}, median of {args.repeat} runs, process CPU seconds")
    print(f"libyaml load of the files:  {floor:6.2f}")
    print(f"validate (load_policies):   {validate:6.2f}  ({validate / floor:.2f}x libyaml)")
    print(f"plan compare:               {compare:6.2f}")
    print(f"plan peak RSS (MB):         {peak:6.0f}")


if __name__ == "__main__":
    main()
