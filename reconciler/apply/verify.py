"""Apply's verifying re-read: what was applied but does not read back as written.

Graph's reads lag its writes (undocumented; other tools report it), so what still differs is
read again after a short wait, within the plan's own number of requests, before it is reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from reconciler.apply.writes import ApplyReport, Outcome, checked, read_back_problems
from reconciler.core.address import Address
from reconciler.core.live import Live, Wires
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.graph.batch import MAX_ITEMS
from reconciler.graph.client import Graph
from reconciler.graph.read import read_each, read_live

# The waits before each read-back retry, growing: other tools report a short, undocumented lag
# after a write, and 3.5 s in all is long for a lag and short for a user waiting on the result.
READ_BACK_DELAYS = (0.5, 1.0, 2.0)


async def read_back(graph: Graph, report: ApplyReport, types: tuple[str, ...], budget: int) -> list[str]:
    """What was applied but does not read back as written (`apply.writes.unconfirmed`), found with at
    most `budget` requests (the plan's own reads): a GET of each applied resource, 20 to a
    `$batch`, when those batches are fewer, else again the types of the scope that hold what
    was written (`_holding`), each page compared as it comes, while the next is on its way.
    Graph's reads lag its
    writes (undocumented, reported by other tools), so what still differs is read again the same
    way after each of `READ_BACK_DELAYS`, while the budget lasts; only what differs after that is
    reported."""
    spent = graph.request_count
    written = {outcome.change.address: outcome for outcome in report.outcomes if checked(outcome)}
    paged: dict[Address, list[str]] = {}  # the problems of each written resource a page held
    if _batches(len(written)) < budget:
        live = _updated(Live({}, types), await read_each(graph, list(written)))
    else:

        def compared(found: Wires) -> None:
            for address in found.keys() & written.keys():
                paged[address] = read_back_problems(written[address], found[address])

        live = await read_live(graph, _holding(types, list(written)), compared)
        # A type listed per parent is not in `types` (a plan reads it once the files are loaded).
        listed = [address for address in written if not REGISTRY_BY_NAME[address.resource].expanded]
        live = _updated(live, await read_each(graph, listed)) if listed else live
    differing = _differing(list(written.values()), live, paged)
    for delay in READ_BACK_DELAYS:
        left = budget - (graph.request_count - spent)
        if not differing or left <= 0:
            break
        await asyncio.sleep(delay)
        addresses = [outcome.change.address for outcome, _ in differing]
        live = _updated(live, await read_each(graph, addresses[: left * MAX_ITEMS]))
        differing = _differing([outcome for outcome, _ in differing], live)
    return [problem for _, problems in differing for problem in problems]


def _differing(
    outcomes: Sequence[Outcome], live: Live, paged: Mapping[Address, list[str]] = MappingProxyType({})
) -> list[tuple[Outcome, list[str]]]:
    """The outcomes that do not read back as written in `live`, in their order, each with what
    `unconfirmed` says of it: compared once after each read, and only those that differed are
    compared again (a read back changes only what it read). Those a page held were compared as
    it came (`paged`), from the page itself, not unpacked again from `live`."""
    compared = (
        (outcome, paged[address] if address in paged else read_back_problems(outcome, live.instances.get(address)))
        for outcome, address in ((outcome, outcome.change.address) for outcome in outcomes)
    )
    return [(outcome, problems) for outcome, problems in compared if problems]


def _holding(types: tuple[str, ...], written: list[Address]) -> tuple[str, ...]:
    """Those of `types` that what was written is read with: the types written and their parent
    types (a partner's pages hold its identity sync). A scope read again reads no more: the
    default policy, unwritten, is not read back after a thousand partners were."""
    names = {address.resource for address in written}
    holders = names | {parent for name in names for parent in REGISTRY_BY_NAME[name].parents}
    return tuple(name for name in types if name in holders)


def _batches(count: int) -> int:
    """The requests `read_each` takes for `count` resources: 20 GETs to a `$batch`."""
    return -(-count // MAX_ITEMS)


def _updated(live: Live, found: dict[Address, dict[str, Any] | None]) -> Live:
    """`live` with what was just read; None is a resource Graph no longer has."""
    instances = {**live.instances, **{address: item for address, item in found.items() if item is not None}}
    for address in (address for address, item in found.items() if item is None):
        instances.pop(address, None)
    return Live(instances, live.read)
