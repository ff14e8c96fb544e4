"""The live tenant as Graph returned it: raw wire JSON, keyed by address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.address import Address


@dataclass(frozen=True)
class Live:
    instances: Mapping[Address, dict[str, Any]] = field(default_factory=dict)
    # The resource types that were read: a type not read (an unmanaged template) is unknown,
    # not absent.
    read: tuple[str, ...] = ()
    # Types not read because the token may not read them, with Graph's reason: a plan, an export
    # or a drift report leaves them out and says so once.
    skipped: Mapping[str, str] = field(default_factory=dict)

    def of(self, resource: str) -> dict[Address, dict[str, Any]]:
        return {address: item for address, item in self.instances.items() if address.resource == resource}
