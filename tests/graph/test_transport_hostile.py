"""No reply makes xtap hang, grow or crash, and no proxy sees a token: the CLI in a subprocess
against loopback servers that answer as Graph never would (stub_servers.py), each refusal one
clean line and exit 1. Nothing here asserts on time: the child's own deadline (--timeout) and
pytest's timeout bound every test, and each would run for minutes without the bound it tests."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support.paths import TESTS
from support.policy_files import write_policies
from support.stub_servers import (
    NO_PARTNERS,
    PARTNERS,
    Answer,
    Reply,
    deep_partner,
    endless_body,
    endless_pages,
    json_reply,
    paging,
    recording_proxy,
    serving,
    tenant,
    throttled,
    trickle,
)
from support.xtap import Run, run_xtap

LIST = "GET /policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization: "
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
# The machine's own proxy settings, in either case, are not the test's.
NO_PROXIES: dict[str, str | None] = {name: None for upper in PROXY_VARIABLES for name in (upper, upper.lower())}
MEMORY_LIMIT = 300 * 2**20
# The address space the child may reserve, far above what it uses (mapped libraries, thread
# stacks): only a run that would grow without end reaches it, and it then fails in seconds
# instead of taking the memory of the machine.
ADDRESS_SPACE = 2 * 2**30


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return write_policies(tmp_path / "policies", [])


def plan(
    policies: Path, url: str, *args: str, env: dict[str, str] | None = None, launcher: tuple[str, ...] = ()
) -> Run:
    """`xtap plan` against `url`, with no proxy but those in `env`. The subprocess timeout is
    only there for a build without the bounds these tests test."""
    extra: dict[str, str | None] = {**NO_PROXIES, "XTAP_GRAPH_URL": url, **(env or {})}
    return run_xtap("plan", "--policies", str(policies), *args, extra_env=extra, timeout=90, launcher=launcher)


def assert_one_clean_error(run: Run, message: str) -> None:
    """Exit 1 with `message` on the one error line, and nothing but progress besides."""
    assert run.code == 1, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if not line.startswith("Reading the live tenant")]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("Error: ") and message in errors[0], run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr


def test_a_reply_that_never_ends_is_cut_off_in_bounded_memory(policies: Path, tmp_path: Path) -> None:
    peak = tmp_path / "peak"
    launcher = (sys.executable, str(TESTS / "support" / "peak_memory.py"), str(peak), str(ADDRESS_SPACE))
    with serving({PARTNERS: endless_body}) as url:
        run = plan(policies, url, launcher=launcher)
    assert_one_clean_error(run, LIST + "not Graph's reply: more than 16 MiB")
    assert int(peak.read_text()) < MEMORY_LIMIT


def test_a_reply_trickled_slowly_ends_at_the_timeout(policies: Path) -> None:
    with serving({PARTNERS: trickle(b'{"value": []}' + b" " * 1000)}) as url:
        run = plan(policies, url, "--timeout", "2")
    assert_one_clean_error(run, LIST + "Graph did not answer within 2 s; raise --timeout or retry")


def test_a_retry_after_past_the_deadline_fails_at_once_saying_so(policies: Path) -> None:
    with serving({PARTNERS: throttled("20")}) as url:
        run = plan(policies, url, "--timeout", "2")
    assert_one_clean_error(
        run, LIST + "429: Graph asks to wait 20 s (Retry-After), past the end of --timeout 2 s; retry later"
    )


def test_a_retry_after_within_the_deadline_is_waited_for(policies: Path) -> None:
    replies: dict[str, Reply | Answer] = {}
    throttle = throttled("1")

    def once(handler: BaseHTTPRequestHandler) -> None:  # throttled the first time, then a page
        replies[PARTNERS] = NO_PARTNERS
        throttle(handler)

    replies[PARTNERS] = once
    with serving(replies) as url:
        run = plan(policies, url, "--timeout", "10")
    assert run.code == 0, run.stderr


def test_nesting_no_graph_type_has_is_not_graphs_reply(policies: Path) -> None:
    with serving({PARTNERS: deep_partner(500)}) as url:
        run = plan(policies, url)
    assert_one_clean_error(run, LIST + "not Graph's reply: nested deeper than 32 levels")


def test_pages_that_list_the_same_partner_again_are_an_error_not_a_merge(policies: Path) -> None:
    with serving({PARTNERS: endless_pages([{"tenantId": tenant(1)}])}) as url:
        run = plan(policies, url)
    assert_one_clean_error(
        run,
        LIST + f"partner {tenant(1)} listed twice while paging: the list changed while it was read, "
        "or the server misbehaves",
    )


def test_a_partner_twice_in_one_page_is_an_error(policies: Path) -> None:
    with serving({PARTNERS: json_reply({"value": [{"tenantId": tenant(1)}, {"tenantId": tenant(1).upper()}]})}) as url:
        run = plan(policies, url)
    assert_one_clean_error(run, LIST + f"partner {tenant(1)} listed twice while paging")


def test_a_next_link_that_does_not_advance_is_an_error(policies: Path) -> None:
    with serving({PARTNERS: paging(lambda n, url: {"value": [], "@odata.nextLink": url})}) as url:
        run = plan(policies, url)
    assert_one_clean_error(run, LIST + "the same @odata.nextLink twice")


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY"])
def test_a_loopback_graph_never_goes_through_a_proxy(policies: Path, variable: str) -> None:
    with recording_proxy() as (proxy, visits), serving({PARTNERS: NO_PARTNERS}) as url:
        run = plan(policies, url, env={variable: proxy})
    assert run.code == 0, run.stderr
    assert visits == []


def test_https_graph_goes_through_the_proxy_as_a_tunnel_and_the_proxy_never_sees_the_token(
    policies: Path,
) -> None:
    with recording_proxy() as (proxy, visits):
        run = plan(policies, "https://graph.microsoft.com/v1.0", env={"HTTPS_PROXY": proxy})
    assert_one_clean_error(run, "cannot reach Graph")
    assert visits, "the proxy was not used"
    assert all(visit.line == "CONNECT graph.microsoft.com:443 HTTP/1.1" for visit in visits), visits
    assert all("authorization" not in visit.headers for visit in visits), visits
    assert "offline-test" not in repr(visits)


def test_plain_http_to_any_other_host_is_refused_before_a_proxy_sees_anything(policies: Path) -> None:
    with recording_proxy() as (proxy, visits):
        run = plan(policies, "http://graph.contoso.example/v1.0", env={"HTTP_PROXY": proxy, "ALL_PROXY": proxy})
    assert_one_clean_error(run, "must be https (plain http only on loopback)")
    assert visits == []
