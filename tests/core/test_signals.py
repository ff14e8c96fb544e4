"""Ctrl-C as a user presses it: SIGINT to a running `xtap`, which must exit 130 with a report."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY, SEED_001_PATCH_BODIES, SYNC_PUT_BODY
from support.xtap import run_xtap, xtap_environment

from reconciler.core.signals import Interrupted, held, raising
from reconciler.emulator import Emulator, EmulatorConfig

TIMEOUT_S = 60


@pytest.fixture
def silent_graph() -> Iterator[str]:
    """A loopback port that takes connections and never answers, like a hung Graph."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1.0"


def start_xtap(*args: str, graph_url: str, token: str = "offline-test") -> subprocess.Popen[str]:
    env = xtap_environment(extra_env={"XTAP_GRAPH_URL": graph_url, "XTAP_ACCESS_TOKEN": token})
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def wait_for_line(stream: object, needle: str) -> list[str]:
    """Lines read from `stream` up to and including the first that holds `needle`."""
    lines: list[str] = []
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never came; got {lines}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_plan_exits_128_plus_its_number(
    tmp_path: Path, silent_graph: str, signum: signal.Signals, code: int
) -> None:
    """Ctrl-C is SIGINT; GitHub Actions cancels a job with SIGINT, then SIGTERM."""
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    xtap = start_xtap("plan", "--policies", str(policies), graph_url=silent_graph)
    try:
        wait_for_line(xtap.stderr, "Reading the live tenant")
        xtap.send_signal(signum)
        stdout, stderr = xtap.communicate(timeout=TIMEOUT_S)
    finally:
        xtap.kill()
    assert xtap.returncode == code, stderr
    assert f"interrupted by {signum.name}" in stderr and "Traceback" not in stderr
    assert stdout == ""


def test_ctrl_c_during_apply_says_what_was_written_and_what_was_in_flight(tmp_path: Path) -> None:
    """Each request answered after 0.5 s, writes in dependency order: both POSTs, then
    partner 2's PATCH (tenantRestrictions are not taken on create), then its identity sync.
    Ctrl-C once partner 1 is applied lands while the PATCH is in flight."""
    restrictions = SEED_001_PATCH_BODIES[2]
    second = {
        "tenantId": "20000000-0000-4000-8000-000000000000",
        **restrictions,
        "identitySynchronization": SYNC_PUT_BODY,
    }
    partners = [{"tenantId": "10000000-0000-4000-8000-000000000000"}, second]
    policies = write_policies(tmp_path / "policies", partners)
    with Emulator(EmulatorConfig(latency_s=0.5)) as emulator:
        xtap = start_xtap(
            "apply",
            "--auto-approve",
            "--policies",
            str(policies),
            graph_url=emulator.base_url,
            token=emulator.mint_token(),
        )
        try:
            wait_for_line(xtap.stdout, "applied: + partner 1")
            xtap.send_signal(signal.SIGINT)
            stdout, stderr = xtap.communicate(timeout=TIMEOUT_S)
        finally:
            xtap.kill()
        assert xtap.returncode == 130, stderr
        assert "interrupted: + partner 20000000-0000-4000-8000-000000000000: in flight" in stdout
        sync = "identitySynchronization 20000000-0000-4000-8000-000000000000"
        assert f"skipped: + {sync}: not attempted: apply was interrupted" in stdout
        assert "Apply interrupted" in stdout and "1 applied, 0 failed, 1 skipped, 1 interrupted" in stdout
        assert "Traceback" not in stderr
        # The next plan shows exactly what is left: the identity sync, and partner 2's PATCH only
        # if it never reached Graph.
        replan = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
        left = {(change["resource"], change["id"]) for change in json.loads(replan.stdout)["changes"]}
        patched = emulator.partners()[second["tenantId"]].get("tenantRestrictions") is not None
        assert left == {("identitySynchronization", second["tenantId"])} | (
            set() if patched else {("partner", second["tenantId"])}
        )


def test_a_signal_during_a_fork_is_held_and_raised_after_it() -> None:
    """`signals.held` keeps a SIGTERM from raising while a worker forks (where Python could only
    ignore the exception, and lose the signal) and raises it as soon as the fork is done, whichever
    thread of the process the signal reached."""
    reached: list[str] = []
    with raising(), pytest.raises(Interrupted) as stopped:
        with held():
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(100_000))  # time for another thread's handler to trip the main thread's
            reached.append("the end of the fork")
        time.sleep(5)  # only if the signal has not arrived yet: it ends the sleep
    assert reached == ["the end of the fork"]
    assert stopped.value.exit_code == 128 + signal.SIGTERM
