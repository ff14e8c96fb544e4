"""Runs a command and writes its peak resident memory, in bytes, to a file:
`python peak_memory.py OUT LIMIT COMMAND...`. The command runs with its address space limited
to LIMIT bytes, so a run that would grow without bound fails soon instead of taking the
machine's memory; its exit code is this script's."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path


def main() -> int:
    out, limit, command = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    code = subprocess.run(command, preexec_fn=limited).returncode
    # This process has one child, so the largest child is that command.
    unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    out.write_text(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * unit))
    return code


if __name__ == "__main__":
    sys.exit(main())
