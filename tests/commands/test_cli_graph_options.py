"""The Graph boundary as a user meets it: the CLI in a subprocess, pointed at the emulator or at
tiny loopback servers that answer as Graph never would. Every refusal is one line, exit 1.

One file across commands on purpose: these options and checks are shared by every command that
speaks to Graph (cli.py's `_graph_options`, run.py's `connect`), so `plan` stands for them all."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.policy_files import write_policies
from support.stub_servers import NO_PARTNERS, PARTNERS, TEMPLATE, Reply, json_reply, serving, silent
from support.xtap import Run, run_xtap

from reconciler.emulator import Emulator

# A proxy for every other host: if a refusal ever failed to stop a request, it would go nowhere.
NOWHERE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}


def plan(policies: Path, *args: str, **env: str | None) -> Run:
    return run_xtap("plan", "--policies", str(policies), *args, extra_env={**NOWHERE, **env})


def assert_refused(run: Run, message: str) -> None:
    assert run.code == 1, run.stdout + run.stderr
    assert message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return write_policies(tmp_path / "policies", [])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/beta", "Graph URL 'http://127.0.0.1:9/beta' is not a Graph v1.0 base URL"),
        ("https://graph.microsoft.com/v1.0?$top=1", "must not carry a query or a fragment"),
        ("http://graph.microsoft.com/v1.0", "must be https (plain http only on loopback)"),
        ("https://graph.microsoft.com/v1.0\n", r"Graph URL 'https://graph.microsoft.com/v1.0\n' holds spaces or"),
    ],
)
def test_only_a_graph_v1_base_url_is_used(policies: Path, url: str, message: str) -> None:
    assert_refused(plan(policies, XTAP_GRAPH_URL=url), message)


def test_credentials_in_the_url_are_refused_without_echoing_them(policies: Path) -> None:
    run = plan(policies, "--graph-url", "https://me:hunter2@graph.microsoft.com/v1.0")
    assert_refused(run, "Graph URL must not carry user:password@")
    assert "hunter2" not in run.stderr


def test_another_hosts_url_gets_no_azure_identity_token(policies: Path) -> None:
    run = plan(policies, XTAP_GRAPH_URL="https://graph.contoso.example/v1.0", XTAP_ACCESS_TOKEN=None)
    assert_refused(run, "Graph URL host graph.contoso.example is not Microsoft Graph in a known cloud")
    assert "set XTAP_ACCESS_TOKEN" in run.stderr


def test_another_clouds_graph_host_needs_its_cloud(policies: Path) -> None:
    run = plan(policies, "--cloud", "global", XTAP_GRAPH_URL="https://dod-graph.microsoft.us/v1.0")
    assert_refused(run, "host dod-graph.microsoft.us belongs to the usgovdod cloud, not to global")
    assert "pass --cloud usgovdod" in run.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {"XTAP_ACCESS_TOKEN": ""}, "XTAP_ACCESS_TOKEN is set but empty"),
        ((), {"XTAP_GRAPH_URL": ""}, "XTAP_GRAPH_URL is set but empty"),
        ((), {"XTAP_CLOUD": ""}, "XTAP_CLOUD is set but empty"),
        (("--graph-url", ""), {}, "Invalid value for '--graph-url': must not be empty"),
        ((), {"XTAP_TIMEOUT": ""}, "XTAP_TIMEOUT is set but empty"),
        (("--timeout", "nan"), {}, "'--timeout': nan is not a number of seconds above 0 and at most 600"),
        (("--timeout", "-inf"), {}, "'--timeout': -inf is not a number of seconds above 0 and at most 600"),
        (("--timeout", "0"), {}, "'--timeout': 0 is not a number of seconds above 0 and at most 600"),
        (("--timeout", "601"), {}, "601 is not a number of seconds above 0 and at most 600: write, say, 30 (the"),
        ((), {"XTAP_TIMEOUT": "1e308"}, "'--timeout': XTAP_TIMEOUT=1e+308 is not a number of seconds above 0"),
        ((), {"XTAP_TIMEOUT": "inf"}, "'--timeout': XTAP_TIMEOUT=inf is not a number of seconds above 0"),
        ((), {"XTAP_TIMEOUT": "-1"}, "'--timeout': XTAP_TIMEOUT=-1 is not a number of seconds above 0"),
    ],
)
def test_empty_or_bad_settings_are_errors_not_defaults(
    policies: Path, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    assert_refused(plan(policies, *args, **env), message)


def test_the_largest_timeout_is_allowed(policies: Path) -> None:
    run = plan(policies, "--timeout", "600")
    assert run.code == 1 and "cannot reach Graph" in run.stderr and "Invalid value" not in run.stderr, run.stderr


def test_localhost_and_a_trailing_slash_reach_the_emulator(policies: Path, emulator: Emulator) -> None:
    url = emulator.base_url.replace("127.0.0.1", "localhost") + "/"
    run = run_xtap("plan", "--policies", str(policies), emulator=emulator, extra_env={"XTAP_GRAPH_URL": url})
    assert run.code == 0, run.stderr
    assert f"Reading the live tenant from {url.rstrip('/')} ..." in run.stderr


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        (
            {PARTNERS: (200, "text/html", b"<html><body>Sign in to the proxy</body></html>")},
            "GET /policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization: "
            "not Graph's reply: the body is not a JSON object: "
            "'<html><body>Sign in to the proxy</body></html>'",
        ),
        ({PARTNERS: json_reply([1, 2])}, "the body is not a JSON object: '[1, 2]'"),
        ({PARTNERS: json_reply({"value": "none"})}, "a collection page without a 'value' list of objects"),
        ({PARTNERS: json_reply({"value": [{"tenantId": "\x1b[31m"}]})}, "a partner without a GUID tenantId"),
        ({PARTNERS: (502, "text/html", b"<h1>Bad gateway</h1>")}, "502: The server returned an unexpected status"),
        ({PARTNERS: NO_PARTNERS, TEMPLATE: json_reply(["newPartners"])}, "the body is not a JSON object"),
    ],
    ids=[
        "html",
        "json-array",
        "value-not-a-list",
        "tenantId-not-a-guid",
        "html-error-status",
        "template-not-an-object",
    ],
)
def test_a_reply_that_is_not_graphs_is_a_graph_error(tmp_path: Path, replies: dict[str, Reply], message: str) -> None:
    policies = write_policies(tmp_path / "policies", [], template={})
    with serving(replies) as url:
        run = plan(policies, XTAP_GRAPH_URL=url)
    assert_refused(run, message)
    assert "Error: GET /policies/crossTenantAccessPolicy/" in run.stderr


def test_a_huge_reply_is_clipped_not_dumped(policies: Path) -> None:
    with serving({PARTNERS: (200, "text/html", b"<html>" + b"x" * 1_000_000)}) as url:
        run = plan(policies, XTAP_GRAPH_URL=url)
    assert_refused(run, "not Graph's reply: the body is not a JSON object: '<html>xxx")
    assert len(run.stderr) < 1_000


def test_a_hostile_next_link_is_an_error_not_a_crash(policies: Path) -> None:
    with serving({PARTNERS: json_reply({"value": [], "@odata.nextLink": "http://127.0.0.1:99999/\x1b[31mred"})}) as url:
        run = plan(policies, XTAP_GRAPH_URL=url)
    assert_refused(run, r"@odata.nextLink 'http://127.0.0.1:99999/\x1b[31mred' is not a URL")
    assert "\x1b" not in run.stderr


def test_a_server_that_never_answers_times_out_saying_so(policies: Path) -> None:
    with silent() as server:
        run = plan(policies, "--timeout", "1", XTAP_GRAPH_URL=server.url)
        sent = len(server.connections)
    assert_refused(
        run,
        "Error: GET /policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization: "
        "Graph did not answer within 1 s; "
        "raise --timeout or retry",
    )
    assert sent == 2  # the partner list and the default, each once: one wait, not one per retry


def test_an_empty_policies_variable_is_an_error_not_the_default() -> None:
    run = run_xtap("validate", extra_env={"XTAP_POLICIES": ""})
    assert run.code == 1 and "XTAP_POLICIES is set but empty" in run.stderr
