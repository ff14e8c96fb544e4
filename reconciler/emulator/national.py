"""The national clouds' narrower schemas: properties that the global v1.0 metadata has and the
US Government and 21Vianet metadata files lack (Microsoft's msgraph-metadata repository,
schemas/v1.0-Fairfax.csdl and v1.0-Mooncake.csdl). With `national_schema_strict`, the emulator of
such a cloud refuses them on write (400, as any unknown property) and leaves them out of reads.

Those metadata files are known to be incomplete: Learn marks the policy update with
`allowedCloudEndpoints` available in every cloud
(https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-update). Strict is the default all
the same, so a client that passes here works whichever of the two turns out true; turn it off to
test cross-cloud settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import bad_request

_SETTINGS = frozenset({"tenantRestrictions", "m365CollaborationInbound", "m365CollaborationOutbound"})
# By route: the policy root, the partners (and one partner), the tenant default.
ABSENT: dict[tuple[str, ...], frozenset[str]] = {
    ("policies", "crossTenantAccessPolicy"): frozenset({"allowedCloudEndpoints"}),
    ("policies", "crossTenantAccessPolicy", "partners"): _SETTINGS
    | {"appServiceConnectInbound", "isInMultiTenantOrganization"},
    ("policies", "crossTenantAccessPolicy", "partners", "{key}"): _SETTINGS
    | {"appServiceConnectInbound", "isInMultiTenantOrganization"},
    ("policies", "crossTenantAccessPolicy", "default"): _SETTINGS | {"appServiceConnectInbound"},
}

Handler = Callable[[Any], Any]


def narrowed(pattern: tuple[str, ...], handlers: dict[str, Handler]) -> dict[str, Handler]:
    """`handlers` of a route that refuse and hide what the national schema lacks."""
    absent = ABSENT.get(pattern)
    if absent is None:
        return handlers
    return {method: _narrow(handler, absent) for method, handler in handlers.items()}


def _narrow(handler: Handler, absent: frozenset[str]) -> Handler:
    def handle(request: Any) -> Any:
        named = set(request.body) if isinstance(request.body, dict) else set()
        named |= {n.strip() for n in request.query.get("$select", "").split(",")}
        for name in sorted(named & absent):
            raise bad_request(f"Invalid property '{name}'.")
        response = handler(request)
        body = response.body
        if isinstance(body, dict):
            items = body["value"] if isinstance(body.get("value"), list) else [body]
            for item in items:
                for name in absent & set(item):
                    del item[name]
        return response

    return handle
