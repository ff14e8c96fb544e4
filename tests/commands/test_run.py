"""The seams the commands stand on, tested without a subprocess: the format tables, and the
token handed down from the command line rather than read from the environment below it; and,
through the CLI, a Graph error (a foreign token's 401) ending a command as one clear line,
exit 1."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from support.paths import PACKAGE
from support.policy_files import write_policies
from support.xtap import run_xtap

from reconciler.commands import check, drift, plan, show
from reconciler.commands.run import Formats
from reconciler.emulator import Emulator, EmulatorConfig


@pytest.mark.parametrize(
    ("formats", "names"),
    [
        (plan.FORMATS, ["text", "markdown", "json"]),
        (drift.FORMATS, ["text", "markdown", "json"]),
        (show.FORMATS, ["text", "json"]),
        (check.FORMATS, ["text", "json", "sarif", "github"]),
    ],
)
def test_each_report_lists_its_formats_text_first(formats: Formats[Any], names: list[str]) -> None:
    assert formats.names == names


def test_a_colored_format_is_plain_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    formats = Formats[str](colored={"text": lambda report, color: f"{report}:{color}"}, plain={"json": str.upper})
    assert formats.render("r", "text") == "r:False"  # capsys: stdout is no terminal
    assert formats.render("r", "json") == "R"


GRAPH = PACKAGE / "graph"


def test_nothing_that_speaks_to_graph_reads_the_environment() -> None:
    """The token comes down from the command line (`Options.access_token`); a module under
    graph/ that read XTAP_ACCESS_TOKEN itself would hide where the credential came from (the
    proxies in the environment are httpx's business, and it reads them itself)."""
    reads = [
        f"{path.name}:{node.lineno}"
        for path in sorted(GRAPH.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")
    ]
    assert reads == []


def test_a_foreign_token_is_refused_with_a_clear_error(tmp_path: Path, emulator: Emulator) -> None:
    policies = write_policies(tmp_path / "policies", [])
    with Emulator(EmulatorConfig()) as stranger:  # signs with a key of its own
        foreign = stranger.mint_token(roles=("Policy.ReadWrite.CrossTenantAccess",))
    result = run_xtap("plan", "--policies", str(policies), emulator=emulator, token=foreign)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "401 InvalidAuthenticationToken" in result.stderr and foreign not in result.stderr + result.stdout
