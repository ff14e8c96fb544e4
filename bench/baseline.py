"""The per-resource baselines bench/run.py measures xtap against, run as their own process.

Each converges a policies/ tree as per-resource tools do, one resource (each partner file, and
the identity sync a file declares) at a time, one request after another:

- `write-all`: one GET and one full write of every resource, whether or not anything changed;
- `write-differing`: one GET of every resource, and a full write only of those whose live
  values differ from what the file declares (the comparison a per-resource tool's refresh makes).

It speaks msgraph-sdk over HTTP like xtap, but imports nothing from xtap, so a change to xtap's
client cannot speed up or slow down the reference.

    XTAP_ACCESS_TOKEN=... python bench/baseline.py [--mode write-all|write-differing] GRAPH_URL POLICIES_DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


async def send(adapter: GraphRequestAdapter, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """One request through the SDK's adapter and middleware, and its JSON reply; a Graph error raises."""
    info = RequestInformation(Method[method])
    info.url = url
    info.headers.try_add("Accept", "application/json")
    if body is not None:
        info.set_stream_content(json.dumps(body).encode(), "application/json")
    reply = await adapter.send_primitive_async(info, "bytes", None)
    return json.loads(reply) if reply else None


def holds(live: Any, declared: Any) -> bool:
    """Whether `live` already has every value `declared` sets (what Graph adds is not compared)."""
    if isinstance(declared, dict):
        return isinstance(live, dict) and all(holds(live.get(key), value) for key, value in declared.items())
    if isinstance(declared, list):
        return isinstance(live, list) and len(live) == len(declared) and all(map(holds, live, declared))
    return bool(live == declared)


async def converge_one(adapter: GraphRequestAdapter, url: str, declared: dict[str, Any], every: bool) -> None:
    """Read the resource, and write all it declares unless only what differs is written and nothing does."""
    live = await send(adapter, "GET", url)
    if every or not holds(live, declared):
        await send(adapter, "PATCH", url, declared)


async def converge(base_url: str, token: str, files: list[Path], every: bool) -> None:
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(StaticToken(token, urlsplit(base_url).hostname or ""))
    )
    for path in files:
        declared = CSafeLoader(path.read_text()).get_single_data()
        url = base_url + PARTNERS + declared["tenantId"]
        settings = {k: v for k, v in declared.items() if k not in NOT_SETTINGS}
        await converge_one(adapter, url, settings, every)
        sync = declared.get("identitySynchronization")
        if sync is not None:
            await converge_one(adapter, url + "/identitySynchronization", sync, every)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("write-all", "write-differing"), default="write-all")
    parser.add_argument("graph_url")
    parser.add_argument("policies", type=Path)
    args = parser.parse_args()
    files = sorted((args.policies / "partners").iterdir())
    token = os.environ["XTAP_ACCESS_TOKEN"]
    asyncio.run(converge(args.graph_url, token, files, every=args.mode == "write-all"))


if __name__ == "__main__":
    main()
