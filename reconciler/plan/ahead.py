"""The compare's heaviest step, done while a plan waits for Graph.

Reading a large tenant is mostly waiting: the partner list comes a page per round trip, and
the next page cannot be asked for before one arrives. Putting an instance in canonical form,
two thirds of the compare at 10,000 partners, needs that instance alone, so it is done in
those waits: a moment after each page arrives (the reader has asked for the next one by
then), that page's live instances, and the change of each one whose file is loaded by then.
The files load meanwhile, in another thread, into the dict `declared` (`load_policies`), so a
page is paired with the files loaded so far, not only once all are. The planner takes what
is ready (`planner.Forms`) and does the rest, so the plan is the same either way.

What is kept is small: each live instance's canonical text (the live digest needs it), and the
changes. No form is kept once its change is made (at 10,000 partners the two took about 2 KB a
partner); a page read before its files loaded is paired later from its text, a share after
each page, and where that finds a difference the planner makes the change from the desired form
kept for it, since its body needs the live instance itself (`core/live.py` holds it packed).

Work is never run at the reader's first chance to yield: the HTTP stack yields several times
before a request is on the wire, and work run there delays every page (measured: reading
10,000 partners 15% slower).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.plan.model import Change, PlanError, PolicySetting
from reconciler.plan.planner import NO_CHANGE, Forms, desired_form, instance_change, live_form, live_text
from reconciler.plan.settings import stated

# How long after a page arrives its work starts: by then the next request is on its way (it
# takes about a millisecond of CPU), and its reply is a round trip away.
AFTER_PAGE_S = 0.002
# Instances read before the files loaded, paired after each page: about 8 ms of a 30 ms round trip.
DESIRED_PER_PAGE = 400


class Ahead:
    """Work done so far; `finish` stops and hands it to the planner."""

    def __init__(self) -> None:
        self._texts: dict[Address, str] = {}
        self._changes: dict[Address, tuple[Change | None, tuple[PlanError, ...]]] = {}
        self._desired: dict[Address, dict[str, Any]] = {}
        # Filled by the loader's thread as the files load (`load_policies(declared=...)`); only
        # looked up here, one address at a time, which a dict allows while another thread adds.
        self.declared: dict[Address, DesiredInstance] = {}
        self._declared: Mapping[Address, DesiredInstance] = self.declared
        self._waiting: Iterator[Address] = iter(())
        # The pages whose work is still to run: a handle keeps its page's instances, so each is
        # let go of when it runs (kept, they held every page as parsed: 3 KB a partner).
        self._scheduled: dict[int, asyncio.TimerHandle] = {}
        self._pages = itertools.count()
        self._settings: tuple[PolicySetting, ...] | None = None

    def loaded(self, desired: Desired) -> None:
        """The desired instances, all loaded: those read before their file loaded are paired a
        share after each page, those still to come as they are read."""
        self._declared = desired.instances
        paired = self._changes
        self._waiting = iter(
            [address for address in self._texts if address in desired.instances and address not in paired]
        )

    def settled(self, desired: Desired) -> None:
        """The settings the files state (`settings.stated`): they depend on the files alone, so
        the thread that loaded them works them out while the tenant is still read (50 ms of the
        compare at 10,000 files)."""
        self._settings = stated(desired)

    def read(self, found: dict[Address, dict[str, Any]]) -> None:
        """Live instances just read (`read.OnRead`)."""
        page = next(self._pages)
        self._scheduled[page] = asyncio.get_running_loop().call_later(AFTER_PAGE_S, self._page, page, found)

    def finish(self) -> Forms:
        """What is ready; work still scheduled is dropped (the planner does it now)."""
        for handle in self._scheduled.values():
            handle.cancel()
        return Forms(desired=self._desired, live_texts=self._texts, changes=self._changes, settings=self._settings)

    def _page(self, page: int, found: dict[Address, dict[str, Any]]) -> None:
        del self._scheduled[page]
        declared = self._declared
        for address, wire in found.items():
            form = live_form(address, wire)
            self._texts[address] = live_text(form)
            want = declared.get(address)
            if want is not None:
                self._made(address, instance_change(address, want, desired_form(address, want), wire, form))
        for address in itertools.islice(self._waiting, DESIRED_PER_PAGE):
            self._paired(address, declared[address])
        # The page's reply is garbage by now, in cycles (the HTTP stack's) that the paused
        # collector (`commands.run.collector_paused`) would keep until the plan is made: 1 KB a
        # partner. A collection of what is new since the last page frees it, and walks only that.
        # The next page's read is in flight by then, so its cycles live through this collection
        # and move to the next generation: that one is collected too (all it holds is what lived
        # through one page), or each page's reply would stay there, its body and all.
        gc.collect(1)

    def _paired(self, address: Address, want: DesiredInstance) -> None:
        """An instance read before its file loaded, from its text: settled here when its two
        forms agree; else the planner makes its change, which needs the live instance, from
        the desired form kept for it (the few that change)."""
        after = desired_form(address, want)
        before = json.loads(self._texts[address])
        if all(before[name] == value for name, value in after.items()):
            self._changes[address] = NO_CHANGE
        else:
            self._desired[address] = after

    def _made(self, address: Address, change: tuple[Change | None, tuple[PlanError, ...]]) -> None:
        self._changes[address] = NO_CHANGE if change == NO_CHANGE else change
