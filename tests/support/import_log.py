"""Which modules `xtap` imports, from Python's import log (PYTHONPROFILEIMPORTTIME: one stderr
line per module imported), and which of them only talking to Graph needs."""

from __future__ import annotations

import re

from reconciler.emulator import Emulator
from support.xtap import Run, run_xtap

# Graph's SDK and HTTP stack, the progress display, and xtap's own modules that talk to Graph.
HEAVY = ("msgraph", "msgraph_core", "azure", "httpx", "httpcore", "h2", "rich", "deepdiff")
GRAPH_SIDE = ("reconciler.graph.client", "reconciler.apply.writes", "reconciler.graph.read", "reconciler.graph.batch")
# A module's own time may print negative: CPython keeps one running total for every thread, so
# modules imported by two threads at once (the files load in one while the tenant is read in
# another) subtract each other's time. The name is what counts here.
IMPORT_LINE = re.compile(r"^import time:\s+-?\d+ \|\s+-?\d+ \|\s*(\S+)$", re.MULTILINE)


def import_log(*args: str, emulator: Emulator | None = None) -> Run:
    """`xtap ARGS` with the import log on (against `emulator`, or a closed port). A process of
    its own: only a new interpreter imports everything afresh, and logs it."""
    return run_xtap(*args, emulator=emulator, extra_env={"PYTHONPROFILEIMPORTTIME": "1"}, subprocess=True)


def logged_modules(run: Run) -> set[str]:
    """Every module a run's import log names."""
    return set(IMPORT_LINE.findall(run.stderr))


def imported(*args: str) -> set[str]:
    """Every module the CLI imported running `xtap ARGS`, which must succeed."""
    run = import_log(*args)
    assert run.code == 0, run.stderr[-2000:]
    return logged_modules(run)


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in HEAVY
        or name.startswith("kiota_")
        or any(name == own or name.startswith(f"{own}.") for own in GRAPH_SIDE)
    )
