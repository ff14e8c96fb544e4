"""`xtap show`: each partner's settings in effect, its own or inherited from the default, read
from the tenant as it is (policies/ is not read)."""

from __future__ import annotations

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, Formats, Options, connect, run_graph, say
from reconciler.core.address import Address
from reconciler.core.models import is_guid
from reconciler.core.registry import DEFAULT, PARTNER
from reconciler.plan.effective import Setting, effective
from reconciler.render.show import render_show, render_show_json

Shown = list[tuple[Address, tuple[Setting, ...]]]
FORMATS = Formats[Shown](colored={"text": render_show}, plain={"json": render_show_json})


def show(options: Options, tenant_id: str | None = None, fmt: str = "text") -> int:
    """Each partner's settings in effect (or one partner's), its own or inherited from the
    default. Read-only, and policies/ is not read: this is the tenant as it is."""
    if tenant_id is not None and not is_guid(tenant_id):
        say(f"Error: {tenant_id!r} is not a tenant id (a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)")
        return EXIT_ERROR
    shown = run_graph(_effective(options, tenant_id))
    if shown is None:
        return EXIT_ERROR
    if tenant_id is not None and not shown:
        say(f"Error: the tenant has no partner {tenant_id.lower()}")
        return EXIT_ERROR
    print(FORMATS.render(shown, fmt), end="")
    return EXIT_OK


async def _effective(options: Options, tenant_id: str | None) -> Shown:
    from reconciler.graph.read import read_live

    async with connect(options, None) as graph:  # policies/ is not read, so no tenant is bound
        say(f"Reading the live tenant from {graph.base_url} ...")
        live = await read_live(graph, (PARTNER.name, DEFAULT.name))
    source = live.instances.get(Address(DEFAULT.name, DEFAULT.singleton_id or ""))
    return [
        (address, effective(PARTNER, wire, source))
        for address, wire in sorted(live.of(PARTNER.name).items())
        if tenant_id is None or address.id == tenant_id.lower()
    ]
