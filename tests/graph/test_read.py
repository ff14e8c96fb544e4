"""Reading the tenant: the list and the singletons at once, nothing read twice, a verifying
re-read within the plan's own reads, and progress only where someone watches a terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from support.clock import ManualClock
from support.policy_files import write_policies
from support.xtap import run_xtap, xtap_environment

from reconciler.apply import verify
from reconciler.apply.verify import READ_BACK_DELAYS
from reconciler.core.clouds import CLOUDS
from reconciler.core.live import Live
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph.client import Graph
from reconciler.graph.read import read_live

TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
DEFAULT = "/v1.0/policies/crossTenantAccessPolicy/default"
TEMPLATE = "/v1.0/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration"
SYNC_TEMPLATE = "/v1.0/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization"
# 25 partners at 10 a page: three pages, so paging, cancelling and re-reading all show.
COUNT, PAGE_SIZE, PAGES = 25, 10, 3


def tenant(n: int) -> str:
    return f"0b4f0a2e-1111-4222-8333-{n:012x}"


def partner(n: int, mfa: bool = True) -> dict[str, Any]:
    return {"tenantId": tenant(n), "inboundTrust": {**TRUST, "isMfaAccepted": mfa}}


def seeded(latency_s: float = 0.0, drifted: int = 0, read_lag_s: float = 0.0) -> Emulator:
    """An emulator holding COUNT partners, the first `drifted` of them off their files."""
    emulator = Emulator(EmulatorConfig(page_size=PAGE_SIZE, latency_s=latency_s, read_lag_s=read_lag_s))
    for n in range(COUNT):
        emulator.put_partner(partner(n, mfa=n >= drifted))
    return emulator


def policies(tmp_path: Path) -> Path:
    """Every partner as seeded undrifted, the default as Graph ships it, and the MTO template."""
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)], {})
    (root / "default.yaml").write_text("# as Graph ships it\n")
    return root


def gets(emulator: Emulator) -> list[str]:
    return [r.path for r in emulator.requests if r.method == "GET"]


def list_pages(paths: list[str]) -> list[str]:
    return [path for path in paths if path.startswith(PARTNERS + "?")]


def test_the_list_and_the_singletons_are_read_at_once(emulator_clock: ManualClock) -> None:
    """The list's first page and the three singletons are in flight together: the emulator holds
    their answers until all four requests have come, which they do only if none waits for another."""
    types = ("partner", "identitySynchronization", "default", "mtoPartnerTemplate", "mtoIdentitySyncTemplate")

    async def read(emulator: Emulator) -> Live:
        async with Graph(emulator.base_url, CLOUDS["global"], emulator.mint_token()) as graph:
            return await read_live(graph, types)

    with seeded() as emulator:
        emulator_clock.gather(4)
        live = asyncio.run(read(emulator))
        paths = gets(emulator)
    assert emulator_clock.gathered
    assert len(paths) == PAGES + 3
    [first_page] = list_pages(paths[:4])  # the four held together: the list's first page ...
    assert sorted(set(paths[:4]) - {first_page}) == sorted((DEFAULT, TEMPLATE, SYNC_TEMPLATE))  # ... and the singletons
    assert len(live.of("partner")) == COUNT and set(live.read) == set(types)


def test_plan_reads_each_page_and_each_singleton_once(tmp_path: Path) -> None:
    with seeded() as emulator:
        planned = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies(tmp_path)), emulator=emulator)
        paths = gets(emulator)
    assert planned.code == 0, planned.stderr  # converged: the tenant matches
    assert len(list_pages(paths)) == PAGES and len(set(paths)) == len(paths) == PAGES + 2
    assert {DEFAULT, TEMPLATE} <= set(paths)
    assert f"({PAGES + 2} request(s))" in planned.stderr


@pytest.mark.parametrize("saved", [False, True])
def test_apply_reads_the_tenant_once_and_verifies_with_one_get_per_change(tmp_path: Path, saved: bool) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    plan_file = tmp_path / "plan.json"
    with seeded(drifted=1) as emulator:
        if saved:
            assert run_xtap("plan", "--out", str(plan_file), "--policies", str(root), emulator=emulator).code == 0
            emulator.clear_requests()
        applied = run_xtap(
            "apply", *([str(plan_file)] if saved else ["--auto-approve"]), "--policies", str(root), emulator=emulator
        )
        paths = gets(emulator)
    assert applied.code == 0, applied.stderr
    # The plan's reads (three pages and the default), then the one partner written, read back.
    assert len(list_pages(paths)) == PAGES and paths.count(DEFAULT) == 1
    assert [path for path in paths if path.startswith(PARTNERS + "/")] == [f"{PARTNERS}/{tenant(0)}"]
    assert len(paths) == PAGES + 2 and "Warning" not in applied.stderr


def test_many_changes_are_verified_by_reading_the_tenant_again_once(tmp_path: Path) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(drifted=10) as emulator:
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        paths = gets(emulator)
    assert applied.code == 0 and "Apply complete: 10 applied" in applied.stdout, applied.stdout + applied.stderr
    # Ten GETs would cost more than the plan's four reads: the list and the default again instead.
    assert len(list_pages(paths)) == 2 * PAGES and paths.count(DEFAULT) == 2 and len(paths) == 2 * (PAGES + 1)
    assert "Warning" not in applied.stderr


@pytest.mark.parametrize(("lag", "warned"), [(0.3, False), (8.0, True)])
def test_the_re_read_waits_out_a_short_read_lag_and_names_what_outlasts_it(
    tmp_path: Path, lag: float, warned: bool, emulator_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graph may show the old value just after a write (undocumented; other tools report it). A
    lag shorter than the retries (0.5 s, 1 s, 2 s) draws no warning; a longer one names the
    resource. Either way the check costs no more GETs than the plan did (four: three pages and the
    default). Apply's waits between re-reads pass on the emulator's clock, which nothing else moves."""

    async def wait(seconds: float) -> None:
        emulator_clock.advance(seconds)

    monkeypatch.setattr(verify, "asyncio", SimpleNamespace(sleep=wait))
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(drifted=1, read_lag_s=lag) as emulator:
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        paths = gets(emulator)
    assert emulator_clock.now == (sum(READ_BACK_DELAYS) if warned else READ_BACK_DELAYS[0])  # what apply waited
    assert applied.code == 0, applied.stderr
    warnings = [line for line in applied.stderr.splitlines() if line.startswith("Warning:")]
    assert lag > sum(READ_BACK_DELAYS) if warned else lag < READ_BACK_DELAYS[0]
    if not warned:
        assert warnings == [], applied.stderr
    else:
        assert warnings == [
            f"Warning: partner {tenant(0)}: inboundTrust does not read back as it was written "
            "(Graph may still be replicating; run xtap plan to check)."
        ]
    assert len(paths) <= 2 * (PAGES + 1) and paths.count(f"{PARTNERS}/{tenant(0)}") >= 2


def test_graph_errors_while_reading_at_once_end_in_one_line(tmp_path: Path) -> None:
    """The list and the default both answer 403: the first error is reported, the other read
    cancelled, and nothing else reaches the user (no "Task exception was never retrieved")."""
    with seeded(latency_s=0.05) as emulator:
        # A subprocess: asyncio reports a task nobody awaited as the process ends, which the test
        # process does not do after a run.
        denied = run_xtap("plan", "--policies", str(policies(tmp_path)), emulator=emulator, roles=(), subprocess=True)
    assert denied.code == 1
    errors = [line for line in denied.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "403" in errors[0], denied.stderr
    assert "Task exception" not in denied.stderr and "Traceback" not in denied.stderr


def on_terminal(*args: str, emulator: Emulator, extra_env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`xtap ARGS` with stderr on a pseudo-terminal (stdout to a pipe, as in `xtap plan > file`):
    the exit code, stdout, and every byte the terminal received."""
    controller, terminal = pty.openpty()
    env = xtap_environment(
        emulator, extra_env={"CI": None, "TERM": "xterm-256color", "COLUMNS": "100", **(extra_env or {})}
    )
    with subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    ) as process:
        os.close(terminal)
        shown = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            try:
                chunk = os.read(controller, 65536) if ready else b"?"
            except OSError:  # the child closed the terminal: it has exited
                break
            shown += chunk if ready else b""
        os.close(controller)
        stdout = process.stdout.read() if process.stdout else b""
        code = process.wait(timeout=10)
    return code, stdout.decode(), shown.decode(errors="replace")


def test_progress_shows_on_a_terminal(tmp_path: Path) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(latency_s=0.2, drifted=3) as emulator:
        code, stdout, shown = on_terminal("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
    assert code == 0, shown
    assert "Reading partners …" in shown and " read" in shown
    assert "Applying" in shown and "/3" in shown
    assert "Apply complete: 3 applied" in stdout  # the report still goes to stdout, untouched


@pytest.mark.parametrize("where", ["pipe", "CI"])
def test_no_progress_in_logs(tmp_path: Path, where: str) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(latency_s=0.1, drifted=3) as emulator:
        if where == "CI":
            code, _, shown = on_terminal(
                "apply", "--auto-approve", "--policies", str(root), emulator=emulator, extra_env={"CI": "true"}
            )
        else:
            done = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
            code, shown = done.code, done.stderr
    assert code == 0, shown
    assert "Reading partners" not in shown and "Applying" not in shown
    assert "Reading the live tenant from" in shown  # the one-line messages, as always
    assert "\x1b" not in shown


@pytest.mark.parametrize("command", ["validate", "--help"])
def test_validate_and_help_import_neither_rich_nor_the_graph_sdk(tmp_path: Path, command: str) -> None:
    root = write_policies(tmp_path / "policies", [partner(0)])
    options = ["--policies", str(root)] if command == "validate" else []
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", command, *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "reconciler.commands.run" in imported
    assert not {name for name in imported if name.split(".")[0] in ("rich", "msgraph", "kiota_abstractions")}
