"""The cross-tenant access policy itself (`/policies/crossTenantAccessPolicy`) and a partner's
service-provider constraints: small surfaces kept out of schema.py and app.py.

The root is a singleton whose only settings are `displayName` and `allowedCloudEndpoints`:
https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-get and
https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-update (204; the collection is
replaced whole, as OData 4.01 replaces a collection in PATCH).
"""

from __future__ import annotations

from typing import Any

from .errors import GraphError, bad_request
from .schema import STRING, CollectionType, ComplexType, EntitySchema

# The values the update page lists as supported.
CLOUD_ENDPOINTS = ("microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn")
ENDPOINTS = "allowedCloudEndpoints"
# The id of the emulated policy: Graph's is a per-tenant GUID no page documents; this one is the emulator's own.
ROOT_ID = "d4699183-0c1e-4d7a-9d9c-1b5e2f3a4c5d"
ROOT = EntitySchema(
    type=ComplexType(
        "crossTenantAccessPolicy",
        {"id": STRING, "displayName": STRING, ENDPOINTS: CollectionType(STRING)},
        non_nullable=frozenset({ENDPOINTS}),  # Nullable="false" in the v1.0 metadata
    ),
    key="id",
    read_only=frozenset({"id"}),
    create_only=frozenset(),
    block_all_rule=frozenset(),
    defaults={"id": ROOT_ID, "displayName": "CrossTenantAccessPolicy", ENDPOINTS: []},
)


def check_root_patch(body: Any, strict_endpoints: bool) -> None:
    """400 for what the schema alone lets through: a value outside the documented three (when
    `strict_endpoints`). Null and wrong shapes are refused by the schema (`coerce_write`)."""
    if not isinstance(body, dict) or not isinstance(body.get(ENDPOINTS), list) or not strict_endpoints:
        return
    for value in body[ENDPOINTS]:
        if isinstance(value, str) and value not in CLOUD_ENDPOINTS:
            supported = ", ".join(CLOUD_ENDPOINTS)
            raise bad_request(f"Invalid value '{value}' for property '{ENDPOINTS}': supported values are {supported}.")


# -- serviceProviderConstraints ---------------------------------------------------------------
# A partner's single-valued contained navigation (v1.0 metadata only, no documentation page).
# The service manages it (Microsoft Support consent, GDAP), so the emulator serves it read-only:
# tests plant it with `plant_constraints`.
CONSTRAINTS = "serviceProviderConstraints"
CONSTRAINTS_TYPE = "#microsoft.graph.delegatedAdminServiceProviderConstraints"


def constraints_refused() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def constraints_not_found(tenant_id: str) -> GraphError:
    return GraphError(
        404, "Request_ResourceNotFound", f"The service provider constraints of partner '{tenant_id}' do not exist."
    )
