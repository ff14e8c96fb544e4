"""Work done while a plan waits for Graph (`plan/ahead.py`), on the event loop as `xtap plan`
runs it: a page's live texts are made a moment after it arrives, an instance's change as soon
as its file is loaded too, no form is kept, and work still scheduled when the reads end is
dropped for the planner to do. That the plan is the same bytes
either way is pinned by tests/plan/test_planner_golden.py."""

from __future__ import annotations

import asyncio

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Wires
from reconciler.plan.ahead import AFTER_PAGE_S, Ahead
from reconciler.plan.planner import Forms, live_form, live_line

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"
ADDRESS = Address("partner", TENANT)
LIVE = {"tenantId": TENANT, "inboundTrust": {"isMfaAccepted": False}}
DESIRED = Desired({ADDRESS: DesiredInstance({"tenantId": TENANT, "inboundTrust": {"isMfaAccepted": True}}, "p.yaml:1")})


async def fed(desired: Desired | None, pages: list[dict[Address, dict[str, object]]], wait: float) -> Forms:
    ahead = Ahead()
    if desired is not None:
        ahead.loaded(desired)
    for page in pages:
        ahead.read(Wires(page))
        await asyncio.sleep(wait)  # a round trip: on the loop's timers, the page's work comes first
    return ahead.finish()


def test_a_page_is_put_in_canonical_form_while_the_next_one_is_awaited() -> None:
    forms = asyncio.run(fed(DESIRED, [{ADDRESS: LIVE}], 10 * AFTER_PAGE_S))
    assert forms.live_lines == {ADDRESS: live_line(ADDRESS, live_form(ADDRESS, LIVE))}
    [(change, errors)] = forms.changes.values()
    assert change is not None and change.action == "update" and errors == ()


def test_without_the_files_no_change_is_made_ahead() -> None:
    forms = asyncio.run(fed(None, [{ADDRESS: LIVE}], 10 * AFTER_PAGE_S))
    assert ADDRESS in forms.live_lines and forms.changes == {}


def test_a_page_read_before_the_files_is_paired_from_its_text() -> None:
    """Settled from the text when nothing differs; where something does, the change is made from
    the live instance kept packed for it, which a change's body needs."""
    same = Desired({ADDRESS: DesiredInstance(LIVE, "p.yaml:1")})

    async def read_first(desired: Desired) -> Forms:
        ahead = Ahead()
        ahead.read(Wires({ADDRESS: LIVE}))
        await asyncio.sleep(10 * AFTER_PAGE_S)
        ahead.loaded(desired)
        ahead.read(Wires({}))  # the next page: its work pairs what was read before
        await asyncio.sleep(10 * AFTER_PAGE_S)
        return ahead.finish()

    assert asyncio.run(read_first(same)) == Forms(
        live_lines={ADDRESS: live_line(ADDRESS, live_form(ADDRESS, LIVE))}, changes={ADDRESS: (None, ())}
    )
    differs = asyncio.run(read_first(DESIRED))
    change, errors = differs.changes[ADDRESS]
    assert change is not None and change.action == "update" and errors == ()
    assert change.requests[0].body == {"inboundTrust": {"isMfaAccepted": True}}


def test_work_still_scheduled_when_the_reads_end_is_left_to_the_planner() -> None:
    async def finished_at_once() -> tuple[Forms, Forms]:
        ahead = Ahead()
        ahead.loaded(DESIRED)
        ahead.read(Wires({ADDRESS: LIVE}))
        forms = ahead.finish()
        await asyncio.sleep(10 * AFTER_PAGE_S)  # the page's work was cancelled: nothing runs now
        return forms, ahead.finish()

    at_finish, later = asyncio.run(finished_at_once())
    assert at_finish == later == Forms()


def test_a_page_read_while_the_files_load_is_paired_with_those_loaded_by_then() -> None:
    """`load_policies` fills `declared` as each file loads: a page read meanwhile gets the change
    of each instance already declared, made with its live instance at hand (paired from its text,
    a difference would be left to the planner); one declared later waits for the files, and is
    paired from its text."""
    other = Address("partner", "1c4f0a2e-1111-4222-8333-944455556666")
    other_live = {**LIVE, "tenantId": other.id}

    async def read_while_loading() -> Forms:
        ahead = Ahead()
        ahead.declared[ADDRESS] = DESIRED.instances[ADDRESS]
        ahead.read(Wires({ADDRESS: LIVE, other: other_live}))
        await asyncio.sleep(10 * AFTER_PAGE_S)
        ahead.declared[other] = DesiredInstance(other_live, "o.yaml:1")
        ahead.loaded(Desired(ahead.declared))
        ahead.read(Wires({}))  # the next page: its work pairs what was read before
        await asyncio.sleep(10 * AFTER_PAGE_S)
        return ahead.finish()

    done = asyncio.run(read_while_loading())
    assert done.changes[other] == (None, ())
    change, errors = done.changes[ADDRESS]
    assert change is not None and change.action == "update" and errors == ()
