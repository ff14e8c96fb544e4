"""`xtap export`: the live tenant written as a policies/ folder that plans to zero changes; over
an existing folder, an edit of it."""

from __future__ import annotations

from pathlib import Path

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, Options, load, read_everything, run_graph, say
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.registry import PARTNER, REGISTRY, REGISTRY_BY_NAME, ResourceType
from reconciler.policies.load import PolicyError, load_policies


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
    live = run_graph(read_everything(options, existing.tenant))
    if live is None:
        return EXIT_ERROR
    found, stale = targets(live, existing, folder)
    try:
        outcome = write(folder, found)
    except (ExportRefused, OSError) as exc:
        say(f"Error: {exc}; nothing more was written.")
        return EXIT_ERROR
    for file, tenant in stale:
        say(f"Stale: {file} declares partner {tenant}, which the tenant no longer has; left as is.")
    say(_exported(live, folder, len(outcome.written), outcome.unchanged))
    return EXIT_OK if _load_exported(folder) else EXIT_ERROR


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
