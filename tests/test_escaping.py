"""No byte of outside text reaches a terminal or a CI log raw: file names, keys, values read from
Graph and Graph's own error messages all come out with their control characters escaped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_xtap
from policy_files import write_policies
from seeds import SEED_000_CREATE_BODY

from reconciler.emulator import Emulator

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
