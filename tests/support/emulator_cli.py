"""`xtap emulator` as a user starts it, in a process of its own: the command serves until it is
stopped, so a test talks to it over HTTP with the URL and tokens it prints."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The banner's last line: everything a test needs has been printed once it has.
LAST_LINE = b"Stop the emulator with Ctrl-C.\n"


@dataclass(frozen=True)
class Banner:
    """What `xtap emulator` printed once it listened: its text, the URL, and its tokens in order
    (the exported one first, then XTAP_ACCESS_TOKEN_2 and on)."""

    text: str
    url: str
    tokens: list[str]

    @property
    def variables(self) -> dict[str, str]:
        """The shell variables its lines set, once pasted."""
        names = ["XTAP_ACCESS_TOKEN", *(f"XTAP_ACCESS_TOKEN_{n}" for n in range(2, len(self.tokens) + 1))]
        return {"XTAP_GRAPH_URL": self.url, **dict(zip(names, self.tokens, strict=True))}


@contextmanager
def started(*args: str, cwd: Path | None = None) -> Iterator[Banner]:
    """`xtap emulator ARGS` running (on a free port); yields what it printed, then stops it."""
    server = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args],
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=cwd,
    )
    assert server.stderr is not None
    try:
        printed = b""
        deadline = time.monotonic() + 20
        while not printed.endswith(LAST_LINE):
            # Unbuffered reads with a deadline: a silent or stuck server fails the test, never hangs it.
            ready, _, _ = select.select([server.stderr], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(server.stderr.fileno(), 4096) if ready else b""
            assert chunk, f"the emulator did not print its URL and token in time: {printed!r}"
            printed += chunk
        text = printed.decode()
        exported = re.search(r"export XTAP_GRAPH_URL=(\S+) XTAP_ACCESS_TOKEN=(\S+)\n", text)
        assert exported, text
        others = re.findall(r"^  XTAP_ACCESS_TOKEN_\d+=(\S+)$", text, re.MULTILINE)
        yield Banner(text, exported[1], [exported[2], *others])
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, str]]:
    """`xtap emulator ARGS` running; yields the URL and the token it exported, then stops it."""
    with started(*args) as banner:
        yield banner.url, banner.tokens[0]
