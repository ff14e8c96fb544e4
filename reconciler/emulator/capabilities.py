"""Microsoft 365 cross-tenant capabilities (`m365Capabilities`) on the tenant default and on
each partner, and the routes of the policy root and a partner's service-provider constraints.

Documented methods: list, create (201), update (204) on both; delete (204) on a partner only:
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-list-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-post-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-update-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-delete-m365capabilities
The model (https://learn.microsoft.com/graph/api/resources/m365capabilitybase): the key is
`name`, the type name without its namespace, so a policy holds at most one capability per type.
What the pages leave open is a knob in EmulatorConfig (docs/emulator.md lists each choice).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .config import EmulatorConfig
from .errors import GraphError, bad_request, not_found
from .schema import GUID_RE

NAMESPACE = "#microsoft.graph."
# https://learn.microsoft.com/graph/api/resources/m365capabilitybase: the derived types.
TYPES = (
    "crossTenantCalendarAvailabilityBasic",
    "crossTenantCalendarAvailabilityLimitedDetails",
    "crossTenantCalendarSharingFreeBusySimple",
    "crossTenantCalendarSharingFreeBusyDetail",
    "crossTenantCalendarSharingFreeBusyReviewer",
    "crossTenantMailTipsAll",
    "crossTenantMailTipsLimited",
    "crossTenantMigration",
    "crossTenantOpenProfileCard",
    "crossTenantPlacesDeskBooking",
    "crossTenantPlacesRoomBooking",
    "anonymousCalendarSharingFreeBusySimple",
    "anonymousCalendarSharingFreeBusyDetail",
    "anonymousCalendarSharingFreeBusyReviewer",
)
# "Available only in a partner policy", though the default's create page creates one.
MIGRATION = "crossTenantMigration"
RESOURCE_TYPES = ("none", "group", "user", "unknownFutureValue")
_MEMBERS = frozenset({"@odata.type", "name", "lastModifiedDateTime", "inboundAccess"})


def now() -> str:
    """UTC with seven fractional digits, as the docs' examples show it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def duplicate(name: str) -> GraphError:
    return GraphError(
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        f"Another object with the same value for property name '{name}' already exists.",
    )


def missing(name: str) -> GraphError:
    return not_found(
        f"Resource '{name}' does not exist or one of its queried reference-property objects are not present."
    )


def _type_name(body: dict[str, Any]) -> str:
    odata_type = body.get("@odata.type")
    if odata_type is None:
        raise bad_request("Property '@odata.type' is required: m365CapabilityBase cannot be instantiated directly.")
    name = odata_type.removeprefix("#").removeprefix("microsoft.graph.") if isinstance(odata_type, str) else None
    if name not in TYPES:
        raise bad_request(f"Invalid type '{odata_type}' for an m365Capabilities item.")
    return name


def _check_members(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    for key in body:
        if key not in _MEMBERS and not key.startswith("@odata."):
            raise bad_request(f"Invalid property '{key}'.")
    return body


def _scope(item: Any, strict: bool) -> dict[str, Any]:
    if not isinstance(item, dict) or set(item) - {"resourceId", "resourceType", "@odata.type"}:
        raise bad_request("Invalid value for property 'resourceScopes': expected m365CapabilityResourceScope objects.")
    resource_id, resource_type = item.get("resourceId"), item.get("resourceType")
    if not isinstance(resource_id, str) or resource_type not in RESOURCE_TYPES:
        raise bad_request("Each resource scope needs a string 'resourceId' and a 'resourceType' of m365ResourceType.")
    if strict:
        guid = GUID_RE.fullmatch(resource_id) is not None
        if not (resource_id == "All" or guid) or (guid and resource_type == "none"):
            raise bad_request(f"Invalid value '{resource_id}' for property 'resourceId' with type '{resource_type}'.")
    return {"resourceId": resource_id, "resourceType": resource_type}


def _scopes(value: Any, current: dict[str, Any], strict: bool) -> dict[str, Any]:
    """`current` with `included`/`excluded` replaced whole where `value` sends them."""
    if not isinstance(value, dict) or set(value) - {"included", "excluded", "@odata.type"}:
        raise bad_request("Invalid value for property 'resourceScopes'.")
    result = dict(current)
    for key in ("included", "excluded"):
        if key in value:
            if not isinstance(value[key], list):
                raise bad_request(f"Property '{key}' must be a collection.")
            result[key] = [_scope(item, strict) for item in value[key]]  # duplicates kept as sent
    return result


def merge_inbound(value: Any, current: dict[str, Any], strict: bool) -> dict[str, Any]:
    """`inboundAccess` merged member-wise into `current` (the update page's Example 1 sends
    `isAllowed` alone and keeps the scopes)."""
    if not isinstance(value, dict) or set(value) - {"isAllowed", "resourceScopes", "@odata.type"}:
        raise bad_request("Invalid value for property 'inboundAccess'.")
    result = dict(current)
    if "isAllowed" in value:
        if value["isAllowed"] is not None and type(value["isAllowed"]) is not bool:
            raise bad_request("Property 'isAllowed' must be Edm.Boolean.")
        result["isAllowed"] = value["isAllowed"]
    if "resourceScopes" in value:
        result["resourceScopes"] = _scopes(value["resourceScopes"], result["resourceScopes"], strict)
    return result


_EMPTY_INBOUND: dict[str, Any] = {"isAllowed": None, "resourceScopes": {"included": [], "excluded": []}}


def created(body: Any, on_default: bool, config: EmulatorConfig) -> dict[str, Any]:
    """The stored capability a POST body makes, or the 400 it deserves."""
    body = _check_members(body)
    name = _type_name(body)
    if body.get("name") is not None and body["name"] != name:
        raise bad_request(f"Property 'name' must be '{name}', the name of the type in '@odata.type'.")
    if on_default and name == MIGRATION and not config.capability_migration_on_default:
        raise bad_request(f"'{MIGRATION}' is available only in a partner policy.")
    if body.get("inboundAccess") is None:
        raise bad_request("Property 'inboundAccess' is required.")
    inbound = merge_inbound(body["inboundAccess"], _EMPTY_INBOUND, config.strict_capability_resource_ids)
    return {"@odata.type": NAMESPACE + name, "name": name, "lastModifiedDateTime": now(), "inboundAccess": inbound}


def updated(body: Any, current: dict[str, Any], config: EmulatorConfig) -> dict[str, Any]:
    """`current` after a PATCH body; `lastModifiedDateTime` in the body is ignored."""
    body = _check_members(body)
    if "@odata.type" in body and _type_name(body) != current["name"]:
        raise bad_request("Property '@odata.type' cannot be changed: delete the capability and create the new type.")
    if body.get("name") is not None and body["name"] != current["name"]:
        raise bad_request("Property 'name' cannot be changed.")
    result = dict(current)
    if "inboundAccess" in body:
        if body["inboundAccess"] is None:
            raise bad_request("Property 'inboundAccess' cannot be null.")
        inbound = merge_inbound(body["inboundAccess"], current["inboundAccess"], config.strict_capability_resource_ids)
        result["inboundAccess"] = inbound
    result["lastModifiedDateTime"] = now()
    return result


Edit = Callable[[dict[str, Any]], dict[str, Any]]
