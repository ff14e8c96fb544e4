"""Shared fixtures: a real Graph emulator on loopback, and xtap run as a user runs it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import settings
from support.clock import ManualClock
from support.xtap import THOROUGH_EXAMPLES, client_for

from reconciler.emulator import Emulator, EmulatorConfig, faults, lag, server

# The slow property tests draw a quarter of their examples (`examples`), so the suite stays quick;
# `python -m pytest --hypothesis-profile=thorough` draws them all. In CI they draw the same
# examples on every run: a red build is reproducible and never a coin toss. Locally they keep
# exploring new examples (and remember failing ones).
settings.register_profile("quick", max_examples=THOROUGH_EXAMPLES // 4)
settings.register_profile("ci", parent=settings.get_profile("quick"), derandomize=True, database=None)
settings.register_profile("thorough", max_examples=THOROUGH_EXAMPLES)
settings.load_profile("ci" if os.environ.get("CI") else "quick")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with client_for(emu) as c:
        yield c


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig()) as emu:
        yield emu


@pytest.fixture
def emulator_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The time of every emulator in the test, moved by the test (`support.clock`): what its
    write quota and read lag count, and the waits before its answers."""
    clock = ManualClock()
    for module in (faults, lag, server):
        monkeypatch.setattr(module, "time", clock)
    return clock
