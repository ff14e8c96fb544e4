"""The nested types Graph lists per parent instance (Microsoft 365 capabilities): one GET of the
list under each parent, up to 20 to a `$batch`, never `$expand` or a GET by name, which Graph
does not document for them
(https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-list-m365capabilities).

A type the token may not read (403) is skipped, not fatal: its lists need their own permission,
and a plan, an export or a drift report of everything else is still worth having. What was
skipped, and why, goes back to the caller to say once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.address import Address
from reconciler.core.registry import REGISTRY_BY_NAME, ResourceType
from reconciler.core.request import Request
from reconciler.graph.batch import MAX_ITEMS, BatchItem, ItemReply, item_error, send_batch
from reconciler.graph.client import Graph
from reconciler.graph.errors import GraphError
from reconciler.graph.together import all_of

# `$batch`es in flight at once, as apply sends them.
BATCHES_IN_FLIGHT = 4
FORBIDDEN = 403


async def read_listed(
    graph: Graph, lists: Sequence[tuple[str, Address]]
) -> tuple[dict[Address, dict[str, Any]], dict[str, str]]:
    """The instances of each (nested type, parent instance) list, and the types skipped because
    the token may not read them, with Graph's reason."""
    found: dict[Address, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for name in sorted({name for name, _ in lists}, key=list(REGISTRY_BY_NAME).index):
        rtype = REGISTRY_BY_NAME[name]
        parents = [parent for each, parent in lists if each == name]
        try:
            found.update(await _list(graph, rtype, parents))
        except GraphError as exc:
            if exc.status != FORBIDDEN:
                raise
            skipped[name] = exc.detail
    return found, skipped


async def _list(graph: Graph, rtype: ResourceType, parents: Sequence[Address]) -> dict[Address, dict[str, Any]]:
    chunks = [parents[start : start + MAX_ITEMS] for start in range(0, len(parents), MAX_ITEMS)]
    found: dict[Address, dict[str, Any]] = {}
    for start in range(0, len(chunks), BATCHES_IN_FLIGHT):
        batches = chunks[start : start + BATCHES_IN_FLIGHT]
        for lists in await all_of(_batch(graph, rtype, chunk) for chunk in batches):
            for parent, items in lists.items():
                found.update(_instances(graph, rtype, parent, items))
    return found


def list_url(rtype: ResourceType, parent: Address) -> str:
    return f"{REGISTRY_BY_NAME[parent.resource].url(parent.id)}/{rtype.nested_key}"


async def _batch(
    graph: Graph, rtype: ResourceType, parents: Sequence[Address]
) -> Mapping[Address, list[dict[str, Any]]]:
    """One `$batch` of list GETs. A list that pages, or an item Graph throttled or failed, is read
    again on its own, where the client follows pages and retries; a 403 or 404 is Graph's answer."""
    items = [BatchItem(str(index), Request("GET", list_url(rtype, parent))) for index, parent in enumerate(parents)]
    lists: dict[Address, list[dict[str, Any]]] = {}
    for parent, item, reply in zip(parents, items, await send_batch(graph, items), strict=True):
        values = _values(reply)
        if values is not None:
            lists[parent] = values
        elif reply.status in (FORBIDDEN, 404):
            raise item_error(graph, item.request, reply)
        else:
            lists[parent] = await graph.get_all(graph.request_info("GET", item.request.url))
    return lists


def _values(reply: ItemReply) -> list[dict[str, Any]] | None:
    """A whole list in one reply, or None."""
    body = reply.body
    if reply.status != 200 or not isinstance(body, dict) or "@odata.nextLink" in body:
        return None
    values = body.get("value")
    return values if isinstance(values, list) and all(isinstance(value, dict) for value in values) else None


def _instances(
    graph: Graph, rtype: ResourceType, parent: Address, items: list[dict[str, Any]]
) -> dict[Address, dict[str, Any]]:
    """Each item keyed by its key kind under `parent`; one it refuses, or one listed twice, is a
    GraphError: the ids are what a plan, a URL and a log trust."""
    request = graph.request_info("GET", list_url(rtype, parent))
    found: dict[Address, dict[str, Any]] = {}
    for item in items:
        resource_id = rtype.key_kind.id_of(item, parent.id)
        if resource_id is None:
            raise graph.not_graph_reply(request, f"a {rtype.name} {rtype.key_kind.refusal()}")
        address = Address(rtype.name, resource_id)
        if address in found:
            raise graph.paging_error(request, f"{rtype.name} {resource_id} listed twice")
        found[address] = item
    return found
