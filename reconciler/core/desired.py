"""The desired state as policies/ declares it, validated, keyed by address, with where each
instance came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.address import Address
from reconciler.core.live import packed, unpacked
from reconciler.core.rules import RuleSetting, ToolKey
from reconciler.core.settings import Settings


class DesiredInstance:
    """One instance a file declares. Its properties are held packed (`core.live.packed`), one compact
    string instead of a dict per object in them: a plan holds every declared instance until the
    compare (as dicts, 2.7 KB a partner at 10,000 partners; packed, about 1 KB), and reads each
    one's properties once or twice. `written` makes a new dict each time, so a caller that changes
    it changes nothing here."""

    __slots__ = ("_body", "holds", "source", "tool")
    _body: bytes
    source: str  # "file:line", for the plan
    tool: ToolKey  # the file's `xtap:` key: marks, labels, waivers
    # The nested types whose block the file writes (even empty), with where the block stands
    # ("file:line"): a type whose absent block leaves it alone (`absent_block_unmanaged`) is
    # managed here only then, and what the block no longer lists is planned from that line.
    holds: Mapping[str, str]

    def __init__(
        self,
        written: dict[str, Any] | bytes,
        source: str,
        tool: ToolKey | None = None,
        holds: Mapping[str, str] | None = None,
    ) -> None:
        """`written`: exactly the properties the file writes, in Graph's wire form, or them packed."""
        setattr_ = object.__setattr__
        setattr_(self, "_body", written if isinstance(written, bytes) else packed(written))
        setattr_(self, "source", source)
        setattr_(self, "tool", _NO_TOOL if tool is None else tool)
        setattr_(self, "holds", holds or _HOLDS_NOTHING)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a DesiredInstance is read-only: {name}")

    @property
    def written(self) -> dict[str, Any]:
        return unpacked(self._body)  # type: ignore[no-any-return]

    @property
    def body(self) -> bytes:
        """`written`, packed: what crosses from a worker process as it is."""
        return self._body

    @property
    def file(self) -> str:
        return self.source.rsplit(":", 1)[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DesiredInstance):
            return NotImplemented
        return self._compared() == other._compared()

    def _compared(self) -> tuple[Any, ...]:
        return self.written, self.source, self.tool, dict(self.holds)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DesiredInstance({self.written!r}, {self.source!r}, {self.tool!r}, {dict(self.holds)!r})"


# Shared by the many instances without them; never changed (a ToolKey is only read).
_NO_TOOL = ToolKey()
_HOLDS_NOTHING: Mapping[str, str] = {}  # read-only by its type: shared, never changed


@dataclass(frozen=True)
class Prune:
    """xtap.yaml's `prune: true` and its guards (the planner applies them). `source` is the
    `file:line` of `prune`, shown as the source of every delete it plans, so a reviewer sees
    why a partner goes; `service_made` holds the service-made partners it may delete; `limit`
    is the largest share of the live partners one plan may delete."""

    source: str
    protected: frozenset[str] = frozenset()
    service_made: frozenset[str] = frozenset()
    limit: float = 1.0


@dataclass(frozen=True)
class Desired:
    instances: Mapping[Address, DesiredInstance] = field(default_factory=dict)
    # The tenant xtap.yaml binds the folder to (lower case), or None: a token for another is refused.
    tenant: str | None = None
    # Live partners no file declares are deleted when set; None (the default) never deletes one.
    prune: Prune | None = None
    # xtap.yaml's `rules:`, for `xtap check`: built-in rules adjusted, and rules of your own.
    rules: Mapping[str, RuleSetting] = field(default_factory=dict)
    # xtap.yaml as written, and where each of its top-level keys stands ("xtap.yaml:3"): the
    # plan states the settings that are not the defaults (`plan.settings`).
    settings: Settings = field(default_factory=Settings)
    setting_sources: Mapping[str, str] = field(default_factory=dict)

    def of(self, resource: str) -> dict[Address, DesiredInstance]:
        return {address: item for address, item in self.instances.items() if address.resource == resource}

    def manages(self, resource: str) -> bool:
        return any(address.resource == resource for address in self.instances)

    def holders(self, resource: str) -> list[Address]:
        """The instances whose files write the block of the nested type `resource`."""
        return sorted(address for address, item in self.instances.items() if resource in item.holds)
