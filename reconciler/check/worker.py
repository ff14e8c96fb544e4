"""Rules of your own, evaluated where they can be stopped: in a forked worker process, under a
budget for each evaluation (one rule on one resource) and one for the whole run.

The CEL crate evaluates in Rust while holding the GIL, so no Python code runs until it returns:
not a timer, not a signal handler, not Ctrl-C. A rule that would run for hours (three nested
`.all()` over 400-element lists is 2.4 KB of text) would hold xtap with it. So the rules and
the resources' variables, plain data, go to a process forked for the purpose (it inherits
them: nothing is pickled on the way in), and this process watches the clock: the worker writes
which rule it evaluates, on which resource, since when, into a few bytes of shared memory, and
is killed once an evaluation or the run is over its budget. The worker dying on its own (a
crash of the crate: SIGSEGV, SIGABRT) or raising what the crate panics with is reported the same
way, against the rule. Ctrl-C and SIGTERM stop the wait at once (`signals.raising`), and the
worker dies with it; if xtap itself is killed outright, the worker's own alarm ends it 5 s
after the run budget.

The worker is forked even where xtap has other threads (apply's loop keeps an idle executor
thread): it imports nothing and touches no lock such a thread could hold (everything it runs is
loaded before the fork, and no other thread is in the crate by then: the files, and the rules
with them, are loaded), and were it ever stuck, the budget would end it like a runaway rule.

Only rules of your own come here: built-in rules are Python, bounded, and run in process, so a
repository without rules of its own pays nothing.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import multiprocessing as mp
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import cel

from reconciler.core import cel as cel_expr
from reconciler.core import signals

# Seconds. A realistic rule takes 25 to 150 µs a resource (most of it converting the resource
# to CEL values, once for all its rules), so one evaluation gets over 6,000 times that; five
# rules over 10,000 partners took 1.4 s in all on a loaded 2-core machine (bench/rules.py),
# about twice that with --live, so the run gets 30 s. docs/security.md lists them.
EVALUATION_BUDGET = 1.0
RUN_BUDGET = 30.0
# How much longer than the run budget a worker outlives an xtap that was killed outright.
ORPHAN_GRACE = 5.0
# How often the worker is looked at while it starts (a fork takes about 7 ms).
STARTING_POLL = 0.01

Held = bool | str  # cel_expr.holds: true, false, or why the rule could not be evaluated
_COMPILING = -1  # the subject slot while the worker compiles a rule


@dataclass(frozen=True)
class Budget:
    evaluation: float = EVALUATION_BUDGET
    run: float = RUN_BUDGET


class Stopped(Exception):
    """The rules could not be judged: `rule` (an index into the expressions) went over its budget,
    or the crate crashed or panicked on it; `subject` is the resource it was evaluated on (an
    index into the variables), None while it was compiled. `what` says what happened, as the
    predicate of a sentence about the rule."""

    def __init__(self, rule: int, subject: int | None, what: str) -> None:
        self.rule, self.subject, self.what = rule, subject, what
        super().__init__(f"rule {rule} {what}")


def judge(
    expressions: Sequence[str],
    selected: Sequence[Sequence[int]],
    variables: Mapping[int, dict[str, Any]],
    budget: Budget = Budget(),
) -> list[list[Held]]:
    """Whether each expression holds for each subject it selects (`selected[rule]`, indexes into
    `variables`), in that order; raises `Stopped` when a budget runs out or the crate fails, and
    `signals.Interrupted` on Ctrl-C or SIGTERM, the worker killed in every case."""
    context = mp.get_context("fork")
    progress = context.RawArray("d", 4)  # rule, subject, when it started (0: not yet), sequence (`_read`)
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_work, args=(expressions, selected, variables, sender, progress, budget.run + ORPHAN_GRACE), daemon=True
    )
    with signals.raising():  # before the fork: a signal once the worker exists must end it
        begun = time.monotonic()
        try:
            with signals.held():  # delivered, and raised here, once the fork is done
                worker.start()
            sender.close()  # the worker holds the only writing end: its death is an end of file here
            return _outcomes(_wait(receiver, progress, budget, begun), worker, progress)
        finally:
            if worker.pid is not None:
                worker.kill()
                worker.join()
            sender.close()
            receiver.close()


def _wait(receiver: Connection, progress: Any, budget: Budget, begun: float) -> Any:
    """The worker's message, or `Stopped` as soon as an evaluation or the run is over budget."""
    run_deadline = begun + budget.run
    while True:
        now = time.monotonic()
        rule, subject, started = _read(progress)
        # Until the worker has begun, look again shortly: its first evaluation's clock starts then.
        deadline = min(run_deadline, started + budget.evaluation if started else now + STARTING_POLL)
        if now >= deadline and not receiver.poll(0):  # a result that came in time is taken
            if now >= run_deadline:
                all_of = f"did not finish before the rules of your own used their {budget.run:g} s in all"
                raise Stopped(rule, subject, all_of)
            raise Stopped(rule, subject, f"did not finish within {budget.evaluation:g} s")
        if receiver.poll(max(deadline - now, 0)):
            try:
                return receiver.recv()
            except (EOFError, OSError):
                return None  # the worker died without a word


def _read(progress: Any) -> tuple[int, int | None, float]:
    """The worker's position: rule, subject, and when that evaluation started (0: none yet). A
    sequence number, odd while the worker writes, keeps a half-written one from being taken; a
    worker that died mid-write leaves it odd, so the wait on it is bounded too."""
    for _ in range(1000):
        sequence = progress[3]
        rule, subject, started = int(progress[0]), int(progress[1]), progress[2]
        if sequence % 2 == 0 and progress[3] == sequence:
            break
    return rule, None if subject == _COMPILING or not started else subject, started


def _outcomes(message: Any, worker: Any, progress: Any) -> list[list[Held]]:
    if isinstance(message, tuple) and message[0] == "done":
        return list(message[1])
    rule, subject, _ = _read(progress)
    if isinstance(message, tuple) and message[0] == "failed":
        raise Stopped(rule, subject, f"made the CEL library fail ({message[1]})")
    worker.join(1.0)  # it has closed its end: it is dead or dying
    code = worker.exitcode
    died = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
    raise Stopped(rule, subject, f"made the CEL library crash ({died})")


def _work(
    expressions: Sequence[str],
    selected: Sequence[Sequence[int]],
    variables: Mapping[int, dict[str, Any]],
    sender: Connection,
    progress: Any,
    lifetime: float,
) -> None:
    """The worker: compile each rule (bounded already: `core.cel.bounded`), then evaluate the
    rules resource by resource, each resource's variables converted to CEL values once (a
    `cel.Context`, which the crate caches) for every rule that selects it. After `lifetime`
    seconds an alarm ends it, whatever it is doing: the parent kills it long before, unless the
    parent itself was killed outright."""
    signals.worker_signals()
    faulthandler.disable()  # a crash here is the parent's to report, at the rule: no dump of ours
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the alarm ends the process, GIL or not
    signal.setitimer(signal.ITIMER_REAL, lifetime)
    gc.disable()  # short-lived: the collector would only walk the heap it inherited
    try:
        programs = []
        for rule, expression in enumerate(expressions):
            _started(progress, rule, _COMPILING)
            programs.append(cel.compile(expression))
        rules_of: dict[int, list[tuple[int, int]]] = {}
        for rule, subjects in enumerate(selected):
            for slot, subject in enumerate(subjects):
                rules_of.setdefault(subject, []).append((rule, slot))
        outcomes: list[list[Held]] = [[False] * len(subjects) for subjects in selected]
        for subject, rules in rules_of.items():
            context = cel.Context(variables=variables[subject])
            for rule, slot in rules:
                _started(progress, rule, subject)
                outcomes[rule][slot] = cel_expr.holds(programs[rule], context)
        sender.send(("done", outcomes))
    except BaseException as exc:  # a panic of the crate (pyo3's PanicException is a BaseException)
        with contextlib.suppress(BaseException):  # the parent is gone or stopped listening: nothing to tell
            sender.send(("failed", cel_expr.failure(exc)))


def _started(progress: Any, rule: int, subject: int) -> None:
    progress[3] += 1
    progress[0], progress[1], progress[2] = rule, subject, time.monotonic()
    progress[3] += 1
