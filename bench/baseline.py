"""The per-resource baseline bench/run.py measures xtap against, run as its own process.

It converges a policies/ tree as per-resource tools do: for every declared resource (each
partner file, and the identity sync a file declares) one GET and one full write, one at a time,
whether or not anything changed. It speaks msgraph-sdk over HTTP like xtap, but imports nothing
from xtap, so a change to xtap's client cannot speed up or slow down the reference.

    XTAP_ACCESS_TOKEN=... python bench/baseline.py GRAPH_URL POLICIES_DIR
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph import GraphRequestAdapter
from ruamel.yaml import CSafeLoader  # type: ignore[attr-defined]

PARTNERS = "/policies/crossTenantAccessPolicy/partners/"
NOT_SETTINGS = ("tenantId", "identitySynchronization", "xtap")  # the key, the nested resource, notes


class StaticToken(AccessTokenProvider):
    """The bench's minted token, for the emulator's host only."""

    def __init__(self, token: str, host: str) -> None:
        self._token = token
        self._hosts = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


async def send(adapter: GraphRequestAdapter, method: str, url: str, body: dict[str, Any] | None = None) -> None:
    """One request through the SDK's adapter and middleware; a Graph error raises."""
    info = RequestInformation(Method[method])
    info.url = url
    info.headers.try_add("Accept", "application/json")
    if body is not None:
        info.set_stream_content(json.dumps(body).encode(), "application/json")
    await adapter.send_primitive_async(info, "bytes", None)


async def converge(base_url: str, token: str, files: list[Path]) -> None:
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(StaticToken(token, urlsplit(base_url).hostname or ""))
    )
    for path in files:
        declared = CSafeLoader(path.read_text()).get_single_data()
        url = base_url + PARTNERS + declared["tenantId"]
        await send(adapter, "GET", url)
        await send(adapter, "PATCH", url, {k: v for k, v in declared.items() if k not in NOT_SETTINGS})
        sync = declared.get("identitySynchronization")
        if sync is not None:
            await send(adapter, "GET", url + "/identitySynchronization")
            await send(adapter, "PATCH", url + "/identitySynchronization", sync)


def main() -> None:
    base_url, policies = sys.argv[1], Path(sys.argv[2])
    asyncio.run(converge(base_url, os.environ["XTAP_ACCESS_TOKEN"], sorted((policies / "partners").iterdir())))


if __name__ == "__main__":
    main()
