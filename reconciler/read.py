"""Read the live tenant through msgraph-sdk (raw JSON, every page), for the types in scope.

What to read and how comes from the registry: keyed types are listed page by page with their
nested resources expanded in the same pages (a partner's identity sync, so no GET per
partner); singletons are read with one GET each, and only when in scope.
"""

from __future__ import annotations

from typing import Any

from kiota_abstractions.request_information import RequestInformation

from reconciler.address import Address
from reconciler.desired import Desired
from reconciler.graph import Graph
from reconciler.live import Live
from reconciler.models import is_guid
from reconciler.registry import REGISTRY, REGISTRY_BY_NAME, ResourceType


def scope(desired: Desired) -> tuple[str, ...]:
    """The resource types a plan reads: every keyed type (an unmanaged partner must still be
    reported), every singleton policies/ manages, and what a managed type inherits from.

    An unmanaged singleton is not read: the MTO templates' API exists only in the global cloud
    (GRAPH_FACTS §2), so a national-cloud tenant without a template file must not touch it."""
    inherited = {rtype.inherits_from for rtype in REGISTRY if rtype.inherits_from}
    return tuple(
        rtype.name
        for rtype in REGISTRY
        if rtype.singleton_id is None or desired.manages(rtype.name) or rtype.name in inherited
    )


async def read_live(graph: Graph, types: tuple[str, ...]) -> Live:
    instances: dict[Address, dict[str, Any]] = {}
    for name in types:
        rtype = REGISTRY_BY_NAME[name]
        if rtype.parent is not None:
            continue  # read with its parent
        if rtype.singleton_id is not None:
            instances[Address(name, rtype.singleton_id)] = await graph.get(graph.request_info("GET", rtype.path))
        else:
            instances.update(await _read_collection(graph, rtype))
    return Live(instances, types)


async def _read_collection(graph: Graph, rtype: ResourceType) -> dict[Address, dict[str, Any]]:
    children = [REGISTRY_BY_NAME[child] for child in rtype.children]
    expand = ",".join(child.nested_key or "" for child in children)
    request = graph.request_info("GET", rtype.collection_url + (f"?$expand={expand}" if expand else ""))
    instances: dict[Address, dict[str, Any]] = {}
    for item in await graph.get_all(request):
        resource_id = _key(graph, request, rtype, item)
        for child in children:
            nested = item.pop(child.nested_key or "", None)
            if nested is not None:
                instances[Address(child.name, resource_id)] = nested
        instances[Address(rtype.name, resource_id)] = item
    return instances


def _key(graph: Graph, request: RequestInformation, rtype: ResourceType, item: dict[str, Any]) -> str:
    """An instance's key (a partner's tenantId), which everything else trusts: Graph always
    sends a GUID, so anything else is not Graph talking, and must not reach a plan, a URL or
    a log."""
    key = rtype.key or ""
    value = item.get(key)
    if not isinstance(value, str) or not is_guid(value):
        raise graph.not_graph_reply(request, f"a {rtype.name} without a GUID {key}")
    return value.lower()
