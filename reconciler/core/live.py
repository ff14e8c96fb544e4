"""The live tenant as Graph returned it: raw wire JSON, keyed by address.

Each instance is held as one compact `marshal` string (`Wires`), not as the nested dicts Graph's
JSON parses into, and made a dict again each time it is looked up: at 10,000 partners the dicts took
2.9 KB a partner and the strings about a quarter of that, and a plan looks up only the few it
changes once the compare has found them (the compare works from their canonical text,
`plan/ahead.py`). `marshal` rather than JSON: it is several times faster both ways, and these
strings never leave the process.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.address import Address


def packed(value: Any) -> bytes:
    """`value` (JSON's types only) as a compact string, which `unpacked` makes a new copy of."""
    return marshal.dumps(value)


def unpacked(data: bytes) -> Any:
    return marshal.loads(data)


class Wires(MutableMapping[Address, dict[str, Any]]):
    """Instances by address, each held packed: what is stored is a copy, and so is what is read,
    so changing a dict read from here changes nothing here."""

    __slots__ = ("_packed",)

    def __init__(self, instances: Mapping[Address, dict[str, Any]] | None = None) -> None:
        self._packed: dict[Address, bytes] = {}
        if instances:
            self.update(instances)

    def update(self, other: Any = (), /) -> None:  # type: ignore[override]
        """Another `Wires`' instances are taken packed as they are."""
        if isinstance(other, Wires):
            self._packed.update(other._packed)
        else:
            for address, wire in other.items():
                self[address] = wire

    def __getitem__(self, address: Address) -> dict[str, Any]:
        return unpacked(self._packed[address])  # type: ignore[no-any-return]

    def held(self, address: Address) -> bytes:
        """The instance as held, packed (`unpacked` makes a dict of it): the string itself, so
        another holder of the same instance costs no copy."""
        return self._packed[address]

    def __setitem__(self, address: Address, wire: dict[str, Any]) -> None:
        self._packed[address] = packed(wire)

    def __delitem__(self, address: Address) -> None:
        del self._packed[address]

    def __contains__(self, address: object) -> bool:
        return address in self._packed

    def __iter__(self) -> Iterator[Address]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"Wires({dict(self)!r})"

    def joined(self, other: Mapping[Address, dict[str, Any]]) -> Wires:
        """These and `other`'s, `other`'s winning, without unpacking these."""
        joined = Wires(self)
        joined.update(other)
        return joined

    def only(self, resource: str) -> Wires:
        """The instances of one type, still packed."""
        kept = Wires()
        kept._packed = {address: data for address, data in self._packed.items() if address.resource == resource}
        return kept


@dataclass(frozen=True)
class Live:
    instances: Mapping[Address, dict[str, Any]] = field(default_factory=Wires)
    # The resource types that were read: a type not read (an unmanaged template) is unknown,
    # not absent.
    read: tuple[str, ...] = ()
    # Types not read because the token may not read them, with Graph's reason: a plan, an export
    # or a drift report leaves them out and says so once.
    skipped: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.instances, Wires):
            object.__setattr__(self, "instances", Wires(self.instances))

    @property
    def wires(self) -> Wires:
        """`instances`, as the packed mapping it always is."""
        assert isinstance(self.instances, Wires)
        return self.instances

    def of(self, resource: str) -> Wires:
        return self.wires.only(resource)
