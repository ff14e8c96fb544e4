"""`xtap export`: the live tenant written as a policies/ folder that plans to zero changes; over
an existing folder, an edit of it. Partner tenants are looked up by id on the same connection,
once for all of them (20 to a `$batch`), so each file carries its partner's name and a new one
is named after it; a token that may not look them up exports as before, and is told so."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.commands.run import (
    EXIT_ERROR,
    EXIT_OK,
    Options,
    connect,
    load,
    read_all,
    run_graph,
    say,
)
from reconciler.core.address import Address
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.names import Names, written_name
from reconciler.core.registry import PARTNER, REGISTRY, REGISTRY_BY_NAME, ResourceType
from reconciler.policies.load import PolicyError, load_policies

if TYPE_CHECKING:
    from reconciler.policies.export import Found


def export(options: Options, out: Path | None = None) -> int:
    """The live tenant written as a policies/ folder (`out`, default --policies) that plans to
    zero changes; over an existing folder, an edit of it. The folder is validated first, since
    its files say which partner keeps which file, and again after, as `plan` will read it."""
    from reconciler.policies.export import ExportRefused, targets, write

    folder = options.policies if out is None else out
    if folder.exists() and not folder.is_dir():
        say(f"Error: {folder} is not a folder; export writes a policies/ folder")
        return EXIT_ERROR
    existing = load(folder) if folder.is_dir() else Desired()
    if existing is None:
        return EXIT_ERROR
    read = run_graph(_read_and_look_up(options, existing.tenant))
    if read is None:
        return EXIT_ERROR
    live, names = read
    if names.unavailable:
        why = "; ".join(names.unavailable.values())
        say(f"Partner names could not be looked up ({why}): new files are named as before, and no name comments.")
    found, stale = targets(live, existing, folder, _found(live, names))
    try:
        outcome = write(folder, found)
    except (ExportRefused, OSError) as exc:
        say(f"Error: {exc}; nothing more was written.")
        return EXIT_ERROR
    for file, tenant in stale:
        say(f"Stale: {file} declares partner {tenant}, which the tenant no longer has; left as is.")
    say(_exported(live, folder, len(outcome.written), outcome.unchanged))
    return EXIT_OK if _load_exported(folder) else EXIT_ERROR


async def _read_and_look_up(options: Options, tenant: str | None) -> tuple[Live, Names]:
    """The tenant, then its partners' names, on one connection: every partner export writes or
    keeps gets its name comment, so all of them are looked up, once."""
    from reconciler.graph.names import look_up

    async with connect(options, tenant) as graph:
        live = await read_all(graph, options.cloud)
        names = await look_up(graph, tenants=[address.id for address in live.of(PARTNER.name)])
        return live, names


def _found(live: Live, names: Names) -> Found:
    """What the lookups found, made fit for a file (`written_name`): outside text goes into a
    file name and a comment. A name with nothing left leaves the partner unnamed, as before."""
    from reconciler.policies.export import Found

    file_names: dict[Address, str] = {}
    labels: dict[Address, str] = {}
    for address in live.of(PARTNER.name):
        label = names.written_tenant(address.id)
        if label is None:
            continue
        labels[address] = label
        name = written_name(names.tenants.get(address.id, ("", None))[0])
        if name:
            file_names[address] = name
    return Found(file_names, labels)


def _exported(live: Live, folder: Path, written: int, unchanged: int) -> str:
    """The summary line: the partners, with how many hold each nested type that was read, and
    the singletons, with the instances they hold (the default's capabilities). The types come
    from the registry, so a new nested type is counted without a line here."""
    partners = len(live.of(PARTNER.name))
    singletons = ", ".join(
        rtype.name + _held(live, rtype) for rtype in REGISTRY if rtype.singleton_id and rtype.name in live.read
    )
    return (
        f"Exported {partners} partners{_held(live, PARTNER)}, {singletons} to {folder}: "
        f"{written} file(s) written, {unchanged} unchanged."
    )


def _held(live: Live, holder: ResourceType) -> str:
    """ " (identitySynchronization: 5, m365Capability: 3)": how many instances of each nested type
    the holder type's instances hold, for the nested types that were read; "" for none."""
    counts = [f"{child}: {_count(live, child, holder)}" for child in holder.children if child in live.read]
    return f" ({', '.join(counts)})" if counts else ""


def _count(live: Live, child: str, holder: ResourceType) -> int:
    rtype = REGISTRY_BY_NAME[child]
    return sum(1 for address in live.of(child) if _holder_type(rtype, address.id) == holder.name)


def _holder_type(rtype: ResourceType, resource_id: str) -> str | None:
    parent = rtype.parent_address(resource_id)
    return None if parent is None else parent.resource


def _load_exported(folder: Path) -> bool:
    """Whether the folder as written validates. It fails only where Graph holds a value xtap
    refuses in a file (say `unknownFutureValue`): each problem names its file and line."""
    try:
        load_policies(folder)
    except PolicyError as exc:
        for problem in exc.problems:
            say(str(problem))
        say(f"{len(exc.problems)} problem(s) in the exported {folder}: fix them by hand before planning.")
        return False
    return True
