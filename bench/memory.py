"""xtap's memory and file-loading cost, each command run as its own process (os.wait4, like
bench/run.py's `child`): a plan's peak RSS per partner against an in-process emulator at no
latency, and `xtap validate` of 10,000 files against a plain libyaml load of the same files
(bench/libyaml_load.py), in wall and in CPU.

    python bench/memory.py [--partners 100000] [--repeat 3]

Importable too: bench/run.py takes `samples` for its report.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent
VALIDATE_FILES = 10_000


def samples(repeat: int, partners: int = 100_000) -> dict[str, list[float]]:
    """Per run: a plan's peak RSS in KB per partner at `partners`, and `xtap validate`'s wall and
    CPU at 10,000 files as ratios to a libyaml load of the same files."""
    run = _run()
    found: dict[str, list[float]] = {
        "plan peak RSS KB/partner": [],
        "validate wall ratio vs libyaml": [],
        "validate CPU ratio vs libyaml": [],
    }
    with tempfile.TemporaryDirectory() as workdir:
        files = str(run.write_policies(Path(workdir) / "policies", VALIDATE_FILES))
        libyaml_argv = [sys.executable, str(BENCH / "libyaml_load.py"), files]
        for _ in range(repeat):
            validate = run.against(None, run.xtap("validate", "--policies", files), 3600)
            libyaml = run.against(None, libyaml_argv, 3600)
            found["validate wall ratio vs libyaml"].append(validate.wall / libyaml.wall)
            found["validate CPU ratio vs libyaml"].append(validate.cpu / libyaml.cpu)
    found["plan peak RSS KB/partner"] = plan_rss_kb(repeat, partners)
    return found


def plan_rss_kb(repeat: int, partners: int) -> list[float]:
    """`xtap plan --format json`'s peak RSS per partner, in KB, once per run."""
    run = _run()
    args = argparse.Namespace(latency=0.0, page_size=100, changed=0.1)
    with tempfile.TemporaryDirectory() as workdir:
        files = str(run.write_policies(Path(workdir) / "policies", partners))
        with run.tenant_of(partners, args) as emulator:
            argv = run.xtap("plan", "--format", "json", "--policies", files, "--graph-url", "{graph}")
            return [run.against(emulator, argv, 3600).rss_mb * 1024 / partners for _ in range(repeat)]


def _run() -> ModuleType:
    """bench/run.py, imported when needed: it imports this module too."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import run

    return run


def _spread(values: list[float], unit: Callable[[float], str]) -> str:
    return f"min {unit(min(values))}, median {unit(statistics.median(values))}, max {unit(max(values))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000, help="partners of the plan measured")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plan-only", action="store_true", help="measure the plan alone")
    args = parser.parse_args()
    if args.plan_only:
        found = {"plan peak RSS KB/partner": plan_rss_kb(args.repeat, args.partners)}
    else:
        found = samples(args.repeat, args.partners)
    for name, values in found.items():
        print(f"{name} ({len(values)} runs): {_spread(values, lambda value: f'{value:.2f}')}")


if __name__ == "__main__":
    main()
