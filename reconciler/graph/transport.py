"""The bottom of the HTTP stack under msgraph-sdk: what one exchange with Graph may cost.

`http_client` builds the httpx client the SDK's request adapter sends through: kiota's
middleware (retries, redirects, telemetry) on top, as msgraph-core's factory builds it, and
under it, on every route (direct or through a proxy), `_Bounded`, which sees every attempt,
the SDK's retries included, and the GETs the client sends past the middleware
(`client.Graph._get_raw`) and retries itself. For each one it

- counts the reply's bytes as they arrive and fails past `MAX_REPLY_BYTES`, decoded and as
  sent: it asks for gzip or nothing, decodes gzip itself in bounded steps (a few KB of gzip
  can decode to gigabytes) and refuses any other encoding;
- fails a throttled reply at once when its Retry-After would wait past the request's
  deadline (`deadline`), rather than let the SDK sleep through it;
- refuses to send a token in clear text through a proxy.

Proxies: the standard variables (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, either case)
apply as httpx reads them, so an https Graph URL goes through a CONNECT tunnel, the token
inside TLS. A loopback Graph URL never goes through a proxy: that is the emulator, over plain
http, and a proxy there would read its token.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import math
import ssl
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from reconciler.core.bounds import MAX_REPLY_BYTES

THROTTLED_STATUSES = frozenset({429, 503, 504})  # those kiota's RetryHandler waits and retries
_STEP = 64 * 1024  # bytes decoded at a time: a gzip bomb is cut off after one step past the cap
_GZIP = 16 + zlib.MAX_WBITS
# When the request in progress must be done (the event loop's clock) and the seconds it was
# given, for the transport to compare with a Retry-After; set by `deadline` around each request.
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("xtap_deadline", default=None)


class Refused(Exception):
    """An exchange this transport stopped: the message says why; `status` is the reply's HTTP
    status and `retry_after` its Retry-After in seconds, where it had them."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


class NotGraphs(Refused):
    """A reply no Graph would send: too large, or encoded as xtap did not ask."""


@asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Everything awaited inside must be done within `seconds` (else TimeoutError): connecting,
    sending, the whole reply however slowly it comes, and the SDK's retries and their waits."""
    token = _DEADLINE.set((asyncio.get_running_loop().time() + seconds, seconds))
    try:
        async with asyncio.timeout(seconds):
            yield
    finally:
        _DEADLINE.reset(token)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds: a number of seconds (Graph's may have a fraction) or an
    HTTP date, counted from `now` (the present unless given); None when absent or neither."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - (now or datetime.now(when.tzinfo or UTC))).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def http_client(base_url: str, timeout: float) -> httpx.AsyncClient:
    """An httpx client over bounded transports, as the SDK's own would be, without its middleware
    yet (`with_middleware`). `timeout` also bounds each phase (connecting, each wait for data) as
    httpx counts them; the deadline on the whole exchange is `deadline`'s. Proxies come from the
    environment, except for a loopback base URL."""
    host = urlsplit(base_url).hostname or ""
    direct = {f"all://{_pattern_host(host)}": None} if is_loopback(host) else {}
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), http2=True, mounts=direct, verify=tls())
    # msgraph-core's factory puts its middleware over these same two attributes (`with_middleware`).
    client._transport = _Bounded(client._transport, proxied=False)
    client._mounts = {
        pattern: None if transport is None else _Bounded(transport, proxied=True)
        for pattern, transport in client._mounts.items()
    }
    return client


def tls() -> ssl.SSLContext:
    """The TLS settings every client of this process verifies Graph with: httpx's own default
    (its CA bundle, or SSL_CERT_FILE or SSL_CERT_DIR when set), made once for each setting of
    those, at the first TLS handshake (`_OnFirstHandshake`). Loading the CA bundle takes about
    50 ms, which each client would pay again: a run of a thousand tenants, one client each,
    spent about half its CPU on that."""
    paths = ssl.get_default_verify_paths()  # where SSL_CERT_FILE and SSL_CERT_DIR point, if set
    return _on_first_handshake(paths.cafile, paths.capath)


@functools.cache
def _on_first_handshake(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return _OnFirstHandshake(functools.cache(httpx.create_ssl_context))


class _OnFirstHandshake(ssl.SSLContext):
    """httpx's default TLS context, made at the first TLS handshake rather than with the client:
    a client that makes none (over plain http on loopback: the emulator) never loads the CA
    bundle, and its first request does not wait for it. Every handshake is made by httpx's
    context (`load`), with the ALPN protocols httpcore sets for the connection (HTTP/2's among
    them); this one, with no CA loaded, verifies nothing itself."""

    _alpn: Sequence[str] = ()

    def __new__(cls, load: Callable[[], ssl.SSLContext]) -> _OnFirstHandshake:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, load: Callable[[], ssl.SSLContext]) -> None:
        self._load = load

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        self._alpn = list(alpn_protocols)

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        loaded = self._load()
        loaded.set_alpn_protocols(self._alpn)
        return loaded.wrap_bio(incoming, outgoing, server_side, server_hostname, session)


def with_middleware(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """`client` with msgraph-core's middleware (retries, redirects, telemetry) over its bounded
    transports, as its factory builds it, for the SDK's request adapter: what it wraps is
    bounded already, so the middleware's retries are too. It acts only on requests that carry
    the SDK's options, so the GETs sent on the same client pass through untouched. Imported
    for the first write: msgraph costs a fifth of a second that a plan need not pay."""
    from msgraph.graph_request_adapter import options
    from msgraph_core import GraphClientFactory  # type: ignore[import-untyped]

    wrapped: httpx.AsyncClient = GraphClientFactory.create_with_default_middleware(client=client, options=options)
    return wrapped


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: this machine, where plain http stays on the machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pattern_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _Bounded(httpx.AsyncBaseTransport):
    """One route's transport (direct, or a proxy's), beneath the SDK's middleware: it sees every
    attempt, and hands each reply on with its body capped (`_Capped`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, proxied: bool) -> None:
        self._inner, self._proxied = inner, proxied

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._proxied and request.url.scheme == "http" and "authorization" in request.headers:
            raise Refused("refused to send the token in clear text through a proxy (plain http)")
        request.headers["Accept-Encoding"] = "gzip"
        response = await self._inner.handle_async_request(request)
        try:
            inflate = _inflater(response)
            _check_wait(response)
            length = response.headers.get("content-length", "")
            if inflate is None and length.isdigit() and int(length) > MAX_REPLY_BYTES:
                raise _too_large()
        except Refused:
            await response.aclose()
            raise
        if inflate is not None:
            del response.headers["content-encoding"]  # decoded here, not again by httpx
        assert isinstance(response.stream, httpx.AsyncByteStream)  # an async transport's
        response.stream = _Capped(response.stream, inflate)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _inflater(response: httpx.Response) -> zlib._Decompress | None:
    encodings = [part.strip().lower() for part in response.headers.get_list("content-encoding", split_commas=True)]
    encodings = [encoding for encoding in encodings if encoding not in ("", "identity")]
    if not encodings:
        return None
    if encodings in (["gzip"], ["x-gzip"]):
        return zlib.decompressobj(_GZIP)
    raise NotGraphs(f"the reply is encoded as {', '.join(encodings)!r}, which xtap did not ask for (gzip)")


def _check_wait(response: httpx.Response) -> None:
    """Fails a throttled reply whose Retry-After ends past the deadline: the SDK would sleep
    that long, and only then be stopped by the deadline."""
    if response.status_code not in THROTTLED_STATUSES:
        return
    wait, limit = retry_after_seconds(response.headers.get("retry-after")), _DEADLINE.get()
    if wait is None or limit is None:
        return
    at, seconds = limit
    if wait >= at - asyncio.get_running_loop().time():
        raise Refused(
            f"Graph asks to wait {wait:g} s (Retry-After), past the end of --timeout {seconds:g} s; "
            "retry later, or raise --timeout",
            response.status_code,
            wait,
        )


def _too_large() -> NotGraphs:
    return NotGraphs(f"more than {MAX_REPLY_BYTES // 2**20} MiB (no Graph reply comes near that)")


class _Capped(httpx.AsyncByteStream):
    """A reply's body, decoded (gzip) in bounded steps and counted as it arrives."""

    def __init__(self, raw: httpx.AsyncByteStream, inflate: zlib._Decompress | None) -> None:
        self._raw, self._inflate = raw, inflate
        self._sent = self._decoded = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._raw:
            self._sent += len(chunk)
            if self._inflate is None:
                yield self._counted(chunk)
                continue
            while chunk:
                yield self._counted(self._inflated(chunk, _STEP))
                chunk = self._inflate.unconsumed_tail
        if self._inflate is not None:
            yield self._counted(self._inflated(b"", 0))

    def _inflated(self, data: bytes, most: int) -> bytes:
        assert self._inflate is not None
        try:
            return self._inflate.decompress(data, most) if data else self._inflate.flush()
        except zlib.error:
            raise NotGraphs("the reply's gzip encoding is corrupt") from None

    def _counted(self, data: bytes) -> bytes:
        self._decoded += len(data)
        if max(self._sent, self._decoded) > MAX_REPLY_BYTES:
            raise _too_large()
        return data

    async def aclose(self) -> None:
        await self._raw.aclose()
