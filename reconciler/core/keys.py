"""How a resource type's instances are told apart: its key kind, part of its registry entry.

An instance's address id, the key in its URL and in its file, the id of an item in one of
Graph's replies, the instances a parent's block holds, and the instance a directory audit entry
is about all follow from the key kind. The steps ask the kind and never the type, so a new type
whose instances are keyed like an existing one's needs no code in them:

- `Singleton`: one instance with a fixed id (the default, an MTO template); it always exists.
- `TenantKey`: a collection keyed by a tenant's GUID (partners); the id is the GUID, lower case.
- `OnePerParent`: at most one per parent instance, written in a block of its parent (a
  partner's identity sync); the id is its parent's.
- `NameInParent`: a collection under each parent instance, written as a list in its parent,
  each item keyed by a name; the id is `{parent id}/{name}`.

A parent's id never holds a `/` (a GUID or a singleton's name), so an id is split at its first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.wire import ODATA_TYPE, is_guid

# A name key, safe as one URL path segment (no `/`, no `.` or `..`) and in an address id.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
SEPARATOR = "/"


class KeyKind:
    """What every key kind answers. A top-level kind has no parent; a nested one (`nested`) is
    written in a block of its parent's file and read in its parent's pages."""

    nested = False

    @property
    def key_property(self) -> str | None:
        """The key property a file and Graph's bodies write (`tenantId`): part of the address,
        never a setting. None where the id is not written (a singleton, a parent's)."""
        return None

    @property
    def fixed_id(self) -> str | None:
        """A singleton's id."""
        return None

    @property
    def placeholder(self) -> str:
        """What a file writes for its key, as a message shows it ("<GUID>"): an empty file is
        told the least it must hold."""
        return ""

    @property
    def shape(self) -> str:
        """What a nested kind's block in its parent must be, said when Graph's is not."""
        return ""

    def id_of(self, item: Mapping[str, Any], parent_id: str | None) -> str | None:
        """The address id of an item Graph returned or a file wrote (under the parent
        `parent_id`, for a nested kind); None when its key is missing or malformed."""
        raise NotImplementedError

    def refusal(self) -> str:
        """How an item `id_of` turns away is described: "without a GUID tenantId"."""
        return ""

    def key_value(self, resource_id: str) -> str | None:
        """The instance's own key, as its URL (`{key}`) and its file write it."""
        return None

    def created_with(self, resource_id: str, written: Mapping[str, Any]) -> dict[str, Any]:
        """What names the instance in its create body (and leads it, as in Graph's docs): the key
        as the file `written` writes it, if it does."""
        key = self.key_property
        return {key: written[key]} if key is not None and key in written else {}

    def parent_id(self, resource_id: str) -> str | None:
        """The id of the parent instance, for a nested kind."""
        return None

    def owns(self, resource_id: str) -> bool:
        """Whether `resource_id` can be an id of this kind: which of a nested type's parent
        types holds an instance."""
        return False

    def audit_id(self, targets: Any, parent_id: str | None) -> str | None:
        """The instance a directory audit entry is about, from its `targetResources` (and what
        the parent's kind found there, for a nested kind); None when it does not say. Audit
        entries come from Graph and are untrusted: anything malformed is None."""
        return None

    def instances(self, parent_id: str, block: Any) -> dict[str, dict[str, Any]] | None:
        """The instances a parent's block holds, by id; None when the block is not `shape`."""
        return None

    def block(self, bodies: Mapping[str, dict[str, Any]]) -> Any:
        """The block a parent's file writes for these instances (by id): `instances`' inverse."""
        return None

    def located(self, block: Any, resource_id: str) -> Any:
        """Where in a parent's block (as a file holds it) the instance `resource_id` is written."""
        return None


@dataclass(frozen=True)
class Singleton(KeyKind):
    id: str

    @property
    def fixed_id(self) -> str:
        return self.id

    def id_of(self, item: Mapping[str, Any], parent_id: str | None) -> str:
        return self.id

    def owns(self, resource_id: str) -> bool:
        return resource_id == self.id

    def audit_id(self, targets: Any, parent_id: str | None) -> str:
        return self.id


@dataclass(frozen=True)
class TenantKey(KeyKind):
    key: str = "tenantId"

    @property
    def key_property(self) -> str:
        return self.key

    def id_of(self, item: Mapping[str, Any], parent_id: str | None) -> str | None:
        """Graph always sends a GUID, so anything else is not Graph talking and must not reach a
        plan, a URL or a log."""
        value = item.get(self.key)
        return value.lower() if isinstance(value, str) and is_guid(value) else None

    @property
    def placeholder(self) -> str:
        return "<GUID>"

    def refusal(self) -> str:
        return f"without a GUID {self.key}"

    def key_value(self, resource_id: str) -> str:
        return resource_id

    def owns(self, resource_id: str) -> bool:
        return is_guid(resource_id)

    def audit_id(self, targets: Any, parent_id: str | None) -> str | None:
        """The key's modified property (JSON-quoted, as Graph writes `tenantId` on "Add a
        partner"), else a GUID target id."""
        for target in _dicts(targets):
            for raw in _modified(target, self.key):
                if (value := _unquoted(raw)) is not None and is_guid(value):
                    return value.lower()
            if isinstance(target.get("id"), str) and is_guid(target["id"]):
                return str(target["id"]).lower()
        return None


@dataclass(frozen=True)
class OnePerParent(KeyKind):
    nested = True

    @property
    def shape(self) -> str:
        return "an object"

    def id_of(self, item: Mapping[str, Any], parent_id: str | None) -> str | None:
        return parent_id

    def parent_id(self, resource_id: str) -> str:
        return resource_id

    def audit_id(self, targets: Any, parent_id: str | None) -> str | None:
        return parent_id

    def instances(self, parent_id: str, block: Any) -> dict[str, dict[str, Any]] | None:
        return {parent_id: block} if isinstance(block, dict) else None

    def block(self, bodies: Mapping[str, dict[str, Any]]) -> Any:
        return next(iter(bodies.values()), None)

    def located(self, block: Any, resource_id: str) -> Any:
        return block


@dataclass(frozen=True)
class NameInParent(KeyKind):
    key: str = "name"
    # Where the name is its item's Graph type (a Microsoft 365 capability): the namespace its
    # `@odata.type` writes before the name. Files and creates write the type, Graph echoes the name.
    odata_namespace: str | None = None
    nested = True

    @property
    def key_property(self) -> str:
        return self.key

    @property
    def shape(self) -> str:
        return f"a list of objects, each with its own {self.key}"

    def id_of(self, item: Mapping[str, Any], parent_id: str | None) -> str | None:
        name = self._name(item)
        if parent_id is None or not isinstance(name, str) or not NAME.fullmatch(name):
            return None
        return f"{parent_id}{SEPARATOR}{name}"

    def _name(self, item: Mapping[str, Any]) -> Any:
        """The item's name: its `key`, else the name its `@odata.type` writes; both, if written,
        must agree."""
        name = item.get(self.key)
        if self.odata_namespace is None or ODATA_TYPE not in item:
            return name
        named = item[ODATA_TYPE]
        namespace = self.odata_namespace.removeprefix("#")
        typed = named.removeprefix("#") if isinstance(named, str) else ""
        if not typed.startswith(namespace) or name not in (None, typed.removeprefix(namespace)):
            return None
        return typed.removeprefix(namespace)

    def created_with(self, resource_id: str, written: Mapping[str, Any]) -> dict[str, Any]:
        if self.odata_namespace is None:
            return super().created_with(resource_id, written)
        return {ODATA_TYPE: self.odata_namespace + self.key_value(resource_id)}

    def refusal(self) -> str:
        return f"without a {self.key} of letters, digits, - and _"

    def key_value(self, resource_id: str) -> str:
        return resource_id.partition(SEPARATOR)[2]

    def parent_id(self, resource_id: str) -> str:
        return resource_id.partition(SEPARATOR)[0]

    def audit_id(self, targets: Any, parent_id: str | None) -> str | None:
        """The name from the key's modified property, under the parent the entry names."""
        for target in _dicts(targets):
            for raw in _modified(target, self.key):
                if (value := _unquoted(raw)) is not None and (found := self.id_of({self.key: value}, parent_id)):
                    return found
        return None

    def instances(self, parent_id: str, block: Any) -> dict[str, dict[str, Any]] | None:
        if not isinstance(block, list):
            return None
        found: dict[str, dict[str, Any]] = {}
        for item in block:
            resource_id = self.id_of(item, parent_id) if isinstance(item, dict) else None
            if resource_id is None or resource_id in found:
                return None
            found[resource_id] = item
        return found

    def block(self, bodies: Mapping[str, dict[str, Any]]) -> Any:
        return [
            {**self.created_with(resource_id, {self.key: self.key_value(resource_id)}), **bodies[resource_id]}
            for resource_id in sorted(bodies)
        ]

    def located(self, block: Any, resource_id: str) -> Any:
        name = self.key_value(resource_id)
        return next(item for item in block if isinstance(item, dict) and self._name(item) == name)


def _dicts(items: Any) -> Iterator[Mapping[str, Any]]:
    return (item for item in (items if isinstance(items, list) else ()) if isinstance(item, dict))


def _modified(target: Mapping[str, Any], name: str) -> Iterator[Any]:
    """The new, then the old value of an audit target's modified property `name`."""
    for prop in _dicts(target.get("modifiedProperties") or []):
        if prop.get("displayName") == name:
            yield prop.get("newValue")
            yield prop.get("oldValue")


def _unquoted(raw: Any) -> str | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        value = raw
    return value if isinstance(value, str) else None
