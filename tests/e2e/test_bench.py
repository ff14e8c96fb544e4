"""bench/run.py at a toy size, so the command bench/RESULTS.md quotes keeps working as xtap changes.

Only that it runs and reports every measurement is checked here: the figures themselves are
the benchmark's business, and it stays out of the suite (docs/development.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    "apply: per-resource baseline",
    "apply: per-resource floor",
)


def test_bench_reports_every_measurement(tmp_path: Path) -> None:
    """One toy size: each size is measured by the same code, one process per measurement."""
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "7", "--latency", "0", "--repeat", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = out.read_text()
    assert f"--sizes 7 --latency 0 --repeat 1 --out {out}" in report
    section = report.split("## 7 partners")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "measurement" not in line]
    assert [row.split(" | ")[0].removeprefix("| ").split(" (")[0] for row in rows] == list(MEASUREMENTS)
    # 7 partners: 2 with identity sync, 1 changed with its sync too, so 2 writes
    assert "| apply: xtap (2 writes) |" in section
    assert "| apply: per-resource baseline | 18 |" in section
