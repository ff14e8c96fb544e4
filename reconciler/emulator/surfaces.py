"""The routes of the newer surfaces: the policy root, Microsoft 365 capabilities and a partner's
service-provider constraints. Kept apart from app.py, which adds them to its own routes and
checks their permissions in the same order as every other path."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from . import capabilities as caps
from .audit import ACCESS, Activity, AuditLog
from .auth import CAPABILITY_READ, CAPABILITY_WRITE
from .config import EmulatorConfig
from .errors import GraphError
from .policy_root import CONSTRAINTS, ROOT, check_root_patch, constraints_not_found, constraints_refused
from .state import CAPABILITIES, POLICY_ROOT, Store, render

POLICY: tuple[str, ...] = ("policies", "crossTenantAccessPolicy")
KEY = "{key}"
# The emulator's own activity names: Graph documents none for these writes.
UPDATE_POLICY = Activity("Update the cross-tenant access policy", ACCESS)
ADD_CAPABILITY = Activity("Add a Microsoft 365 cross-tenant capability", ACCESS)
UPDATE_CAPABILITY = Activity("Update a Microsoft 365 cross-tenant capability", ACCESS)
DELETE_CAPABILITY = Activity("Delete a Microsoft 365 cross-tenant capability", ACCESS)

Handler = Callable[[Any], Any]
Route = tuple[tuple[str, ...], dict[str, Handler]]


class Surfaces:
    """Handlers over the same Store; `response` builds app.py's Response (status, body, headers)."""

    def __init__(
        self, store: Store, config: EmulatorConfig, audit_log: AuditLog, context: Callable[..., str], response: Any
    ) -> None:
        self._store = store
        self._config = config
        self._audit = audit_log
        self._context = context
        self._response = response
        self.capability_handlers: list[dict[str, Handler]] = []

    def routes(self) -> list[Route]:
        root: dict[str, Handler] = {"GET": self._get_root, "PATCH": self._patch_root}
        routes: list[Route] = [(POLICY, root)]
        if self._config.cloud == "global":  # global-only surfaces: an unknown segment elsewhere
            for parent, where in (((*POLICY, "default"), None), ((*POLICY, "partners", KEY), 0)):
                collection: dict[str, Handler] = {
                    "GET": partial(self._list, where),
                    "POST": partial(self._create, where),
                }
                item: dict[str, Handler] = {"PATCH": partial(self._update, where)}
                if self._config.capability_get_one:
                    item["GET"] = partial(self._get_one, where)
                if where is not None or self._config.default_capability_delete:
                    item["DELETE"] = partial(self._delete, where)
                self.capability_handlers += [collection, item]
                routes += [((*parent, CAPABILITIES), collection), ((*parent, CAPABILITIES, KEY), item)]
            constraints: dict[str, Handler] = {"GET": self._get_constraints, "PATCH": self._write_constraints}
            constraints["DELETE"] = self._write_constraints
            routes.append(((*POLICY, "partners", KEY, CONSTRAINTS), constraints))
        return routes

    def permissions(self, handlers: dict[str, Handler], write: bool) -> frozenset[str] | None:
        """The permissions a route takes instead of the policy ones (None: the policy ones)."""
        if not any(handlers is h for h in self.capability_handlers):
            return None
        return CAPABILITY_WRITE if write else CAPABILITY_READ

    # -- the policy root ---------------------------------------------------------------------

    def _get_root(self, request: Any) -> Any:
        body = render(self._store.read_singleton(POLICY_ROOT), ROOT)
        entity = {"@odata.type": "#microsoft.graph.crossTenantAccessPolicy", **body}
        return self._response(200, {"@odata.context": self._context(POLICY, None, entity=True), **entity})

    def _patch_root(self, request: Any) -> Any:
        check_root_patch(request.body, self._config.strict_cloud_endpoints)
        self._store.update_singleton(POLICY_ROOT, request.body)
        self._audit.record(UPDATE_POLICY, request.caller.initiated_by, POLICY_ROOT.key, request.body)
        return self._response(204)

    # -- capabilities ------------------------------------------------------------------------

    def _tenant(self, where: int | None, request: Any) -> str | None:
        return None if where is None else request.params[where]

    def _held(self, where: int | None, request: Any) -> dict[str, Any]:
        return dict(self._store.parent(self._tenant(where, request)).get(CAPABILITIES) or {})

    def _path(self, where: int | None, request: Any) -> tuple[str, ...]:
        if where is None:
            return (*POLICY, "default", CAPABILITIES)
        return (*POLICY, f"partners('{request.params[0].lower()}')", CAPABILITIES)

    def _list(self, where: int | None, request: Any) -> Any:
        held = self._held(where, request)
        context = self._context(self._path(where, request), None, entity=False)
        return self._response(200, {"@odata.context": context, "value": list(held.values())})

    def _get_one(self, where: int | None, request: Any) -> Any:
        name = request.params[-1]
        held = self._held(where, request)
        if name not in held:
            raise caps.missing(name)
        context = self._context(self._path(where, request), None, entity=True)
        return self._response(200, {"@odata.context": context, **held[name]})

    def _write(self, where: int | None, request: Any, activity: Activity, edit: caps.Edit) -> None:
        tenant = self._tenant(where, request)
        self._store.edit_parent(tenant, edit)
        body = request.body if isinstance(request.body, dict) else {}
        self._audit.record(activity, request.caller.initiated_by, (tenant or "default").lower(), body)

    def _create(self, where: int | None, request: Any) -> Any:
        made: dict[str, Any] = {}

        def edit(parent: dict[str, Any]) -> dict[str, Any]:
            made.update(caps.created(request.body, where is None, self._config))
            held = dict(parent.get(CAPABILITIES) or {})
            if made["name"] in held and not self._config.capability_upsert:
                raise caps.duplicate(made["name"])
            held[made["name"]] = made
            return {**parent, CAPABILITIES: held}

        self._write(where, request, ADD_CAPABILITY, edit)
        context = self._context(self._path(where, request), None, entity=True)
        return self._response(201, {"@odata.context": context, **made})

    def _update(self, where: int | None, request: Any) -> Any:
        name = request.params[-1]

        def edit(parent: dict[str, Any]) -> dict[str, Any]:
            held = dict(parent.get(CAPABILITIES) or {})
            if name not in held:
                raise caps.missing(name)
            held[name] = caps.updated(request.body, held[name], self._config)
            return {**parent, CAPABILITIES: held}

        self._write(where, request, UPDATE_CAPABILITY, edit)
        return self._response(204)

    def _delete(self, where: int | None, request: Any) -> Any:
        name = request.params[-1]

        def edit(parent: dict[str, Any]) -> dict[str, Any]:
            held = dict(parent.get(CAPABILITIES) or {})
            if held.pop(name, None) is None:
                raise caps.missing(name)
            return {**parent, CAPABILITIES: held}

        self._write(where, request, DELETE_CAPABILITY, edit)
        return self._response(204)

    # -- a partner's service-provider constraints (read-only) --------------------------------

    def _get_constraints(self, request: Any) -> Any:
        tenant = request.params[0]
        held = self._store.parent(tenant).get(CONSTRAINTS)
        if held is None:
            raise constraints_not_found(tenant)
        path = (*POLICY, f"partners('{tenant.lower()}')", CONSTRAINTS)
        return self._response(200, {"@odata.context": self._context(path, None, entity=True), **held})

    def _write_constraints(self, request: Any) -> Any:
        tenant = request.params[0]
        if not self._config.constraints_writable:
            self._store.parent(tenant)  # 404 for a partner that does not exist
            raise constraints_refused()

        def edit(parent: dict[str, Any]) -> dict[str, Any]:
            if parent.get(CONSTRAINTS) is None:
                raise constraints_not_found(tenant)
            if request.method == "DELETE":
                return {k: v for k, v in parent.items() if k != CONSTRAINTS}
            body = request.body if isinstance(request.body, dict) else {}
            ids = body.get("allowedRoleTemplateIds", parent[CONSTRAINTS].get("allowedRoleTemplateIds"))
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise GraphError(400, "Request_BadRequest", "Property 'allowedRoleTemplateIds' must be strings.")
            changed = {**parent[CONSTRAINTS], "allowedRoleTemplateIds": ids, "lastModifiedDateTime": caps.now()}
            return {**parent, CONSTRAINTS: changed}

        self._store.edit_parent(tenant, edit)
        return self._response(204)
