"""`xtap --help`, `xtap validate` and `xtap check` (without --live) stay light: they import nothing
that talking to Graph needs.

validate runs on every pull request and in editors' save hooks; the Graph SDK, its HTTP stack and
the apply machinery cost a second of imports there and do nothing. The real CLI runs with
Python's import log (PYTHONPROFILEIMPORTTIME, one stderr line per module imported), so a new
top-level import anywhere on the path fails here, naming the module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_xtap
from policy_files import write_policies

# Graph's SDK and HTTP stack, the progress display, and xtap's own modules that talk to Graph.
HEAVY = ("msgraph", "msgraph_core", "azure", "httpx", "httpcore", "h2", "rich", "deepdiff")
GRAPH_SIDE = ("reconciler.graph", "reconciler.apply", "reconciler.read", "reconciler.batch")
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.MULTILINE)


def imported(*args: str) -> set[str]:
    """Every module the CLI imported running `xtap ARGS`, which must succeed."""
    run = run_xtap(*args, extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert run.code == 0, run.stderr[-2000:]
    return set(IMPORT_LINE.findall(run.stderr))


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in HEAVY
        or name.startswith("kiota_")
        or any(name == own or name.startswith(f"{own}.") for own in GRAPH_SIDE)
    )


@pytest.mark.parametrize("command", ["--help", "validate", "check"])
def test_light_commands_import_nothing_graph_needs(command: str, tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])
    modules = imported(command, *(["--policies", str(policies)] if command != "--help" else []))
    assert "reconciler.load" in modules or command == "--help"
    assert heavy(modules) == []


def test_the_import_log_sees_graph_side_modules(tmp_path: Path) -> None:
    """The check above can fail: `xtap plan` does import the SDK (it fails here on a closed port)."""
    policies = write_policies(tmp_path / "policies", [])
    run = run_xtap("plan", "--policies", str(policies), extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert {"msgraph", "reconciler.graph"} <= set(heavy(set(IMPORT_LINE.findall(run.stderr))))
