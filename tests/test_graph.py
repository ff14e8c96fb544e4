"""The Graph client's guard rails: clouds, plain-http refusal, and the token staying home."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.graph import CLOUDS, GraphError, _TokenProvider, connect


@pytest.mark.parametrize(
    ("cloud", "base_url", "authority"),
    [
        ("global", "https://graph.microsoft.com/v1.0", "login.microsoftonline.com"),
        ("usgov", "https://graph.microsoft.us/v1.0", "login.microsoftonline.us"),
        ("usgovdod", "https://dod-graph.microsoft.us/v1.0", "login.microsoftonline.us"),
        ("china", "https://microsoftgraph.chinacloudapi.cn/v1.0", "login.chinacloudapi.cn"),
    ],
)
def test_a_cloud_sets_host_authority_and_scope_together(
    cloud: str, base_url: str, authority: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", "t")
    assert connect(None, cloud).base_url == base_url
    assert CLOUDS[cloud].authority == authority
    assert CLOUDS[cloud].scope == base_url.removesuffix("/v1.0") + "/.default"


def test_plain_http_is_refused_except_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", "t")
    assert connect("http://127.0.0.1:8765/v1.0", "global").base_url == "http://127.0.0.1:8765/v1.0"
    with pytest.raises(GraphError, match="must be https"):
        connect("http://graph.example.com/v1.0", "global")


def test_the_token_goes_only_to_the_configured_graph_host() -> None:
    provider = _TokenProvider("graph.microsoft.us", "https://graph.microsoft.us/.default", "secret", None)
    home = asyncio.run(provider.get_authorization_token("https://graph.microsoft.us/v1.0/policies"))
    away = asyncio.run(provider.get_authorization_token("https://attacker.example/v1.0/policies?$skiptoken=x"))
    assert (home, away) == ("secret", "")
