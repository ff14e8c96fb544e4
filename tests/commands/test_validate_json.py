"""`xtap validate --format json`: the same verdict as text, as one report on stdout for programs,
with the same exit codes; and a run over a folder large enough for worker processes that ends
cleanly whether its reader takes the whole report or closes the pipe early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.policy_files import write_policies
from support.xtap import run_xtap, xtap_environment

from reconciler.core.wire import NOT_A_TENANT_ID
from reconciler.policies.workers import PARALLEL_FILES

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


def test_a_valid_folder_is_valid_with_its_counts_and_exit_0(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": TENANT, "identitySynchronization": {}}])
    result = run_xtap("validate", "--policies", str(policies), "--format", "json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "valid": True,
        "problems": [],
        "warnings": [],
        "counts": {"partner": 1, "identitySynchronization": 1},
    }
    assert result.stderr == ""


def test_an_invalid_folder_lists_each_problem_at_its_place_and_exits_1(tmp_path: Path) -> None:
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "a.yaml").write_text("tenantId: 12345\n")
    (partners / "b.yaml").write_text(f"tenantId: {TENANT}\nxtap:\n  notes: [x]\ninboundTrust: true\n")
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"), "--format", "json")
    assert result.code == 1
    assert result.stderr == ""  # the report says it all, on stdout
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["counts"] == {} and report["warnings"] == []
    assert report["problems"] == [
        {"file": str(partners / "a.yaml"), "line": 1, "column": 11, "message": f"tenantId 12345 {NOT_A_TENANT_ID}"},
        {"file": str(partners / "b.yaml"), "line": 3, "column": 10, "message": "notes must be a string, not a list"},
        {
            "file": str(partners / "b.yaml"),
            "line": 4,
            "column": 15,
            "message": "inboundTrust must be a mapping of isMfaAccepted, isCompliantDeviceAccepted, "
            "isHybridAzureADJoinedDeviceAccepted (true/false), not true",
        },
    ]


def test_outside_text_in_a_message_is_escaped_in_the_report(tmp_path: Path) -> None:
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "a.yaml").write_text('tenantId: "x\\u001b[31m\\u202e"\n')
    result = run_xtap("validate", "--policies", str(tmp_path / "policies"), "--format", "json")
    assert result.code == 1 and "\x1b" not in result.stdout and "\u202e" not in result.stdout
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["message"].startswith("tenantId 'x\\x1b[31m\\u202e' is not a GUID")


def test_the_text_format_is_the_default_and_unchanged(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": TENANT}])
    result = run_xtap("validate", "--policies", str(policies))
    assert (result.code, result.stdout) == (0, "")
    assert result.stderr == f"{policies}: valid (partner: 1).\n"


# A worker race at exit, made likely: while exit's hook wakes the pool's manager thread (it
# checks that the wake-up pipe is open, then writes), the thread is still closing that pipe (as
# on a loaded machine). With the thread left running at exit, the write lands on the closed pipe:
# "Exception ignored ... OSError: [Errno 9] Bad file descriptor" (or "handle is closed"). A pool
# shut down and waited for leaves nothing to race.
WIDENED = """
import sys, time
import concurrent.futures.process as pool
join = pool._ExecutorManagerThread.join_executor_internals
def late_wakeup(self):
    if not self._closed:
        if pool._global_shutdown:
            time.sleep(0.3)
        self._writer.send_bytes(b"")
def late_join(self):
    time.sleep(0.2)
    join(self)
pool._ThreadWakeup.wakeup = late_wakeup
pool._ExecutorManagerThread.join_executor_internals = late_join
from reconciler.commands.cli import main
sys.argv = ["xtap", *sys.argv[1:]]
main()
"""
LAUNCHES = pytest.mark.parametrize("launch", [("-m", "reconciler"), ("-c", WIDENED)], ids=["xtap", "race widened"])


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid folder of PARALLEL_FILES partner files: it is read in worker processes."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("worker processes need two CPUs")
    policies = tmp_path_factory.mktemp("large") / "policies"
    write_policies(policies, [{"tenantId": f"{n:08x}-0000-4000-8000-000000000000"} for n in range(PARALLEL_FILES)])
    return policies


def started(*command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=xtap_environment()
    )


@LAUNCHES
def test_a_large_folder_s_report_read_whole_ends_cleanly(large: Path, launch: tuple[str, ...]) -> None:
    process = started(*launch, "validate", "--policies", str(large), "--format", "json")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert json.loads(out)["counts"] == {"partner": PARALLEL_FILES}
    assert b"Exception ignored" not in err and err == b"", err.decode()


@LAUNCHES
def test_a_large_folder_s_report_to_a_reader_that_has_gone_ends_cleanly(large: Path, launch: tuple[str, ...]) -> None:
    """`xtap validate --format json | head -c 0`: the report goes nowhere, with no "Exception
    ignored" on a broken pipe, and the exit code is still validate's own (click's own handling
    of a broken pipe would make it 1)."""
    process = started(*launch, "validate", "--policies", str(large), "--format", "json")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the report is written: the folder takes a while to read
    err = process.stderr.read()
    assert process.wait(timeout=120) == 0, err.decode()
    assert b"Exception ignored" not in err and err == b"", err.decode()
