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
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
HANDLED = (signal.SIGINT, signal.SIGTERM)


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
