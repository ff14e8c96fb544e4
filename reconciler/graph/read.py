"""Read the live tenant through msgraph-sdk (raw JSON, every page), for the types in scope.

What to read and how comes from the registry: keyed types are listed page by page with their
nested resources expanded in the same pages (a partner's identity sync, so no GET per
partner); singletons are read with one GET each, and only when in scope. The list and the
singletons are read at once: the list's pages must follow one another, so the singletons' GETs
would otherwise only add their round trips to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from kiota_abstractions.request_information import RequestInformation

from reconciler.core.address import Address
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.models import is_guid
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME, ResourceType
from reconciler.graph.client import Graph, GraphError

T = TypeVar("T")
# GETs in flight at once when resources are read one by one.
READ_CONCURRENCY = 8


def scope(desired: Desired) -> tuple[str, ...]:
    """The resource types a plan reads: every keyed type (an unmanaged partner must still be
    reported), every singleton policies/ manages, and what a managed type inherits from.

    An unmanaged singleton is not read: the MTO templates' API exists only in the global cloud
    (https://learn.microsoft.com/graph/api/multitenantorganizationpartnerconfigurationtemplate-get), so a
    national-cloud tenant without a template file must not touch it."""
    return _scope(desired.manages)


def folder_scope(root: Path) -> tuple[str, ...]:
    """What `scope` will be once `root` has loaded, from which singleton files exist: so the
    reads can start while the files load. The same whenever the folder loads: a singleton is
    managed exactly when its file is there (a file with only comments declares its reset)."""
    return _scope(lambda name: (root / (REGISTRY_BY_NAME[name].file or "")).is_file())


def _scope(manages: Callable[[str], bool]) -> tuple[str, ...]:
    inherited = {rtype.inherits_from for rtype in REGISTRY if rtype.inherits_from}
    return tuple(
        rtype.name for rtype in REGISTRY if rtype.singleton_id is None or manages(rtype.name) or rtype.name in inherited
    )


# Hears each batch of instances as it is read: a page of a list, or a singleton.
OnRead = Callable[[dict[Address, dict[str, Any]]], None]


async def read_live(graph: Graph, types: tuple[str, ...], on_read: OnRead | None = None) -> Live:
    """Every instance of `types`, each top-level type read at once. `on_read` hears each
    batch as it arrives, for progress and for work that need not wait for the rest."""
    reads = [_read_type(graph, REGISTRY_BY_NAME[name], on_read or _ignore) for name in types]
    instances: dict[Address, dict[str, Any]] = {}
    for found in await _all_of(reads):
        instances.update(found)
    return Live(instances, types)


async def _all_of(work: Iterable[Awaitable[T]]) -> list[T]:
    """Every result of `work`, run at once, in order. The first failure wins: the rest are
    cancelled and waited for (a bare `asyncio.gather` leaves them running, and their errors
    "never retrieved"), then it is raised."""
    tasks = [asyncio.ensure_future(each) for each in work]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _ignore(found: dict[Address, dict[str, Any]]) -> None:
    pass


async def _read_type(graph: Graph, rtype: ResourceType, on_read: OnRead) -> dict[Address, dict[str, Any]]:
    if rtype.parent is not None:
        return {}  # read with its parent
    if rtype.singleton_id is not None:
        found = {Address(rtype.name, rtype.singleton_id): await graph.get(graph.request_info("GET", rtype.path))}
        on_read(found)
        return found
    return await _read_collection(graph, rtype, on_read)


async def _read_collection(graph: Graph, rtype: ResourceType, on_read: OnRead) -> dict[Address, dict[str, Any]]:
    expand = ",".join(REGISTRY_BY_NAME[child].nested_key or "" for child in rtype.children)
    request = graph.request_info("GET", rtype.collection_url + (f"?$expand={expand}" if expand else ""))
    instances: dict[Address, dict[str, Any]] = {}

    def page(items: list[dict[str, Any]]) -> None:
        found = page_instances(graph, request, rtype, items, instances)
        instances.update(found)
        on_read(found)

    await graph.get_all(request, page)
    return instances


def page_instances(
    graph: Graph,
    request: RequestInformation,
    rtype: ResourceType,
    items: list[dict[str, Any]],
    seen: Mapping[Address, Any],
) -> dict[Address, dict[str, Any]]:
    """The instances in one page of `request`'s listing of `rtype`, its children taken out of
    each item (a partner's expanded identity sync). An item without a GUID key, a child that is
    not an object, or an instance already `seen` (or twice in the page) is a GraphError."""
    children = [REGISTRY_BY_NAME[child] for child in rtype.children]
    found: dict[Address, dict[str, Any]] = {}
    for item in items:
        resource_id = _key(graph, request, rtype, item)
        address = Address(rtype.name, resource_id)
        if address in seen or address in found:  # never merged: which one would be Graph's?
            raise graph.paging_error(request, f"{rtype.name} {resource_id} listed twice while paging")
        for child in children:
            nested = item.pop(child.nested_key or "", None)
            if nested is not None and not isinstance(nested, dict):
                raise graph.not_graph_reply(request, f"a {rtype.name} whose {child.nested_key} is not an object")
            if nested is not None:
                found[Address(child.name, resource_id)] = nested
        found[address] = item
    return found


def _key(graph: Graph, request: RequestInformation, rtype: ResourceType, item: dict[str, Any]) -> str:
    """An instance's key (a partner's tenantId), which everything else trusts: Graph always
    sends a GUID, so anything else is not Graph talking, and must not reach a plan, a URL or
    a log."""
    key = rtype.key or ""
    value = item.get(key)
    if not isinstance(value, str) or not is_guid(value):
        raise graph.not_graph_reply(request, f"a {rtype.name} without a GUID {key}")
    return value.lower()


async def read_each(graph: Graph, addresses: list[Address]) -> dict[Address, dict[str, Any] | None]:
    """Each resource by its own GET, a few at a time: Graph counts concurrent requests too."""
    found: dict[Address, dict[str, Any] | None] = {}
    for start in range(0, len(addresses), READ_CONCURRENCY):
        chunk = addresses[start : start + READ_CONCURRENCY]
        found.update(zip(chunk, await _all_of(read_one(graph, address) for address in chunk), strict=True))
    return found


async def read_one(graph: Graph, address: Address) -> dict[str, Any] | None:
    url = REGISTRY_BY_NAME[address.resource].url(address.id)
    try:
        return await graph.get(graph.request_info("GET", url))
    except GraphError as exc:
        if exc.status == 404:
            return None
        raise
