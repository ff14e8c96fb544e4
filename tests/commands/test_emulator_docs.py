"""docs/emulator.md's examples run as typed: every `$ ` line of its shell examples is run, in
order, in a shell in a copy of the repository's policies/, against the emulator its own
`$ xtap emulator ...` line starts, and every line the doc shows as its output must be printed.

A line that pastes what the emulator printed (`export XTAP_...=`, `XTAP_ACCESS_TOKEN_2=`) holds
a token the doc can only abbreviate: the test checks it is the emulator's line, abbreviated,
and pastes the real one. Only the port, the tenant id, tokens, times and request ids may differ.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.emulator_cli import Banner, started
from support.paths import REPO

DOC = REPO / "docs" / "emulator.md"

# What differs from run to run, each replaced by its name before lines are compared.
VOLATILE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"for tenant [0-9a-f-]{36}"), "for tenant TENANT"),
    (re.compile(r"Tenant (\d+) is [0-9a-f-]{36}"), r"Tenant \1 is TENANT"),
    (re.compile(r"eyJ[\w.-]*(\.\.\.)?"), "TOKEN"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?"), "TIME"),
    (re.compile(r'"(client-)?request-id": "[0-9a-f-]{36}"'), r'"\1request-id": "ID"'),
]
PASTED = re.compile(
    r"^(export XTAP_GRAPH_URL=\S+ XTAP_ACCESS_TOKEN=\S+|XTAP_ACCESS_TOKEN_\d+=\S+|XTAP_TENANT_\d+_TOKEN=\S+)$"
)


def normal(text: str) -> str:
    for pattern, name in VOLATILE:
        text = pattern.sub(name, text)
    return text


@dataclass
class Step:
    """One `$ ` command of the doc (continuation lines joined) and the lines shown after it."""

    command: str
    shown: list[str] = field(default_factory=list)


def examples(text: str) -> list[Step]:
    """The doc's commands, in order, from its fenced blocks whose first line is a `$ ` command."""
    steps: list[Step] = []
    for block in re.findall(r"^```\n(\$ .*?)^```$", text, re.MULTILINE | re.DOTALL):
        continued = False
        for line in block.splitlines():
            if continued:
                steps[-1].command += "\n" + line
            elif line.startswith("$ "):
                steps.append(Step(line[2:]))
            elif line.strip() not in ("", "…"):
                steps[-1].shown.append(line)
            continued = line.endswith("\\")
    return steps


STEPS = examples(DOC.read_text(encoding="utf-8"))


def test_the_doc_has_the_examples_this_test_runs() -> None:
    """The extraction finds the try-out: so a doc whose examples moved fails here, not silently."""
    commands = [step.command.split("\n")[0] for step in STEPS]
    assert commands.count("xtap emulator --seed demo") == 1
    assert "xtap drift --policies policies --attribute" in commands
    assert any(c.startswith("curl -s -X PATCH") for c in commands)
    assert any(c.startswith("XTAP_ACCESS_TOKEN=$XTAP_ACCESS_TOKEN_2 xtap apply") for c in commands)
    assert any(c.startswith("XTAP_ACCESS_TOKEN=$XTAP_TENANT_2_TOKEN xtap apply") for c in commands)


def test_a_wrong_output_line_is_caught() -> None:
    """The comparison can fail: a line the doc shows that is not printed is reported."""
    assert missing(["Plan: 4 to create"], "Plan: 5 to create\n") == ["Plan: 4 to create"]
    assert missing(["at 2026-11-23T19:42:55.103117Z"], "at 2027-01-01T00:00:00.1Z\n") == []


def missing(shown: list[str], printed: str) -> list[str]:
    lines = {normal(line).rstrip() for line in printed.splitlines()}
    return [line for line in shown if normal(line).rstrip() not in lines]


def pasted(text: str) -> dict[str, str]:
    """The further tenants' token variables a banner prints, `XTAP_TENANT_2_TOKEN` and on."""
    return dict(re.findall(r"^  (XTAP_TENANT_\d+_TOKEN)=(\S+)$", text, re.MULTILINE))


def scenarios() -> Iterator[tuple[str, list[Step]]]:
    """The steps split at each `xtap emulator` command, which starts the emulator they run against."""
    current: list[Step] = []
    for step in STEPS:
        if step.command.startswith("xtap emulator") and current:
            yield current[0].command, current
            current = []
        current.append(step)
    if current:
        yield current[0].command, current


@pytest.mark.parametrize("steps", [steps for _, steps in scenarios()], ids=[name for name, _ in scenarios()])
def test_the_docs_examples_work_as_typed(steps: list[Step], tmp_path: Path) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    first, *rest = steps
    assert first.command.startswith("xtap emulator "), "an example runs before the emulator is started"
    # `xtap` as typed is the one next to this Python, as in the activated venv the doc assumes.
    env = {**os.environ, "NO_COLOR": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("XTAP_POLICIES", None)
    with ExitStack() as stack:
        banner: Banner = stack.enter_context(started(*first.command.split()[2:], cwd=tmp_path))
        assert missing(first.shown, banner.text) == [], banner.text
        for step in rest:
            if PASTED.match(step.command):
                assert normal(step.command) in {normal(line.strip()) for line in banner.text.splitlines()}
                variables = {**banner.variables, **pasted(banner.text)}
                env.update({name: variables[name] for name in re.findall(r"(XTAP_\w+)=", step.command)})
                continue
            done = subprocess.run(
                ["bash", "-c", step.command],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=120,
            )
            assert missing(step.shown, done.stdout) == [], f"$ {step.command}\n{done.stdout}"
            assert "Traceback" not in done.stdout
