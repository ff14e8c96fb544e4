"""The suite's own runner of `xtap` in the test process (`support.in_process`): a run sees what a
process of its own would, leaves the test process as it found it, and is refused if it forks."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator
from support.in_process import ForkedInProcess, run_in_process
from support.policy_files import write_policies
from support.xtap import run_xtap


def process_state() -> tuple[Any, ...]:
    return (
        dict(os.environ),
        os.getcwd(),
        sys.argv,
        (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__),
        [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)],
        gc.isenabled(),
        gc.get_freeze_count(),
    )


def test_a_run_leaves_the_test_process_as_it_found_it(tmp_path: Path, emulator: Emulator) -> None:
    """A plan pauses the collector and freezes what it built, handles signals while it reads the
    tenant, and runs in its own environment and folder: all of it is put back."""
    write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])
    before = process_state()
    run = run_xtap("plan", "--policies", "policies", emulator=emulator, cwd=tmp_path, extra_env={"XTAP_TIMEOUT": "30"})
    assert run.code == 0, run.stderr
    assert process_state() == before


def test_what_a_run_sees_is_what_a_process_of_its_own_sees(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def main() -> None:
        seen.update(
            argv=sys.argv[1:],
            cwd=os.getcwd(),
            variable=os.environ.get("XTAP_TEST_VARIABLE"),
            terminal=(sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty()),
            typed=sys.stdin.read(),
        )
        print("out\r\nline")
        print("érr", file=sys.stderr)
        sys.exit(2)

    run = run_in_process(main, ["plan", "--x"], {"XTAP_TEST_VARIABLE": "1"}, tmp_path, "yes\n")
    assert seen == {
        "argv": ["plan", "--x"],
        "cwd": str(tmp_path),
        "variable": "1",
        "terminal": (False, False, False),
        "typed": "yes\n",
    }
    assert (run.code, run.stdout, run.stderr) == (2, "out\nline\n", "érr\n")  # as subprocess.run(text=True) reads


def test_an_uncaught_exception_is_exit_1_with_its_traceback() -> None:
    def main() -> None:
        raise RuntimeError("boom")

    run = run_in_process(main, [], {}, None, None)
    assert run.code == 1 and run.stderr.startswith("Traceback") and "RuntimeError: boom" in run.stderr


def test_what_other_threads_print_is_not_the_runs() -> None:
    """The emulator serves from threads of the test process: what they print stays out."""

    def main() -> None:
        other = threading.Thread(target=lambda: print("from another thread", file=sys.stderr))
        other.start()
        other.join()
        print("from xtap", file=sys.stderr)

    assert run_in_process(main, [], {}, None, None).stderr == "from xtap\n"


def test_a_run_that_forks_is_refused() -> None:
    def main() -> None:
        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)

    with pytest.raises(ForkedInProcess, match=r"run_xtap\(\.\.\., subprocess=True\)"):
        run_in_process(main, ["check"], {}, None, None)


def test_the_collector_is_left_as_it_was() -> None:
    def main() -> None:
        gc.disable()
        gc.freeze()

    run_in_process(main, [], {}, None, None)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        run_in_process(main, [], {}, None, None)
        assert not gc.isenabled()
    finally:
        gc.enable()
