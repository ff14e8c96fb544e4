"""`xtap emulator` as a user starts it, in a process of its own: the command serves until it is
stopped, so a test talks to it over HTTP with the URL and token it prints."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, str]]:
    """`xtap emulator ARGS` running; yields the URL and token it printed, then stops it."""
    server = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args],
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert server.stderr is not None
    try:
        printed = b""
        deadline = time.monotonic() + 20
        while not re.search(rb"XTAP_ACCESS_TOKEN=\S+\n", printed):
            # Unbuffered reads with a deadline: a silent or stuck server fails the test, never hangs it.
            ready, _, _ = select.select([server.stderr], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(server.stderr.fileno(), 4096) if ready else b""
            assert chunk, f"the emulator did not print its URL and token in time: {printed!r}"
            printed += chunk
        exports = dict(re.findall(r"export (XTAP_\w+)=(\S+)", printed.decode()))
        yield exports["XTAP_GRAPH_URL"], exports["XTAP_ACCESS_TOKEN"]
    finally:
        server.terminate()
        server.wait(timeout=10)
