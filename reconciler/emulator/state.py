"""The emulated tenant: partners and the MTO partner template, behind one lock.

Writes arriving over HTTP are validated and normalised (schema.py), merged according to the
configured PATCH semantics, and stored complete, i.e. exactly as Graph would echo them.
State planted directly (`put_partner`, `set_template`) is stored verbatim so tests can
reproduce Graph quirks; rendering still fills unset top-level properties with explicit nulls.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import EmulatorConfig, StartError
from .errors import GraphError, bad_request, not_found
from .schema import PARTNER, TEMPLATE, EntitySchema, check_block_all, coerce_write, complete


def fill(stored: Mapping[str, Any], entity: EntitySchema) -> dict[str, Any]:
    """Every property of `entity` in schema order (null or its default when unset), then any
    extra keys the stored object carries."""
    result = {
        name: copy.deepcopy(stored[name] if stored.get(name) is not None else entity.defaults.get(name))
        for name in entity.type.members
    }
    result.update(copy.deepcopy({k: v for k, v in stored.items() if k not in entity.type.members}))
    return result


def render(
    stored: Mapping[str, Any],
    entity: EntitySchema,
    select: Iterable[str] | None = None,
    expand: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON Graph returns for a stored entity: navigation properties only when expanded,
    only the key and the selected properties under `$select`."""
    expand = frozenset(expand)
    result = {k: v for k, v in fill(stored, entity).items() if k not in entity.navigation or k in expand}
    result.update({name: copy.deepcopy(stored.get(name)) for name in expand})
    if select is None:
        return result
    keep = {entity.key, *select, *expand}
    return {k: v for k, v in result.items() if k in keep}


def _merge(current: Any, change: Any) -> Any:
    """OData 4.01 PATCH: complex objects merge member by member, everything else is replaced."""
    if not isinstance(current, dict) or not isinstance(change, dict):
        return change
    return {**current, **{k: _merge(current.get(k), v) for k, v in change.items()}}


def _partner_not_found(tenant_id: str) -> GraphError:
    return not_found(
        f"Resource '{tenant_id}' does not exist or one of its queried reference-property objects are not present."
    )


def _load(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The partners and template saved in `path`, or a StartError saying why they cannot be:
    the file is the user's to edit, so a broken one is their mistake to fix, not a crash."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StartError(f"{path}:{exc.lineno}:{exc.colno}: not an emulator state file: {exc.msg}") from None
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise StartError(f"{path}: cannot read the emulator state file: {exc}") from None
    if not (
        isinstance(saved, dict)
        and isinstance(saved.get("partners"), dict)
        and isinstance(saved.get("template"), dict)
        and all(isinstance(partner, dict) for partner in saved["partners"].values())
    ):
        raise StartError(
            f'{path}: not an emulator state file: expected {{"partners": {{tenantId: {{...}}}}, "template": {{...}}}}'
        )
    return saved["partners"], saved["template"]


class Store:
    """All state and every operation on it; each public method is atomic under one lock."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._lock = threading.RLock()
        self._partners: dict[str, dict[str, Any]] = {}
        self._template: dict[str, Any] = fill({}, TEMPLATE)
        self._path = Path(config.state_file) if config.state_file else None
        if self._path is not None and self._path.exists():
            partners, self._template = _load(self._path)
            self._partners = {tid.lower(): partner for tid, partner in partners.items()}

    # -- reads ------------------------------------------------------------------------------

    def list_partners(self, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` partners with tenantId > `after`, in tenantId order, and the last
        tenantId returned when more remain (the paging cursor). Keyset paging stays correct
        when partners are added or removed between pages."""
        with self._lock:
            keys = sorted(k for k in self._partners if after is None or k > after)
            page = keys[:limit]
            cursor = page[-1] if len(keys) > limit else None
            return [copy.deepcopy(self._partners[k]) for k in page], cursor

    def get_partner(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._find(tenant_id))

    def partners(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._partners)

    def template(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._template)

    # -- writes through the API -------------------------------------------------------------

    def create_partner(self, body: Any) -> dict[str, Any]:
        changes = coerce_write(body, PARTNER, creating=True)
        if changes.get("tenantId") is None:
            raise bad_request("Property 'tenantId' is required.")
        with self._writing():
            if changes["tenantId"] in self._partners:
                raise GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Another object with the same value for property tenantId already exists.",
                )
            partner = self._updated({}, changes, PARTNER)
            self._partners[partner["tenantId"]] = partner
            return copy.deepcopy(partner)

    def update_partner(self, tenant_id: str, body: Any) -> None:
        with self._writing():
            current = self._find(tenant_id)  # 404 before 400: the resource is resolved first
            changes = coerce_write(body, PARTNER, creating=False)
            self._partners[tenant_id.lower()] = self._updated(current, changes, PARTNER)

    def delete_partner(self, tenant_id: str) -> None:
        with self._writing():
            if self._find(tenant_id).get("identitySynchronization") is not None:
                raise bad_request(
                    "This partner configuration has an identity synchronization policy. "
                    "Delete the identity synchronization policy first, then the partner configuration."
                )
            del self._partners[tenant_id.lower()]

    def update_template(self, body: Any) -> None:
        changes = coerce_write(body, TEMPLATE, creating=False)
        with self._writing():
            self._template = self._updated(self._template, changes, TEMPLATE)

    def reset_template(self) -> None:
        self.set_template(None)

    # -- direct seeding (tests, demos): no validation, no normalisation ----------------------

    def put_partner(self, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw.get("tenantId"), str):
            raise ValueError("a partner needs a string 'tenantId'")
        with self._writing():
            self._partners[raw["tenantId"].lower()] = copy.deepcopy(dict(raw))

    def set_template(self, raw: Mapping[str, Any] | None) -> None:
        """Store `raw` verbatim, or the unconfigured (reset) template when None."""
        with self._writing():
            self._template = fill({}, TEMPLATE) if raw is None else copy.deepcopy(dict(raw))

    # -- internals ---------------------------------------------------------------------------

    def _find(self, tenant_id: str) -> dict[str, Any]:
        partner = self._partners.get(tenant_id.lower())
        if partner is None:
            raise _partner_not_found(tenant_id)
        return partner

    def _updated(self, current: dict[str, Any], changes: dict[str, Any], entity: EntitySchema) -> dict[str, Any]:
        """`current` with the validated `changes` applied under the configured PATCH semantics.
        Only the settings a request touches are held to the block-all rule, so a planted
        violation elsewhere does not make unrelated writes fail."""
        result = copy.deepcopy(current)
        for name, value in changes.items():
            if self._config.patch_mode == "odata_merge":
                value = _merge(result.get(name), value)
            result[name] = complete(value, entity.type.members[name])
            if self._config.enforce_block_all_rule and name in entity.block_all_rule:
                check_block_all(result[name], name)
        return fill(result, entity)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write, under the lock, then saved. If saving fails the write is undone, so the
        500 the client gets is true: nothing changed, in memory or on disk."""
        with self._lock:
            before = (copy.deepcopy(self._partners), copy.deepcopy(self._template)) if self._path else None
            yield
            try:
                self._save()
            except Exception:
                if before is not None:
                    self._partners, self._template = before
                raise

    def _save(self) -> None:
        """Write the whole state atomically: a temp file in the same directory, then os.replace."""
        if self._path is None:
            return
        state = {"partners": self._partners, "template": self._template}
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=2, sort_keys=True)
            os.replace(tmp, self._path)
        except BaseException:
            os.unlink(tmp)
            raise
