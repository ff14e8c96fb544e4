"""Every subcommand's `--help` (reconciler/commands/cli.py) renders and names its exit codes, and
shell completion works through the `xtap` entry point as the README says to set it up."""

from __future__ import annotations

import re

import pytest
from support.xtap import run_xtap

from reconciler.commands.cli import cli

# "Exit 0 ok, 1 error", "Exit 0, 1 if --out fails", "Exit codes: ...": the first code named.
EXIT_CODES = re.compile(r"\bExit(?: codes?:?)? 0\b")


@pytest.mark.parametrize(
    "command",
    sorted(cli.commands),
)
def test_each_subcommand_help_renders_and_names_its_exit_codes(command: str) -> None:
    shown = run_xtap(command, "--help")

    assert shown.code == 0, shown.stderr
    assert shown.stdout.startswith(f"Usage: xtap {command} "), shown.stdout
    text = " ".join(shown.stdout.split())  # help is wrapped to the terminal: one line to search
    assert EXIT_CODES.search(text), f"xtap {command} --help names no exit code:\n{shown.stdout}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_served_for_the_xtap_entry_point(shell: str) -> None:
    served = run_xtap(extra_env={"_XTAP_COMPLETE": f"{shell}_source"})

    assert served.code == 0, served.stderr
    assert "_xtap_completion" in served.stdout
    assert "_XTAP_COMPLETE=" in served.stdout


def test_completion_completes_commands_and_choices() -> None:
    def complete(words: str, index: int) -> list[str]:
        env = {"_XTAP_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(index)}
        done = run_xtap(extra_env=env)
        assert done.code == 0, done.stderr
        return done.stdout.splitlines()

    assert complete("xtap pl", 1) == ["plain,plan"]
    assert complete("xtap plan --format ", 3) == ["plain,text", "plain,markdown", "plain,json"]
