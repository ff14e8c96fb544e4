"""Tiny loopback servers that stand where Graph should be and answer as Graph never would."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
TEMPLATE = "/v1.0/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration"
DEFAULT = "/v1.0/policies/crossTenantAccessPolicy/default"
Reply = tuple[int, str, bytes]  # status, content type, body
NO_PARTNERS: Reply = (200, "application/json", b'{"value": []}')


def json_reply(value: object) -> Reply:
    return 200, "application/json", json.dumps(value).encode()


@contextmanager
def serving(replies: dict[str, Reply]) -> Iterator[str]:
    """A server answering each path (the query is ignored) with a fixed reply (404 elsewhere;
    the tenant default, which every plan reads, and the MTO partner template are empty unless
    given: they are read at the same time as the list, so only the reply a test plants may
    fail); yields its base URL. Bounded: a socket timeout per request, and shut down when the
    block ends."""
    replies.setdefault(DEFAULT, json_reply({}))
    replies.setdefault(TEMPLATE, json_reply({}))

    class Handler(BaseHTTPRequestHandler):
        timeout = 5

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            status, content_type, body = replies.get(path, (404, "text/plain", b"no such path"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # xtap reads the list and the singletons at once and cancels the rest on the first
            # failure, so a client may hang up before its reply is written: not the stub's error.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
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


@contextmanager
def silent() -> Iterator[str]:
    """A port that listens and never accepts: the connection completes in the kernel's backlog
    and the request is sent, but no reply ever comes. Yields its base URL."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1.0"
