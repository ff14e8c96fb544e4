"""Reading a tenant in process with the Graph client, as the client's and the transport's tests
both do against the loopback servers of stub_servers.py."""

from __future__ import annotations

from reconciler.core.clouds import CLOUDS
from reconciler.core.live import Live
from reconciler.graph.client import Graph
from reconciler.graph.read import read_live


async def read(url: str, with_template: bool = True, timeout: float = 5) -> Live:
    types = ("partner", "mtoPartnerTemplate") if with_template else ("partner",)
    async with Graph(url, CLOUDS["global"], "eyJ.test.token", timeout) as graph:
        return await read_live(graph, types)
