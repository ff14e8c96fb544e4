"""What a resource's settings are in effect: its own value, or the one it inherits.

A partner's null setting means "inherit the default settings"
(https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicyconfigurationpartner), so
the live partner alone does not say what applies to that partner's users. This joins each setting
with the value it inherits, for `xtap show`. Which type inherits from which is registry data. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.core.canonical import canonical_property
from reconciler.core.registry import REGISTRY_BY_NAME, ResourceType


@dataclass(frozen=True)
class Setting:
    name: str
    value: Any
    inherited_from: str | None  # the resource type it comes from; None when the resource's own


def effective(rtype: ResourceType, own: dict[str, Any], source: dict[str, Any] | None) -> tuple[Setting, ...]:
    """Each setting of `own` (a live instance of `rtype`), or where it is null, the value of
    `source` (the live instance it inherits from) for the same setting."""
    parent = REGISTRY_BY_NAME[rtype.inherits_from] if rtype.inherits_from else None
    settings = []
    for name in rtype.settings:
        value = canonical_property(rtype, name, own.get(name))
        if value is None and parent is not None and source is not None and name in parent.model.model_fields:
            settings.append(Setting(name, canonical_property(parent, name, source.get(name)), parent.name))
        else:
            settings.append(Setting(name, value, None))
    return tuple(settings)
