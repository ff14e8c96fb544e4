"""Ctrl-C and SIGTERM during Graph work: cancel the work cleanly, so apply can still say what it
wrote, which write was in flight, and what it never started.

By default Python raises KeyboardInterrupt wherever the code happens to be, asyncio then tears
the task down without a word, and click turns it into an Abort. Instead, while Graph work runs,
both signals cancel the running task: the pending request sees `CancelledError` at its `await`,
apply records what it knows, and the command exits 128 + the signal's number (130 for Ctrl-C,
143 for SIGTERM, which is how GitHub Actions cancels a job), the shell's convention.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")
HANDLED = (signal.SIGINT, signal.SIGTERM)
# The signals `raising` took while `held` held them back, to raise after; None outside `held`.
_deferred: list[int] | None = None


class Interrupted(Exception):
    """The work was stopped by a signal; `exit_code` is what the process should exit with."""

    def __init__(self, signum: int) -> None:
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def run(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(work)`, where SIGINT and SIGTERM cancel `work` rather than kill it; a
    cancellation that `work` lets through comes out as `Interrupted`."""
    return asyncio.run(_cancellable(work))


async def _cancellable(work: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[int] = []

    def cancel(signum: int) -> None:
        received.append(signum)
        if task is not None:
            task.cancel()

    try:
        for signum in HANDLED:
            loop.add_signal_handler(signum, cancel, signum)
    except NotImplementedError:  # Windows' event loops: Ctrl-C stays a KeyboardInterrupt
        return await work
    try:
        return await work
    except asyncio.CancelledError:
        if not received:
            raise
        raise Interrupted(received[0]) from None
    finally:
        for signum in HANDLED:
            loop.remove_signal_handler(signum)


@contextmanager
def raising() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` at once, for a wait outside asyncio's hands (the
    worker of the rules of your own, `check.worker`): also inside `run`, whose loop cannot see a
    signal while its thread is blocked. Only the main thread receives signals; elsewhere this
    changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if _deferred is not None:  # inside `held`: raised once the fork is done
            _deferred.append(signum)
            return
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in HANDLED}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


@contextmanager
def held() -> Iterator[None]:
    """Under `raising`, SIGINT and SIGTERM held back while a process forks and raised once it
    has: one raised during the fork's own bookkeeping (the after-fork hooks, logging's lock)
    would land where Python can only ignore an exception, and be lost. The calling thread blocks
    them (so the child starts with them blocked; `worker_signals` lets them in once its handlers
    are set), and one another thread takes meanwhile is deferred by `raising`'s handler."""
    global _deferred
    _deferred = []
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        yield
    finally:
        pending, _deferred = _deferred, None
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a signal still blocked arrives here
    if pending:
        raise Interrupted(pending[0])


def worker_signals() -> None:
    """A forked worker's first step. Signals are the parent's to handle: Ctrl-C reaches the whole
    process group, and the parent stops its work and ends the workers; a signal to a worker must
    not reach the parent's asyncio loop through the wakeup pipe the worker inherited."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)  # held while it was forked (`held`)
