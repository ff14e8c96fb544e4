"""Read the live tenant through msgraph-sdk (raw JSON, every page), for the types in scope.

What to read and how comes from the registry, alike for every type: keyed types are listed
page by page with their nested types expanded in the same pages (a partner's identity sync,
so no GET per partner); singletons are read with one GET each (their nested types expanded
too), and only when in scope. Each item's id, and the instances its nested blocks hold, are
its type's key kind's to say. The list and the singletons are read at once: the list's pages
must follow one another, so the singletons' GETs would otherwise only add their round trips
to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from kiota_abstractions.request_information import RequestInformation

from reconciler.core.address import Address
from reconciler.core.live import Live, Wires
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME, ResourceType
from reconciler.core.request import Request
from reconciler.graph.batch import send_all
from reconciler.graph.client import Graph
from reconciler.graph.errors import GraphError
from reconciler.graph.listed import read_listed
from reconciler.graph.together import all_of

# GETs in flight at once when resources are read one by one.
READ_CONCURRENCY = 8
NOT_FOUND = 404


class Manages(Protocol):
    """What `scope` needs to know of a policies folder: whether it manages a resource type. Both
    the loaded folder (`Desired`) and its layout, before any file is read, tell it
    (`policies.layout.Layout`)."""

    def manages(self, resource: str) -> bool: ...


def scope(folder: Manages) -> tuple[str, ...]:
    """The resource types a plan reads: every keyed type (an unmanaged partner must still be
    reported), every singleton the folder manages, and what a managed type inherits from.
    (A nested type is read in its parents' pages; one Graph lists per parent is read once the
    files say which parents manage it: `commands.planning.listed`.)

    From the folder's layout it is what it will be once the files have loaded, so the reads
    can start while they load: a singleton is managed exactly when its file is there (a file
    with only comments declares its reset).

    An unmanaged singleton is not read: the MTO templates' API exists only in the global cloud
    (https://learn.microsoft.com/graph/api/multitenantorganizationpartnerconfigurationtemplate-get), so a
    national-cloud tenant without a template file must not touch it."""
    return _scope(folder.manages)


def _scope(manages: Callable[[str], bool]) -> tuple[str, ...]:
    inherited = {rtype.inherits_from for rtype in REGISTRY if rtype.inherits_from}
    return tuple(
        rtype.name
        for rtype in REGISTRY
        if rtype.expanded and (rtype.singleton_id is None or manages(rtype.name) or rtype.name in inherited)
    )


# Hears each batch of instances as it is read, a page of a list or a singleton, packed as the
# live state keeps them (the same strings, `Wires.held`).
OnRead = Callable[[Wires], None]


async def read_live(graph: Graph, types: tuple[str, ...], on_read: OnRead | None = None) -> Live:
    """Every instance of `types`, each top-level type read at once. `on_read` hears each
    batch as it arrives, for progress and for work that need not wait for the rest."""
    reads = [_read_type(graph, REGISTRY_BY_NAME[name], on_read or _ignore) for name in types]
    instances = Wires()  # packed as each type's read ends: what is kept of the tenant (core/live.py)
    for found in await all_of(reads):
        instances.update(found)
    lists = [(name, parent) for name in types for parent in _listed_parents(name, instances)]
    return await with_listed(graph, Live(instances, types), lists)


def _listed_parents(name: str, instances: Mapping[Address, Any]) -> list[Address]:
    """Every live parent of a type listed per parent (`expanded` False); none for another."""
    rtype = REGISTRY_BY_NAME[name]
    if rtype.expanded or not rtype.parents:
        return []
    return sorted(address for address in instances if address.resource in rtype.parents)


async def with_listed(graph: Graph, live: Live, lists: Sequence[tuple[str, Address]]) -> Live:
    """`live` with the instances of each (type, parent) list (`listed.read_listed`), the types
    read, and those skipped for want of permission."""
    found, skipped = await read_listed(graph, lists)
    types = {name for name, _ in lists}
    read = tuple(name for name in dict.fromkeys((*live.read, *types)) if name not in skipped)
    return Live(live.wires.joined(found), read, {**live.skipped, **skipped})


def _ignore(found: Wires) -> None:
    pass


async def _read_type(graph: Graph, rtype: ResourceType, on_read: OnRead) -> Mapping[Address, dict[str, Any]]:
    if rtype.parents:
        return {}  # read in its parents' pages
    if rtype.singleton_id is not None:
        request = _expanded(graph, rtype, rtype.url(rtype.singleton_id))
        found = Wires(page_instances(graph, request, rtype, [await graph.get(request)], {}))
        on_read(found)
        return found
    return await _read_collection(graph, rtype, on_read)


def _expanded(graph: Graph, rtype: ResourceType, url: str) -> RequestInformation:
    """A GET of `url` with `rtype`'s nested types expanded."""
    expand = ",".join(child.nested_key or "" for child in _expanded_children(rtype))
    return graph.request_info("GET", url + (f"?$expand={expand}" if expand else ""))


async def _read_collection(graph: Graph, rtype: ResourceType, on_read: OnRead) -> Mapping[Address, dict[str, Any]]:
    request = _expanded(graph, rtype, rtype.collection_url)
    instances = Wires()  # each page packed as it arrives (core/live.py)

    def page(items: list[dict[str, Any]]) -> None:
        found = Wires(page_instances(graph, request, rtype, items, instances))
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
    """The instances in one page of `request`'s listing of `rtype` (or its one singleton), its
    nested types taken out of each item (a partner's expanded identity sync). An item whose key
    its key kind refuses, a nested block that is not its kind's shape, or an instance already
    `seen` (or twice in the page) is a GraphError: the ids are what everything else trusts, so
    nothing malformed may reach a plan, a URL or a log."""
    children = _expanded_children(rtype)
    found: dict[Address, dict[str, Any]] = {}
    for item in items:
        resource_id = rtype.key_kind.id_of(item, None)
        if resource_id is None:
            raise graph.not_graph_reply(request, f"a {rtype.name} {rtype.key_kind.refusal()}")
        address = Address(rtype.name, resource_id)
        if address in seen or address in found:  # never merged: which one would be Graph's?
            raise graph.paging_error(request, f"{rtype.name} {resource_id} listed twice while paging")
        for child in children:
            block = item.pop(child.nested_key or "", None)
            nested = None if block is None else child.key_kind.instances(resource_id, block)
            if block is not None and nested is None:
                raise graph.not_graph_reply(
                    request, f"a {rtype.name} whose {child.nested_key} is not {child.key_kind.shape}"
                )
            found.update((Address(child.name, child_id), body) for child_id, body in (nested or {}).items())
        found[address] = item
    return found


def _expanded_children(rtype: ResourceType) -> list[ResourceType]:
    return [REGISTRY_BY_NAME[child] for child in rtype.children if REGISTRY_BY_NAME[child].expanded]


async def read_each(graph: Graph, addresses: list[Address]) -> dict[Address, dict[str, Any] | None]:
    """Each resource by its own GET, 20 to a `$batch` (`batch.send_all`): apply's re-read of what
    it wrote costs ceil(written / 20) requests. An item Graph throttled or failed is read again
    alone, where the client retries it; a 404 is a resource Graph no longer has (None). A type
    Graph documents no GET of one for (`expanded` False) is found in its parent's list."""
    listed = [address for address in addresses if not REGISTRY_BY_NAME[address.resource].expanded]
    addresses = [address for address in addresses if REGISTRY_BY_NAME[address.resource].expanded]
    found: dict[Address, dict[str, Any] | None] = {}
    if listed:
        lists = sorted({(address.resource, _parent(address)) for address in listed})
        instances, _ = await read_listed(graph, lists)
        found.update((address, instances.get(address)) for address in listed)
    requests = [Request("GET", REGISTRY_BY_NAME[address.resource].url(address.id)) for address in addresses]
    for address, reply in zip(addresses, await send_all(graph, requests), strict=True):
        if reply.status == 200 and isinstance(reply.body, dict):
            found[address] = reply.body
        elif reply.status == NOT_FOUND:
            found[address] = None
        else:
            found[address] = await read_one(graph, address)
    return found


def _parent(address: Address) -> Address:
    parent = REGISTRY_BY_NAME[address.resource].parent_address(address.id)
    assert parent is not None, "only a nested type is listed"
    return parent


async def read_one(graph: Graph, address: Address) -> dict[str, Any] | None:
    url = REGISTRY_BY_NAME[address.resource].url(address.id)
    try:
        return await graph.get(graph.request_info("GET", url))
    except GraphError as exc:
        if exc.status == NOT_FOUND:
            return None
        raise


# What one service-managed navigation read found: its body, or None where the instance has none.
Navigations = dict[Address, dict[str, dict[str, Any] | None]]


async def read_service_managed(graph: Graph, addresses: Sequence[Address]) -> tuple[Navigations, dict[str, str]]:
    """Each instance's service-managed navigations (`ResourceType.service_managed`), one GET
    each, a few at a time; a 404 is "none". A navigation the token may not read (403) is
    left out and returned with Graph's reason, as `listed.read_listed` does for its types: the
    rest is still worth showing."""
    reads = [(address, name) for address in addresses for name in REGISTRY_BY_NAME[address.resource].service_managed]
    found: Navigations = {address: {} for address in addresses}
    unreadable: dict[str, str] = {}
    for start in range(0, len(reads), READ_CONCURRENCY):
        chunk = reads[start : start + READ_CONCURRENCY]
        for (address, name), outcome in zip(
            chunk, await all_of(_navigation(graph, address, name) for address, name in chunk), strict=True
        ):
            if isinstance(outcome, GraphError):
                unreadable[name] = outcome.detail
            else:
                found[address][name] = outcome
    return found, unreadable


async def _navigation(graph: Graph, address: Address, name: str) -> dict[str, Any] | GraphError | None:
    url = f"{REGISTRY_BY_NAME[address.resource].url(address.id)}/{name}"
    try:
        return await graph.get(graph.request_info("GET", url))
    except GraphError as exc:
        if exc.status == NOT_FOUND:
            return None
        if exc.status == 403:
            return exc
        raise
