"""Where a token may go: the bearer token handed only to the Graph base URL's origin, fetched
once for concurrent callers and kept until near its expiry; the checks on a token given as
text and on the base URL (v1.0, https, the cloud the token is for) before any request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator

from reconciler.core.clouds import API_VERSION, CLOUDS, Cloud
from reconciler.graph.errors import GraphError, clipped
from reconciler.graph.tenant import token_tenant
from reconciler.graph.transport import is_loopback

# An azure-identity token is fetched again when it has less than this left (seconds).
TOKEN_MARGIN_S = 300.0
STATIC_SOURCE = "XTAP_ACCESS_TOKEN"
CHAIN_SOURCE = "azure-identity's DefaultAzureCredential"
# azure-identity's credential chain says on this logger, at INFO, which of its credentials gave
# the token ("DefaultAzureCredential acquired a token from AzureCliCredential"): logging is its
# documented way of telling (https://learn.microsoft.com/python/api/overview/azure/identity-readme#logging).
_CHAIN_LOGGER = "azure.identity.aio._credentials.chained"
_ACQUIRED = "acquired a token from"


class TokenProvider(AccessTokenProvider):
    """Hands out the bearer token, and only to the origin (scheme, host and port) of the Graph
    base URL: a nextLink pointing anywhere else never gets it. Remembers what it handed out,
    so error messages can be scrubbed of it."""

    def __init__(
        self, base_url: str, scope: str, static_token: str | None, credential: Any, tenant: str | None = None
    ) -> None:
        self._origin = origin(base_url)
        self._hosts = AllowedHostsValidator([urlsplit(base_url).hostname or ""])
        self._scope, self._static, self._credential = scope, static_token, credential
        # The tenant the folder binds: azure-identity is asked for that tenant's token, so one
        # multi-tenant app registration serves every customer tenant (with the tenants allowed in
        # AZURE_ADDITIONALLY_ALLOWED_TENANTS; https://learn.microsoft.com/python/api/azure-identity/azure.identity.defaultazurecredential).
        self._tenant = {"tenant_id": tenant} if tenant else {}
        self.issued: set[str] = {static_token} if static_token else set()
        self._current: Any = None  # azure-identity's last AccessToken, used until near its expiry
        # Where the token came from, for `xtap doctor`: the variable, the credential of the chain
        # that gave it, or the chain itself when azure-identity did not say.
        self.source = STATIC_SOURCE if static_token is not None else CHAIN_SOURCE
        # Reads start at once (the partner list and the singletons), and azure-identity does
        # not share a token fetch between concurrent callers: without this, each would ask
        # the login host for a token of its own.
        self._fetching = asyncio.Lock()

    async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
        if origin(uri) != self._origin:
            return ""
        return await self.token()

    async def token(self) -> str:
        """The token for the cloud's scope, the one every request to the base URL carries. An
        azure-identity token is kept until shortly before it expires: some credentials (the
        Azure CLI's) fetch anew on every call, and a request's deadline starts after its token."""
        if self._static is not None:
            return self._static
        async with self._fetching:  # the first caller fetches; the others get its cached token
            if self._current is None or self._current.expires_on - time.time() < TOKEN_MARGIN_S:
                with _acquired_from() as said:
                    self._current = await self._credential.get_token(self._scope, **self._tenant)
                self.source = said[-1] if said else CHAIN_SOURCE
        token = str(self._current.token)
        self.issued.add(token)
        return token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


class _Acquired(logging.Handler):
    """Hears the chain's "acquired a token from X" record and keeps X."""

    def __init__(self, said: list[str]) -> None:
        super().__init__(logging.INFO)
        self.said = said

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if _ACQUIRED in str(record.msg) and len(args) == 2:
            self.said.append(f"azure-identity's {args[1]}")


@contextmanager
def _acquired_from() -> Iterator[list[str]]:
    """The credentials the chain says gave a token while in the block. The chain's logger is let
    through at INFO only for the block, and only to this handler: nothing else is printed."""
    logger, said = logging.getLogger(_CHAIN_LOGGER), list[str]()
    handler, level, propagate = _Acquired(said), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield said
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port; a URL whose port does not parse (a nextLink can hold anything)
    has no origin, so it matches none and gets no token."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return "", "", None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def static_token(raw: str | None, tenant: str | None = None) -> str | None:
    """The token as a header can carry it. Surrounding whitespace (a trailing newline from a CI
    secret file) is dropped; anything else unprintable is refused, without echoing the token.
    Set but empty is an error, not "use azure-identity": in CI it means a secret went missing,
    and falling back would run under whatever identity the runner happens to have.

    Several tokens separated by spaces or newlines serve several tenants (`xtap plan --tenants`):
    the one whose `tid` claim is `tenant`, the tenant the folder binds, is used. Which one is
    never guessed: a folder that binds no tenant, or a tenant with no token or two, is an error."""
    if raw is None:
        return None
    tokens = raw.split()
    if not tokens:
        raise GraphError("XTAP_ACCESS_TOKEN is set but empty; set it to the token, or unset it to use azure-identity")
    if not all(is_bare(token) for token in tokens):
        raise GraphError("XTAP_ACCESS_TOKEN holds control characters; set it to the bare token (or tokens)")
    if len(tokens) == 1:
        return tokens[0]
    if tenant is None:
        raise GraphError(
            f"XTAP_ACCESS_TOKEN holds {len(tokens)} tokens, and the policies folder binds no tenant to pick one "
            "by; write its tenant in xtap.yaml (tenant: <GUID>)"
        )
    mine = [token for token in tokens if token_tenant(token) == tenant]
    if len(mine) != 1:
        how_many = "none is" if not mine else f"{len(mine)} are"
        raise GraphError(
            f"XTAP_ACCESS_TOKEN holds {len(tokens)} tokens, and {how_many} for tenant {tenant} "
            "(their tid claims); give exactly one token per tenant"
        )
    return mine[0]


def is_bare(text: str) -> bool:
    """Printable ASCII without spaces: what a header value or a URL may carry as is. (In C:
    a nextLink is checked on every page, and a character at a time in Python cost 0.1 ms.)"""
    return text.isascii() and text.isprintable() and " " not in text


def checked_base_url(url: str, cloud: Cloud, explicit_token: bool) -> str:
    """The Graph base URL, if it is one xtap may send requests (and a token) to.

    Only v1.0: the models, the planner and the emulator follow v1.0, and beta answers the same
    paths with other shapes. Credentials, queries and fragments have no place in a base URL
    (and would leak into every request and log line). An azure-identity token is a real
    tenant's token, so it goes only to the cloud it was issued for, or to loopback (the
    emulator); any other host must be handed its token explicitly."""
    parts = urlsplit(url)
    if "@" in parts.netloc:  # not echoed: it holds a password
        raise GraphError("Graph URL must not carry user:password@; the token is the only credential xtap sends")
    shown = repr(clipped(url))
    if not is_bare(url):
        raise GraphError(f"Graph URL {shown} holds spaces or control characters")
    host = parts.hostname or ""
    if not host or not origin(url)[0]:
        raise GraphError(f"Graph URL {shown} lacks a valid host or port")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        raise GraphError(f"Graph URL {shown} must be https (plain http only on loopback)")
    if "?" in url or "#" in url:
        raise GraphError(f"Graph URL {shown} must not carry a query or a fragment")
    if not parts.path.rstrip("/").endswith(API_VERSION):
        raise GraphError(f"Graph URL {shown} is not a Graph v1.0 base URL (like {cloud.base_url})")
    owner = next((known for known in CLOUDS.values() if known.host == host), None)
    if owner is not None and owner != cloud:
        raise GraphError(
            f"Graph URL host {host} belongs to the {owner.name} cloud, not to {cloud.name}: "
            f"the token would be for the wrong cloud; pass --cloud {owner.name}"
        )
    if owner is None and not explicit_token and not is_loopback(host):
        raise GraphError(
            f"Graph URL host {host} is not Microsoft Graph in a known cloud, so it gets no azure-identity "
            "token; set XTAP_ACCESS_TOKEN to a token meant for it"
        )
    return url.rstrip("/")


def is_absolute_url(text: str) -> bool:
    """What a nextLink must be before it is followed: httpx and kiota raise plain ValueErrors
    on less (a port out of range, a missing scheme)."""
    parts = urlsplit(text)
    return is_bare(text) and origin(text)[0] in ("http", "https") and bool(parts.hostname)
