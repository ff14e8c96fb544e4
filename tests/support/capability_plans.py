"""Microsoft 365 capabilities for the planner's tests: policies/ folders that write them, and live
tenants holding them as Graph lists them (`@odata.type`, `name`, `lastModifiedDateTime`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.core.address import Address
from reconciler.core.live import Live
from reconciler.core.registry import DEFAULT, M365_CAPABILITY, PARTNER
from reconciler.emulator.schema import SYSTEM_DEFAULT
from support.policy_files import write_policies

NAMESPACE = "#microsoft.graph."
MAIL_TIPS = "crossTenantMailTipsLimited"
PROFILE = "crossTenantOpenProfileCard"
ROOMS = "crossTenantPlacesRoomBooking"


def capability(name: str, allowed: bool = True, included: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A create body as Graph's docs write it."""
    scopes = {"included": included or [], "excluded": []}
    return {"@odata.type": NAMESPACE + name, "inboundAccess": {"isAllowed": allowed, "resourceScopes": scopes}}


def listed(body: dict[str, Any]) -> dict[str, Any]:
    """The capability as Graph lists it."""
    name = body["@odata.type"].removeprefix(NAMESPACE)
    return {**body, "name": name, "lastModifiedDateTime": "2026-01-15T09:57:58.6364196Z"}


def capability_address(parent: str, body: dict[str, Any]) -> Address:
    return Address(M365_CAPABILITY.name, f"{parent}/{body['@odata.type'].removeprefix(NAMESPACE)}")


def folder(
    root: Path, partners: list[dict[str, Any]], default: dict[str, Any] | None = None, settings: str = ""
) -> Path:
    policies = write_policies(root, partners)
    if default is not None:
        (policies / "default.yaml").write_text(json.dumps(default, indent=2))  # a key per line
    if settings:
        (policies / "xtap.yaml").write_text(settings)
    return policies


def live_with(
    partners: dict[str, list[dict[str, Any]]],
    default: list[dict[str, Any]] | None = None,
    skipped: dict[str, str] | None = None,
    **default_settings: Any,
) -> Live:
    """A tenant with these partners and the default, each holding these capabilities (create
    bodies, listed as Graph lists them)."""
    instances: dict[Address, dict[str, Any]] = {
        Address(DEFAULT.name, "default"): {**SYSTEM_DEFAULT, **default_settings}
    }
    for tenant, capabilities in partners.items():
        instances[Address(PARTNER.name, tenant)] = {"tenantId": tenant}
        instances.update((capability_address(tenant, body), listed(body)) for body in capabilities)
    instances.update((capability_address("default", body), listed(body)) for body in default or [])
    read = (PARTNER.name, DEFAULT.name, *(() if skipped else (M365_CAPABILITY.name,)))
    return Live(instances, read, skipped or {})
