"""No byte of outside text reaches a terminal or a CI log raw: file names, keys, values read from
Graph and Graph's own error messages all come out with their control characters escaped. That
a drift report's markdown and check's SARIF make no markup of outside text is in
tests/render/test_drift.py and tests/render/test_check.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.markup import MARKUP_FILE, MARKUP_FILE_SHOWN, MARKUP_MESSAGE, MARKUP_MESSAGE_SHOWN, assert_no_markup
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY
from support.xtap import run_xtap

from reconciler.core.escape import markdown_text
from reconciler.emulator import Emulator
from reconciler.plan.model import Change, Plan, PlanError, Unmanaged
from reconciler.render.plan import render_markdown

# An ANSI colour, a forged workflow command on a line of its own, and a right-to-left override.
HOSTILE = "\x1b[31m\n::error::forged\u202e"
ESCAPED = "\\u001b[31m\\u000a::error::forged\\u202e"


def assert_clean(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text
    assert not any(line.startswith("::") for line in text.splitlines()), text


def test_a_hostile_file_name_and_key_are_escaped_in_validation(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "partners" / f"x{HOSTILE}.yaml").write_text(
        json.dumps({"tenantId": SEED_000_CREATE_BODY["tenantId"], f"key{HOSTILE}": True})
    )
    result = run_xtap("validate", "--policies", str(policies))
    assert result.code == 1
    assert_clean(result.stdout + result.stderr)
    assert f"x{ESCAPED}.yaml" in result.stderr  # the file name, as `say` escapes it
    assert "'key\\x1b[31m\\n::error::forged\\u202e'" in result.stderr  # the key, quoted by the loader


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_hostile_values_read_from_graph_are_escaped_in_every_format(
    tmp_path: Path, emulator: Emulator, fmt: str
) -> None:
    tenant = SEED_000_CREATE_BODY["tenantId"]
    targets = [{"target": f"app{HOSTILE}", "targetType": "application"}]
    emulator.put_partner(
        {"tenantId": tenant, "b2bCollaborationInbound": {"applications": {"accessType": "allowed", "targets": targets}}}
    )
    policies = write_policies(tmp_path / "policies", [{"tenantId": tenant}])
    result = run_xtap("plan", "--format", fmt, "--policies", str(policies), emulator=emulator)
    assert result.code == 0, result.stderr
    assert_clean(result.stdout + result.stderr)
    if fmt == "json":  # JSON escapes it, and a program reading the plan gets the value back as it was
        [change] = json.loads(result.stdout)["changes"]
        assert change["diff"][0]["before"]["applications"]["targets"][0]["target"] == f"app{HOSTILE}"
    else:
        # Inside a JSON value the newline is JSON's own escape; the rest is escaped the same way.
        assert "app\\u001b[31m\\n::error::forged\\u202e" in result.stdout


class _HostileGraph(BaseHTTPRequestHandler):
    """Answers every request with a Graph-shaped error whose message tries to act on the log."""

    def do_GET(self) -> None:
        body = json.dumps({"error": {"code": f"Bad{HOSTILE}", "message": f"no{HOSTILE}"}}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def hostile_graph() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileGraph)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1.0"
    finally:
        server.shutdown()
        server.server_close()


def test_graph_error_messages_are_escaped(tmp_path: Path, hostile_graph: str) -> None:
    policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
    result = run_xtap("plan", "--policies", str(policies), extra_env={"XTAP_GRAPH_URL": hostile_graph})
    assert result.code == 1
    assert_clean(result.stdout + result.stderr)
    assert f"no{ESCAPED}" in result.stderr


# --- markdown: nothing from outside becomes markup in a GitHub comment or issue -------------------


def test_markdown_text_escapes_markup_and_line_starts() -> None:
    assert markdown_text(MARKUP_FILE) == MARKUP_FILE_SHOWN
    assert markdown_text(MARKUP_MESSAGE) == MARKUP_MESSAGE_SHOWN
    assert markdown_text("*a* _b_ \\ ~c~ #1 !x") == "&#42;a&#42; &#95;b&#95; &#92; &#126;c&#126; &#35;1 &#33;x"
    # What would make a list, a heading underline or a code block at the start of a line.
    assert markdown_text("- x") == "&#45; x"
    assert markdown_text("+ x") == "&#43; x"
    assert markdown_text("=== x") == "&#61;== x"
    assert markdown_text("12. x") == "12&#46; x"
    assert markdown_text("    x") == "&#32;&#32;&#32;&#32;x"
    assert markdown_text("a - b. 1. c") == "a - b. 1. c"  # mid-line, none of them is markup
    assert markdown_text("a\n# b") == "a&#92;u000a&#35; b"  # one line, as `visible` keeps it


def test_plan_markdown_escapes_errors_unmanaged_and_sources() -> None:
    change = Change("partner", "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a", "create", f"{MARKUP_FILE}:1", (), ())
    error = PlanError("partner", "90e29127-71ad-49c7-9ce8-db3f41ea06f1", f"{MARKUP_FILE}:3", MARKUP_MESSAGE)
    unmanaged = Unmanaged("partner", "11111111-2222-3333-4444-555555555555", MARKUP_MESSAGE)
    plan = Plan(changes=(change,), unmanaged=(unmanaged,), errors=(error,))
    for limit in (65536, 1200):  # with every detail, and cut down to the summary lines
        markdown = render_markdown(plan, limit=limit)
        assert_no_markup(markdown)
        assert f"({MARKUP_FILE_SHOWN}:3): {MARKUP_MESSAGE_SHOWN}" in markdown  # the error, its source
        assert f"({MARKUP_FILE_SHOWN}:1)" in markdown  # the change's source
        assert f"(not pruned: {MARKUP_MESSAGE_SHOWN})" in markdown  # why prune spares it


def test_plan_markdown_from_a_hostile_file_name_end_to_end(tmp_path: Path, emulator: Emulator) -> None:
    """The file name as the loader, the planner and the renderer pass it on: a change's source
    and an error's (a create-only property the file changes)."""
    tenant, other = SEED_000_CREATE_BODY["tenantId"], "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
    emulator.put_partner({"tenantId": other, "isServiceProvider": True})
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / MARKUP_FILE).write_text(json.dumps({"tenantId": tenant, "inboundTrust": {"isMfaAccepted": True}}))
    (partners / f"2{MARKUP_FILE}").write_text(json.dumps({"tenantId": other, "isServiceProvider": False}))
    result = run_xtap("plan", "--format", "markdown", "--policies", str(tmp_path / "policies"), emulator=emulator)
    assert result.code == 1, result.stderr  # the create-only error stops the plan from applying
    assert_no_markup(result.stdout)
    assert f"partners/{MARKUP_FILE_SHOWN}:1)" in result.stdout
    assert f"partners/2{MARKUP_FILE_SHOWN}:" in result.stdout
