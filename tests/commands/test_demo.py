"""`xtap demo` (reconciler/commands/demo.py) end to end: it runs, catches the drift it plants and
reports the unmanaged partner."""

from __future__ import annotations

from support.paths import REPO
from support.xtap import run_xtap


def test_the_demo_runs_end_to_end() -> None:
    demo = run_xtap("demo", cwd=REPO)
    assert demo.code == 0, demo.stderr
    assert "Demo complete" in demo.stderr and "Traceback" not in demo.stderr
    assert "inboundTrust.isMfaAccepted: false → true" in demo.stdout  # the drift is caught
    assert "Unmanaged (live, no policy file; never touched):\n  partner a1b2c3d4-" in demo.stdout
