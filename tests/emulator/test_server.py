"""The HTTP shell around the emulator (reconciler/emulator/server.py): loopback only, a port in use,
`run_forever`, keep-alive over one connection, and the trust boundary: what an unauthenticated or
misbehaving client can make it do (raw sockets: bodies over the limit, bad framing)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support.emulator_http import PARTNERS, TID, assert_error
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig, SessionToken, StartError, run_forever
from reconciler.emulator.server import CONNECTION_THREAD, MAX_REQUEST_BYTES


def test_keep_alive_over_one_connection(emu: Emulator) -> None:
    url = urlsplit(emu.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    headers = {"Authorization": f"Bearer {emu.mint_token()}", "Content-Type": "application/json"}
    try:
        for method, path, body, status in [
            ("POST", PARTNERS, {"tenantId": TID}, 201),
            ("PATCH", f"{PARTNERS}/{TID}", {"inboundTrust": None}, 204),
            ("POST", PARTNERS, {"tenantId": "bad"}, 400),
            ("GET", f"{PARTNERS}/{TID}", None, 200),
            ("DELETE", f"{PARTNERS}/{TID}", None, 204),
        ]:
            payload = None if body is None else json.dumps(body)
            connection.request(method, f"{url.path}{path}", body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            assert response.status == status
            if data:
                json.loads(data)
            if method == "POST" and status == 201:
                first_socket = connection.sock
        assert connection.sock is first_socket  # never reconnected
    finally:
        connection.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com", "127.0.0.1\n", ""])
def test_start_refuses_a_host_that_is_not_loopback(host: str) -> None:
    emulator = Emulator()
    with pytest.raises(StartError, match="loopback only"):
        emulator.start(host, 0)
    with pytest.raises(RuntimeError):
        emulator.base_url  # noqa: B018 (never started)


def test_start_refuses_a_port_in_use(emu: Emulator) -> None:
    port = urlsplit(emu.base_url).port
    with pytest.raises(StartError, match=f"cannot listen on 127.0.0.1 port {port}: "):
        Emulator().start("127.0.0.1", port or 0)


def test_run_forever_serves_until_interrupted() -> None:
    seen: dict[str, Any] = {}

    def on_ready(base_url: str, tokens: list[SessionToken]) -> None:
        headers = {"Authorization": f"Bearer {tokens[0].token}"}
        response = httpx.post(f"{base_url}{PARTNERS}", json={"tenantId": TID}, headers=headers)
        seen.update(base_url=base_url, status=response.status_code)
        raise KeyboardInterrupt

    run_forever(EmulatorConfig(), "127.0.0.1", 0, on_ready)
    assert seen["status"] == 201
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{seen['base_url']}{PARTNERS}")


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: http.client.HTTPMessage
    body: Any
    closed: bool  # the server closed the connection after answering


def raw_exchange(emu: Emulator, head: str) -> RawAnswer:
    """Send only `head` (request line and headers, no body) on a fresh socket and read the
    answer. A server that waited for the body would make this time out."""
    url = urlsplit(emu.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = json.loads(response.read())
        return RawAnswer(response.status, response.headers, body, closed=sock.recv(1) == b"")


def test_an_anonymous_caller_cannot_make_it_parse_a_body(emu: Emulator) -> None:
    deep = b"[" * 200_000  # deeper than json's recursion limit
    for body in (json.dumps({"tenantId": TID}).encode(), deep):
        anonymous = httpx.post(f"{emu.base_url}{PARTNERS}", content=body, headers={"Content-Type": "application/json"})
        assert_error(anonymous, 401, "InvalidAuthenticationToken")
    assert [r.body for r in emu.requests] == [None, None]  # nothing was parsed
    with client_for(emu) as client:
        too_deep = client.post(PARTNERS, content=deep, headers={"Content-Type": "application/json"})
    assert_error(too_deep, 400, "Request_BadRequest")
    assert emu.partners() == {}


def test_a_body_over_the_limit_is_refused_unread_and_the_connection_closed(emu: Emulator) -> None:
    answer = raw_exchange(
        emu,
        f"POST /v1.0{PARTNERS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {emu.mint_token()}\r\nContent-Length: {MAX_REQUEST_BYTES + 1}\r\n",
    )
    assert answer.status == 413 and answer.closed
    assert answer.headers["Connection"] == "close"
    assert answer.body["error"]["code"] == "Request_EntityTooLarge"
    assert answer.body["error"]["message"] == "The request body is 4194305 bytes; the limit is 4194304 bytes."
    assert answer.body["error"]["innerError"]["request-id"] == answer.headers["request-id"]
    assert [(r.status, r.body) for r in emu.requests] == [(413, None)]


def test_a_body_at_the_limit_is_served(emu: Emulator, client: httpx.Client) -> None:
    body = json.dumps({"tenantId": TID}).encode()
    padded = body + b" " * (MAX_REQUEST_BYTES - len(body))
    assert client.post(PARTNERS, content=padded, headers={"Content-Type": "application/json"}).status_code == 201


@pytest.mark.parametrize("length", ["-1", "ten", "1e3", "\u00b2"])  # "²" passes str.isdigit, not int()
def test_a_bad_content_length_is_400_and_closes_the_connection(emu: Emulator, length: str) -> None:
    answer = raw_exchange(emu, f"POST /v1.0{PARTNERS} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n")
    assert answer.status == 400 and answer.closed
    assert answer.body["error"]["code"] == "Request_BadRequest"
    assert answer.body["error"]["message"].startswith("Invalid Content-Length header")


def test_a_chunked_body_is_411_in_graphs_envelope(emu: Emulator) -> None:
    answer = raw_exchange(emu, f"POST /v1.0{PARTNERS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n")
    assert answer.status == 411 and answer.closed
    assert answer.body["error"]["code"] == "Request_LengthRequired"


def test_each_request_is_stamped_when_it_was_handled(emu: Emulator, client: httpx.Client) -> None:
    """The wall clock of its handling, which bench/startup.py compares with a process's start."""
    before = time.time()
    client.get("/policies/crossTenantAccessPolicy/default")
    after = time.time()

    (request,) = emu.requests
    assert before <= request.received <= after


def test_stop_ends_the_connections_a_client_still_holds() -> None:
    """A keep-alive connection's thread waits for the client's next request as long as the
    client holds it; `stop` ends it, so no thread of a stopped emulator is left in the process."""
    emulator = Emulator().start()
    url = urlsplit(emulator.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        connection.request("GET", f"{url.path}{PARTNERS}", headers={"Authorization": f"Bearer {emulator.mint_token()}"})
        assert connection.getresponse().read()
        assert [thread for thread in threading.enumerate() if thread.name == CONNECTION_THREAD]  # held open
        emulator.stop()
        assert not [thread for thread in threading.enumerate() if thread.name == CONNECTION_THREAD]
    finally:
        connection.close()
        emulator.stop()
