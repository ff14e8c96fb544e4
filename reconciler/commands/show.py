"""`xtap show`: each partner's settings in effect, its own or inherited from the default, its
Microsoft 365 capabilities in effect, and what a Microsoft service set on it, read from the
tenant as it is. Of policies/, only xtap.yaml is read, for the tenant it binds the folder to: a
token for another tenant is refused before any request, as plan refuses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reconciler.commands.run import (
    EXIT_ERROR,
    EXIT_OK,
    Formats,
    Options,
    binding_if_there,
    connect,
    run_graph,
    say,
    say_skipped,
    say_unnamed,
)
from reconciler.core.address import Address
from reconciler.core.clouds import GLOBAL, cloud_types
from reconciler.core.live import Live
from reconciler.core.names import Names
from reconciler.core.registry import DEFAULT, PARTNER, REGISTRY_BY_NAME, ResourceType
from reconciler.core.wire import is_guid
from reconciler.plan.effective import Held, InEffect, effective, effective_held
from reconciler.plan.labels import body_labels, in_bodies
from reconciler.render.show import render_show, render_show_json

if TYPE_CHECKING:
    from reconciler.graph.client import Graph

Shown = list[InEffect]
FORMATS = Formats[Shown](colored={"text": render_show}, plain={"json": render_show_json})


def show(options: Options, tenant_id: str | None = None, fmt: str = "text", folder_given: bool = True) -> int:
    """Each partner's settings in effect (or one partner's), its own or inherited from the
    default: the tenant as it is. Of --policies only xtap.yaml is read, for its tenant binding;
    a folder that is not there binds nothing, unless it was named (`folder_given`): then it is
    an error, as for plan, since a mistyped folder must not skip the check."""
    if tenant_id is not None and not is_guid(tenant_id):
        say(f"Error: {tenant_id!r} is not a tenant id (a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)")
        return EXIT_ERROR
    bound, tenant = binding_if_there(options, folder_given)
    if not bound:
        return EXIT_ERROR
    shown = run_graph(_effective(options, tenant_id, tenant))
    if shown is None:
        return EXIT_ERROR
    if tenant_id is not None and not shown:
        say(f"Error: the tenant has no partner {tenant_id.lower()}")
        return EXIT_ERROR
    print(FORMATS.render(shown, fmt), end="")
    return EXIT_OK


def _listed_children(cloud: str) -> list[ResourceType]:
    """The partner's nested types Graph lists per parent (its Microsoft 365 capabilities) that the
    cloud has: the partner's own list and the default's, which it inherits, are read for them.
    (Expanded ones, its identity sync, are no setting in effect.)"""
    types = cloud_types(cloud)
    children = (REGISTRY_BY_NAME[name] for name in PARTNER.children)
    return [child for child in children if not child.expanded and child.name in types]


async def _effective(options: Options, tenant_id: str | None, bound: str | None) -> Shown:
    from reconciler.graph.read import read_live, read_service_managed, with_listed

    async with connect(options, bound) as graph:  # a token for another tenant is refused here
        say(f"Reading the live tenant from {graph.base_url} ...")
        live = await read_live(graph, (PARTNER.name, DEFAULT.name))
        default = Address(DEFAULT.name, DEFAULT.singleton_id or "")
        partners = sorted(a for a in live.of(PARTNER.name) if tenant_id is None or a.id == tenant_id.lower())
        children = _listed_children(options.cloud)
        holders = [*partners, default] if partners else []
        live = await with_listed(graph, live, [(child.name, holder) for child in children for holder in holders])
        # One GET for the partner shown; showing all, one for each partner a service made: the
        # service that sets these navigations made the partner (`service_made`).
        asked = [a for a in partners if tenant_id is not None or _service_made(PARTNER, live.instances[a])]
        managed, unreadable = await read_service_managed(graph, asked if options.cloud == GLOBAL else [])
        source = live.instances.get(default)
        shown = [
            InEffect(
                address,
                effective(PARTNER, live.instances[address], source),
                {child.nested_key or "": _held(live, child, address, default) for child in children},
                managed.get(address, {}),
                {**_not_read(live, children), **unreadable},
            )
            for address in partners
        ]
        names = await _names(graph, shown)
    say_skipped(live)
    for name, why in unreadable.items():
        say(f"Not shown: {name}: the token may not read it ({why}).")
    say_unnamed(names)
    return [
        replace(partner, name=names.tenant(partner.address.id), labels=body_labels(partner.bodies(), names))
        for partner in shown
    ]


async def _names(graph: Graph, shown: Shown) -> Names:
    """The names of what is shown, and no more: the partners shown (20 to a tenant-information
    `$batch`), and this tenant's users, groups and applications their settings in effect name.
    Nothing is looked up when no partner is shown."""
    from reconciler.graph.names import look_up

    wanted = in_bodies(body for partner in shown for body in partner.bodies())
    return await look_up(graph, (partner.address.id for partner in shown), wanted.objects, wanted.apps)


def _service_made(rtype: ResourceType, wire: Mapping[str, Any]) -> bool:
    return rtype.service_made is not None and rtype.service_made(wire) is not None


def _held(live: Live, child: ResourceType, address: Address, default: Address) -> tuple[Held, ...] | None:
    """The instances of `child` in effect for the partner, or None when they were not read."""
    if child.name not in live.read:
        return None
    own, inherited = _keyed(live, child, address), _keyed(live, child, default)
    return effective_held(child, address.resource, own, inherited)


def _keyed(live: Live, child: ResourceType, holder: Address) -> dict[str, dict[str, Any]]:
    return {
        child.key_kind.key_value(a.id) or "": wire
        for a, wire in live.of(child.name).items()
        if child.parent_address(a.id) == holder
    }


def _not_read(live: Live, children: list[ResourceType]) -> dict[str, str]:
    """Why each nested type was not read, by its key in the partner's file."""
    return {child.nested_key or "": live.skipped[child.name] for child in children if child.name in live.skipped}
