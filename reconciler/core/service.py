"""Which live partners a Microsoft service made, not a person.

Partner Center creates partners for GDAP/CSP relationships (`isServiceProvider`), and joining a
multitenant organization creates one for every member tenant (`isInMultiTenantOrganization`:
https://learn.microsoft.com/entra/identity/multi-tenant-organizations/multi-tenant-organization-overview).
Nobody declared them, yet deleting one breaks the service that made it; so export marks them
and prune leaves them alone unless a file names them. One function, so both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def service_made(partner: Mapping[str, Any]) -> str | None:
    """Why a live partner (Graph's wire form) was made by a service, or None if nothing says so."""
    if partner.get("isInMultiTenantOrganization") is True:
        return "a member of the tenant's multitenant organization (made when the tenant joined it)"
    if partner.get("isServiceProvider") is True:
        return "a service provider partner (made by Partner Center for a GDAP/CSP relationship)"
    return None
