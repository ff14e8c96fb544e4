"""The name lookups: the tenant's users, groups and service principals, and the other tenants
Graph knows, so that a client can show names instead of GUIDs.

Graph's pages for these endpoints, mirrored here:
https://learn.microsoft.com/graph/api/tenantrelationship-findtenantinformationbytenantid,
https://learn.microsoft.com/graph/api/tenantrelationship-findtenantinformationbydomainname,
https://learn.microsoft.com/graph/api/directoryobject-getbyids and
https://learn.microsoft.com/graph/api/serviceprincipal-get (by `appId`).

The directory is planted (by tests, the demo or `xtap emulator --directory FILE`) and read-only
over HTTP; it lives in memory only, apart from the state file, because no API call writes it.
Kept apart from app.py, which adds these routes to its own and checks their permissions in
the same order as every other path.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .auth import DIRECTORY_READ, SERVICE_PRINCIPAL_READ, TENANT_INFORMATION_READ
from .config import StartError
from .errors import NOT_FOUND, GraphError, bad_request

KEY = "{key}"
USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"
SERVICE_PRINCIPAL = "#microsoft.graph.servicePrincipal"
# A directory file's lists, and the type each one's objects take.
FILE_LISTS = {"users": USER, "groups": GROUP, "servicePrincipals": SERVICE_PRINCIPAL}
TENANTS = "tenants"
# The getByIds page: "You can specify up to 1000 IDs."
MAX_IDS = 1000
# Names getByIds takes in `types` (matched ignoring case, as the page says): directoryObject and
# the v1.0 types derived from it that a directory lookup can meet. The emulator holds only the
# first three kinds of object; the others are accepted and simply match nothing.
KNOWN_TYPES = frozenset(
    name.lower()
    for name in (
        "directoryObject",
        "user",
        "group",
        "servicePrincipal",
        "device",
        "application",
        "orgContact",
        "directoryRole",
        "directoryRoleTemplate",
        "administrativeUnit",
        "contract",
        "organization",
        "directoryObjectPartnerReference",
    )
)
# The answer Graph gives for a tenant it does not know. No page documents it; the CLI for
# Microsoft 365 (pnp/cli-microsoft365, src/m365/tenant/commands/info/info-get.spec.ts) records
# this code and message for both lookups. The status is not recorded there: 404, as the code says.
_NO_TENANT = ("Directory_ObjectNotFound", "Unable to read the company information from the directory.")

Handler = Callable[[Any], Any]
Route = tuple[tuple[str, ...], dict[str, Handler]]


def _is_guid(text: object) -> bool:
    """A GUID in the hyphenated form only, as Graph writes every object id."""
    if not isinstance(text, str):
        return False
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def string_literal(raw: str, name: str) -> str:
    """The value of an OData string literal in a function call (`'…'`, a quote doubled inside),
    or the 400 of a parameter that is not one: `tenantId=6bab…` without quotes is not a string."""
    inner = raw[1:-1]
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'" or "'" in inner.replace("''", ""):
        raise bad_request(f"The value of parameter '{name}' must be a string literal in single quotes, not {raw}.")
    return inner.replace("''", "'")


def _typed(raw: Mapping[str, Any], odata_type: str | None = None) -> dict[str, Any]:
    """`raw` as a directory object of `odata_type` (or its own `@odata.type`), checked just
    enough to be looked up: a known type, a GUID id, and a GUID appId on a service principal."""
    kind = raw.get("@odata.type", odata_type)
    if odata_type is not None and kind != odata_type:
        raise ValueError(f"a {odata_type} entry has @odata.type {kind!r}")
    if kind not in FILE_LISTS.values():
        raise ValueError(f"@odata.type must be one of {', '.join(FILE_LISTS.values())}, got {kind!r}")
    if not _is_guid(raw.get("id")):
        raise ValueError(f"a directory object needs a GUID id, got {raw.get('id')!r}")
    if kind == SERVICE_PRINCIPAL and not _is_guid(raw.get("appId")):
        raise ValueError(f"a service principal needs a GUID appId, got {raw.get('appId')!r}")
    return {"@odata.type": kind, **{k: copy.deepcopy(v) for k, v in raw.items() if k != "@odata.type"}}


def _tenant(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A known tenant: a GUID tenantId, and optional names; `domains` lists the other domains
    it answers to by name, besides its defaultDomainName (never rendered)."""
    if not _is_guid(raw.get("tenantId")):
        raise ValueError(f"a known tenant needs a GUID tenantId, got {raw.get('tenantId')!r}")
    domains = raw.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise ValueError(f"a known tenant's domains must be a list of strings, got {domains!r}")
    return copy.deepcopy(dict(raw))


class Directory:
    """The planted directory, behind one lock: objects by lowercase id, tenants by lowercase tenantId."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, dict[str, Any]] = {}
        self._tenants: dict[str, dict[str, Any]] = {}

    def put_object(self, raw: Mapping[str, Any]) -> None:
        """Plant a user, group or service principal (ValueError when it cannot be looked up)."""
        stored = _typed(raw)
        with self._lock:
            self._objects[stored["id"].lower()] = stored

    def remove_object(self, object_id: str) -> None:
        """KeyError when no such object was planted: a test that removes nothing has a bug."""
        with self._lock:
            del self._objects[object_id.lower()]

    def put_tenant(self, raw: Mapping[str, Any]) -> None:
        stored = _tenant(raw)
        with self._lock:
            self._tenants[stored["tenantId"].lower()] = stored

    def remove_tenant(self, tenant_id: str) -> None:
        with self._lock:
            del self._tenants[tenant_id.lower()]

    def objects(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._objects)

    def tenants(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._tenants)

    def load(self, raw: Mapping[str, Any]) -> None:
        """Plant a whole directory: `{"users": […], "groups": […], "servicePrincipals": […],
        "tenants": […]}`, each list optional. All or nothing: a bad entry plants none."""
        unknown = sorted(set(raw) - {*FILE_LISTS, TENANTS})
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r}: expected {', '.join([*FILE_LISTS, TENANTS])}")
        lists = {name: raw.get(name, []) for name in (*FILE_LISTS, TENANTS)}
        for name, entries in lists.items():
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise ValueError(f"{name!r} must be a list of objects")
        objects = [_typed(e, kind) for name, kind in FILE_LISTS.items() for e in lists[name]]
        tenants = [_tenant(e) for e in lists[TENANTS]]
        with self._lock:
            self._objects.update((o["id"].lower(), o) for o in objects)
            self._tenants.update((t["tenantId"].lower(), t) for t in tenants)

    def load_file(self, path: str | Path) -> None:
        """`load` from a JSON file, or a StartError that names the file: it is the user's to edit."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise StartError(f"{path}:{exc.lineno}:{exc.colno}: not a directory file: {exc.msg}") from None
        except (OSError, UnicodeDecodeError, RecursionError) as exc:
            raise StartError(f"{path}: cannot read the directory file: {exc}") from None
        if not isinstance(raw, dict):
            raise StartError(f'{path}: not a directory file: expected {{"users": [...], "tenants": [...], ...}}')
        try:
            self.load(raw)
        except ValueError as exc:
            raise StartError(f"{path}: not a directory file: {exc}") from None

    # -- lookups -----------------------------------------------------------------------------

    def tenant_by_id(self, tenant_id: str) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._tenants.get(tenant_id.lower()))

    def tenant_by_domain(self, domain: str) -> dict[str, Any] | None:
        """Domain names match ignoring case, as DNS names do."""
        wanted = domain.lower()
        with self._lock:
            for tenant in self._tenants.values():
                names = [tenant.get("defaultDomainName"), *tenant.get("domains", [])]
                if any(isinstance(n, str) and n.lower() == wanted for n in names):
                    return copy.deepcopy(tenant)
        return None

    def by_ids(self, ids: Iterable[str], types: frozenset[str] | None) -> list[dict[str, Any]]:
        """The objects among `ids` of one of `types` (lowercase names; None: any), in the order
        first asked for, each once."""
        found = []
        with self._lock:
            for key in dict.fromkeys(i.lower() for i in ids):
                stored = self._objects.get(key)
                kind = stored and stored["@odata.type"].rsplit(".", 1)[1].lower()
                if stored and (types is None or "directoryobject" in types or kind in types):
                    found.append(copy.deepcopy(stored))
        return found

    def service_principal(self, app_id: str) -> dict[str, Any] | None:
        wanted = app_id.lower()
        with self._lock:
            for stored in self._objects.values():
                if stored["@odata.type"] == SERVICE_PRINCIPAL and str(stored.get("appId", "")).lower() == wanted:
                    return copy.deepcopy(stored)
        return None


def _check_ids(body: Any) -> tuple[list[str], frozenset[str] | None]:
    """getByIds' parameters, or the 400 of a body Graph would not take: only `ids` (required,
    GUIDs, at most MAX_IDS) and `types` (optional, known type names)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object with 'ids'.")
    for name in body:
        if name not in ("ids", "types"):
            raise bad_request(f"Invalid property '{name}'.")
    ids, types = body.get("ids"), body.get("types")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("The parameter 'ids' must be a collection of strings.")
    if len(ids) > MAX_IDS:
        raise bad_request(f"Too many ids: {len(ids)}; the limit is {MAX_IDS}.")
    for ident in ids:
        if not _is_guid(ident):
            raise bad_request(f"Invalid object identifier '{ident}'.")
    if types is None:
        return ids, None
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise bad_request("The parameter 'types' must be a collection of strings.")
    for name in types:
        if name.lower() not in KNOWN_TYPES:
            raise bad_request(f"Invalid type '{name}' in 'types'.")
    return ids, frozenset(t.lower() for t in types)


class DirectoryRoutes:
    """Handlers over a Directory; `response` builds app.py's Response (status, body, headers)."""

    def __init__(self, directory: Directory, base_url: str, response: Any) -> None:
        self._directory = directory
        self._base_url = base_url
        self._response = response
        self._by_tenant_id: dict[str, Handler] = {"GET": self._find_by_tenant_id}
        self._by_domain: dict[str, Handler] = {"GET": self._find_by_domain}
        self._get_by_ids: dict[str, Handler] = {"POST": self._objects_by_ids}
        self._by_app_id: dict[str, Handler] = {"GET": self._service_principal}

    def routes(self) -> list[Route]:
        return [
            (("tenantRelationships", f"findTenantInformationByTenantId(tenantId={KEY})"), self._by_tenant_id),
            (("tenantRelationships", f"findTenantInformationByDomainName(domainName={KEY})"), self._by_domain),
            (("directoryObjects", "getByIds"), self._get_by_ids),
            ((f"servicePrincipals(appId={KEY})",), self._by_app_id),
        ]

    def permissions(self, handlers: dict[str, Handler]) -> frozenset[str] | None:
        """The permissions a route of these takes (None: not one of these routes)."""
        if handlers is self._by_tenant_id or handlers is self._by_domain:
            return TENANT_INFORMATION_READ
        if handlers is self._get_by_ids:
            return DIRECTORY_READ
        if handlers is self._by_app_id:
            return SERVICE_PRINCIPAL_READ
        return None

    def reads(self, handler: Handler) -> bool:
        """Whether `handler` is a POST that only reads (getByIds): the write quota skips it."""
        return handler == self._objects_by_ids

    def _tenant_information(self, tenant: dict[str, Any] | None) -> Any:
        if tenant is None:
            raise GraphError(404, *_NO_TENANT)
        context = f"{self._base_url}/$metadata#microsoft.graph.tenantInformation"
        names = ("tenantId", "federationBrandName", "displayName", "defaultDomainName")  # the page's order
        return self._response(200, {"@odata.context": context, **{n: tenant.get(n) for n in names}})

    def _find_by_tenant_id(self, request: Any) -> Any:
        tenant_id = string_literal(request.params[0], "tenantId")
        if not _is_guid(tenant_id):
            raise bad_request(f"Invalid tenant id '{tenant_id}': a tenant id is a GUID.")
        return self._tenant_information(self._directory.tenant_by_id(tenant_id))

    def _find_by_domain(self, request: Any) -> Any:
        domain = string_literal(request.params[0], "domainName")
        if not domain.strip():
            raise bad_request("The parameter 'domainName' must not be empty.")
        return self._tenant_information(self._directory.tenant_by_domain(domain))

    def _objects_by_ids(self, request: Any) -> Any:
        ids, types = _check_ids(request.body)
        value = self._directory.by_ids(ids, types)
        return self._response(200, {"@odata.context": f"{self._base_url}/$metadata#directoryObjects", "value": value})

    def _service_principal(self, request: Any) -> Any:
        app_id = string_literal(request.params[0], "appId")
        if not _is_guid(app_id):
            raise bad_request(f"Invalid appId '{app_id}': an application id is a GUID.")
        found = self._directory.service_principal(app_id)
        if found is None:
            message = f"Resource '{app_id}' does not exist or one of its queried reference-property objects are "
            message += "not present."
            raise GraphError(404, NOT_FOUND, message)
        found.pop("@odata.type")  # an entity read names its type in the context, as the page's example does
        context = f"{self._base_url}/$metadata#servicePrincipals/$entity"
        return self._response(200, {"@odata.context": context, **found})
