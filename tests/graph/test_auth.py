"""Where the token may go (`graph/auth.py`): only a Graph v1.0 base URL on the cloud's own host
(or loopback, or a proxy the user names along with a token), the token sent only to that origin,
and a token from the environment taken as a header can carry it or refused without being echoed."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
from azure.core.credentials import AccessToken

from reconciler.core.clouds import CLOUDS
from reconciler.graph.auth import TokenProvider, static_token
from reconciler.graph.client import Graph, connect
from reconciler.graph.errors import GraphError


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
        connect("http://127.0.0.1:9/v1.0", "global", "eyJ.sec\x01ret")
    assert "sec" not in str(raised.value) and "XTAP_ACCESS_TOKEN" in str(raised.value)


def token_of(tenant: str) -> str:
    """An unsigned JWT naming `tenant`: only its claims are read before Graph sees it."""
    return jwt.encode({"tid": tenant}, "k" * 32, algorithm="HS256")


A, B = "0a0a0a0a-0000-4000-8000-00000000000a", "0b0b0b0b-0000-4000-8000-00000000000b"


def test_of_several_tokens_the_one_for_the_bound_tenant_is_used() -> None:
    tokens = f"{token_of(A)}\n{token_of(B)} "
    assert static_token(tokens, A) == token_of(A)
    assert static_token(tokens, B) == token_of(B)
    assert static_token(token_of(A), B) == token_of(A)  # one token: the client refuses it later, naming both


@pytest.mark.parametrize(
    ("tokens", "tenant", "expected"),
    [
        (f"{token_of(A)} {token_of(B)}", None, "binds no tenant to pick one by"),
        (f"{token_of(A)} {token_of(A)}", B, "none is for tenant " + B),
        (f"{token_of(A)} {token_of(A)}", A, "2 are for tenant " + A),
    ],
)
def test_several_tokens_are_never_guessed_between(tokens: str, tenant: str | None, expected: str) -> None:
    with pytest.raises(GraphError, match=expected) as raised:
        static_token(tokens, tenant)
    assert token_of(A) not in str(raised.value)


class Recording:
    """azure-identity's credential protocol (`get_token`), saying which tenant was asked for."""

    def __init__(self) -> None:
        self.asked: list[dict[str, object]] = []

    async def get_token(self, *scopes: str, **options: object) -> AccessToken:
        self.asked.append(options)
        return AccessToken(token_of(A), int(time.time()) + 3600)


@pytest.mark.parametrize(("tenant", "asked"), [(A, {"tenant_id": A}), (None, {})])
def test_azure_identity_is_asked_for_the_bound_tenants_token(tenant: str | None, asked: dict[str, str]) -> None:
    credential = Recording()
    provider = TokenProvider("https://graph.microsoft.com/v1.0", "s", None, credential, tenant)
    assert asyncio.run(provider.token()) == token_of(A)
    assert credential.asked == [asked]
