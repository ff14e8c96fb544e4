"""`xtap ARGS` run inside the test process, as `python -m reconciler ARGS` runs it, without the
0.4-0.6 s of imports every subprocess pays again.

What a subprocess has to itself is set for the run and put back after: the environment, the
working folder, argv, standard streams that are not terminals (read back as `subprocess.run`
reads a pipe: UTF-8, universal newlines), SIGINT and SIGTERM handlers, the cyclic collector
(xtap pauses it while loading and freezes what it built, `commands.run`), and Python's
last-resort logging to stderr (what a library logs at WARNING and above). Only what the test's
own thread writes is xtap's: the emulator serves from other threads of this process, and what
they print (socketserver's report of a connection xtap dropped) goes where it went before.

Not what a process does as it ends: a test of what asyncio reports about tasks destroyed then
needs a subprocess. Nor a fork: a process forked from this one would copy pytest and the
emulator's threads, which is unsafe (the CEL worker of rules of your own forks whatever runs),
and the policy loader's workers (2,000 files or more) would not be what a user runs. A fork
during the run fails it (`ForkedInProcess`); such runs need `run_xtap(..., subprocess=True)`.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

HANDLED = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Run:
    """A finished `xtap` run: its exit code and what it wrote."""

    code: int
    stdout: str
    stderr: str


@dataclass
class _Forks:
    """Forks seen while a run is on (`os.register_at_fork` cannot be taken back, so it is
    registered once and counts only during a run)."""

    watching: bool = False
    count: int = 0

    def before_fork(self) -> None:
        if self.watching:
            self.count += 1


_FORKS = _Forks()
os.register_at_fork(before=_FORKS.before_fork)


class ForkedInProcess(AssertionError):
    """xtap forked a process while it ran inside the test process."""


class _Pipe:
    """A standard stream of the run: the thread that runs xtap reads and writes a pipe-like
    text stream over bytes (UTF-8, not a terminal, so no colour, progress display or prompt);
    any other thread keeps the stream it had."""

    def __init__(self, elsewhere: TextIO, errors: str, content: str = "") -> None:
        self._owner = threading.get_ident()
        self._elsewhere = elsewhere
        self.own = io.TextIOWrapper(io.BytesIO(content.encode()), encoding="utf-8", errors=errors, write_through=True)

    def _stream(self) -> TextIO:
        return self.own if threading.get_ident() == self._owner else self._elsewhere

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream(), name)

    def write(self, text: str) -> int:
        return self._stream().write(text)

    def flush(self) -> None:
        self._stream().flush()

    def read_back(self) -> str:
        """What the run wrote, decoded as `subprocess.run(text=True)` decodes a pipe."""
        self.own.flush()
        raw = self.own.buffer.getvalue()  # type: ignore[attr-defined]
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def run_in_process(
    main: Callable[[], Any], args: Sequence[str], env: Mapping[str, str], cwd: Path | None, stdin: str | None
) -> Run:
    """`main()` with argv `xtap ARGS`, `env` as the whole environment, in `cwd`, reading
    `stdin`: its exit code and what it wrote, as a subprocess would give them."""
    streams = (
        _Pipe(sys.stdin, "strict", stdin or ""),
        _Pipe(sys.stdout, "strict"),
        _Pipe(sys.stderr, "backslashreplace"),
    )
    with _isolated(args, env, cwd, streams) as forks:
        code = _exit_code(main)
    if forks.count:
        raise ForkedInProcess(
            f"xtap {' '.join(args)} forked {forks.count} process(es) inside the test process; "
            "run it in a subprocess: run_xtap(..., subprocess=True)"
        )
    return Run(code, streams[1].read_back(), streams[2].read_back())


def _exit_code(main: Callable[[], Any]) -> int:
    """The code a process running `main` exits with: SystemExit's, or 1 and the traceback on
    stderr for an exception nobody caught (as the interpreter does)."""
    try:
        main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


@contextmanager
def _isolated(
    args: Sequence[str], env: Mapping[str, str], cwd: Path | None, streams: tuple[_Pipe, _Pipe, _Pipe]
) -> Iterator[_Forks]:
    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    saved_streams = (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__)
    handlers = {signum: signal.getsignal(signum) for signum in HANDLED}
    wakeup = signal.set_wakeup_fd(-1)  # asyncio points it at its loop while it handles signals
    collecting = gc.isenabled()
    owner = threading.get_ident()
    last_resort = logging.StreamHandler(streams[2])
    last_resort.setLevel(logging.WARNING)
    last_resort.addFilter(lambda record: record.thread == owner)
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    sys.argv = ["xtap", *args]
    # The dunder streams too: shutil.get_terminal_size (click's help width) asks sys.__stdout__.
    sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams  # type: ignore[assignment]
    logging.getLogger().addHandler(last_resort)
    _FORKS.watching, _FORKS.count = True, 0
    try:
        yield _FORKS
    finally:
        _FORKS.watching = False
        logging.getLogger().removeHandler(last_resort)
        gc.unfreeze()  # what xtap froze dies with its process; here it must stay collectable
        (gc.enable if collecting else gc.disable)()
        sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__ = saved_streams
        for signum, handler in handlers.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        signal.set_wakeup_fd(wakeup)
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
