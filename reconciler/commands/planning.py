"""The plan of policies/ against the tenant as plan, apply and drift make it (`plan_with`: the
files load while the tenant is read), and the plan errors that stop any write.

What only the answer needs (the compare, the labels, the rules that warn of missing users and
groups) is imported once the first request is out, not before it. So is the loader (pydantic,
the models, the YAML reader): the thread that loads the files imports it once the first
request is on the wire (`Graph.on_wire`). A folder large enough for worker processes forks
them before that request, from a module without the loader: they import it and build the
models themselves meanwhile."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reconciler.commands.run import collector_paused, say, say_skipped, say_unnamed, say_warnings
from reconciler.core.address import Address
from reconciler.core.clouds import GLOBAL
from reconciler.core.live import Live, Wires
from reconciler.core.names import Names
from reconciler.core.registry import REGISTRY
from reconciler.policies.layout import PARALLEL_FILES, Layout
from reconciler.policies.problems import PolicyError, Problem
from reconciler.render import progress

if TYPE_CHECKING:
    from reconciler.core.desired import Desired
    from reconciler.graph.client import Graph
    from reconciler.plan.ahead import Ahead
    from reconciler.plan.labels import Shown
    from reconciler.plan.model import Plan
    from reconciler.plan.planner import Forms


# The type read page by page, whose count the progress line shows: the one keyed collection at
# the top of the registry (partners), asked of the registry rather than named.
PAGED = next(rtype.name for rtype in REGISTRY if rtype.singleton_id is None and not rtype.parents)


@dataclass(frozen=True)
class Planned:
    """A plan and the GETs it took: the verifying re-read after apply may cost as much."""

    plan: Plan
    reads: int
    desired: Desired  # what the plan was made from: apply's guardrails judge it
    # The types the token may not read (`Live.skipped`): what the files declare of them is not
    # in the plan, and apply's permission check still weighs it.
    unread: tuple[str, ...] = ()
    # What the lookups found (`graph.names`): the plan shows it, the guardrails judge by it.
    names: Names = field(default_factory=Names)


async def plan_with(graph: Graph, layout: Layout, prune: bool = True, cloud: str = GLOBAL) -> Planned:
    """The plan of policies/ against the tenant in `cloud`; without its prune deletes unless
    `prune` (drift reports unmanaged partners, it does not plan deletes). In the global cloud
    the files load while the tenant is read (in worker processes when there are many,
    `_pool`; else in a thread), from the first request on the wire on (`_on_wire`), so the
    slower of the two sets the pace, not their sum; reads may start before a file turns out
    bad (then they are cancelled); a write never does.

    In a national cloud the files load first: a file may manage what that cloud's Graph has no
    API for (`ResourceType.global_only`), which is refused offline, and a folder refused so
    must not have sent Graph a single request, not even a read."""
    from reconciler.graph.read import read_live, scope, with_listed

    before = graph.request_count - graph.lookup_count
    reads = scope(layout)
    warnings: list[Problem] = []
    later: list[Ahead] = []
    # The pages read before `Ahead` is made: its module needs the models, which the thread
    # that loads the files imports (`_loaded`), off the loop that turns the pages around.
    early: list[Wires] = []

    def ahead() -> Ahead:
        """The compare's work done ahead (`plan.ahead`), made by the thread that loads the
        files before it loads them, so its imports wait for the first request to be sent."""
        if not later:
            from reconciler.plan.ahead import Ahead

            later.append(Ahead(reads))
        return later[0]

    def caught_up() -> Ahead:
        """`ahead()` with every page read so far handed to it."""
        made = ahead()
        for found in early:
            made.read(found)
        early.clear()
        return made

    with collector_paused(), _pool(layout) as pool, progress.reading(PAGED + "s") as on_page:

        def heard(found: Wires) -> None:
            on_page(sum(1 for address in found if address.resource == PAGED))
            early.append(found)
            if later:
                caught_up()

        def read() -> asyncio.Future[Live]:
            return asyncio.ensure_future(read_live(graph, reads, heard))

        reading = read() if cloud == GLOBAL else None
        try:
            if reading is not None:
                await _on_wire(reading, graph.on_wire)
            desired = await asyncio.to_thread(_loaded, layout, pool, cloud, warnings, ahead)
            if pool is not None:  # done with: the workers end while the tenant is read, not after the plan
                pool.shutdown(wait=False)
        except BaseException:
            say_warnings(warnings)
            if reading is not None:
                await _cancelled(reading)
            raise
        say_warnings(warnings)
        reading = read() if reading is None else reading
        if not prune:
            desired = replace(desired, prune=None)
        # Said once the files are good, so a bad folder's output is exactly validate's.
        say(f"Reading the live tenant from {graph.base_url} ...")
        caught_up().loaded(desired)
        # Whether the users and groups the files name still exist, asked while the tenant is read.
        in_use = asyncio.ensure_future(_in_files(graph, desired))
        try:
            live = await reading
        except BaseException:
            await _cancelled(in_use)
            raise
        if desired.tenant != graph.tenant or scope(desired) != reads:
            await _cancelled(in_use)
            raise PolicyError([Problem.whole(layout.root, "changed while xtap read it; run xtap again")])
        live = await with_listed(graph, live, listed(desired, live))
        say_skipped(live)
        read_so_far = graph.request_count - graph.lookup_count
        kinds = Counter(address.resource for address in live.instances)
        counts = ", ".join(f"{name}: {kinds[name]}" for name in live.read)
        say(f"Read {counts} ({read_so_far} request(s)).")
        made = caught_up()
        plan = _compare(desired, live, made.finish())
        plan = replace(plan, graph_url=graph.base_url, tenant=graph.tenant, written=made.written())
        from reconciler.plan.labels import labels, shown

        changes = shown(plan.changes, desired, live, made.shown)
        names = await _names(graph, changes, await in_use)
        say_missing(desired, names)
        plan = replace(plan, names=labels(changes, names))
        return Planned(plan, read_so_far - before, desired, tuple(live.skipped), names)


def _pool(layout: Layout) -> AbstractContextManager[Executor | None]:
    """Worker processes for a folder large enough to want them (`policies.pool`), keeping a
    CPU for reading the tenant. They are forked before the first request, from a module that
    imports neither the loader nor the models: the workers import and build those themselves
    while the request is out, and this process imports the loader once it is on the wire
    (`_on_wire`), as for a smaller folder, whose files load in a thread with no workers."""
    if len(layout.files) < PARALLEL_FILES:
        return nullcontext()
    from reconciler.policies.pool import workers

    return workers(layout, reserve=1)


async def _on_wire(reading: asyncio.Future[Live], sent: asyncio.Event) -> None:
    """Until a first request is on the wire (or the read has ended). The thread that loads the
    files holds the interpreter while it imports and parses, so the HTTP stack, which has
    imports of its own to make on the way to that request, would make them at half speed
    beside it: the first request went out 0.1 s later. Started once it is sent, the load
    overlaps its round trip and the rest of the read, which is mostly waiting."""
    waiting: asyncio.Future[Any] = asyncio.ensure_future(sent.wait())
    try:
        await asyncio.wait((reading, waiting), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()


def _loaded(
    layout: Layout, pool: Executor | None, cloud: str, warnings: list[Problem], ahead: Callable[[], Ahead]
) -> Desired:
    """The files loaded with their bodies, in a thread that imports the loader itself. Each
    file's instances go into Ahead's map as they load, so pages pair with them early."""
    made = ahead()
    from reconciler.policies.load import load_policies

    desired = load_policies(layout, True, pool, cloud, warnings, made.declared)
    made.settled(desired)
    return desired


async def _in_files(graph: Graph, desired: Desired) -> Names:
    """Whether the users and groups of this tenant that the files name still exist. Finding them
    walks every file's values (a third of a second at 10,000 files), so it runs in a thread, off
    the loop that takes the tenant's pages, and not at all when the token's claims say it may not
    look them up."""
    from reconciler.graph.names import OBJECT_NAMES, look_up, permitted
    from reconciler.plan.labels import in_files

    if not permitted(await graph.permissions(), OBJECT_NAMES):
        return Names()
    objects = await asyncio.to_thread(lambda: in_files(desired).objects)
    return await look_up(graph, objects=objects)


async def _names(graph: Graph, changes: Shown, known: Names) -> Names:
    """The names the plan shows, besides those already `known`: looked up only for what it
    changes, so a plan of 10,000 partners asks for the few it touches. What the token may not
    look up is said once."""
    from reconciler.graph.names import look_up
    from reconciler.plan.labels import wanted

    asked = wanted(changes)
    names = known.merged(await look_up(graph, asked.tenants, asked.objects - known.objects.keys(), asked.apps))
    say_unnamed(names)
    return names


def say_missing(desired: Desired, names: Names) -> None:
    """A warning at each user or group the files name that Graph says is gone: the plan still
    writes what the files say, but a deleted group in a target silently changes who it lets in.
    The same rule as `xtap check --live` (`target-exists`), so the two never disagree; a warning
    here, which never changes the exit code."""
    if not names.missing:  # nothing to say, and the rules' modules need not be imported
        return
    from reconciler.commands.check import missing_targets

    for located in missing_targets(desired, names):
        place = "live tenant" if located.at is None else "{}:{}:{}".format(*located.at)
        say(f"Warning: {place}: {located.finding.violation.message} [{located.finding.rule.id}]")


def listed(desired: Desired, live: Live) -> list[tuple[str, Address]]:
    """The lists a plan reads once the files are loaded: a type listed per parent (`expanded`
    False) under each live parent whose file writes its block."""
    return [
        (rtype.name, parent)
        for rtype in REGISTRY
        if not rtype.expanded
        for parent in desired.holders(rtype.name)
        if parent in live.instances
    ]


async def _cancelled(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait for it to end, keeping whatever it raised: another error won, and
    this one must not resurface as "Task exception was never retrieved"."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _compare(desired: Desired, live: Live, ahead: Forms | None = None) -> Plan:
    from reconciler.plan.planner import make_plan

    with collector_paused():
        return make_plan(desired, live, ahead)


def has_errors(plan: Plan) -> bool:
    """Says so when some resource cannot be brought to its file's state. Nothing is applied
    then, not even the other changes: a half-applied policy is harder to review than none."""
    for error in plan.errors:
        say(f"Error: {error.source}: {' '.join(filter(None, (error.resource, error.id)))}: {error.message}")
    if plan.errors:
        say(f"{len(plan.errors)} error(s) in the plan; nothing can be applied until they are fixed.")
    return bool(plan.errors)
