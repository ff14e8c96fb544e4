"""The click layer itself (reconciler/commands/cli.py): help, usage errors and their exit code.
What each command does is tested in the file named after its module (test_plan.py, test_apply.py,
...); the Graph options every Graph command shares are in test_cli_graph_options.py."""

from __future__ import annotations

from pathlib import Path

from support.xtap import run_xtap

COMMANDS = (
    "validate",
    "schema",
    "plan",
    "apply",
    "show",
    "explain",
    "drift",
    "check",
    "export",
    "add-partner",
    "doctor",
    "init",
    "emulator",
    "demo",
)


def test_usage_errors_exit_1_so_2_always_means_changes(tmp_path: Path) -> None:
    assert run_xtap("plan", "--no-such-option").code == 1
    assert run_xtap("apply", str(tmp_path / "missing.json")).code == 1


def test_help_lists_every_command() -> None:
    shown = run_xtap("--help")
    assert shown.code == 0, shown.stderr
    listed = {line.split()[0] for line in shown.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)


def test_a_usage_error_names_the_help_and_escapes_what_was_typed() -> None:
    refused = run_xtap("plan", "--no-such\x1b[2J")
    assert refused.code == 1
    assert "Try 'xtap plan -h' for help." in refused.stderr
    assert "Error: No such option '--no-such\\x1b[2J'." in refused.stderr  # escaped, not obeyed
    assert "\x1b" not in refused.stderr
