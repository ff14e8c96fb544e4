"""Graph's request pipeline for the emulated paths: authenticate, route, authorise, handle.

Transport-free on purpose (bytes and headers in, status/headers/JSON out) so the HTTP layer
in server.py stays a thin shell and every Graph rule lives here or below. The order of checks
follows Graph: a bad token is 401 on any path, an unknown path is 400, a known path with the
wrong method 405, and only then are permissions (403) and the body looked at. `GraphHost`
checks the token first, then hands the request to the `GraphApp` of the tenant its `tid` names.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from . import audit, batch, national
from .audit import Activity
from .auth import AUDIT_PERMISSIONS, Caller, TokenAuthority, require, unknown_tenant
from .config import EmulatorConfig
from .directory import DirectoryRoutes
from .errors import BAD_REQUEST, GraphError, bad_request, error_body
from .faults import PORTAL_ADMIN, Faults
from .ids import guid
from .query import decode_skiptoken, encode_skiptoken, parse_expand, parse_select
from .schema import IDENTITY_SYNC, PARTNER
from .state import MTO_PARTNER_TEMPLATE, MTO_SYNC_TEMPLATE, SYNC, TENANT_DEFAULT, Singleton, render
from .surfaces import Surfaces
from .tenant import Tenant

log = logging.getLogger(__name__)

VERSION = "v1.0"
JSON_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_POLICY = ("policies", "crossTenantAccessPolicy")
_PARTNERS = (*_POLICY, "partners")
_AUDITS = ("auditLogs", "directoryAudits")
# Each singleton's path, the name of the action that resets it (Graph's reset pages, such as
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-resettosystemdefault),
# and the audit activities of an update and a reset.
_SINGLETON_ROUTES: tuple[tuple[Singleton, tuple[str, ...], str, tuple[Activity, Activity]], ...] = (
    (
        MTO_PARTNER_TEMPLATE,
        (*_POLICY, "templates", "multiTenantOrganizationPartnerConfiguration"),
        "resetToDefaultSettings",
        audit.template_activities("partner configuration"),
    ),
    (
        MTO_SYNC_TEMPLATE,
        (*_POLICY, "templates", "multiTenantOrganizationIdentitySynchronization"),
        "resetToDefaultSettings",
        audit.template_activities("identity synchronization"),
    ),
    (TENANT_DEFAULT, (*_POLICY, "default"), "resetToSystemDefault", (audit.UPDATE_DEFAULT, audit.RESET_DEFAULT)),
)
_KEY = "{key}"  # a path parameter in a route pattern
_BATCH_PATH = f"{VERSION}/$batch"
_UNREADABLE_BODY = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
)


@dataclass(frozen=True)
class Request:
    method: str
    params: tuple[str, ...]  # path parameters, in order
    query: dict[str, str]  # OData option names lowercased, as Graph treats them case-insensitively
    body: Any
    caller: Caller


@dataclass
class Response:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as sent, with the query string; a batch item's url under the version root
    body: Any  # parsed JSON, or None when absent or unparsable
    status: int
    batch_id: str | None = None  # the item's id when it came inside a `$batch`
    dropped: bool = False  # handled, then the connection closed without a reply
    tenant: str | None = None  # the tenant whose state served it; None when refused before one was known
    # When it was handled (time.time(), the wall clock, so another process's start compares
    # with it): bench/startup.py times a command's way to its first request by it.
    received: float = field(default_factory=time.time, compare=False)


Recorder = Callable[[RecordedRequest], None]


def _segment_matches(pattern: str, segment: str) -> bool:
    # Graph matches URL segments case-insensitively (/Policies/... works).
    if pattern == _KEY:
        return True
    if _KEY in pattern:  # a function call or alternate key, `name(param={key})`: the value is the parameter
        head = pattern[: pattern.index(_KEY)].lower()
        return len(segment) > len(head) and segment.lower().startswith(head) and segment.endswith(")")
    return pattern.lower() == segment.lower()


def _parameter(pattern: str, segment: str) -> str:
    """The path parameter a matched segment carries: all of a `{key}` segment, or what stands
    between `name(param=` and `)`, as sent (quotes included)."""
    return segment if pattern == _KEY else segment[pattern.index(_KEY) : -1]


def _prefix_matches(pattern: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    return len(pattern) >= len(segments) and all(map(_segment_matches, pattern, segments))


def _parse_body(raw: bytes, content_type: str | None) -> tuple[Any, GraphError | None]:
    """The parsed JSON body (None when absent or unreadable) and the 400 to raise if a handler needs it."""
    if not raw:
        return None, None
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):  # "[[[[…" deeper than the parser's stack
        return None, bad_request(_UNREADABLE_BODY)
    return body, _content_type_error(content_type)


def _item_body(item: batch.Item) -> tuple[Any, GraphError | None]:
    """`_parse_body` of a batch item, whose body was parsed with its batch: encoding and parsing
    it again for each item was a tenth of a batch's work."""
    if not item.has_body:
        return None, None
    return item.body, _content_type_error(item.headers.get("content-type"))


def _content_type_error(content_type: str | None) -> GraphError | None:
    """The 400 for a body whose Content-Type is not JSON's."""
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        return bad_request(_UNREADABLE_BODY)
    return None


def _identified(response: Response, headers: Mapping[str, str]) -> Response:
    """`response` with the `request-id` Graph gives every answer, and the caller's `client-request-id` echoed."""
    request_id = guid()
    response.headers["request-id"] = request_id
    response.headers["client-request-id"] = headers.get("client-request-id") or request_id
    return response


def refuse(error: GraphError, headers: Mapping[str, str]) -> Response:
    """`error` as Graph answers it. Public so the HTTP layer can refuse a request it will not
    read (too large, badly framed) with the same envelope and ids as every other error."""
    response = _identified(Response(error.status, headers=dict(error.headers)), headers)
    response.body = error_body(error, response.headers["request-id"], response.headers["client-request-id"])
    return response


def _is_batch(target: str) -> bool:
    return urlsplit(target).path.strip("/").lower() == _BATCH_PATH.lower()


def _item_response(ident: str, response: Response) -> dict[str, Any]:
    """A batch item's entry in `responses`: the headers a top-level answer would carry."""
    headers = dict(response.headers)
    entry: dict[str, Any] = {"id": ident, "status": response.status, "headers": headers}
    if response.body is not None:
        headers["Content-Type"] = JSON_CONTENT_TYPE
        entry["body"] = response.body
    return entry


class GraphHost:
    """Graph's one host for every tenant: each request goes to the `GraphApp` of its token's
    tenant (`tid`), made on the tenant's first request so that holding many tenants costs
    nothing until they are used. The faults are the host's, counted over every tenant."""

    def __init__(
        self,
        tenants: Mapping[str, Tenant],
        authority: TokenAuthority,
        config: EmulatorConfig,
        base_url: str,
        record: Recorder,
    ) -> None:
        self._tenants = tenants
        self._authority = authority
        self._config = config
        self._base_url = base_url
        self._record = record
        self.faults = Faults(config)
        self._apps: dict[str, GraphApp] = {}
        self._lock = threading.Lock()

    def dispatch(
        self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes
    ) -> tuple[Response, Any, str | None]:
        """`GraphApp.dispatch` in the tenant of the request's token, and that tenant (None when
        the token is refused: no tenant's state was touched)."""
        try:
            tenant_id = self._authority.caller(headers.get("authorization")).tenant_id
        except GraphError as error:  # the 401 that every path answers first
            return refuse(error, headers), None, None
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return refuse(unknown_tenant(tenant_id), headers), None, None
        response, body = self._app(tenant).dispatch(method, target, headers, raw_body)
        return response, body, tenant_id

    def _app(self, tenant: Tenant) -> GraphApp:
        with self._lock:
            app = self._apps.get(tenant.tenant_id)
            if app is None:
                app = GraphApp(tenant, self._authority, self._config, self._base_url, self._record, self.faults)
                self._apps[tenant.tenant_id] = app
            return app


class GraphApp:
    """Maps one HTTP request to one Graph response against one tenant's state."""

    def __init__(
        self,
        tenant: Tenant,
        authority: TokenAuthority,
        config: EmulatorConfig,
        base_url: str,
        record: Recorder,
        faults: Faults,
    ) -> None:
        self._tenant_id = tenant.tenant_id
        self._store = tenant.store
        self.faults = faults
        self._record = record
        self._authority = authority
        self._page_size = config.page_size
        self._base_url = base_url
        self._audit = tenant.audit
        logged = self._logged
        # The audit log takes its own permission, not the policies':
        # https://learn.microsoft.com/graph/api/directoryaudit-list
        self._audit_handlers: dict[str, Handler] = {"GET": self._list_audits}
        sync: dict[str, Handler] = {
            "GET": self._get_sync,
            "PUT": logged(audit.CREATE_SYNC, self._put_sync),
            "DELETE": logged(audit.DELETE_SYNC, self._delete_sync),
        }
        if config.sync_patch:  # otherwise a PATCH is the 405 of a method the path does not have
            sync["PATCH"] = logged(audit.UPDATE_SYNC, self._patch_sync)
        partner = {
            "GET": self._get_partner,
            "PATCH": logged(audit.UPDATE_PARTNER, self._update_partner),
            "DELETE": logged(audit.DELETE_PARTNER, self._delete_partner),
        }
        self._routes: list[tuple[tuple[str, ...], dict[str, Handler]]] = [
            (_PARTNERS, {"GET": self._list_partners, "POST": self._create_partner}),
            ((*_PARTNERS, _KEY), partner),
            ((*_PARTNERS, _KEY, SYNC), sync),
            (_AUDITS, self._audit_handlers),
        ]
        for singleton, path, reset, (updated, was_reset) in _SINGLETON_ROUTES:
            if config.cloud != "global" and "templates" in path:  # global only: an unknown segment elsewhere
                continue
            self._routes += [
                (
                    path,
                    {
                        "GET": partial(self._get_singleton, singleton, path),
                        "PATCH": logged(updated, partial(self._update_singleton, singleton), singleton.key),
                    },
                ),
                ((*path, reset), {"POST": logged(was_reset, partial(self._reset_singleton, singleton), singleton.key)}),
            ]
        self._surfaces = Surfaces(self._store, config, self._audit, self._context, Response)
        self._routes += self._surfaces.routes()
        self._directory = DirectoryRoutes(tenant.directory, base_url, Response)
        self._routes += self._directory.routes()
        if config.cloud != "global" and config.national_schema_strict:
            self._routes = [(pattern, national.narrowed(pattern, handlers)) for pattern, handlers in self._routes]

    def _logged(self, activity: Activity, handler: Handler, target: str | None = None) -> Handler:
        """`handler`, recording an audit entry when it succeeds: the target is the partner in
        the URL, or the singleton named by `target`."""

        def handle(request: Request) -> Response:
            response = handler(request)
            body = request.body if isinstance(request.body, dict) else {}
            where = target or request.params[0].lower()
            self._audit.record(activity, request.caller.initiated_by, where, body)
            return response

        return handle

    def dispatch(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        raw_body: bytes,
        item: batch.Item | None = None,
    ) -> tuple[Response, Any]:
        """Serve one request; `headers` has lowercase names. Returns the response and the parsed
        request body (for the request log). The body is parsed only once the caller is known to
        be allowed to make the request, so an anonymous client cannot make the server parse anything.
        A batch `item` brings its body parsed (`raw_body` is empty), and a `$batch` inside it is
        an unknown path, as Graph does not nest them."""
        body: Any = None
        try:
            if item is None and method == "POST" and _is_batch(target):
                body = self._batch_body(headers, raw_body)
                return _identified(self._batch(body, headers.get("authorization")), headers), body
            handler, params, query, caller = self._authorise(method, target, headers.get("authorization"))
            if self.faults.out_of_band():
                self._portal_edit()
            # getByIds is a POST that only reads: it takes no write from the quota.
            self.faults.check("GET" if self._directory.reads(handler) else method, caller.app_id, self._tenant_id)
            body, body_error = _parse_body(raw_body, headers.get("content-type")) if item is None else _item_body(item)
            if body_error is not None and method in ("POST", "PATCH", "PUT"):
                raise body_error
            return _identified(handler(Request(method, params, query, body, caller)), headers), body
        except GraphError as error:
            return refuse(error, headers), body
        except Exception as exc:  # an emulator bug: answer like Graph's 500 and keep serving
            log.exception("emulator failure on %s %s", method, target)
            return refuse(GraphError(500, "UnknownError", f"Emulator failure: {exc!r}"), headers), body

    def _portal_edit(self) -> None:
        """An admin changes a partner in the portal, under the client's feet: drift to detect,
        and an audit entry that names someone other than the client."""
        try:
            edit = self._store.portal_edit(self.faults.pick)
        except GraphError as error:  # a planted partner the portal itself would refuse to save
            log.warning("out-of-band edit refused: %s", error)
            return
        if edit is not None:
            self._audit.record(audit.UPDATE_PARTNER, PORTAL_ADMIN, *edit)

    # -- JSON batching (https://learn.microsoft.com/graph/json-batching) ----------------------

    def _batch_body(self, headers: Mapping[str, str], raw_body: bytes) -> Any:
        """The parsed `$batch` body of a caller with a valid token: 401 first, as on any path."""
        self._authority.caller(headers.get("authorization"))
        body, body_error = _parse_body(raw_body, headers.get("content-type"))
        if body_error is not None:
            raise body_error
        return body

    def _batch(self, body: Any, authorization: str | None) -> Response:
        """Run a `$batch` (400 when malformed): each item through the same pipeline as a
        top-level request. The batch is 200 whatever its items answer, 429s included."""
        statuses: dict[str, int] = {}
        responses = []
        for item in batch.run_order(batch.parse(body)):
            failed = next((d for d in item.depends_on if not 200 <= statuses[d] < 300), None)
            response, item_body = self._run_item(item, authorization, failed)
            self._record(
                RecordedRequest(item.method, item.url, item_body, response.status, item.id, tenant=self._tenant_id)
            )
            statuses[item.key] = response.status
            responses.append(_item_response(item.id, response))
        return Response(200, {"responses": responses})

    def _run_item(self, item: batch.Item, authorization: str | None, failed: str | None) -> tuple[Response, Any]:
        """One item's response and parsed body: 424 when the item it depends on (`failed`)
        did not succeed, 400 for an absolute URL, else whatever the item's path answers."""
        if failed is not None:
            error = GraphError(424, "FailedDependency", f"The request depends on request {failed!r}, which failed.")
            return refuse(error, item.headers), item.body
        url = urlsplit(item.url)
        if url.scheme or url.netloc:  # Graph takes item URLs relative to the version root only
            return refuse(batch.malformed(), item.headers), item.body
        headers = {**item.headers, "authorization": authorization or ""}
        return self.dispatch(item.method, f"/{VERSION}/{item.url.lstrip('/')}", headers, b"", item)

    def _authorise(
        self, method: str, target: str, authorization: str | None
    ) -> tuple[Handler, tuple[str, ...], dict[str, str], Caller]:
        """The handler, path parameters, query and caller for a request the caller may make,
        checked in Graph's order: token (401), path (400), method (405), permission (403)."""
        caller = self._authority.caller(authorization)
        url = urlsplit(target)
        version, *rest = (unquote(s) for s in url.path.strip("/").split("/"))
        if version.lower() != VERSION:
            raise bad_request(f"Invalid version: {version}")
        handlers, params = self._route(tuple(rest))
        handler = handlers.get(method)
        if handler is None:
            raise GraphError(405, BAD_REQUEST, "Specified HTTP method is not allowed for the request target.")
        write = method != "GET"
        allowed = (
            AUDIT_PERMISSIONS
            if handlers is self._audit_handlers
            else self._directory.permissions(handlers) or self._surfaces.permissions(handlers, write)
        )
        require(caller.permissions, write=write, allowed=allowed)
        return handler, params, {k.lower(): v for k, v in parse_qsl(url.query, keep_blank_values=True)}, caller

    def _route(self, segments: tuple[str, ...]) -> tuple[dict[str, Handler], tuple[str, ...]]:
        for pattern, handlers in self._routes:
            if len(pattern) == len(segments) and _prefix_matches(pattern, segments):
                return handlers, tuple(_parameter(p, s) for p, s in zip(pattern, segments, strict=True) if _KEY in p)
        unknown = next(
            (
                segments[i]
                for i in range(len(segments))
                if not any(_prefix_matches(p, segments[: i + 1]) for p, _ in self._routes)
            ),
            segments[-1] if segments else "",
        )
        raise bad_request(f"Resource not found for the segment '{unknown}'.")

    def _context(self, path: tuple[str, ...], select: list[str] | None, entity: bool) -> str:
        """`@odata.context` as OData builds it: the entity set, the `$select` list, `/$entity`."""
        context = f"{self._base_url}/$metadata#{'/'.join(path)}"
        if select is not None:
            context += f"({','.join(select)})"
        return context + ("/$entity" if entity else "")

    def _next_link(self, path: tuple[str, ...], request: Request, cursor: str) -> str:
        """The same query with a skip token for the page after `cursor`."""
        query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
        query["$skiptoken"] = encode_skiptoken(cursor)
        return f"{self._base_url}/{'/'.join(path)}?{urlencode(query, safe='$,')}"

    # -- partners ----------------------------------------------------------------------------

    def _list_partners(self, request: Request) -> Response:
        select = parse_select(request.query.get("$select"), PARTNER)
        expand = parse_expand(request.query.get("$expand"), PARTNER)
        after = decode_skiptoken(request.query.get("$skiptoken"))
        partners, cursor = self._store.list_partners(after, self._page_size)
        body: dict[str, Any] = {"@odata.context": self._context(_PARTNERS, select, entity=False)}
        if cursor is not None:
            body["@odata.nextLink"] = self._next_link(_PARTNERS, request, cursor)
        body["value"] = [render(p, PARTNER, select, expand) for p in partners]
        return Response(200, body)

    def _get_partner(self, request: Request) -> Response:
        select = parse_select(request.query.get("$select"), PARTNER)
        expand = parse_expand(request.query.get("$expand"), PARTNER)
        partner = self._store.get_partner(request.params[0])
        context = self._context(_PARTNERS, select, entity=True)
        return Response(200, {"@odata.context": context, **render(partner, PARTNER, select, expand)})

    def _create_partner(self, request: Request) -> Response:
        partner = self._store.create_partner(request.body)
        self._audit.record(audit.ADD_PARTNER, request.caller.initiated_by, partner["tenantId"], request.body)
        location = f"{self._base_url}/{'/'.join(_PARTNERS)}/{quote(partner['tenantId'])}"
        body = {"@odata.context": self._context(_PARTNERS, None, entity=True), **render(partner, PARTNER)}
        return Response(201, body, {"Location": location})

    def _update_partner(self, request: Request) -> Response:
        self._store.update_partner(request.params[0], request.body)
        return Response(204)

    def _delete_partner(self, request: Request) -> Response:
        self._store.delete_partner(request.params[0])
        return Response(204)

    # -- a partner's identity synchronization policy -----------------------------------------

    def _get_sync(self, request: Request) -> Response:
        select = parse_select(request.query.get("$select"), IDENTITY_SYNC)
        policy = self._store.get_identity_sync(request.params[0])
        # A contained entity's context names its parent by key, as OData does.
        path = (*_POLICY, f"partners('{request.params[0].lower()}')", SYNC)
        context = self._context(path, select, entity=True)
        return Response(200, {"@odata.context": context, **render(policy, IDENTITY_SYNC, select)})

    def _put_sync(self, request: Request) -> Response:
        self._store.put_identity_sync_policy(request.params[0], request.body)
        return Response(204)

    def _patch_sync(self, request: Request) -> Response:
        self._store.patch_identity_sync_policy(request.params[0], request.body)
        return Response(204)

    def _delete_sync(self, request: Request) -> Response:
        self._store.delete_identity_sync_policy(request.params[0])
        return Response(204)

    # -- singletons: the tenant default and the MTO templates ---------------------------------

    def _get_singleton(self, singleton: Singleton, path: tuple[str, ...], request: Request) -> Response:
        select = parse_select(request.query.get("$select"), singleton.entity)
        parse_expand(request.query.get("$expand"), singleton.entity)  # none has a navigation to expand
        body = render(self._store.read_singleton(singleton), singleton.entity, select)
        return Response(200, {"@odata.context": self._context(path, select, entity=True), **body})

    def _update_singleton(self, singleton: Singleton, request: Request) -> Response:
        self._store.update_singleton(singleton, request.body)
        return Response(204)

    def _reset_singleton(self, singleton: Singleton, request: Request) -> Response:
        self._store.reset_singleton(singleton)
        return Response(204)

    # -- the directory audit log --------------------------------------------------------------

    def _list_audits(self, request: Request) -> Response:
        top = audit.parse_top(request.query.get("$top"))
        after = decode_skiptoken(request.query.get("$skiptoken"))
        if after is not None and not after.isdigit():
            raise bad_request("The $skiptoken value is invalid.")
        entries, cursor = self._audit.page(request.query.get("$filter"), top, None if after is None else int(after))
        body: dict[str, Any] = {"@odata.context": f"{self._base_url}/$metadata#{'/'.join(_AUDITS)}"}
        if cursor is not None:
            body["@odata.nextLink"] = self._next_link(_AUDITS, request, str(cursor))
        body["value"] = entries
        return Response(200, body)
