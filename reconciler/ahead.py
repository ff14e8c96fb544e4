"""The compare's heaviest step, done while a plan waits for Graph.

Reading a large tenant is mostly waiting: the partner list comes a page per round trip, and
the next page cannot be asked for before one arrives. Putting an instance in canonical form,
two thirds of the compare at 10,000 partners, needs that instance alone, so it is done in
those waits: each page's live instances once the next page has been asked for, and the
desired ones, once the files have loaded, a slice at a time between pages. The planner takes
what is ready (`planner.Forms`) and computes the rest, so the plan is the same either way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from reconciler.address import Address
from reconciler.desired import Desired
from reconciler.planner import Forms, desired_form, live_form

# Desired instances put in canonical form between two looks at the network: about a
# millisecond, so an arriving page waits no longer than that.
SLICE = 50


class Ahead:
    """Canonical forms computed so far; `forms` is what the planner takes."""

    def __init__(self) -> None:
        self._live: dict[Address, dict[str, Any]] = {}
        self._desired: dict[Address, dict[str, Any]] = {}

    @property
    def forms(self) -> Forms:
        return Forms(self._live, self._desired)

    def read(self, found: dict[Address, dict[str, Any]]) -> None:
        """Live instances just read (`read.OnRead`): put in canonical form as soon as the reader
        waits for its next page (a callback runs when the running task next waits)."""
        asyncio.get_running_loop().call_soon(self._read_now, found)

    def _read_now(self, found: dict[Address, dict[str, Any]]) -> None:
        self._live.update({address: live_form(address, wire) for address, wire in found.items()})

    async def desired(self, desired: Desired) -> None:
        """The desired instances, a slice at a time, letting arriving pages in between."""
        instances = list(desired.instances.items())
        for start in range(0, len(instances), SLICE):
            forms = {address: desired_form(address, want) for address, want in instances[start : start + SLICE]}
            self._desired.update(forms)
            await asyncio.sleep(0)
