"""The tenants an emulator can start with (`xtap emulator --seed NAME`), planted as a test plants
state: directly, with no audit entry, as if they had always been there (`Emulator.plant`).

`demo` is the tenant `xtap demo` runs against, kept here, in one place, so that the demo and a
user's `xtap emulator --seed demo` serve the same tenant, the one the repository's example
policies/ folder is written for: its first plan is the demo's first plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CONTOSO = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
WOODGROVE = "a1b2c3d4-0000-4000-8000-00000000f00d"

# Fabrikam exists but is unconfigured, Woodgrove is a partner nobody wrote a file for
# (unmanaged), and Contoso does not exist yet: one create, one update, one partner left alone.
DEMO_PARTNERS: list[dict[str, Any]] = [
    {"tenantId": FABRIKAM},
    {
        "tenantId": WOODGROVE,
        "b2bCollaborationInbound": {
            "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {
                "accessType": "allowed",
                "targets": [{"target": "AllApplications", "targetType": "application"}],
            },
        },
    },
]

# Names for the GUIDs the demo tenant and the example policies/ hold, for the name lookups
# (docs/emulator.md#name-lookups): the three partners, and the group policies/ targets.
DEMO_DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "tenants": [
        {
            "tenantId": CONTOSO,
            "displayName": "Contoso Ltd",
            "defaultDomainName": "contoso.onmicrosoft.com",
            "federationBrandName": None,
            "domains": ["contoso.com"],
        },
        {
            "tenantId": FABRIKAM,
            "displayName": "Fabrikam, Inc.",
            "defaultDomainName": "fabrikam.onmicrosoft.com",
            "federationBrandName": "Fabrikam",
            "domains": ["fabrikam.com"],
        },
        {
            "tenantId": WOODGROVE,
            "displayName": "Woodgrove Bank",
            "defaultDomainName": "woodgrovebank.onmicrosoft.com",
            "federationBrandName": None,
            "domains": ["woodgrovebank.com"],
        },
    ],
    "groups": [{"id": "6f546279-4da5-4b53-a095-09ea0cef9971", "displayName": "Partner liaisons"}],
}


@dataclass(frozen=True)
class Seed:
    """A starting tenant: its partners and name-lookup directory (the default, the templates and
    the policy root start as a new tenant has them), and one line that says what it holds, for
    whoever starts it. `Emulator.plant` plants one; data only here, so the server can import it."""

    summary: str
    partners: Sequence[Mapping[str, Any]] = ()
    directory: Mapping[str, Any] = field(default_factory=dict)


SEEDS: dict[str, Seed] = {
    "empty": Seed("a new tenant: no partners, the default settings and the MTO templates as Graph ships them"),
    "demo": Seed(
        "the demo tenant: Fabrikam unconfigured, Woodgrove unmanaged, Contoso missing, names for the lookups",
        DEMO_PARTNERS,
        DEMO_DIRECTORY,
    ),
}
