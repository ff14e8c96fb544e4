"""The users, groups and applications a resource's body names, each with whose it is.

A policy names objects by GUID (a target's `target`, a capability scope's `resourceId`) or by a
keyword. Which members do so is the models' to say (`GraphModel.reference`), whose objects a
slot names is the registry's (`ResourceType.target_sides`); this walks a body, file's or
Graph's, and finds them, with the path each stands at (for `file:line:col`). Pure.
"""

from __future__ import annotations

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
    found: list[Reference] = []
    if isinstance(body, (dict, list)):
        _walk(rtype, body, (), found)
    return found


def _walk(rtype: ResourceType, value: Any, path: Path, found: list[Reference]) -> None:
    """Into `found`, the references under `value`, a dict or a list. It steps only into members
    that are dicts or lists, and appends rather than yields: apply walks each change's desired
    and live bodies for the plan's names, and a generator per member, scalars included, made
    this walk the most called function of an apply."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                _walk(rtype, item, (*path, index), found)
        return
    for id_member, kind_member in rtype.references:
        ident, kind = value.get(id_member), value.get(kind_member)
        if isinstance(ident, str) and isinstance(kind, str):
            slot = ".".join(step for step in path if isinstance(step, str))
            side = rtype.target_sides.get(slot, EITHER)
            found.append(Reference(ident.lower() if is_guid(ident) else ident, kind, side, slot, path))
            return
    for name, member in value.items():
        if isinstance(member, (dict, list)):
            _walk(rtype, member, (*path, name), found)
