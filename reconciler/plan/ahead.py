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
partner); a page read before its files loaded is paired later from its text, a share of each
wait, and where that finds a difference the change is made from the live instance, whose packed
string (`core/live.py`, shared with the live state) is kept until then.

What the plan shows of each change is made with it: what it names, for the labels
(`labels.shown_change`), and its text in the plan file (`file.change_text`), once the values a
null inherits are known (the files loaded and the default read). The settings' text is written by
the thread that loads the files. So once the last page is in, only its own instances are left.

Work is never run at the reader's first chance to yield: the HTTP stack yields several times
before a request is on the wire, and work run there delays every page (measured: reading
10,000 partners 15% slower).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Wires, unpacked
from reconciler.plan.file import change_text, settings_text
from reconciler.plan.labels import ShownChange, shown_change
from reconciler.plan.model import Change, PlanError, PolicySetting, Written
from reconciler.plan.planner import (
    INHERITING,
    NO_CHANGE,
    Forms,
    desired_form,
    inherited,
    instance_change,
    line_form,
    live_form,
    live_line,
)
from reconciler.plan.settings import stated

# How long after a page arrives its work starts: by then the next request is on its way (it
# takes about a millisecond of CPU), and its reply is a round trip away.
AFTER_PAGE_S = 0.002
# After a page's own instances, how long the work left over from earlier pages (pairing those read
# before the files loaded, writing the text of changes made before the default was known) may
# take: a quarter of a 30 ms round trip, checked every `_SHARE` items.
CATCH_UP_S = 0.008
_SHARE = 25


class Ahead:
    """Work done so far; `finish` stops and hands it to the planner, `written` and `shown` what
    the plan shows."""

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        self._lines: dict[Address, bytes] = {}
        self._changes: dict[Address, tuple[Change | None, tuple[PlanError, ...]]] = {}
        # Filled by the loader's thread as the files load (`load_policies(declared=...)`); only
        # looked up here, one address at a time, which a dict allows while another thread adds.
        self.declared: dict[Address, DesiredInstance] = {}
        self._declared: Mapping[Address, DesiredInstance] = self.declared
        self._loaded: Desired | None = None
        self._waiting: Iterator[Address] = iter(())
        # Live instances read before the files loaded, packed, for the change of those that differ.
        self._early: dict[Address, bytes] = {}
        # The live instances whose values others inherit (the default), and those of `scope` still to come.
        self._sources: dict[Address, dict[str, Any]] = {}
        self._awaited = {address for _, address in INHERITING if address.resource in scope}
        self._inherited: dict[str, dict[str, Any]] | None = None
        self._shown: dict[Address, tuple[Change, ShownChange]] = {}
        self._written: dict[Address, tuple[Change, str]] = {}
        self._unwritten: list[Change] = []  # made before the values a null inherits were known
        # The pages whose work is still to run: a handle keeps its page's instances, so each is
        # let go of when it runs (kept, they held every page as parsed: 3 KB a partner).
        self._scheduled: dict[int, asyncio.TimerHandle] = {}
        self._pages = itertools.count()
        self._settings: tuple[PolicySetting, ...] | None = None
        self._settings_written: tuple[tuple[PolicySetting, ...], str] | None = None

    def loaded(self, desired: Desired) -> None:
        """The desired instances, all loaded: those read before their file loaded are paired a
        share after each page, those still to come as they are read."""
        self._declared, self._loaded = desired.instances, desired
        paired = self._changes
        self._waiting = iter(
            [address for address in self._lines if address in desired.instances and address not in paired]
        )
        self._early = {address: wire for address, wire in self._early.items() if address in desired.instances}
        self._inherit()

    def settled(self, desired: Desired) -> None:
        """The settings the files state (`settings.stated`) and their text in the plan file: they
        depend on the files alone, so the thread that loaded them works them out while the tenant
        is still read (50 ms of the compare at 10,000 files, and a fifth of writing the file)."""
        self._settings = stated(desired)
        self._settings_written = (self._settings, settings_text(self._settings))

    def read(self, found: Wires) -> None:
        """Live instances just read (`read.OnRead`)."""
        page = next(self._pages)
        self._scheduled[page] = asyncio.get_running_loop().call_later(AFTER_PAGE_S, self._page, page, found)

    def finish(self) -> Forms:
        """What is ready; work still scheduled is dropped (the planner does it now)."""
        for handle in self._scheduled.values():
            handle.cancel()
        return Forms(live_lines=self._lines, changes=self._changes, settings=self._settings)

    def written(self) -> Written | None:
        """The plan file's parts written so far (`Plan.written`), None before the values a null
        inherits were known."""
        if self._inherited is None:
            return None
        return Written(self._inherited, self._written, self._settings_written)

    @property
    def shown(self) -> Mapping[Address, tuple[Change, ShownChange]]:
        """What each change made here shows (`labels.shown`)."""
        return self._shown

    def _page(self, page: int, found: Wires) -> None:
        del self._scheduled[page]
        declared = self._declared
        for address, wire in found.items():
            form = live_form(address, wire)
            self._lines[address] = live_line(address, form)
            if address in self._awaited:
                self._sources[address] = wire
                self._awaited.discard(address)
            want = declared.get(address)
            if want is not None:
                self._made(address, want, wire, instance_change(address, want, desired_form(address, want), wire, form))
            elif self._loaded is None:
                self._early[address] = found.held(address)  # the live state's own string
        self._inherit()
        self._catch_up(time.perf_counter() + CATCH_UP_S)
        # The page's reply is garbage by now, in cycles (the HTTP stack's) that the paused
        # collector (`commands.run.collector_paused`) would keep until the plan is made: 1 KB a
        # partner. A collection of what is new since the last page frees it, and walks only that.
        # The next page's read is in flight by then, so its cycles live through this collection
        # and move to the next generation: that one is collected too (all it holds is what lived
        # through one page), or each page's reply would stay there, its body and all.
        gc.collect(1)

    def _catch_up(self, until: float) -> None:
        """Pairs instances read before their files loaded, then writes the text of changes made
        before the values a null inherits were known, until `until` (`time.perf_counter`)."""
        declared = self._declared
        while time.perf_counter() < until:
            share = list(itertools.islice(self._waiting, _SHARE))
            for address in share:
                self._paired(address, declared[address])
            if not share:
                break
        while self._inherited is not None and self._unwritten and time.perf_counter() < until:
            for change in self._unwritten[-_SHARE:]:
                self._write(change)
            del self._unwritten[-_SHARE:]

    def _inherit(self) -> None:
        """The values a null inherits, once the files are loaded and what they inherit from is read."""
        if self._inherited is None and self._loaded is not None and not self._awaited:
            self._inherited = inherited(self._loaded, self._sources)

    def _paired(self, address: Address, want: DesiredInstance) -> None:
        """An instance read before its file loaded, from its text: settled here when its two
        forms agree; else its change is made from the live instance kept packed (the few that
        change)."""
        after = desired_form(address, want)
        before = line_form(address, self._lines[address])
        early = self._early.pop(address)  # every instance waiting to be paired was kept (`_page`)
        if all(before[name] == value for name, value in after.items()):
            self._changes[address] = NO_CHANGE
        else:
            # Made from the live form itself, not its sorted text, so its diff keeps the form's order.
            wire = unpacked(early)
            self._made(address, want, wire, instance_change(address, want, after, wire, live_form(address, wire)))

    def _made(
        self,
        address: Address,
        want: DesiredInstance,
        wire: dict[str, Any],
        change: tuple[Change | None, tuple[PlanError, ...]],
    ) -> None:
        self._changes[address] = NO_CHANGE if change == NO_CHANGE else change
        made = change[0]
        if made is None:
            return
        self._shown[address] = (made, shown_change(made, want.written, wire))
        if self._inherited is None:
            self._unwritten.append(made)
        else:
            self._write(made)

    def _write(self, change: Change) -> None:
        assert self._inherited is not None
        self._written[change.address] = (change, change_text(change, self._inherited.get(change.resource, {})))
