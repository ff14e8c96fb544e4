"""What a resource's settings are in effect: its own value, or the one it inherits.

A partner's null setting means "inherit the default settings"
(https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicyconfigurationpartner), so
the live partner alone does not say what applies to that partner's users. This joins each setting
with the value it inherits, and each nested instance (a Microsoft 365 capability) with the one
its holder inherits where it has none of its own, for `xtap show`. Which type inherits from which
is registry data. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.address import Address
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


@dataclass(frozen=True)
class Held:
    """One nested instance in effect for a holder (a partner's Microsoft 365 capability): its key
    within the holder, its settings, and where it comes from."""

    key: str
    settings: dict[str, Any]
    inherited_from: str | None  # the holder type it comes from; None when the holder's own


def effective_held(
    child: ResourceType,
    holder: str,
    own: Mapping[str, Mapping[str, Any]],
    source: Mapping[str, Mapping[str, Any]],
) -> tuple[Held, ...]:
    """The instances of `child` in effect for an instance of the type `holder`: its own (`own`,
    wire bodies by key), and for each key it holds none of, the one the instance it inherits
    from holds (`source`). Microsoft's overview says a partner policy "takes precedence over
    the default policy" for Microsoft 365 capabilities
    (https://learn.microsoft.com/graph/api/resources/m365-cross-tenant-access-policy-overview);
    that it does so key by key is the plain reading, not written there."""
    parent = REGISTRY_BY_NAME[holder].inherits_from
    found = {key: Held(key, _settings(child, wire), None) for key, wire in own.items()}
    if parent is not None and parent in child.parents:
        for key, wire in source.items():
            found.setdefault(key, Held(key, _settings(child, wire), parent))
    return tuple(found[key] for key in sorted(found))


def _settings(rtype: ResourceType, wire: Mapping[str, Any]) -> dict[str, Any]:
    return {name: canonical_property(rtype, name, wire.get(name)) for name in rtype.settings}


@dataclass(frozen=True)
class InEffect:
    """What `xtap show` reports of one instance (a partner): its settings in effect; its nested
    instances in effect by their key in its file (None where they were not read); what a
    Microsoft service set on it, by navigation (None: it has none; absent: not read); and why
    what was not read was not."""

    address: Address
    settings: tuple[Setting, ...]
    held: Mapping[str, tuple[Held, ...] | None]
    service_managed: Mapping[str, dict[str, Any] | None]
    not_read: Mapping[str, str]
    # Its name ("Contoso Ltd (contoso.com)"), and each target its settings name by its label
    # (`labels.body_labels`), where the lookups found them: empty when names were not looked up.
    name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def bodies(self) -> list[tuple[str, Any]]:
        """Its settings in effect and its nested instances', as `(type name, body)` pairs: what
        the targets shown are found in (`references`)."""
        found: list[tuple[str, Any]] = [(self.address.resource, {s.name: s.value for s in self.settings})]
        children = {
            REGISTRY_BY_NAME[name].nested_key: name for name in REGISTRY_BY_NAME[self.address.resource].children
        }
        for key, held in self.held.items():
            found += [(children[key], dict(each.settings)) for each in held or () if key in children]
        return found
