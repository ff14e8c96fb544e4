"""The emulated tenant: partners with their identity sync policies, the tenant default and
the two MTO templates, behind one lock.

Writes arriving over HTTP are validated and normalised (schema.py), merged according to the
configured PATCH semantics, and stored complete, i.e. exactly as Graph would echo them.
State planted directly (`put_partner`, `put_identity_sync`, `set_singleton`) is stored
verbatim so tests can reproduce Graph quirks; rendering still fills unset top-level
properties with explicit nulls.

A partner's identity sync policy is stored inside it, under `identitySynchronization`, as
Graph contains it: it cannot outlive its partner, and a state file keeps the two together.
"""

from __future__ import annotations

import bisect
import copy
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import EmulatorConfig, StartError
from .errors import GraphError, bad_request, not_found
from .lag import ReadLag
from .policy_root import CONSTRAINTS, ROOT
from .schema import (
    DEFAULT,
    IDENTITY_SYNC,
    PARTNER,
    SYNC_TEMPLATE,
    SYSTEM_DEFAULT,
    TEMPLATE,
    EntitySchema,
    check_all_users_only,
    check_block_all,
    coerce_write,
    complete,
)

SYNC = "identitySynchronization"  # the navigation property a partner holds its sync policy in
CAPABILITIES = "m365Capabilities"  # held by a partner and the default, by capability name
# Contained navigations stored in their parent but never rendered with it, not even under $expand.
_HIDDEN = frozenset({CAPABILITIES, CONSTRAINTS})


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars): parsed JSON needs none of
    `copy.deepcopy`'s memo and dispatch, which made it twice as slow."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


def fill(stored: Mapping[str, Any], entity: EntitySchema) -> dict[str, Any]:
    """Every property of `entity` in schema order (null or its default when unset), then any
    extra keys the stored object carries. `stored` comes from a read of the Store, whose values
    no write changes in place (see Store): they go into the result as they are, and only the
    shared defaults are copied. Copying them again was a third of the time to serve a page."""
    members, defaults = entity.type.members, entity.defaults
    result = dict.fromkeys(members)
    for name in members:
        value = stored.get(name)
        if value is not None:
            result[name] = value
        elif name in defaults:
            result[name] = json_copy(defaults[name])
    result.update({k: v for k, v in stored.items() if k not in members})
    return result


def render(
    stored: Mapping[str, Any],
    entity: EntitySchema,
    select: Iterable[str] | None = None,
    expand: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON Graph returns for a stored entity (from a read of the Store, as for `fill`):
    navigation properties only when expanded, only the key and the selected properties under
    `$select`."""
    expand = frozenset(expand)
    result = {
        k: v
        for k, v in fill(stored, entity).items()
        if k not in _HIDDEN and (k not in entity.navigation or k in expand)
    }
    result.update({name: stored.get(name) for name in expand})
    if select is None:
        return result
    keep = {entity.key, *select, *expand}
    return {k: v for k, v in result.items() if k in keep}


def _merge(current: Any, change: Any) -> Any:
    """OData 4.01 PATCH: complex objects merge member by member, everything else is replaced."""
    if not isinstance(current, dict) or not isinstance(change, dict):
        return change
    return {**current, **{k: _merge(current.get(k), v) for k, v in change.items()}}


@dataclass(frozen=True)
class Singleton:
    """A settings object the tenant has exactly one of: no create or delete, a reset action instead."""

    key: str  # its key in the state file
    entity: EntitySchema
    reset_state: Mapping[str, Any]  # a new tenant's, and what the reset action restores
    patched: Mapping[str, Any] = field(default_factory=dict)  # what any successful PATCH also sets


MTO_PARTNER_TEMPLATE = Singleton("template", TEMPLATE, fill({}, TEMPLATE))
MTO_SYNC_TEMPLATE = Singleton("identitySyncTemplate", SYNC_TEMPLATE, fill({}, SYNC_TEMPLATE))
# isServiceDefault says whether the default is the system's: any change makes it the tenant's own.
TENANT_DEFAULT = Singleton("default", DEFAULT, fill(SYSTEM_DEFAULT, DEFAULT), patched={"isServiceDefault": False})
POLICY_ROOT = Singleton("policy", ROOT, fill({}, ROOT))
SINGLETONS = (MTO_PARTNER_TEMPLATE, MTO_SYNC_TEMPLATE, TENANT_DEFAULT, POLICY_ROOT)


def _partner_not_found(tenant_id: str) -> GraphError:
    return not_found(
        f"Resource '{tenant_id}' does not exist or one of its queried reference-property objects are not present."
    )


def _sync_not_found(tenant_id: str) -> GraphError:
    """The code the cross-tenant sync guide reports for a PATCH on a missing policy:
    https://learn.microsoft.com/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-configure-graph
    """
    return GraphError(
        404, "Directory_ObjectNotFound", f"The identity synchronization policy of partner '{tenant_id}' does not exist."
    )


def _load(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The partners and singletons saved in `path`, or a StartError saying why they cannot be:
    the file is the user's to edit, so a broken one is their mistake to fix, not a crash.
    A singleton the file lacks (a file saved before it was emulated) starts in its reset state."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StartError(f"{path}:{exc.lineno}:{exc.colno}: not an emulator state file: {exc.msg}") from None
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise StartError(f"{path}: cannot read the emulator state file: {exc}") from None
    if not (
        isinstance(saved, dict)
        and isinstance(saved.get("partners"), dict)
        and all(isinstance(partner, dict) for partner in saved["partners"].values())
        and all(isinstance(saved.get(s.key, {}), dict) for s in SINGLETONS)
    ):
        keys = ", ".join(f'"{s.key}": {{...}}' for s in SINGLETONS)
        raise StartError(f'{path}: not an emulator state file: expected {{"partners": {{tenantId: {{...}}}}, {keys}}}')
    singletons = {s.key: saved.get(s.key, copy.deepcopy(dict(s.reset_state))) for s in SINGLETONS}
    return saved["partners"], singletons


class Store:
    """All state and every operation on it; each public method is atomic under one lock.

    A write replaces values, it never changes one in place: `_updated` works on a deep copy,
    and a partner's identity sync is set or removed as a whole. So what a read returns needs a
    copy only of the objects a write may still change (a partner's own dict, for its sync),
    and it can be rendered and sent after the lock is released."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._lock = threading.RLock()
        self._partners: dict[str, dict[str, Any]] = {}
        self._sorted: list[str] | None = None  # `_sorted_keys`
        self._singletons = {s.key: copy.deepcopy(dict(s.reset_state)) for s in SINGLETONS}
        self._path = Path(config.state_file) if config.state_file else None
        # What API reads see lags API writes; tests' direct reads and plants see the truth.
        self._partner_lag = ReadLag(config.read_lag_s)
        self._singleton_lag = ReadLag(config.read_lag_s)
        if self._path is not None and self._path.exists():
            partners, self._singletons = _load(self._path)
            self._partners = {tid.lower(): partner for tid, partner in partners.items()}

    # -- reads ------------------------------------------------------------------------------

    def list_partners(self, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` partners with tenantId > `after`, in tenantId order, and the last
        tenantId returned when more remain (the paging cursor). Keyset paging stays correct
        when partners are added or removed between pages."""
        with self._lock:
            partners = self._partner_lag.view(self._partners)
            keys = self._sorted_keys() if partners is self._partners else sorted(partners)
            start = 0 if after is None else bisect.bisect_right(keys, after)
            page = keys[start : start + limit]
            cursor = page[-1] if start + limit < len(keys) else None
            # Shallow copies suffice (see the class docstring), and a deep copy of each partner
            # was half the time to serve a page.
            return [dict(partners[k]) for k in page], cursor

    def _sorted_keys(self) -> list[str]:
        """Every tenantId in order, kept between writes: sorting or scanning every partner for
        each page made a list of 10,000 partners cost 100 times a page's work."""
        if self._sorted is None:
            self._sorted = sorted(self._partners)
        return self._sorted

    def get_partner(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._seen(tenant_id))

    def partners(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._partners)

    def get_identity_sync(self, tenant_id: str) -> dict[str, Any]:
        with self._lock:
            policy = self._seen(tenant_id).get(SYNC)
            if policy is None:
                raise _sync_not_found(tenant_id)
            return copy.deepcopy(policy)

    def identity_sync(self, tenant_id: str) -> dict[str, Any] | None:
        """The stored policy, or None when there is none (or no such partner)."""
        with self._lock:
            return copy.deepcopy(self._partners.get(tenant_id.lower(), {}).get(SYNC))

    def singleton(self, singleton: Singleton) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._singletons[singleton.key])

    def read_singleton(self, singleton: Singleton) -> dict[str, Any]:
        """The singleton as a GET sees it, lagging writes."""
        with self._lock:
            return copy.deepcopy(self._singleton_lag.view(self._singletons)[singleton.key])

    # -- writes through the API -------------------------------------------------------------

    def create_partner(self, body: Any) -> dict[str, Any]:
        changes = coerce_write(body, PARTNER, creating=True, strict=self._config.strict_create)
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
            self._partner_written(partner["tenantId"])
            self._partners[partner["tenantId"]] = partner
            return copy.deepcopy(partner)

    def update_partner(self, tenant_id: str, body: Any) -> None:
        with self._writing():
            current = self._find(tenant_id)  # 404 before 400: the resource is resolved first
            changes = coerce_write(body, PARTNER, creating=False)
            updated = self._updated(current, changes, PARTNER)
            self._partner_written(tenant_id)
            self._partners[tenant_id.lower()] = updated

    def delete_partner(self, tenant_id: str) -> None:
        with self._writing():
            if self._find(tenant_id).get(SYNC) is not None:
                raise bad_request(
                    "This partner configuration has an identity synchronization policy. "
                    "Delete the identity synchronization policy first, then the partner configuration."
                )
            self._partner_written(tenant_id)
            del self._partners[tenant_id.lower()]

    def put_identity_sync_policy(self, tenant_id: str, body: Any) -> None:
        """PUT creates the policy; on an existing one it is a 409, or a replacement when configured."""
        with self._writing():
            partner = self._find(tenant_id)
            changes = self._sync_changes(tenant_id, body)
            if partner.get(SYNC) is not None and not self._config.sync_put_replaces:
                raise GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "An identity synchronization policy already exists for this partner; update it instead.",
                )
            policy = self._updated({"tenantId": tenant_id.lower()}, changes, IDENTITY_SYNC)
            self._partner_written(tenant_id)
            partner[SYNC] = policy

    def patch_identity_sync_policy(self, tenant_id: str, body: Any) -> None:
        with self._writing():
            current = self._find_sync(tenant_id)
            changes = self._sync_changes(tenant_id, body)
            policy = self._updated(current, changes, IDENTITY_SYNC)
            self._partner_written(tenant_id)
            self._partners[tenant_id.lower()][SYNC] = policy

    def delete_identity_sync_policy(self, tenant_id: str) -> None:
        with self._writing():
            self._find_sync(tenant_id)
            self._partner_written(tenant_id)
            del self._partners[tenant_id.lower()][SYNC]

    def update_singleton(self, singleton: Singleton, body: Any) -> None:
        changes = coerce_write(body, singleton.entity, creating=False)
        with self._writing():
            updated = self._updated(self._singletons[singleton.key], changes, singleton.entity)
            self._singleton_lag.wrote(singleton.key, self._singletons[singleton.key])
            self._singletons[singleton.key] = {**updated, **copy.deepcopy(dict(singleton.patched))}

    def reset_singleton(self, singleton: Singleton) -> None:
        with self._lock:
            self._singleton_lag.wrote(singleton.key, self._singletons[singleton.key])
            self.set_singleton(singleton, None)

    def portal_edit(self, pick: Callable[[Sequence[str]], str]) -> tuple[str, dict[str, Any]] | None:
        """Flip `inboundTrust.isMfaAccepted` of the partner `pick` chooses, as an admin in the
        portal would, through the same validation and lag as an API write. Returns the partner
        and the body of the edit, for its audit entry; None when there is no partner to edit."""
        with self._lock:
            if not self._partners:
                return None
            tenant_id = pick(sorted(self._partners))
            trust = dict(self._partners[tenant_id].get("inboundTrust") or {})
            trust["isMfaAccepted"] = not trust.get("isMfaAccepted")
            body = {"inboundTrust": trust}
            self.update_partner(tenant_id, body)
            return tenant_id, body

    # -- direct seeding (tests, demos): no validation, no normalisation ----------------------

    def put_partner(self, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw.get("tenantId"), str):
            raise ValueError("a partner needs a string 'tenantId'")
        with self._writing():
            self._partners[raw["tenantId"].lower()] = copy.deepcopy(dict(raw))

    def put_identity_sync(self, tenant_id: str, raw: Mapping[str, Any] | None) -> None:
        """Store `raw` verbatim as the partner's policy, or remove the policy when None."""
        with self._writing():
            partner = self._partners.get(tenant_id.lower())
            if partner is None:
                raise ValueError(f"no partner {tenant_id!r} to hold an identity sync policy")
            if raw is None:
                partner.pop(SYNC, None)
            else:
                partner[SYNC] = copy.deepcopy(dict(raw))

    def set_singleton(self, singleton: Singleton, raw: Mapping[str, Any] | None) -> None:
        """Store `raw` verbatim, or the reset state when None."""
        with self._writing():
            self._singletons[singleton.key] = copy.deepcopy(dict(singleton.reset_state if raw is None else raw))

    # -- contained objects served by modules of their own (capabilities.py, policy_root.py) --

    def parent(self, tenant_id: str | None) -> dict[str, Any]:
        """A copy of the partner `tenant_id` (404 when none), or of the tenant default for None."""
        with self._lock:
            if tenant_id is None:
                return copy.deepcopy(self._singletons[TENANT_DEFAULT.key])
            return copy.deepcopy(self._find(tenant_id))

    def edit_parent(self, tenant_id: str | None, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Store what `edit` makes of a copy of the partner (404 when none) or the tenant default,
        as one write: a GraphError from `edit` leaves the state as it was."""
        with self._writing():
            if tenant_id is None:
                self._singletons[TENANT_DEFAULT.key] = edit(copy.deepcopy(self._singletons[TENANT_DEFAULT.key]))
            else:
                self._partners[tenant_id.lower()] = edit(copy.deepcopy(self._find(tenant_id)))

    # -- internals ---------------------------------------------------------------------------

    def _find(self, tenant_id: str) -> dict[str, Any]:
        partner = self._partners.get(tenant_id.lower())
        if partner is None:
            raise _partner_not_found(tenant_id)
        return partner

    def _seen(self, tenant_id: str) -> dict[str, Any]:
        """The partner as a read sees it (lagging writes), or its 404."""
        partner = self._partner_lag.seen(tenant_id.lower(), self._partners)
        if partner is None:
            raise _partner_not_found(tenant_id)
        return partner

    def _partner_written(self, tenant_id: str) -> None:
        """Note a write to the partner (or its identity sync), before it lands, for read lag."""
        self._partner_lag.wrote(tenant_id.lower(), self._partners.get(tenant_id.lower()))

    def _find_sync(self, tenant_id: str) -> dict[str, Any]:
        """The partner's policy; a missing partner is the partner's 404, a missing policy its own."""
        policy = self._find(tenant_id).get(SYNC)
        if policy is None:
            raise _sync_not_found(tenant_id)
        return policy

    @staticmethod
    def _sync_changes(tenant_id: str, body: Any) -> dict[str, Any]:
        """A validated sync policy body; a tenantId in it must name the partner in the URL."""
        changes = coerce_write(body, IDENTITY_SYNC, creating=False)
        if changes.get("tenantId", tenant_id.lower()) != tenant_id.lower():
            raise bad_request(f"Property 'tenantId' must be '{tenant_id.lower()}', the partner in the request URL.")
        return changes

    def _updated(self, current: dict[str, Any], changes: dict[str, Any], entity: EntitySchema) -> dict[str, Any]:
        """`current` with the validated `changes` applied under the configured PATCH semantics.
        Only the settings a request touches are held to the admin-center rules, so a planted
        violation elsewhere does not make unrelated writes fail. A shallow copy of `current`
        suffices, as no write changes a stored value in place (see Store): a deep copy of the
        partner was a third of the emulator's work on a write."""
        result = dict(current)
        for name, value in changes.items():
            if self._config.patch_mode == "odata_merge":
                value = _merge(result.get(name), value)
            result[name] = complete(value, entity.type.members[name])
            if self._config.enforce_block_all_rule and name in entity.block_all_rule:
                check_block_all(result[name], name)
            if self._config.enforce_default_all_users_rule and name in entity.all_users_only:
                check_all_users_only(result[name], name)
        return fill(result, entity)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write, under the lock, then saved. If saving fails the write is undone, so the
        500 the client gets is true: nothing changed, in memory or on disk."""
        with self._lock:
            self._sorted = None  # the write may add or remove a partner
            before = (copy.deepcopy(self._partners), copy.deepcopy(self._singletons)) if self._path else None
            yield
            try:
                self._save()
            except Exception:
                if before is not None:
                    self._partners, self._singletons = before
                raise

    def _save(self) -> None:
        """Write the whole state atomically: a temp file in the same directory, then os.replace."""
        if self._path is None:
            return
        state = {"partners": self._partners, **self._singletons}
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=2, sort_keys=True)
            os.replace(tmp, self._path)
        except BaseException:
            os.unlink(tmp)
            raise
