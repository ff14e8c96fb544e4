"""The Graph client's guard rails: clouds, base URLs, the token staying home, and replies that
are not Graph's. In process, against tiny loopback servers: the variants the CLI tests leave out."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from support.stub_servers import (
    NO_PARTNERS,
    PARTNERS,
    TEMPLATE,
    Answer,
    Reply,
    encoded,
    json_reply,
    paging,
    serving,
    silent,
    tenant,
)

from reconciler.core.bounds import MAX_REPLY_BYTES
from reconciler.core.clouds import CLOUDS
from reconciler.core.live import Live
from reconciler.graph.auth import TokenProvider
from reconciler.graph.client import Graph, connect
from reconciler.graph.errors import GraphError
from reconciler.graph.read import read_live
from reconciler.graph.transport import Refused, _Bounded, http_client, retry_after_seconds


@pytest.mark.parametrize(
    ("cloud", "base_url", "authority"),
    [
        ("global", "https://graph.microsoft.com/v1.0", "login.microsoftonline.com"),
        ("usgov", "https://graph.microsoft.us/v1.0", "login.microsoftonline.us"),
        ("usgovdod", "https://dod-graph.microsoft.us/v1.0", "login.microsoftonline.us"),
        ("china", "https://microsoftgraph.chinacloudapi.cn/v1.0", "login.chinacloudapi.cn"),
    ],
)
def test_a_cloud_sets_host_authority_and_scope_together(cloud: str, base_url: str, authority: str) -> None:
    assert connect(None, cloud, "t").base_url == base_url
    assert CLOUDS[cloud].authority == authority
    assert CLOUDS[cloud].scope == base_url.removesuffix("/v1.0") + "/.default"


def base_url_of(url: str, cloud: str = "global", token: str | None = "t") -> str:
    """The base URL a client is built with, or the refusal's message."""

    async def build() -> str:
        async with Graph(url, CLOUDS[cloud], token) as graph:
            return graph.base_url

    try:
        return asyncio.run(build())
    except GraphError as exc:
        return str(exc)


@pytest.mark.parametrize(
    ("url", "cloud", "token", "expected"),
    [
        ("https://graph.microsoft.com/v1.0/", "global", None, "https://graph.microsoft.com/v1.0"),
        ("https://graph.microsoft.us/v1.0", "usgov", None, "https://graph.microsoft.us/v1.0"),
        ("http://127.0.0.2:8765/v1.0", "global", None, "http://127.0.0.2:8765/v1.0"),
        ("http://[::1]:8765/v1.0", "global", "t", "http://[::1]:8765/v1.0"),
        ("https://proxy.contoso.example/graph/v1.0", "global", "t", "https://proxy.contoso.example/graph/v1.0"),
        ("https://proxy.contoso.example/graph/v1.0", "global", None, "host proxy.contoso.example is not Microsoft"),
        ("https://graph.microsoft.com/beta", "global", "t", "is not a Graph v1.0 base URL"),
        ("https://graph.microsoft.com", "global", "t", "(like https://graph.microsoft.com/v1.0)"),
        ("https://graph.microsoft.com/v1.0/policies", "global", "t", "is not a Graph v1.0 base URL"),
        ("https://graph.microsoft.com/v1.0#top", "global", "t", "must not carry a query or a fragment"),
        ("https://graph.microsoft.com/v1.0?", "global", "t", "must not carry a query or a fragment"),
        ("https://graph.microsoft.com:99999/v1.0", "global", "t", "lacks a valid host or port"),
        ("https://graph.microsoft.com:x/v1.0", "global", "t", "lacks a valid host or port"),
        ("https:///v1.0", "global", "t", "lacks a valid host or port"),
        ("http://graph.example.com/v1.0", "global", "t", "must be https (plain http only on loopback)"),
        ("https://graph.microsoft.com/\tv1.0", "global", "t", "holds spaces or control characters"),
        ("https://graph.microsoft.com/v1.0", "china", "t", "pass --cloud global"),
        ("https://user@graph.microsoft.com/v1.0", "global", "t", "must not carry user:password@"),
    ],
)
def test_only_a_graph_v1_base_url_and_the_right_host_are_used(
    url: str, cloud: str, token: str | None, expected: str
) -> None:
    assert expected in base_url_of(url, cloud, token)


def test_the_token_goes_only_to_the_configured_graph_origin() -> None:
    provider = TokenProvider("https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default", "secret", None)

    def token_for(url: str) -> str:
        return asyncio.run(provider.get_authorization_token(url))

    assert token_for("https://GRAPH.microsoft.us/v1.0/policies") == "secret"
    assert token_for("https://attacker.example/v1.0/policies?$skiptoken=x") == ""
    assert token_for("http://graph.microsoft.us/v1.0/policies") == ""  # not over plain http
    assert token_for("https://graph.microsoft.us:8443/v1.0/policies") == ""  # nor to another port
    assert token_for("https://graph.microsoft.us:99999/v1.0/policies") == ""  # nor to a port that is none


def test_a_token_from_a_secret_file_loses_its_newline() -> None:
    graph = connect("http://127.0.0.1:9/v1.0", "global", "eyJ.secret.sig\r\n")
    assert graph._tokens.issued == {"eyJ.secret.sig"}


@pytest.mark.parametrize("value", ["", " \n"])
def test_an_empty_token_is_an_error_not_a_fallback(value: str) -> None:
    with pytest.raises(GraphError, match="XTAP_ACCESS_TOKEN is set but empty"):
        connect("http://127.0.0.1:9/v1.0", "global", value)


def test_a_malformed_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(GraphError) as raised:
        connect("http://127.0.0.1:9/v1.0", "global", "eyJ.sec\nret")
    assert "sec" not in str(raised.value) and "XTAP_ACCESS_TOKEN" in str(raised.value)


def test_errors_never_carry_the_token() -> None:
    graph = connect("http://127.0.0.1:9/v1.0", "global", "eyJ.secret.sig")
    leaked = GraphError("Illegal header value b'Bearer eyJ.secret.sig'", method="GET", url="/x")
    assert "eyJ.secret.sig" not in str(graph._scrubbed(leaked))
    assert "eyJ" not in graph._shown("x" * 115 + "eyJ.secret.sig")  # scrubbed before it is clipped


async def read(url: str, with_template: bool = True, timeout: float = 5) -> Live:
    types = ("partner", "mtoPartnerTemplate") if with_template else ("partner",)
    async with Graph(url, CLOUDS["global"], "eyJ.test.token", timeout) as graph:
        return await read_live(graph, types)


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        ({PARTNERS: (200, "application/json", b"[" * 100_000)}, "the body is not a JSON object: '[[[["),
        ({PARTNERS: (200, "application/json", b"\xff\xfe{")}, "the body is not a JSON object"),
        ({PARTNERS: json_reply(None)}, "the body is not a JSON object: 'null'"),
        ({PARTNERS: json_reply({"value": [7]})}, "a collection page without a 'value' list of objects"),
        ({PARTNERS: json_reply({"values": []})}, "a collection page without a 'value' list of objects"),
        ({PARTNERS: json_reply({"value": [{"tenantId": 7}]})}, "a partner without a GUID tenantId"),
        ({PARTNERS: json_reply({"value": [{"id": "x"}]})}, "a partner without a GUID tenantId"),
        ({PARTNERS: json_reply({"value": [], "@odata.nextLink": 7})}, "@odata.nextLink '7' is not a URL"),
        ({PARTNERS: json_reply({"value": [], "@odata.nextLink": ""})}, "@odata.nextLink '' is not a URL"),
        ({PARTNERS: json_reply({"value": [], "@odata.nextLink": "/v1.0/x"})}, "@odata.nextLink '/v1.0/x' is not"),
        ({PARTNERS: json_reply({"value": [], "@odata.nextLink": "ftp://h/x"})}, "'ftp://h/x' is not a URL"),
        ({PARTNERS: NO_PARTNERS, TEMPLATE: (200, "application/json", b"")}, "the reply is empty"),
        ({PARTNERS: NO_PARTNERS, TEMPLATE: json_reply("newPartners")}, "the body is not a JSON object"),
    ],
)
def test_a_reply_that_is_not_graphs_is_a_graph_error(replies: dict[str, Reply], message: str) -> None:
    with serving(replies) as url, pytest.raises(GraphError) as raised:
        asyncio.run(read(url))
    assert message in str(raised.value)
    assert (raised.value.method, raised.value.status) == ("GET", None)
    assert raised.value.url.startswith("/policies/crossTenantAccessPolicy/")


def test_a_long_graph_message_is_clipped() -> None:
    message, inner = "Invalid property " + "x" * 10_000, {"request-id": "r" * 10_000}
    error = {"error": {"code": "Request_BadRequest", "message": message, "innerError": inner}}
    reply: Reply = (400, "application/json", json.dumps(error).encode())
    clipped = r"400 Request_BadRequest: Invalid property x+… \(request-id r+…\)$"
    with serving({PARTNERS: reply}) as url, pytest.raises(GraphError, match=clipped) as raised:
        asyncio.run(read(url, with_template=False))
    assert len(str(raised.value)) < 400


def test_a_next_link_that_repeats_is_an_error_not_a_loop() -> None:
    replies: dict[str, Reply] = {}
    with serving(replies) as url, pytest.raises(GraphError, match=r"the same @odata\.nextLink twice"):
        replies[PARTNERS] = json_reply({"value": [], "@odata.nextLink": url + PARTNERS.removeprefix("/v1.0")})
        asyncio.run(read(url, with_template=False))


def test_a_silent_server_costs_one_timeout_not_one_per_retry() -> None:
    with silent() as server:
        with pytest.raises(GraphError, match=r"Graph did not answer within 0.3 s; raise --timeout"):
            asyncio.run(read(server.url, with_template=False, timeout=0.3))
        # Only the partner list is read here, once: a timeout is not retried.
        assert len(server.connections) == 1


def test_a_gzip_reply_is_decoded() -> None:
    page = json.dumps({"value": [{"tenantId": tenant(1)}]}).encode()
    with serving({PARTNERS: encoded(gzip.compress(page), "gzip")}) as url:
        live = asyncio.run(read(url, with_template=False))
    assert [address.id for address in live.instances] == [tenant(1)]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (encoded(gzip.compress(b" " * (MAX_REPLY_BYTES + 1)), "gzip"), "not Graph's reply: more than 16 MiB"),
        (encoded(b"{}", "identity", length=MAX_REPLY_BYTES + 1), "not Graph's reply: more than 16 MiB"),
        (encoded(b"\x1f\x8b\x08\x00junk" * 10, "gzip"), "not Graph's reply: the reply's gzip encoding is corrupt"),
        (encoded(b"{}", "br"), "not Graph's reply: the reply is encoded as 'br', which xtap did not ask for"),
        (encoded(gzip.compress(gzip.compress(b"{}")), "gzip, gzip"), "encoded as 'gzip, gzip'"),
    ],
    ids=["gzip-bomb", "announced-too-long", "corrupt-gzip", "brotli", "gzip-twice"],
)
def test_a_reply_is_bounded_as_it_is_decoded(answer: Answer, message: str) -> None:
    with serving({PARTNERS: answer}) as url, pytest.raises(GraphError, match=message) as raised:
        asyncio.run(read(url, with_template=False))
    assert raised.value.url == "/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization"


def distinct_pages(per_page: int) -> Answer:
    """A list that never ends: each page new partners and a new nextLink."""
    return paging(
        lambda n, url: {
            "value": [{"tenantId": tenant(n * per_page + k)} for k in range(per_page)],
            "@odata.nextLink": url.split("?")[0] + f"?$skiptoken={n}",
        }
    )


@pytest.mark.parametrize(
    ("bound", "value", "message"), [("MAX_PAGES", 3, "more than 3 pages"), ("MAX_LISTED", 5, "more than 5 items")]
)
def test_a_listing_ends_at_its_bounds(monkeypatch: pytest.MonkeyPatch, bound: str, value: int, message: str) -> None:
    monkeypatch.setattr(f"reconciler.graph.client.{bound}", value)
    expected = message + ": the list changed while it was read, or the server misbehaves"
    with serving({PARTNERS: distinct_pages(2)}) as url, pytest.raises(GraphError, match=expected) as raised:
        asyncio.run(read(url, with_template=False))
    assert raised.value.url == "/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("20", 20.0), ("1.5", 1.5), ("-3", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("nan", None), ("soon", None)],
)
def test_retry_after_is_seconds_or_a_date(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_a_future_date_counts_from_now() -> None:
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=100), usegmt=True)
    assert retry_after_seconds(later, now) == 100.0
    assert retry_after_seconds(later, now + timedelta(seconds=130)) == 0.0  # a date already past


def test_no_proxy_ever_gets_a_token_over_plain_http() -> None:
    proxied = _Bounded(httpx.AsyncHTTPTransport(), proxied=True)
    request = httpx.Request("GET", "http://graph.contoso.example/v1.0/x", headers={"Authorization": "Bearer t"})
    with pytest.raises(Refused, match="refused to send the token in clear text through a proxy"):
        asyncio.run(proxied.handle_async_request(request))


PROXY_VARIABLES = [
    name for upper in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY") for name in (upper, upper.lower())
]


@pytest.mark.parametrize(
    ("base_url", "env", "proxied"),
    [
        ("https://graph.microsoft.com/v1.0", {"HTTPS_PROXY": "http://127.0.0.1:9"}, True),
        ("https://graph.microsoft.com/v1.0", {"https_proxy": "http://127.0.0.1:9"}, True),
        ("https://graph.microsoft.com/v1.0", {"ALL_PROXY": "http://127.0.0.1:9"}, True),
        (
            "https://graph.microsoft.com/v1.0",
            {"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "graph.microsoft.com"},
            False,
        ),
        ("https://graph.microsoft.com/v1.0", {"HTTP_PROXY": "http://127.0.0.1:9"}, False),
        ("http://127.0.0.1:8765/v1.0", {"HTTP_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}, False),
        ("http://127.0.0.2:8765/v1.0", {"all_proxy": "http://127.0.0.1:9"}, False),
        ("http://localhost:8765/v1.0", {"http_proxy": "http://127.0.0.1:9"}, False),
        ("http://[::1]:8765/v1.0", {"ALL_PROXY": "http://127.0.0.1:9"}, False),
    ],
)
def test_proxies_come_from_the_environment_except_for_loopback(
    monkeypatch: pytest.MonkeyPatch, base_url: str, env: dict[str, str], proxied: bool
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = http_client(base_url, 5)
    route = client._transport_for_url(httpx.URL(base_url + "/policies"))
    assert (route is not client._transport) == proxied
    assert isinstance(route.transport, _Bounded)  # every route, a proxy's too, is bounded
    asyncio.run(client.aclose())
