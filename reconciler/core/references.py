"""The users, groups and applications a resource's body names, each with whose it is.

A policy names objects by GUID (a target's `target`, a capability scope's `resourceId`) or by a
keyword. Which members do so is the models' to say (`GraphModel.reference`), whose objects a
slot names is the registry's (`ResourceType.target_sides`); this walks a body, file's or
Graph's, and finds them, with the path each stands at (for `file:line:col`). Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.core.names import EITHER
from reconciler.core.registry import ResourceType
from reconciler.core.wire import is_guid

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Reference:
    value: str  # a GUID in lower case, or a keyword as written
    kind: str  # user, group or application (Graph's targetType / resourceType)
    side: str  # whose: names.TENANT, PARTNER_SIDE or EITHER
    slot: str  # the list it stands in: "b2bCollaborationOutbound.usersAndGroups.targets"
    path: Path  # where, members and indexes: ("b2bCollaborationOutbound", "usersAndGroups", "targets", 0)

    @property
    def is_object(self) -> bool:
        """It names one object by its id, not everyone by a keyword."""
        return is_guid(self.value)


def references(rtype: ResourceType, body: Any) -> list[Reference]:
    """Every user, group or application `body` (a `rtype` instance, as a file or Graph writes it)
    names. The walk is bounded by the body: files and replies are depth-capped before here."""
    return list(_walk(rtype, body, ()))


def _walk(rtype: ResourceType, value: Any, path: Path) -> Iterator[Reference]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(rtype, item, (*path, index))
        return
    if not isinstance(value, dict):
        return
    for id_member, kind_member in rtype.references:
        found, kind = value.get(id_member), value.get(kind_member)
        if isinstance(found, str) and isinstance(kind, str):
            slot = ".".join(step for step in path if isinstance(step, str))
            side = rtype.target_sides.get(slot, EITHER)
            yield Reference(found.lower() if is_guid(found) else found, kind, side, slot, path)
            return
    for name, member in value.items():
        yield from _walk(rtype, member, (*path, name))
