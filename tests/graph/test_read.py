"""Reading the tenant (`graph/read.py`): the list and the singletons at once, nothing read twice,
one clean error when reads at once fail, and progress only where someone watches a terminal.
Apply's verifying re-read is in tests/apply/test_verify.py."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support.capability_plans import MAIL_TIPS, PROFILE, ROOMS, capability, listed
from support.clock import ManualClock
from support.paged_tenant import (
    COUNT,
    DEFAULT,
    PAGES,
    SYNC_TEMPLATE,
    TEMPLATE,
    gets,
    list_pages,
    partner,
    policies,
    seeded,
)
from support.policy_files import write_policies
from support.xtap import READ_ONLY, run_xtap, xtap_environment

from reconciler.core.address import Address
from reconciler.core.clouds import CLOUDS
from reconciler.core.live import Live
from reconciler.core.registry import M365_CAPABILITY, PARTNER
from reconciler.emulator import Emulator
from reconciler.graph.client import Graph
from reconciler.graph.read import read_each, read_live


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
    assert "reconciler.commands.cli" in imported  # the log is read: it names what the command imports
    assert not {name for name in imported if name.split(".")[0] in ("rich", "msgraph", "kiota_abstractions")}


def test_read_each_finds_a_capability_in_its_parent_s_list_never_by_name(emulator: Emulator) -> None:
    """Graph documents no GET of one capability (the emulator serves one, as the SDKs' route
    does): apply's verifying re-read finds each in its parent's list, one list per parent."""
    tenant = "00000001-5d3d-455c-8016-e2af1ae4d31a"
    held = {name: listed(capability(name)) for name in (MAIL_TIPS, PROFILE)}
    emulator.put_partner({"tenantId": tenant, "m365Capabilities": held})
    wanted = [Address(M365_CAPABILITY.name, f"{tenant}/{name}") for name in (MAIL_TIPS, PROFILE, ROOMS)]

    async def reading() -> dict[Address, Any]:
        async with Graph(emulator.base_url, CLOUDS["global"], emulator.mint_token(roles=READ_ONLY)) as graph:
            return await read_each(graph, [*wanted, Address(PARTNER.name, tenant)])

    found = asyncio.run(reading())
    assert found[wanted[0]] == held[MAIL_TIPS] and found[wanted[1]] == held[PROFILE]
    assert found[wanted[2]] is None  # not in the list: gone
    assert found[Address(PARTNER.name, tenant)] is not None
    capability_reads = sorted(r.path for r in emulator.requests if "m365Capabilities" in r.path)
    assert capability_reads == [f"/policies/crossTenantAccessPolicy/partners/{tenant}/m365Capabilities"]
