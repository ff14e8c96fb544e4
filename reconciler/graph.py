"""The one place that speaks HTTP: msgraph-sdk's request adapter over azure-identity.

Requests go through the SDK's own adapter and middleware (retry on 429/503 with Retry-After,
redirects, telemetry, national-cloud base URL), but bodies are sent as raw JSON: kiota's
typed serialiser drops `None`, and xtap must send explicit `null` to make a property
inherit the default again (GRAPH_FACTS §0.4). Responses are read as raw JSON for the same
reason: the planner compares exactly what Graph said, explicit nulls included.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from azure.core.exceptions import ClientAuthenticationError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from reconciler.plan import Request

READ_PERMISSION = "Policy.Read.All"
WRITE_PERMISSION = "Policy.ReadWrite.CrossTenantAccess"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_ERRORS: dict[str, Any] = {"XXX": ODataError}


@dataclass(frozen=True)
class Cloud:
    """A national cloud: where Graph lives and where to get a token for it."""

    graph: str
    authority: str

    @property
    def base_url(self) -> str:
        return f"{self.graph}/v1.0"

    @property
    def scope(self) -> str:
        return f"{self.graph}/.default"


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("https://graph.microsoft.com", "login.microsoftonline.com"),
    "usgov": Cloud("https://graph.microsoft.us", "login.microsoftonline.us"),
    "usgovdod": Cloud("https://dod-graph.microsoft.us", "login.microsoftonline.us"),
    "china": Cloud("https://microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn"),
}


class GraphError(Exception):
    """A failed Graph call, with everything needed to act on it (and never the token)."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        self.status, self.code, self.request_id = status, code, request_id
        self.method, self.url, self.detail = method, url, message
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.url}: " if self.method else ""
        status = f"{self.status} {self.code or ''}".strip() + ": " if self.status else ""
        text = f"{where}{status}{self.detail}"
        if self.request_id:
            text += f" (request-id {self.request_id})"
        if self.status == 403:
            needed = READ_PERMISSION if self.method == "GET" else WRITE_PERMISSION
            text += f". The identity needs the {needed} permission (application or delegated)."
        if self.status == 401:
            text += ". The access token was refused: check XTAP_ACCESS_TOKEN or the Azure login."
        return text


class _TokenProvider(AccessTokenProvider):
    """Hands out the bearer token, and only to the origin (scheme, host and port) of the Graph
    base URL: a nextLink pointing anywhere else never gets it. Remembers what it handed out,
    so error messages can be scrubbed of it."""

    def __init__(self, base_url: str, scope: str, static_token: str | None, credential: Any) -> None:
        self._origin = _origin(base_url)
        self._hosts = AllowedHostsValidator([urlsplit(base_url).hostname or ""])
        self._scope, self._static, self._credential = scope, static_token, credential
        self.issued: set[str] = {static_token} if static_token else set()

    async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
        if _origin(uri) != self._origin:
            return ""
        if self._static is not None:
            return self._static
        token = str((await self._credential.get_token(self._scope)).token)
        self.issued.add(token)
        return token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def connect(graph_url: str | None, cloud_name: str) -> Graph:
    """The Graph client for the command line's options: `XTAP_ACCESS_TOKEN` if set, otherwise
    azure-identity's DefaultAzureCredential against the cloud's authority."""
    cloud = CLOUDS[cloud_name]
    return Graph(graph_url or cloud.base_url, cloud, _static_token(os.environ.get("XTAP_ACCESS_TOKEN")))


def _static_token(raw: str | None) -> str | None:
    """The token as a header can carry it. Surrounding whitespace (a trailing newline from a CI
    secret file) is dropped; anything else unprintable is refused, without echoing the token."""
    token = (raw or "").strip()
    if not token:
        return None
    if not all("!" <= char <= "~" for char in token):
        raise GraphError("XTAP_ACCESS_TOKEN holds spaces or control characters; set it to the bare token")
    return token


class Graph:
    """Raw-JSON access to Graph through msgraph-sdk. Use as `async with Graph(...) as graph:`."""

    def __init__(self, base_url: str, cloud: Cloud, static_token: str | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
            raise GraphError(f"Graph URL {base_url!r} must be https (plain http only on loopback)")
        self.base_url = base_url.rstrip("/")
        self._credential = None
        if static_token is None:
            from azure.identity.aio import DefaultAzureCredential

            self._credential = DefaultAzureCredential(authority=cloud.authority)
        self._tokens = _TokenProvider(self.base_url, cloud.scope, static_token, self._credential)
        self._adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(self._tokens))
        self._adapter.base_url = self.base_url
        self.client = GraphServiceClient(request_adapter=self._adapter)
        self.request_count = 0

    async def __aenter__(self) -> Graph:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._credential is not None:
            await self._credential.close()

    async def get(self, info: RequestInformation) -> dict[str, Any]:
        """GET one resource (from an SDK request builder's `to_get_request_information()`)."""
        return await self._send(info) or {}

    async def get_all(self, info: RequestInformation) -> list[dict[str, Any]]:
        """GET a collection, following every `@odata.nextLink` (Graph pages without asking)."""
        items: list[dict[str, Any]] = []
        followed: set[str] = set()
        page: dict[str, Any] | None = await self._send(info)
        while page is not None:
            items.extend(page.get("value", []))
            next_link = page.get("@odata.nextLink")
            if not next_link:
                break
            if next_link in followed:  # a service bug must not become an endless loop
                raise GraphError(f"Graph returned the same @odata.nextLink twice: {next_link}")
            followed.add(next_link)
            follow = RequestInformation(Method.GET)
            follow.url = next_link
            follow.headers.try_add("Accept", "application/json")
            page = await self._send(follow)
        return items

    async def write(self, request: Request) -> dict[str, Any] | None:
        """Send one planned write exactly as planned: explicit nulls stay nulls."""
        info = RequestInformation(Method[request.method])
        info.url = self.base_url + request.url
        info.headers.try_add("Accept", "application/json")
        if request.body is not None:
            info.set_stream_content(json.dumps(request.body).encode(), "application/json")
        return await self._send(info)

    async def _send(self, info: RequestInformation) -> dict[str, Any] | None:
        try:
            return await self._send_raw(info)
        except GraphError as exc:
            raise self._scrubbed(exc) from None

    def _scrubbed(self, error: GraphError) -> GraphError:
        """The same error with every token this client handed out blanked: httpx, for one,
        quotes a rejected Authorization header in its message."""
        detail = error.detail
        for token in self._tokens.issued:
            detail = detail.replace(token, "[token]")
        return GraphError(detail, error.status, error.code, error.request_id, error.method, error.url)

    async def _send_raw(self, info: RequestInformation) -> dict[str, Any] | None:
        self.request_count += 1
        method = info.http_method.value if info.http_method else "GET"
        url = self._relative(str(info.url))
        try:
            content = await self._adapter.send_primitive_async(info, "bytes", _ERRORS)
        except ODataError as exc:
            main = exc.error
            inner = main.inner_error if main else None
            raise GraphError(
                (main.message if main else None) or str(exc),
                exc.response_status_code,
                main.code if main else None,
                inner.request_id if inner else None,
                method,
                url,
            ) from None
        except APIError as exc:
            raise GraphError(str(exc.message or exc), exc.response_status_code, None, None, method, url) from None
        except httpx.TransportError as exc:
            raise GraphError(f"cannot reach Graph: {exc}", method=method, url=url) from None
        except httpx.HTTPError as exc:
            raise GraphError(f"the request could not be sent: {exc}", method=method, url=url) from None
        except ClientAuthenticationError as exc:
            raise GraphError(
                f"cannot get a token from azure-identity: {exc.message}. Set XTAP_ACCESS_TOKEN, or sign "
                "in (az login, azure/login in GitHub Actions, managed or workload identity).",
                method=method,
                url=url,
            ) from None
        return json.loads(content) if content else None

    def _relative(self, url: str) -> str:
        return url.removeprefix(self.base_url)
