"""How fast xtap starts: `xtap --help` against a bare `python -c pass`, and how long `xtap plan`
takes from its process starting to its first request reaching Graph (an in-process emulator,
which stamps each request it handles with the wall clock, `RecordedRequest.received`): for a
folder of one partner file, which binds no tenant (the goal's), and for the same folder with
an xtap.yaml binding the emulator's tenant, which is checked whole before any request.

Each run is a fresh process, so each pays the whole import of what it uses: that is the cost
a CI job or a person typing the command pays every time. Absolute times on a shared machine
are noisy; read the medians and the ratio.

    python bench/startup.py [--repeat 7]

bench/run.py imports `samples` to put the same numbers in its table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from reconciler.emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parents[1]
PASS, HELP, FIRST_REQUEST = "python -c pass", "xtap --help", "time to first request"
BOUND_FIRST_REQUEST = "  with xtap.yaml's tenant"
# `xtap --help` at most this many times a bare interpreter's start.
HELP_GOAL_RATIO = 5.0
# Seconds from `xtap plan` starting to its first request reaching Graph.
FIRST_REQUEST_GOAL = 0.25
PARTNER = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"


def _environment() -> dict[str, str]:
    """This checkout's xtap as an installed one runs (bench/run.py's `environment`, bytecode
    compiled). The runs start in the checkout too: `python -m` puts the working directory first
    on the path."""
    import run

    run.compiled()
    return run.environment()


def _wall(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env, cwd=REPO, check=True)
    return time.perf_counter() - start


def _policies(root: Path, tenant: str | None = None) -> Path:
    """The smallest folder a plan reads the tenant for: one partner; bound to `tenant` if given."""
    (root / "partners").mkdir(parents=True)
    partner = {"tenantId": PARTNER, "inboundTrust": {"isMfaAccepted": True}, "xtap": {"trusted": True}}
    (root / "partners" / "contoso.yaml").write_text(json.dumps(partner) + "\n", encoding="utf-8")
    if tenant is not None:
        (root / "xtap.yaml").write_text(f"tenant: {tenant}\n", encoding="utf-8")
    return root


def _first_request(emulator: Emulator, policies: Path, env: dict[str, str]) -> float:
    """Seconds from just before `xtap plan` is spawned to the emulator handling its first request."""
    emulator.clear_requests()
    argv = [sys.executable, "-m", "reconciler", "plan", "--graph-url", emulator.base_url, "--policies", str(policies)]
    start = time.time()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=REPO, check=False)
    if done.returncode != 0:
        raise SystemExit(f"xtap plan exited {done.returncode}:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return min(request.received for request in emulator.requests) - start


def samples(repeat: int) -> dict[str, list[float]]:
    """Seconds of each of `repeat` runs: a bare interpreter, `xtap --help`, and `xtap plan`'s way
    to its first request, without and with a tenant bound."""
    env = _environment()
    runs: dict[str, list[float]] = {PASS: [], HELP: [], FIRST_REQUEST: [], BOUND_FIRST_REQUEST: []}
    emulator = Emulator(EmulatorConfig()).start()
    try:
        env["XTAP_ACCESS_TOKEN"] = emulator.mint_token(roles=("Policy.Read.All",), name="xtap startup bench")
        with tempfile.TemporaryDirectory() as workdir:
            policies = _policies(Path(workdir) / "policies")
            bound = _policies(Path(workdir) / "bound", emulator.tenant_id)
            for _ in range(repeat):  # interleaved, so a burst of load elsewhere hits each alike
                runs[PASS].append(_wall([sys.executable, "-c", "pass"], env))
                runs[HELP].append(_wall([sys.executable, "-m", "reconciler", "--help"], env))
                runs[FIRST_REQUEST].append(_first_request(emulator, policies, env))
                runs[BOUND_FIRST_REQUEST].append(_first_request(emulator, bound, env))
    finally:
        emulator.stop()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each (default 7)")
    args = parser.parse_args()
    runs = samples(args.repeat)
    print(f"{'':24} {'min':>7} {'median':>7} {'max':>7}  (seconds, {args.repeat} runs)")
    for name, seconds in runs.items():
        print(f"{name:24} {min(seconds):7.3f} {statistics.median(seconds):7.3f} {max(seconds):7.3f}")
    ratio = statistics.median(runs[HELP]) / statistics.median(runs[PASS])
    first = statistics.median(runs[FIRST_REQUEST])
    print(f"\n{HELP} / {PASS}: {ratio:.1f}x (goal <= {HELP_GOAL_RATIO:g}x): {_verdict(ratio <= HELP_GOAL_RATIO)}")
    print(f"{FIRST_REQUEST}: {first:.3f} s (goal <= {FIRST_REQUEST_GOAL:g} s): {_verdict(first <= FIRST_REQUEST_GOAL)}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
