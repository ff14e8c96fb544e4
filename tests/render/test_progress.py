"""Live progress (reconciler/render/progress.py): drawn only for someone watching a terminal that
can redraw; off a terminal, in CI or on a dumb terminal nothing at all is written, and the
callbacks are still safe to call."""

from __future__ import annotations

import io
import sys

import pytest

from reconciler.render import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def watching(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """stderr a terminal, outside CI. Set in the test itself: pytest's capture replaces
    `sys.stderr` again between a fixture and the test."""
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    return stderr


def test_shown_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    watching(monkeypatch)
    assert progress.shown()
    monkeypatch.setenv("CI", "true")
    assert not progress.shown()
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "dumb")
    assert not progress.shown()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delenv("TERM")
    assert not progress.shown()


def test_no_output_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with progress.reading("partners") as advance:
        advance(999)
    with progress.applying(3) as advance:
        advance(1)
    assert stderr.getvalue() == ""


def test_no_output_in_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = watching(monkeypatch)
    monkeypatch.setenv("CI", "true")
    with progress.reading("partners") as advance:
        advance(10)
    assert terminal.getvalue() == ""
