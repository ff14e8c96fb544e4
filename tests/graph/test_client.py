"""The Graph client's guard rails (`graph/client.py`): the cloud's host, errors that never carry
the token, replies that are not Graph's, long messages clipped, listings that end at their
bounds, one timeout not one per retry. In process, against tiny loopback servers: the variants
the CLI tests leave out. Base URLs and the token's origin are in test_auth.py, gzip, byte bounds,
Retry-After and proxies in test_transport.py."""

from __future__ import annotations

import asyncio
import json
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from support.graph_read import read
from support.stub_servers import (
    NO_PARTNERS,
    PARTNERS,
    TEMPLATE,
    Answer,
    Reply,
    json_reply,
    paging,
    serving,
    silent,
    start,
    tenant,
)

from reconciler.core.clouds import CLOUDS
from reconciler.core.live import Live
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph.client import Graph, _hearing, connect
from reconciler.graph.errors import GraphError
from reconciler.graph.read import read_live


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


def test_errors_never_carry_the_token() -> None:
    graph = connect("http://127.0.0.1:9/v1.0", "global", "eyJ.secret.sig")
    leaked = GraphError("Illegal header value b'Bearer eyJ.secret.sig'", method="GET", url="/x")
    assert "eyJ.secret.sig" not in str(graph._scrubbed(leaked))
    assert "eyJ" not in graph._shown("x" * 115 + "eyJ.secret.sig")  # scrubbed before it is clipped


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


def recording(into: list[str | None], reply: Reply) -> Answer:
    """`reply`, after noting the Authorization header the request carried (None: none)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        into.append(handler.headers.get("Authorization"))
        start(handler, reply[0], reply[1], len(reply[2]))
        handler.wfile.write(reply[2])

    return answer


def test_a_next_link_to_another_origin_is_followed_without_the_token() -> None:
    """GETs bypass the SDK's adapter: the token still goes only to the base URL's origin, and
    a nextLink elsewhere is not asked for ahead of its page either."""
    here: list[str | None] = []
    there: list[str | None] = []
    elsewhere: dict[str, Reply | Answer] = {
        PARTNERS: recording(there, json_reply({"value": [{"tenantId": tenant(2)}]}))
    }
    with serving(elsewhere) as other:
        page = json_reply(
            {"value": [{"tenantId": tenant(1)}], "@odata.nextLink": other + PARTNERS.removeprefix("/v1.0")}
        )
        with serving({PARTNERS: recording(here, page)}) as url:
            live = asyncio.run(read(url, with_template=False))
    assert sorted(address.id for address in live.instances) == [tenant(1), tenant(2)]
    assert here == ["Bearer eyJ.test.token"] and there == [None]


@pytest.mark.parametrize("decoy_first", [True, False])
def test_a_next_link_guessed_from_the_raw_page_is_dropped_when_the_page_names_another(decoy_first: bool) -> None:
    """The next page is asked for from the raw bytes' "@odata.nextLink" before the page is
    parsed: the first one ahead of the first list, else the last one. Here that is a decoy
    (a path that answers 404) in a property of its own, ahead of the list or after the real
    one, and the listing must follow the nextLink the parsed page names, as if nothing had
    been guessed."""

    def page(n: int, url: str) -> dict[str, object]:
        if n:
            return {"value": [{"tenantId": tenant(2)}]}
        decoy = {"x": {"@odata.nextLink": url.split("?")[0] + "/decoy"}}
        real = {"@odata.nextLink": url.split("?")[0] + "?page=2"}
        listed = {"value": [{"tenantId": tenant(1)}]}
        return {**decoy, **real, **listed} if decoy_first else {**listed, **real, **decoy}

    with serving({PARTNERS: paging(page)}) as url:
        live = asyncio.run(read(url, with_template=False))
    assert sorted(address.id for address in live.instances) == [tenant(1), tenant(2)]


def test_a_next_link_at_the_origin_but_not_a_bare_url_is_neither_read_ahead_nor_followed() -> None:
    """A nextLink the raw page shows at the base URL's origin is asked for before its page is
    parsed, and then followed unchecked once the parsed page names it: so the guess itself
    must pass every check the nextLink would."""
    asked: list[int] = []

    def page(n: int, url: str) -> dict[str, object]:
        asked.append(n)
        return {"value": [{"tenantId": tenant(n)}], "@odata.nextLink": url.split("?")[0] + "?$skiptoken=a b"}

    with serving({PARTNERS: paging(page)}) as url, pytest.raises(GraphError, match=r"skiptoken=a b' is not a URL"):
        asyncio.run(read(url, with_template=False))
    assert asked == [0]


def test_a_page_read_ahead_is_traced_only_until_its_request_is_on_the_wire() -> None:
    """httpcore reads the trace hook afresh at each step of an exchange, so the hook that tells a
    read-ahead its request went out takes itself out then: nothing after it is traced."""
    traced: list[str] = []
    sent: list[int] = []

    async def get(base_url: str) -> int:
        async with httpx.AsyncClient() as client:
            request = client.build_request("GET", base_url + "/policies/crossTenantAccessPolicy/default")
            hearing = _hearing(request.extensions, lambda: sent.append(len(traced)))

            async def trace(event: str, info: dict[str, object]) -> None:
                traced.append(event.split(".", 1)[1])
                await hearing(event, info)

            request.extensions["trace"] = trace
            return (await client.send(request)).status_code

    with Emulator() as emulator:
        status = asyncio.run(get(emulator.base_url))
    assert status == 401  # no token: only the exchange matters here
    assert traced[-2:] == ["send_request_headers.started", "send_request_headers.complete"]
    assert sent == [len(traced)]


def test_a_throttled_page_is_read_again_after_its_retry_after() -> None:
    """Against the emulator over real HTTP: GETs no longer pass kiota's RetryHandler, so xtap's
    own retry must wait out each 429 and read every page."""
    config = EmulatorConfig(page_size=2, throttle_every=3, retry_after_s=0.01)
    with Emulator(config) as emulator:
        for n in range(7):
            emulator.put_partner({"tenantId": tenant(n)})
        token = emulator.mint_token()

        async def listed() -> Live:
            async with Graph(emulator.base_url, CLOUDS["global"], token) as graph:
                return await read_live(graph, ("partner",))

        live = asyncio.run(listed())
        throttled = [r for r in emulator.requests if r.method == "GET" and r.status == 429]
    assert sorted(address.id for address in live.instances) == sorted(tenant(n) for n in range(7))
    assert throttled
