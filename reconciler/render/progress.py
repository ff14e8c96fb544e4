"""Live progress on stderr for the long waits (reading thousands of partners, applying
thousands of changes), drawn by rich, and only for someone watching a terminal.

Anywhere else (a CI log, a pipe, a test) there is no live display at all: a redrawn line is
noise in a log, so the output stays the one-line messages of `commands.say`. rich is imported
only when a display is shown, so `xtap validate` and `--help` never pay for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

    from rich.progress import ProgressColumn

# The display's columns, made from `rich.progress` once it is imported.
Columns = Callable[["ModuleType"], list["ProgressColumn"]]


# Set where several tenants are worked on at once (`--tenants`): one line redrawn for each
# would overwrite the others, so none is drawn.
HIDDEN: ContextVar[bool] = ContextVar("HIDDEN", default=False)


def shown() -> bool:
    """Whether to draw: stderr is a terminal that can redraw, and not a CI runner's (GitHub
    Actions allocates none, but other runners and `script` logs may)."""
    return (
        not HIDDEN.get() and sys.stderr.isatty() and not os.environ.get("CI") and os.environ.get("TERM", "") != "dumb"
    )


@contextmanager
def reading(what: str) -> Iterator[Callable[[int], None]]:
    """A counter of `what` read so far; the yielded callback adds a page's count."""
    text = f"Reading {what} … {{task.completed}} read"
    with _display(lambda rp: [rp.SpinnerColumn(), rp.TextColumn(text)]) as advance:
        yield advance


@contextmanager
def applying(total: int) -> Iterator[Callable[[int], None]]:
    """Changes applied (or failed, or skipped) out of `total`; the callback adds outcomes."""
    with _display(lambda rp: [rp.TextColumn("Applying"), rp.MofNCompleteColumn(), rp.BarColumn()], total) as advance:
        yield advance


@contextmanager
def _display(columns: Columns, total: float | None = None) -> Iterator[Callable[[int], None]]:
    """One transient progress line, gone when the work ends so the log above it reads as
    without it; or nothing, where `shown` says no. Lines printed meanwhile appear above it:
    stderr's always, stdout's when it is a terminal too (redirecting a report that goes to a
    file would move it onto the screen)."""
    if not shown():
        yield lambda count: None
        return
    from rich import progress as rp
    from rich.console import Console

    console = Console(stderr=True)
    with rp.Progress(*columns(rp), console=console, transient=True, redirect_stdout=sys.stdout.isatty()) as bar:
        task = bar.add_task("", total=total)
        yield lambda count: bar.advance(task, count)
