"""The HTTP shell around `GraphHost` and the `Emulator` object tests and the CLI drive.

A stdlib `ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive: every response carries an
exact Content-Length (none on 204) and every request body is read in full, so connection
reuse by httpx/kiota behaves as against Graph. A body that is too large or badly framed is
refused unread, and its connection closed, since the rest of the stream cannot be trusted.
It listens on loopback only: it speaks plain HTTP, so its tokens and tenant travel in clear text.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import monotonic as _wall_clock  # not the `time` a test's clock stands in for
from types import TracebackType
from typing import Any

from .app import JSON_CONTENT_TYPE, VERSION, GraphHost, RecordedRequest, Response, refuse
from .auth import AUDIT_PERMISSIONS, CAPABILITY, DIRECTORY_READ, READ_WRITE, TENANT_INFORMATION_READ, TokenAuthority
from .config import EmulatorConfig, StartError
from .errors import GraphError, bad_request
from .seeds import SEEDS
from .tenant import Tenant

# Tokens handed out by `run_forever` must outlive a long interactive session.
_SESSION_TOKEN_LIFETIME_S = 7 * 24 * 3600
# The session token's permissions, unless chosen: every one xtap uses (cross-tenant access, the
# capabilities' own, the audit log for `drift --attribute`, and the name lookups'), so that
# whatever a policies/ folder declares can be planned, applied and attributed, with names.
SESSION_ROLES = (READ_WRITE, CAPABILITY, *sorted(AUDIT_PERMISSIONS), *sorted(TENANT_INFORMATION_READ | DIRECTORY_READ))
# Graph's request size limit, 4 MB. xtap's largest body is a few KB.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
LOOPBACK = "127.0.0.0/8, ::1 or localhost"
# The name of each connection's thread, and how long `Emulator.stop` waits for them to end.
CONNECTION_THREAD = "xtap-emulator-connection"
_CLOSE_WAIT_S = 5.0


def check_loopback(host: str) -> None:
    """StartError unless `host` is a loopback address: nothing off this machine may reach the emulator."""
    if host.lower() == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise StartError(f"the emulator listens on loopback only ({LOOPBACK}), not on {host!r}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Each request in flight is a connection of its own (HTTP/1.1, where Graph multiplexes over
    # HTTP/2): socketserver's backlog of 5 drops the rest of a burst of new connections, and
    # the client's SYN retry adds a second, an artefact no real Graph has.
    request_queue_size = 128
    app: GraphHost
    record: Callable[[RecordedRequest], None]

    def __init__(self, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # Each open connection and the thread that serves it: a keep-alive connection's thread
        # waits for the next request as long as the client holds it, past `shutdown` (`close_held`).
        self._held: dict[socket.socket, threading.Thread] = {}
        self._held_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Each connection in a daemon thread of its own, as `ThreadingMixIn` serves it, kept
        until the connection ends."""
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name=CONNECTION_THREAD, daemon=True
        )
        with self._held_lock:
            self._held[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._held_lock:
            self._held.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke (its client left, or `close_held` ended it) is no error to
        print; anything else is."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_held(self, wait_s: float) -> None:
        """Ends every connection still open, so no thread of this server outlives it, waiting up
        to `wait_s` in all for their threads to end (a request being handled finishes first)."""
        with self._held_lock:
            held = dict(self._held)
        for connection in held:
            with contextlib.suppress(OSError):  # closed meanwhile
                connection.shutdown(socket.SHUT_RD)  # its thread's wait for a request ends
        until = _wall_clock() + wait_s
        for thread in held.values():
            thread.join(max(0.0, until - _wall_clock()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An error page (send_error) goes out as headers and body in two writes; with Nagle on, the
    # client's delayed ACK would add ~40 ms to it, an artefact no real Graph has.
    disable_nagle_algorithm = True
    server: _Server
    _arrived = 0.0  # monotonic time the request's line was read; set per request

    def parse_request(self) -> bool:
        """The request line is in: the request has arrived, and its latency starts (`_wait`)."""
        self._arrived = time.monotonic()
        return super().parse_request()

    def _serve(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            raw = self._read_body()
        except GraphError as error:
            self.close_connection = True  # the unread body would be taken for the next request
            self._answer(refuse(error, headers), None, None)
            return
        response, body, tenant = self.server.app.dispatch(self.command, self.path, headers, raw)
        if 200 <= response.status < 300 and self.server.app.faults.drop():
            self._drop(response, body, tenant)
        else:
            self._answer(response, body, tenant)

    def _wait(self) -> None:
        """Hold the answer until the request's latency has passed since it arrived.

        The latency is the whole of the server's part of a round trip, handling included, as a
        client of Graph sees it: Graph's time to answer includes its own work. Waiting the full
        latency after handling would add the emulator's CPU to every request, a cost that a
        client on the same machine could never win back (it shares the machine's CPUs)."""
        time.sleep(max(0.0, self.server.app.faults.latency() - (time.monotonic() - self._arrived)))

    def _drop(self, response: Response, body: Any, tenant: str | None) -> None:
        """Lose the reply of a handled request: nothing is written back, and the connection is
        closed once this returns, so the client sees it end before any response (httpx's
        RemoteProtocolError), as when a proxy or the network drops it."""
        self.server.record(RecordedRequest(self.command, self.path, body, response.status, dropped=True, tenant=tenant))
        self._wait()
        self.close_connection = True

    def _read_body(self) -> bytes:
        """The request body, read only when its framing is sound and its size within the limit."""
        if "transfer-encoding" in self.headers:
            # Graph clients send Content-Length; refusing chunked keeps the body framing simple.
            raise GraphError(411, "Request_LengthRequired", "A Content-Length header is required.")
        declared = self.headers.get("Content-Length") or "0"
        length = int(declared) if declared.isascii() and declared.isdigit() else -1
        if length < 0:
            raise bad_request(f"Invalid Content-Length header: {declared!r}.")
        if length > MAX_REQUEST_BYTES:
            raise GraphError(
                413,
                "Request_EntityTooLarge",
                f"The request body is {length} bytes; the limit is {MAX_REQUEST_BYTES} bytes.",
            )
        return self.rfile.read(length)

    def _answer(self, response: Response, body: Any, tenant: str | None) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        # Logged before the response goes out, so a client that has its answer sees it in the log.
        self.server.record(RecordedRequest(self.command, self.path, body, response.status, tenant=tenant))
        self._wait()
        headers = [("Server", self.version_string()), ("Date", self.date_time_string()), *response.headers.items()]
        if response.body is not None:
            headers += [("Content-Type", JSON_CONTENT_TYPE), ("OData-Version", "4.0")]
        if response.status != 204:
            headers.append(("Content-Length", str(len(payload))))
        if self.close_connection:
            headers.append(("Connection", "close"))
        # The status line, the headers and the body in one write, as a server that has the whole
        # answer sends it: in two, the client woke for the headers alone and read the body after.
        phrase = self.responses.get(response.status, ("",))[0]
        lines = [f"{self.protocol_version} {response.status} {phrase}", *(f"{n}: {v}" for n, v in headers)]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log (`Emulator.requests`) is the record, stderr stays for the CLI."""


class Emulator(Tenant):
    """A local, strict stand-in for Microsoft Graph v1.0's cross-tenant access policy endpoints.

    It is its default tenant (`Tenant`'s methods plant and inspect that tenant's state), and
    holds the further tenants of `config.tenants`, each reached with `tenant(tenant_id)`."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._authority = TokenAuthority(self.config.tenant_id)
        super().__init__(self.config, self._authority.tenant_id)
        self._tenants: dict[str, Tenant] = {self.tenant_id: self}
        self._tenants.update((t.lower(), Tenant(self.config, t)) for t in self.config.tenants)
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        """Serve in a daemon thread; port 0 picks a free port (read it from `base_url`).
        StartError when `host` is not loopback or the port cannot be bound."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        check_loopback(host)
        try:
            server = _Server(host, port)
        except (OSError, OverflowError) as exc:  # OverflowError: a port outside 0..65535
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StartError(f"cannot listen on {host} port {port}: {reason}") from None
        bound_port = server.server_address[1]
        netloc = f"[{host}]:{bound_port}" if ":" in host else f"{host}:{bound_port}"
        self._base_url = f"http://{netloc}/{VERSION}"
        server.app = GraphHost(self._tenants, self._authority, self.config, self._base_url, self._record)
        server.record = self._record
        self._server = server
        # A short poll interval: `stop()` waits up to one interval, and tests start and stop often.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="xtap-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_held(_CLOSE_WAIT_S)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT/v1.0`, the Graph base URL clients should be pointed at."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return self._base_url

    # -- tokens ------------------------------------------------------------------------------

    def mint_token(
        self,
        roles: Iterable[str] | None = (READ_WRITE,),
        scp: str | None = None,
        name: str = "xtap tests",
        lifetime_s: int = 3600,
        tenant: str | None = None,
    ) -> str:
        """A bearer token this emulator accepts: app `roles` and/or delegated `scp` permissions,
        of `tenant` (default: the default tenant). A tenant the emulator does not hold gets a
        token it refuses (401), for the tests of that refusal."""
        return self._authority.mint(roles=roles, scp=scp, name=name, lifetime_s=lifetime_s, tenant_id=tenant)

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        """Every tenant this emulator serves, the default first."""
        return tuple(self._tenants)

    def tenant(self, tenant_id: str) -> Tenant:
        """The tenant `tenant_id` (any case), to plant and inspect its state; KeyError when not held."""
        return self._tenants[tenant_id.lower()]

    # -- request log -------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request served so far, in completion order."""
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()


@dataclass(frozen=True)
class SessionToken:
    """A token `run_forever` hands out, with the permissions it holds and its tenant, so they can be shown beside it."""

    permissions: tuple[str, ...]
    token: str
    tenant: str


def run_forever(
    config: EmulatorConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str, list[SessionToken]], None] = lambda base_url, tokens: None,
    seed: str = "empty",
    permissions: Sequence[Sequence[str]] = (SESSION_ROLES,),
) -> None:
    """Serve until Ctrl-C (for `xtap emulator`), every tenant starting as `seed` (a name in SEEDS),
    and tell `on_ready` the URL and the tokens: one per entry of `permissions` for the default
    tenant, then one with the first entry's for each further tenant. The key that signs them
    lives in this process only, so every token a session will need is minted at start.

    A seed other than `empty` starts a new tenant, so it cannot be combined with a state file
    that already holds one (StartError): planting over a saved tenant would change it unasked."""
    if seed not in SEEDS:
        raise StartError(f"unknown seed {seed!r}; the seeds are: {', '.join(SEEDS)}")
    state = config.state_file
    if seed != "empty" and state is not None and Path(state).exists():
        raise StartError(
            f"{state} already holds a tenant, and --seed {seed} starts a new one: remove the file, or leave out --seed"
        )
    emulator = Emulator(config)
    tenants = [emulator.tenant(tenant_id) for tenant_id in emulator.tenant_ids]
    for tenant in tenants:
        tenant.plant(SEEDS[seed])
    emulator.start(host, port)
    try:
        wanted = [(emulator, roles) for roles in permissions] + [(tenant, permissions[0]) for tenant in tenants[1:]]
        tokens = [
            SessionToken(
                tuple(roles),
                emulator.mint_token(roles, None, "xtap emulator", _SESSION_TOKEN_LIFETIME_S, tenant.tenant_id),
                tenant.tenant_id,
            )
            for tenant, roles in wanted
        ]
        on_ready(emulator.base_url, tokens)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
