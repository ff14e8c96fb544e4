"""Tiny loopback servers that stand where Graph should be and answer as Graph never would.

`serving` answers each path with a fixed reply, or hands the request to a function that
writes its own answer: the hostile ones below (a body that never ends, one trickled a byte at
a time, paging that never ends or repeats itself, nesting no Graph type has, throttling longer
than the deadline). `recording_proxy` stands where a proxy would, and only records who came.
Everything listens on 127.0.0.1 and is shut down when its block ends.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
TEMPLATE = "/v1.0/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration"
DEFAULT = "/v1.0/policies/crossTenantAccessPolicy/default"
Reply = tuple[int, str, bytes]  # status, content type, body
# Writes the whole answer to a request itself, for what a fixed reply cannot do.
Answer = Callable[[BaseHTTPRequestHandler], None]
NO_PARTNERS: Reply = (200, "application/json", b'{"value": []}')


def json_reply(value: object) -> Reply:
    return 200, "application/json", json.dumps(value).encode()


def tenant(n: int) -> str:
    return f"0b4f0a2e-1111-4222-8333-{n:012x}"


@contextmanager
def serving(replies: dict[str, Reply | Answer]) -> Iterator[str]:
    """A server answering each path (the query is ignored) with a fixed reply or an `Answer`
    (404 elsewhere; the tenant default, which every plan reads, and the MTO partner template
    are empty unless given: they are read at the same time as the list, so only the reply a
    test plants may fail); yields its base URL. Bounded: a socket timeout per request, and
    shut down when the block ends."""
    replies.setdefault(DEFAULT, json_reply({}))
    replies.setdefault(TEMPLATE, json_reply({}))

    class Handler(BaseHTTPRequestHandler):
        timeout = 5

        def do_GET(self) -> None:
            answer = replies.get(self.path.split("?", 1)[0], (404, "text/plain", b"no such path"))
            # xtap reads the list and the singletons at once and cancels the rest on the first
            # failure, so a client may hang up before its reply is written: not the stub's error.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
                if callable(answer):
                    answer(self)
                else:
                    status, content_type, body = answer
                    start(self, status, content_type, len(body))
                    self.wfile.write(body)

        do_POST = do_GET  # a `$batch` is a POST; its reply is as fixed as any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1.0"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def start(
    handler: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    length: int | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """The status line and headers; without a length, the body ends when the connection does."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if length is None:
        handler.send_header("Connection", "close")
    else:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()


def endless_body(handler: BaseHTTPRequestHandler) -> None:
    """A 200 JSON reply that never ends: a page opened, then blanks (valid JSON whitespace)
    as fast as the client takes them, until it hangs up."""
    start(handler, 200, "application/json")
    handler.wfile.write(b'{"value": [')
    blanks = b" " * 65536
    while True:
        handler.wfile.write(blanks)


def trickle(body: bytes, per_second: float = 1.0) -> Answer:
    """`body`, announced whole, then sent one byte per 1/`per_second` s: each byte comes well
    within a per-read timeout, so only a deadline on the whole exchange ends the wait."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        start(handler, 200, "application/json", len(body))
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(1 / per_second)

    return answer


def throttled(retry_after: str) -> Answer:
    """Graph's 429, asking to wait `retry_after` before trying again; every time."""

    body = json.dumps({"error": {"code": "TooManyRequests", "message": "Too many requests"}}).encode()

    def answer(handler: BaseHTTPRequestHandler) -> None:
        start(handler, 429, "application/json", len(body), {"Retry-After": retry_after})
        handler.wfile.write(body)

    return answer


def encoded(body: bytes, encoding: str, length: int | None = None) -> Answer:
    """A 200 JSON reply of `body` as sent, with a Content-Encoding (`body` already encoded so,
    or not: a server may lie) and a Content-Length of `length` (default: the body's)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        size = len(body) if length is None else length
        start(handler, 200, "application/json", size, {"Content-Encoding": encoding})
        handler.wfile.write(body)

    return answer


def paging(page: Callable[[int, str], dict[str, object]]) -> Answer:
    """A list whose n-th reply (from 0, across all requests) is `page(n, url)`, `url` being the
    absolute URL of the request it answers: for nextLinks that never end or go nowhere."""
    count = itertools.count()

    def answer(handler: BaseHTTPRequestHandler) -> None:
        body = json.dumps(page(next(count), f"http://{handler.headers['Host']}{handler.path}")).encode()
        start(handler, 200, "application/json", len(body))
        handler.wfile.write(body)

    return answer


def endless_pages(partners: list[dict[str, object]]) -> Answer:
    """Every page holds the same `partners` and a new, distinct nextLink: a list that never ends."""
    base = PARTNERS + "?$expand=identitySynchronization&$skiptoken="
    return paging(lambda n, url: {"value": partners, "@odata.nextLink": url.split("/v1.0")[0] + base + str(n)})


def nested(depth: int, leaf: object = None) -> object:
    """`leaf` inside `depth` arrays, built without recursion."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def deep_partner(depth: int) -> Reply:
    """A page with one partner whose inboundTrust holds arrays `depth` deep: json.dumps and
    json.loads manage it, anything recursive after them may not."""
    inner = "[" * depth + "]" * depth
    return 200, "application/json", f'{{"value": [{{"tenantId": "{tenant(1)}", "inboundTrust": {inner}}}]}}'.encode()


@dataclass
class Visit:
    """What a proxy was asked: its request line and headers (names lower-cased)."""

    line: str
    headers: dict[str, str] = field(default_factory=dict)


@contextmanager
def recording_proxy() -> Iterator[tuple[str, list[Visit]]]:
    """A proxy on 127.0.0.1 that records each request's line and headers and answers 502
    without going anywhere (a CONNECT is refused, a forwarded request is not forwarded).
    Yields its URL and the list of visits, filled as they come."""
    visits: list[Visit] = []

    class Handler(socketserver.StreamRequestHandler):
        timeout = 5

        def handle(self) -> None:
            with contextlib.suppress(OSError):
                visit = Visit(self.rfile.readline(65537).decode("latin-1").strip())
                while (line := self.rfile.readline(65537).decode("latin-1").strip()) != "":
                    name, _, value = line.partition(":")
                    visit.headers[name.strip().lower()] = value.strip()
                visits.append(visit)
                self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", visits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Silent:
    """A server that takes every connection and never answers: its base URL, and how many
    connections it was sent (each attempt of the client's is one)."""

    url: str
    connections: list[socket.socket] = field(default_factory=list)


@contextmanager
def silent() -> Iterator[Silent]:
    """A port that accepts every connection, reads nothing and never replies, holding the
    connections open until the block ends, so a client's retries show as connections."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.05)
        server = Silent(f"http://127.0.0.1:{listener.getsockname()[1]}/v1.0")
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    server.connections.append(listener.accept()[0])

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            stop.set()
            thread.join(timeout=5)
            for connection in server.connections:
                connection.close()
