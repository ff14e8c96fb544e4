"""Running xtap as a test does: in the test process or as a process of its own, in an environment
pointed at an emulator with a token for given roles; raw HTTP clients for the emulator; and the
writes it served. Every test file imports these from here; `conftest.py` keeps the fixtures."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from subprocess import run as run_process

import httpx
from hypothesis import settings

from reconciler.commands.cli import main
from reconciler.emulator import Emulator, RecordedRequest
from support.in_process import Run, run_in_process

# Examples a property test draws under the thorough profile (conftest.py registers the profiles).
THOROUGH_EXAMPLES = 100


def examples(thorough: int) -> int:
    """How many examples a property test that draws `thorough` under the thorough profile draws
    under the profile in force: the same share of them as the profile's own max_examples."""
    return max(1, thorough * settings().max_examples // THOROUGH_EXAMPLES)


READ_WRITE = ("Policy.ReadWrite.CrossTenantAccess",)
READ_ONLY = ("Policy.Read.All",)


def client_for(emu: Emulator, token: str | None = None) -> httpx.Client:
    """A raw HTTP client for the emulator, with a token (read-write unless given)."""
    token = emu.mint_token() if token is None else token
    return httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {token}"})


def writes_served(emulator: Emulator) -> list[RecordedRequest]:
    """Every write the emulator served, in order, as if sent alone: xtap sends writes in
    `$batch`es, so the envelopes are left out and each item gets its path under the version."""
    version = emulator.base_url.rsplit("/", 1)[1]
    return [
        request if request.batch_id is None else replace(request, path=f"/{version}{request.path}")
        for request in emulator.requests
        if request.method != "GET" and not request.path.endswith("/$batch")
    ]


def xtap_environment(
    emulator: Emulator | None = None,
    roles: tuple[str, ...] = READ_WRITE,
    token: str | None = None,
    extra_env: dict[str, str | None] | None = None,
) -> dict[str, str]:
    """The environment `xtap` runs in, pointed at the emulator with a token for `roles` (or `token`).

    Without an emulator, Graph is a closed loopback port and the token a dummy: a test must
    never reach a real cloud, nor let DefaultAzureCredential probe for a managed identity.
    `extra_env` is applied last; a None value removes that variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_"))}
    env.update(NO_COLOR="1", XTAP_GRAPH_URL="http://127.0.0.1:9/v1.0", XTAP_ACCESS_TOKEN="offline-test")
    if emulator is not None:
        env["XTAP_GRAPH_URL"] = emulator.base_url
        env["XTAP_ACCESS_TOKEN"] = token or emulator.mint_token(roles=roles, name="xtap tests")
    for name, value in (extra_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_xtap(
    *args: str,
    emulator: Emulator | None = None,
    roles: tuple[str, ...] = READ_WRITE,
    token: str | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    extra_env: dict[str, str | None] | None = None,
    timeout: float = 120,
    launcher: tuple[str, ...] = (),
    subprocess: bool = False,
) -> Run:
    """`xtap ARGS` as a user runs it, in the environment `xtap_environment` makes of the rest.

    It runs in the test process (`support.in_process`), which saves each run the 0.4-0.6 s of a
    new interpreter's imports. A run that must be a process of its own says so with `subprocess`,
    and why: it forks (rules of your own, 2,000 files or more), is signalled, reads the import
    log, or is an end-to-end run kept exactly as a user's. `launcher` is a command that runs the
    rest of the command line (a wrapper that measures it, say), so it implies a subprocess;
    `timeout` bounds a subprocess (in the test process, the test's own timeout does)."""
    env = xtap_environment(emulator, roles, token, extra_env)
    if not (subprocess or launcher):
        return run_in_process(main, args, env, cwd, stdin)
    done = run_process(
        [*launcher, sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        input=stdin,
        timeout=timeout,
    )
    return Run(done.returncode, done.stdout, done.stderr)
