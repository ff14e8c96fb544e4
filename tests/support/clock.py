"""The emulator's time under a test's control, so that what depends on time (the write quota's
refill, the read lag, the wait before each answer) is proven by what happened, never by reading
the wall clock: no sleep to let time pass, no window for a slow machine to miss.

`ManualClock` stands in for the `time` module of the emulator's modules (the `emulator_clock`
fixture): `monotonic` reads it, and it moves only by `advance` or by a wait before an answer
(`sleep`), which is recorded and costs no time. A test may hold the answers back: until a block
ends (`holding`), or until several requests wait together (`gather`), which shows a client sent
them at once rather than one after another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

# How long held answers wait for the requests they are gathered with: only a client that never
# sends them all (the failure `gather` catches) waits that long.
GATHER_LIMIT_S = 30.0


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []  # each wait before an answer, in the order they began
        self.gathered: bool | None = None  # whether the requests `gather` waited for came together
        self._changed = threading.Condition()
        self._held = False
        self._gather: int | None = None
        self._waiting = 0

    def monotonic(self) -> float:
        with self._changed:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._changed:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        """The emulator's wait before an answer: recorded, and the clock moves by it; held back
        while the test holds answers."""
        with self._changed:
            self.slept.append(seconds)
            self.now += seconds
            self._waiting += 1
            self._changed.notify_all()
            together = self._changed.wait_for(self._released, timeout=GATHER_LIMIT_S)
            if self._gather is not None:
                self.gathered, self._gather = together, None
                self._changed.notify_all()
            self._waiting -= 1

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Every answer waits until the block ends (its request already handled)."""
        with self._changed:
            self._held = True
        try:
            yield
        finally:
            with self._changed:
                self._held = False
                self._changed.notify_all()

    def gather(self, count: int) -> None:
        """Hold the next answers until `count` requests wait together; `gathered` says whether they did."""
        with self._changed:
            self._gather, self.gathered = count, None

    def _released(self) -> bool:
        return not self._held and (self._gather is None or self._waiting >= self._gather)
