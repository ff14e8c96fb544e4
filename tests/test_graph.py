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


def test_the_token_goes_only_to_the_configured_graph_origin() -> None:
    provider = _TokenProvider("https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default", "secret", None)

    def token_for(url: str) -> str:
        return asyncio.run(provider.get_authorization_token(url))

    assert token_for("https://GRAPH.microsoft.us/v1.0/policies") == "secret"
    assert token_for("https://attacker.example/v1.0/policies?$skiptoken=x") == ""
    assert token_for("http://graph.microsoft.us/v1.0/policies") == ""  # not over plain http
    assert token_for("https://graph.microsoft.us:8443/v1.0/policies") == ""  # nor to another port


def test_a_token_from_a_secret_file_loses_its_newline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", "eyJ.secret.sig\r\n")
    graph = connect("http://127.0.0.1:9/v1.0", "global")
    assert graph._tokens.issued == {"eyJ.secret.sig"}


def test_a_malformed_token_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", "eyJ.sec\nret")
    with pytest.raises(GraphError) as raised:
        connect("http://127.0.0.1:9/v1.0", "global")
    assert "sec" not in str(raised.value) and "XTAP_ACCESS_TOKEN" in str(raised.value)


def test_errors_never_carry_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTAP_ACCESS_TOKEN", "eyJ.secret.sig")
    graph = connect("http://127.0.0.1:9/v1.0", "global")
    leaked = GraphError("Illegal header value b'Bearer eyJ.secret.sig'", method="GET", url="/x")
    assert "eyJ.secret.sig" not in str(graph._scrubbed(leaked))
