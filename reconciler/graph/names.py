"""The names behind GUIDs, looked up once per run and only for what a report shows: partner
tenants (`findTenantInformationByTenantId`, 20 to a `$batch`), this tenant's users and groups
(`POST /directoryObjects/getByIds`, 1,000 ids a request) and applications by appId
(`servicePrincipals(appId='…')`, 20 to a `$batch`). docs/names.md has
the requests, their permissions and limits, with sources.

Names only label a report, so a lookup never fails a command: one the token may not make
(its claims say so, or Graph answers 401/403) is skipped and said once (`Names.unavailable`);
another failure leaves the GUIDs as they are. Only a 200 from getByIds that leaves an id out
says that object is gone (`Names.missing`): Graph documents nothing for unknown ids, so any
other answer means "unknown", never "missing".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.names import FIRST_PARTY_APPS, MICROSOFT_ACCOUNTS, TENANT_PERMISSION, Names
from reconciler.core.request import Request
from reconciler.core.wire import is_guid
from reconciler.graph.batch import ItemReply, send_all
from reconciler.graph.client import LOOKING_UP, Graph
from reconciler.graph.errors import GraphError
from reconciler.graph.together import all_of

# What each lookup needs, least privileged first (docs/names.md): the token's claims are
# checked before a request is spent on a lookup it may not make.
TENANT_NAMES = ("partner names", (TENANT_PERMISSION,))
OBJECT_NAMES = ("this tenant's users and groups", ("Directory.Read.All",))
APP_NAMES = (
    "this tenant's applications",
    ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"),
)
GET_BY_IDS = 1000  # "You can specify up to 1000 IDs." (directoryobject-getbyids)
DENIED = frozenset({401, 403})
Unavailable = dict[str, str]


async def look_up(
    graph: Graph, tenants: Iterable[str] = (), objects: Iterable[str] = (), apps: Iterable[str] = ()
) -> Names:
    """The names of `tenants` (partner tenant ids), `objects` (this tenant's user and group ids)
    and `apps` (appIds), each kind looked up at once with the others; their requests are
    counted apart (`Graph.lookup_count`)."""
    marked = LOOKING_UP.set(True)
    try:
        return await _look_up(graph, tenants, objects, apps)
    finally:
        LOOKING_UP.reset(marked)


async def _look_up(graph: Graph, tenants: Iterable[str], objects: Iterable[str], apps: Iterable[str]) -> Names:
    held = await graph.permissions()
    unavailable: Unavailable = {}
    wanted_tenants = sorted({tenant for tenant in tenants if tenant != MICROSOFT_ACCOUNTS[0]})
    wanted_objects = sorted(set(objects))
    wanted_apps = sorted({app for app in apps if app not in FIRST_PARTY_APPS})
    found_tenants, (found_objects, missing), found_apps = await all_of(
        [
            _guarded(graph, held, TENANT_NAMES, wanted_tenants, unavailable, _tenants, {}),
            _guarded(graph, held, OBJECT_NAMES, wanted_objects, unavailable, _objects, ({}, frozenset())),
            _guarded(graph, held, APP_NAMES, wanted_apps, unavailable, _apps, {}),
        ]
    )
    return Names(found_tenants, found_objects, found_apps, missing, unavailable)


def permitted(held: frozenset[str] | None, what: tuple[str, tuple[str, ...]]) -> bool:
    """Whether a token holding `held` (None: its claims say nothing readable) may make the
    lookup `what` as far as it says: one of its permissions will do."""
    return held is None or bool(held & set(what[1]))


async def _guarded(
    graph: Graph,
    held: frozenset[str] | None,
    what: tuple[str, tuple[str, ...]],
    wanted: list[str],
    unavailable: Unavailable,
    lookup: Any,
    nothing: Any,
) -> Any:
    """`lookup(graph, wanted)`, or `nothing` when there is nothing to look up, the token's
    claims lack every permission that would do, or Graph refuses or fails it."""
    kind, permissions = what
    if not wanted:
        return nothing
    if not permitted(held, what):
        unavailable[kind] = f"the token lacks {permissions[0]}"
        return nothing
    try:
        return await lookup(graph, wanted)
    except GraphError as exc:
        if exc.status in DENIED:
            unavailable[kind] = f"Graph refused the lookup ({exc.status}); it needs {permissions[0]}"
        else:
            unavailable[kind] = f"the lookup failed: {exc.detail}"
        return nothing


async def _in_batches(graph: Graph, requests: Sequence[Request]) -> list[ItemReply]:
    """Each GET's reply (`batch.send_all`). A refused item (401/403) fails the lookup like a
    refused request: the token may not make it."""
    replies = await send_all(graph, requests)
    for request, reply in zip(requests, replies, strict=True):
        if reply.status in DENIED:
            raise GraphError("refused", reply.status, method=request.method, url=request.url)
    return replies


async def _tenants(graph: Graph, wanted: list[str]) -> dict[str, tuple[str, str | None]]:
    """Each tenant Graph knows: its display name and default domain. An unknown one (Graph's
    answer is undocumented) or a failed item keeps its GUID."""
    requests = [
        Request("GET", f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{tenant}')")
        for tenant in wanted
    ]
    found: dict[str, tuple[str, str | None]] = {}
    for tenant, reply in zip(wanted, await _in_batches(graph, requests), strict=True):
        body = reply.body if reply.status == 200 and isinstance(reply.body, dict) else {}
        name, domain = body.get("displayName"), body.get("defaultDomainName")
        if isinstance(name, str) and name:
            found[tenant] = (name, domain if isinstance(domain, str) and domain else None)
    return found


async def _objects(graph: Graph, wanted: list[str]) -> tuple[dict[str, tuple[str, str]], frozenset[str]]:
    """This tenant's users and groups among `wanted`, and those a 200 left out (gone). An
    object returned without a name (what getByIds does where the token may not read its type)
    is neither named nor missing."""
    found: dict[str, tuple[str, str]] = {}
    returned: set[str] = set()
    for start in range(0, len(wanted), GET_BY_IDS):
        chunk = wanted[start : start + GET_BY_IDS]
        body = {"ids": chunk, "types": ["user", "group"]}
        reply = await graph.write(Request("POST", "/directoryObjects/getByIds", body)) or {}
        for item in reply.get("value") or []:
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            returned.add(ident.lower())
            name, kind = item.get("displayName"), str(item.get("@odata.type", "")).rsplit(".", 1)[-1]
            if isinstance(name, str) and name:
                found[ident.lower()] = (name, kind or "object")
    return found, frozenset(set(wanted) - returned)


async def _apps(graph: Graph, wanted: list[str]) -> dict[str, str]:
    """The display name of this tenant's service principal of each appId, one GET each by its
    alternate key (https://learn.microsoft.com/graph/api/serviceprincipal-get), 20 to a
    `$batch`. An appId without one (404) is not an error: Microsoft's own apps do not always
    have one here, and a partner's never does."""
    requests = [Request("GET", f"/servicePrincipals(appId='{app}')") for app in wanted]
    found: dict[str, str] = {}
    for app, reply in zip(wanted, await _in_batches(graph, requests), strict=True):
        body = reply.body if reply.status == 200 and isinstance(reply.body, dict) else {}
        name = body.get("displayName")
        if isinstance(name, str) and name:
            found[app] = name
    return found


@dataclass(frozen=True)
class TenantInformation:
    """One tenant as findTenantInformationBy… describes it: its id (a lower-case GUID), and its
    display name and default domain when Graph gives them. All three are outside text."""

    tenant_id: str
    display_name: str | None
    default_domain: str | None


class LookupDenied(Exception):
    """The token may not look tenants up: its claims lack the permission, or Graph refused (401/403).
    The message says which permission would do."""


BY_TENANT_ID = "/tenantRelationships/findTenantInformationByTenantId(tenantId='{}')"
BY_DOMAIN_NAME = "/tenantRelationships/findTenantInformationByDomainName(domainName='{}')"


async def find_tenant(
    graph: Graph, tenant_id: str | None = None, domain: str | None = None
) -> TenantInformation | None:
    """The one tenant a tenant id or a domain name names, or None when Graph knows none (404:
    the reply for an unknown tenant, docs/names.md). `xtap add-partner` asks this once, so it
    is one GET, not a `$batch`. The caller has checked the input (a GUID, or a domain of letters,
    digits, dots and hyphens), so it goes into the OData string literal as is. Raises
    `LookupDenied` when the token may not make the lookup, `GraphError` when it fails."""
    marked = LOOKING_UP.set(True)
    try:
        held = await graph.permissions()
        _, permissions = TENANT_NAMES
        if held is not None and not held & set(permissions):
            raise LookupDenied(f"the token lacks {permissions[0]}")
        url = BY_TENANT_ID.format(tenant_id) if domain is None else BY_DOMAIN_NAME.format(domain)
        info = graph.request_info("GET", url)
        try:
            body = await graph.get(info)
        except GraphError as exc:
            if exc.status in DENIED:
                raise LookupDenied(f"Graph refused the lookup ({exc.status}); it needs {permissions[0]}") from None
            if exc.status == 404:
                return None
            raise
        found = body.get("tenantId")
        if not isinstance(found, str) or not is_guid(found):
            raise graph.not_graph_reply(info, "a tenant's information without a GUID tenantId")
        name, default_domain = body.get("displayName"), body.get("defaultDomainName")
        return TenantInformation(
            found.lower(),
            name if isinstance(name, str) and name.strip() else None,
            default_domain if isinstance(default_domain, str) and default_domain.strip() else None,
        )
    finally:
        LOOKING_UP.reset(marked)
