"""The HTTP layer under the Graph client (`graph/transport.py`), in process against tiny loopback
servers: gzip decoded, every reply bounded in bytes as it is decoded, Retry-After read as seconds
or a date, and proxies taken from the environment, never for loopback and never sent a token in
clear text. The same refusals seen from the CLI are in test_transport_hostile.py."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from support.graph_read import read
from support.stub_servers import PARTNERS, Answer, encoded, json_reply, serving, tenant

from reconciler.core.bounds import MAX_REPLY_BYTES
from reconciler.graph.errors import GraphError
from reconciler.graph.transport import (
    Refused,
    _Bounded,
    _OnFirstHandshake,
    http_client,
    retry_after_seconds,
    tls,
    with_middleware,
)


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
    assert isinstance(route, _Bounded)  # every route of the GETs, a proxy's too, is bounded
    # and under the SDK's middleware, which the writes go through, still
    route = with_middleware(client)._transport_for_url(httpx.URL(base_url + "/policies"))
    assert isinstance(route.transport, _Bounded)
    asyncio.run(client.aclose())


def test_every_client_verifies_with_one_tls_context_made_once() -> None:
    """Loading the CA bundle is paid once per process, not once per tenant's client, and the
    shared context still verifies the certificate and the host name."""
    first, second = (
        http_client("https://graph.microsoft.com/v1.0", 5),
        http_client("https://graph.microsoft.us/v1.0", 5),
    )
    contexts = {id(client._transport._inner._pool._ssl_context) for client in (first, second)}  # type: ignore[attr-defined]
    assert contexts == {id(tls())}
    handshake = tls().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="graph.microsoft.com").context
    assert handshake.verify_mode == ssl.CERT_REQUIRED and handshake.check_hostname
    assert handshake.cert_store_stats()["x509_ca"] > 0  # httpx's CA bundle
    assert handshake is tls().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO()).context  # loaded once
    for client in (first, second):
        asyncio.run(client.aclose())


def test_a_client_over_plain_http_loads_no_ca_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's client (plain http on loopback) makes no TLS handshake, so it never loads
    the CA bundle (a CA file of its own here, so the context is this test's alone)."""
    (tmp_path / "ca.pem").write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with serving({PARTNERS: json_reply({"value": []})}) as url:
        asyncio.run(read(url, with_template=False))
    assert isinstance(tls(), _OnFirstHandshake)
    assert tls()._load.cache_info().currsize == 0  # type: ignore[attr-defined]


def test_each_handshake_is_made_by_httpxs_context_with_the_connections_alpn() -> None:
    """httpcore sets the ALPN protocols (HTTP/2's among them) on the context it was given: the
    context that makes the handshake gets them."""
    asked: list[list[str]] = []

    class Recording(ssl.SSLContext):
        def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
            asked.append(list(alpn_protocols))
            super().set_alpn_protocols(alpn_protocols)

    loaded = Recording(ssl.PROTOCOL_TLS_CLIENT)
    context = _OnFirstHandshake(lambda: loaded)
    context.set_alpn_protocols(["http/1.1", "h2"])
    made = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="graph.microsoft.com")
    assert made.context is loaded
    assert asked == [["http/1.1", "h2"]]
