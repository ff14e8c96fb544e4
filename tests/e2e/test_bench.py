"""bench/run.py at a toy size, so the command bench/RESULTS.md quotes keeps working as xtap changes.

Only that it runs and reports every measurement, each with its spread, and a line for every goal
is checked here: the figures themselves are the benchmark's business, and it stays out of the
suite (docs/development.md).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from support.paths import REPO

BENCH = REPO / "bench" / "run.py"
MEASUREMENTS = (
    "validate: xtap",
    "validate: libyaml load",
    "plan: xtap",
    "plan: compare",
    "plan: xtap, naming what it changes",
    "plan: floor",
    "apply: xtap",
    "apply: xtap, every partner changed",
    "apply: per-resource, write everything",
    "apply: per-resource, read everything, write what differs",
    "apply: floor, write everything",
    "apply: floor, read everything, write what differs",
)
GOALS = 12  # one line each, in the order of run.py's GOALS
# A goal's line: its figure with the median's spread, then its verdict; or why it was not measured.
JUDGED = re.compile(r"^- .+: .+ \(median; (every one of \d+ runs?|min .+, max .+ of \d+ runs?)\).*: (met|not met)$")
NOT_MEASURED = re.compile(r"^- .+: not measured \(.+\)$")


def test_bench_reports_every_measurement_and_goal(tmp_path: Path) -> None:
    """One toy size, two runs of each: every row shows its spread, every goal has its line."""
    out = tmp_path / "results.md"
    argv = ["--sizes", "7", "--latency", "0", "--repeat", "2", "--out", str(out)]
    done = subprocess.run([sys.executable, str(BENCH), *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = out.read_text()
    assert " ".join(argv) in report
    goals = report.split("## Goals\n\n")[1].split("\n\n")[0].splitlines()
    assert len(goals) == GOALS
    assert all(JUDGED.match(goal) or NOT_MEASURED.match(goal) for goal in goals), goals
    # No latency: what is judged against a latency floor says so instead of a verdict.
    assert goals[0].endswith("not measured (it needs a --latency above 0)")
    # Stated for 100,000 partners: the run says which sizes it ran instead.
    assert goals[7].endswith("not measured (stated for 100,000 partners; this run: 7 partners; add 100000 to --sizes)")
    assert goals[10].endswith("not measured (stated for 10,000 partners; this run's largest size: 7)")
    assert goals[11].endswith("not measured (run with --tenants-case)")
    section = report.split("## 7 partners")[1].split("\n## ")[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and "measurement" not in line]
    assert [row[0].removeprefix("| ").split(" (")[0] for row in rows] == list(MEASUREMENTS)
    # Each measured row's wall time: the median, and its min and max when the runs differ.
    walls = [row[2] for row in rows if row[3]]
    assert all(re.fullmatch(r"\d+\.\d\d( \(\d+\.\d\d-\d+\.\d\d\))?", wall) for wall in walls), walls
    # 7 partners: 2 with identity sync, 1 changed with its sync too, so 2 writes; all 9 when every one changed
    assert "| apply: xtap (2 writes) |" in section
    assert "| apply: xtap, every partner changed (9 writes) |" in section
    assert "| apply: per-resource, write everything | 18 |" in section
    assert "| apply: per-resource, read everything, write what differs (2 writes) | 11 |" in section
    # A figure for scale below the table, its spread in words.
    assert "the re-read in 1 requests (median; every one of 2 runs) after 2 writes; goal <= the 1 pages" in section
    # Where the time goes: the plan at the largest size and the apply of every partner changed,
    # each profiled: its own time by package, and the functions with the most, most first.
    profiles = report.split("## Where the time goes\n\n")[1].split("\n### ")[1:]
    assert [profile.splitlines()[0] for profile in profiles] == [
        "`xtap plan` at 7 partners",
        "`xtap apply` at 7 partners, every one changed",
    ]
    for profile in profiles:
        assert re.search(
            r"^[\d.]+ s wall and [\d.]+ s CPU under the profiler, \d+ requests\. Own time by package: `", profile, re.M
        )
        own = [float(line.split(" | ")[1]) for line in profile.splitlines() if line.startswith("| `")]
        assert len(own) == 8 and own == sorted(own, reverse=True), profile


def bench_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/run.py imported by its path, as the module its dataclasses are defined in."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_above_10000_partners_apply_is_not_run_and_the_report_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 100,000 partners apply's 15,000 writes would wait on the write quota for 10 minutes a
    run: the size's report has no apply row, says why, and its apply goals are not measured."""
    run = bench_module(monkeypatch)
    plan = run.Runs((run.Measured(40.0, 30.0, 650.0, 1001, '{"changes": []}'),))
    size = run.Size(
        count=100_000,
        changed=10_000,
        writes=15_000,
        pages=1_000,
        resources=125_000,
        **dict.fromkeys(("validate", "libyaml", "plan", "named", "compare"), plan),
        **dict.fromkeys(("apply", "every_changed", "write_all", "write_differing")),
    )
    args = run.parse(["--sizes", "100000"])
    section = run.section(size, args)
    assert not [line for line in section if line.startswith("| apply")]
    assert (
        "Apply was not run above 10,000 partners: its goals are stated for 1,000 and 10,000, and its 15,000"
        " writes here, at Graph's documented write quota of 3,000 writes per 150 s (which the emulator"
        " enforces), would take at least 10 minutes a run" in "\n".join(section)
    )
    report = run.Report([size], 0.03, {"startup": "-", "pages": "-", "quota": "-", "explain": "-"}, "-")
    reread = next(line for line in run.summary(report) if "re-read" in line)
    assert reread.endswith(
        "not measured (stated for 10,000 partners, 1,000 changed; this run: 100,000 partners; add 10000 to --sizes)"
    )
