"""Rules of your own run in a worker process under a budget (`cel_worker`): a rule that would run
for hours is one `xtap.yaml:line:col` problem once its evaluation passes 1 s, in `xtap check`
and in `xtap apply` (which then writes nothing); a crash or panic of the CEL crate is a problem
at the rule, never a traceback or a signal of xtap's own; Ctrl-C and SIGTERM stop the check at
once and take the worker with them. Budgets are never asserted in wall-clock time: a hostile
rule runs for hours unless stopped, and each test's timeout bounds it. Every `xtap` that judges
rules here is a process of its own: the worker is forked, which the test process, running the
emulator's threads, must not do (`support.in_process`)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.xtap import run_xtap, writes_served, xtap_environment

from reconciler.check import worker as cel_worker
from reconciler.check.worker import Budget, Stopped, judge
from reconciler.emulator import Emulator

TIMEOUT_S = 60
PARTNER = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


def cube(size: int) -> str:
    """Three nested `.all()` over a list of `size`: size³ steps, at about 0.5 µs each."""
    items = "[" + ",".join(["1"] * size) + "]"
    return f"{items}.all(a, {items}.all(b, {items}.all(c, a + b + c > 0)))"


HOURS = cube(400)  # 2.4 KB, 64 million steps: hours, unless stopped
SLOW = cube(75)  # 0.2 s on each resource (on a loaded 2-core machine)


def settings_with(expression: str) -> str:
    """xtap.yaml with one rule of your own; its `expression` key at 3:5."""
    return f"rules:\n  hostile:\n    expression: {json.dumps(expression)}\n    message: never true\n"


def folder(root: Path, expression: str, partners: int = 1) -> Path:
    policies = root / "policies"
    (policies / "partners").mkdir(parents=True)
    for index in range(partners):
        tenant = PARTNER if index == 0 else f"{index:08x}-0000-4000-8000-000000000000"
        (policies / "partners" / f"p{index}.yaml").write_text(f"tenantId: {tenant}\n")
    (policies / "xtap.yaml").write_text(settings_with(expression))
    return policies


def test_a_rule_that_runs_for_hours_is_a_problem_at_its_line(tmp_path: Path) -> None:
    policies = folder(tmp_path, HOURS)
    run = run_xtap("check", "--policies", str(policies), subprocess=True)
    assert run.code == 1, run.stderr
    assert run.stderr.splitlines() == [
        f"{policies}/xtap.yaml:3:5: rule 'hostile' on partner {PARTNER} (desired) did not finish within 1 s; "
        "simplify it",
        f"1 problem(s) in {policies}; the check cannot pass until it is fixed.",
    ]
    assert run.stdout == ""


def test_apply_stops_at_such_a_rule_and_writes_nothing(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path, HOURS)
    run = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator, subprocess=True)
    assert run.code == 1, run.stderr
    assert f"{policies}/xtap.yaml:3:5: rule 'hostile' on partner {PARTNER} (desired) did not finish" in run.stderr
    assert f"1 problem(s) in {policies}; nothing was written." in run.stderr
    assert "Traceback" not in run.stderr
    assert writes_served(emulator) == []


def test_rules_within_their_budget_judge_each_resource(tmp_path: Path) -> None:
    """The worker's outcomes come back to the right rule and resource: a rule that holds, one
    that does not, and one that cannot be evaluated, over two partners."""
    settings = (
        "rules:\n"
        "  named:\n    expression: has(xtap.name)\n    message: a partner file names its partner\n"
        "  typo:\n    expression: resource.nope == 1\n    message: never evaluates\n"
        "  always:\n    expression: type == 'partner'\n    message: never fails\n"
    )
    policies = folder(tmp_path, "true", partners=2)
    (policies / "xtap.yaml").write_text(settings)
    (policies / "partners" / "p0.yaml").write_text(f"tenantId: {PARTNER}\nxtap:\n  name: Fabrikam\n")
    run = run_xtap("check", "--policies", str(policies), "--format", "json", subprocess=True)
    assert run.code == 1, run.stderr
    found = {(finding["rule"], finding["id"], finding["message"]) for finding in json.loads(run.stdout)["findings"]}
    other = "00000001-0000-4000-8000-000000000000"
    assert found == {
        ("named", other, "a partner file names its partner"),
        ("typo", PARTNER, "never evaluates (could not evaluate: KeyError: 'nope')"),
        ("typo", other, "never evaluates (could not evaluate: KeyError: 'nope')"),
    }


# --- the worker: budgets, crashes, signals, and nothing left behind -------------------------------


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting to be reaped does not)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for_worker(parent: int, alive: subprocess.Popen[str] | None = None) -> int:
    """The pid of `parent`'s worker once it is forked (the test's timeout bounds the wait)."""
    while True:
        found = [pid for pid in children(parent) if running(pid)]
        if found:
            return found[0]
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"xtap ended before its worker started: {alive.communicate()}")
        time.sleep(0.01)


def start_xtap(*args: str, emulator: Emulator | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "reconciler", *args]
    # stdout unread: apply prints its plan (large) before the rules run, and must not block on it.
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=xtap_environment(emulator)
    )


@pytest.fixture
def xtap_processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.communicate()


@pytest.mark.parametrize("command", ["check", "apply", "apply PLAN"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_rules_at_once_and_their_worker_with_them(
    tmp_path: Path,
    emulator: Emulator,
    xtap_processes: list[subprocess.Popen[str]],
    command: str,
    signum: signal.Signals,
    code: int,
) -> None:
    """A slow rule on 1,500 partners would keep the worker busy past the run's budget, each
    evaluation well inside its own: only a signal acted on at once ends xtap with its code
    (else the budget ends it, exit 1). `apply PLAN` runs the rules inside its asyncio loop,
    whose own signal handling cannot run while the loop's thread waits on the worker."""
    policies = folder(tmp_path, SLOW, partners=1500)
    args = {"check": ["check"], "apply": ["apply", "--auto-approve"], "apply PLAN": ["apply", str(tmp_path / "p.json")]}
    if command == "apply PLAN":
        planned = run_xtap("plan", "--policies", str(policies), "--out", args[command][1], emulator=emulator)
        assert planned.code == 0, planned.stderr
    xtap = start_xtap(*args[command], "--policies", str(policies), emulator=emulator)
    xtap_processes.append(xtap)
    worker = wait_for_worker(xtap.pid, xtap)
    xtap.send_signal(signum)
    _, stderr = xtap.communicate(timeout=TIMEOUT_S)
    assert xtap.returncode == code, stderr
    assert f"xtap: interrupted by {signum.name}." in stderr and "Traceback" not in stderr
    assert not running(worker)
    assert writes_served(emulator) == []


def test_a_crash_of_the_cel_library_is_a_problem_at_the_rule(
    tmp_path: Path, xtap_processes: list[subprocess.Popen[str]]
) -> None:
    """The worker dying of a signal (the crate's stack overflow was a SIGSEGV) is said against
    the rule; xtap itself exits 1, no signal and no traceback of its own."""
    policies = folder(tmp_path, SLOW, partners=100)
    xtap = start_xtap("check", "--policies", str(policies))
    xtap_processes.append(xtap)
    os.kill(wait_for_worker(xtap.pid, xtap), signal.SIGSEGV)
    _, stderr = xtap.communicate(timeout=TIMEOUT_S)
    assert xtap.returncode == 1, stderr
    (problem, summary) = stderr.splitlines()
    on = r"( on partner [0-9a-f-]{36} \(desired\))?"  # on a partner, unless it was still compiling the rule
    crash = r"made the CEL library crash \(killed by SIGSEGV\); simplify it"
    assert re.fullmatch(f"{re.escape(str(policies))}/xtap.yaml:3:5: rule 'hostile'{on} {crash}", problem), problem
    assert summary == f"1 problem(s) in {policies}; the check cannot pass until it is fixed."


VARIABLES = {0: {"x": 1}, 1: {"x": 2}}


def test_the_worker_judges_each_selected_subject_in_order() -> None:
    outcomes = judge(["x == 1", "x > 0", "x.y", "x"], [[0, 1], [1], [0], [1]], VARIABLES)
    assert outcomes == [[True, False], [True], [outcomes[2][0]], ["the expression gave 2, not true or false"]]
    assert isinstance(outcomes[2][0], str) and outcomes[2][0].startswith("TypeError: No such overload")
    assert workers() == []


def workers() -> list[int]:
    """This process's children that still run: a worker left behind would be one."""
    return [pid for pid in children(os.getpid()) if running(pid)]


def test_the_run_budget_stops_rules_that_are_each_fast_enough() -> None:
    """Each evaluation within its second, yet together over the run's budget (small here, passed
    in: the real one is 30 s)."""
    with pytest.raises(Stopped, match=r"did not finish before the rules of your own used their 0.3 s in all"):
        judge([SLOW], [list(range(100))], {key: {} for key in range(100)}, Budget(evaluation=5.0, run=0.3))
    assert workers() == []


def test_an_evaluation_over_its_budget_names_its_rule_and_subject() -> None:
    with pytest.raises(Stopped) as stopped:
        judge(["true", HOURS], [[0, 1], [1]], VARIABLES, Budget(evaluation=0.2, run=60))
    assert (stopped.value.rule, stopped.value.subject, stopped.value.what) == (1, 1, "did not finish within 0.2 s")
    assert workers() == []


def test_a_panic_of_the_cel_library_is_said_not_raised() -> None:
    """The crate panics formatting its own error for 100,000 nested parentheses: pyo3's
    PanicException, a BaseException. (`cel_expr.bounded` keeps such a rule from ever getting
    here; the worker does not rely on it.) Its compile gets a minute, not the default second: with
    RUST_BACKTRACE set, the panic's backtrace, 100,000 frames deep, takes a second or more to print
    on a busy machine, and this test is about the panic, not the budget."""
    with pytest.raises(Stopped) as stopped:
        judge(["(" * 100_000 + "true" + ")" * 100_000], [[0]], VARIABLES, Budget(evaluation=60, run=60))
    assert (stopped.value.rule, stopped.value.subject) == (0, None)
    assert stopped.value.what.startswith("made the CEL library fail (PanicException: ")


def test_a_killed_worker_is_said_to_have_crashed() -> None:
    def kill_the_worker() -> None:
        os.kill(wait_for_worker(os.getpid()), signal.SIGSEGV)

    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    with pytest.raises(Stopped, match=r"made the CEL library crash \(killed by SIGSEGV\)"):
        judge([HOURS], [[0]], VARIABLES)
    killer.join()


def test_the_worker_dies_on_its_own_when_xtap_is_gone() -> None:
    """Killed outright (SIGKILL), xtap cannot end its worker: the worker's own alarm does, within
    the run budget and a grace period. Here a worker is forked with a run budget of 0.2 s and
    left alone."""
    import multiprocessing as mp

    context = mp.get_context("fork")
    progress = context.RawArray("d", 4)
    _receiver, sender = context.Pipe(duplex=False)
    args = ([HOURS], [[0]], VARIABLES, sender, progress, 0.2)
    worker = context.Process(target=cel_worker._work, args=args)
    worker.start()
    worker.join()  # the test's timeout bounds it; it would run for hours without its alarm
    assert worker.exitcode == -signal.SIGALRM
