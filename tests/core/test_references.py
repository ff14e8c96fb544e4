"""`core/references.py`: the users, groups and applications a body names, each with whose it is
(the registry's `target_sides`, per slot), for a partner, the default, the MTO template and a
Microsoft 365 capability, and the path it stands at."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.names import EITHER, PARTNER_SIDE, TENANT
from reconciler.core.references import references
from reconciler.core.registry import DEFAULT, M365_CAPABILITY, MTO_PARTNER_TEMPLATE, PARTNER, ResourceType

USER = "AAAAAAAA-0000-4000-8000-000000000001"  # upper case: a reference is lower case
GROUP = "aaaaaaaa-0000-4000-8000-000000000002"
APP = "aaaaaaaa-0000-4000-8000-000000000003"


def _slot(users: str, kind: str = "group") -> dict[str, Any]:
    return {"accessType": "allowed", "targets": [{"target": users, "targetType": kind}]}


def _b2b() -> dict[str, Any]:
    return {
        "b2bCollaborationInbound": {"usersAndGroups": _slot(USER, "user"), "applications": _slot(APP, "application")},
        "b2bCollaborationOutbound": {"usersAndGroups": _slot(GROUP), "applications": _slot(APP, "application")},
        "b2bDirectConnectInbound": {"usersAndGroups": _slot(GROUP), "applications": _slot("Office365", "application")},
        "b2bDirectConnectOutbound": {"usersAndGroups": _slot("AllUsers", "user")},
    }


B2B_EXPECTED = {
    "b2bCollaborationInbound.usersAndGroups.targets": (USER.lower(), "user", PARTNER_SIDE),
    "b2bCollaborationInbound.applications.targets": (APP, "application", TENANT),
    "b2bCollaborationOutbound.usersAndGroups.targets": (GROUP, "group", TENANT),
    "b2bCollaborationOutbound.applications.targets": (APP, "application", PARTNER_SIDE),
    "b2bDirectConnectInbound.usersAndGroups.targets": (GROUP, "group", PARTNER_SIDE),
    "b2bDirectConnectInbound.applications.targets": ("Office365", "application", TENANT),
    "b2bDirectConnectOutbound.usersAndGroups.targets": ("AllUsers", "user", TENANT),
}


@pytest.mark.parametrize("rtype", [PARTNER, DEFAULT, MTO_PARTNER_TEMPLATE], ids=lambda rtype: rtype.name)
def test_b2b_slots_name_the_partners_users_inbound_and_this_tenants_outbound(rtype: ResourceType) -> None:
    found = {ref.slot: (ref.value, ref.kind, ref.side) for ref in references(rtype, _b2b())}
    assert found == B2B_EXPECTED


def test_the_other_partner_slots_and_the_undocumented_one() -> None:
    body = {
        "tenantRestrictions": {"usersAndGroups": _slot(GROUP), "applications": _slot(APP, "application")},
        "m365CollaborationInbound": {"users": _slot(USER, "user")},
        "m365CollaborationOutbound": {"usersAndGroups": _slot(GROUP)},
        "appServiceConnectInbound": {"applications": _slot(APP, "application")},
    }
    found = {ref.slot: ref.side for ref in references(PARTNER, body)}
    assert found == {
        "tenantRestrictions.usersAndGroups.targets": PARTNER_SIDE,
        "tenantRestrictions.applications.targets": PARTNER_SIDE,
        "m365CollaborationInbound.users.targets": PARTNER_SIDE,
        "m365CollaborationOutbound.usersAndGroups.targets": TENANT,
        "appServiceConnectInbound.applications.targets": EITHER,
    }


def test_a_capabilitys_resource_scopes_name_this_tenants_users_and_groups() -> None:
    body = {
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {
                "included": [
                    {"resourceId": GROUP, "resourceType": "group"},
                    {"resourceId": "All", "resourceType": "user"},
                ],
                "excluded": [{"resourceId": USER, "resourceType": "user"}],
            },
        }
    }
    found = references(M365_CAPABILITY, body)
    assert [(ref.value, ref.kind, ref.side, ref.is_object) for ref in found] == [
        (GROUP, "group", TENANT, True),
        ("All", "user", TENANT, False),
        (USER.lower(), "user", TENANT, True),
    ]
    assert found[2].path == ("inboundAccess", "resourceScopes", "excluded", 0)


def test_keywords_stay_as_written_and_malformed_targets_are_skipped() -> None:
    body = {
        "b2bCollaborationOutbound": {
            "usersAndGroups": {"targets": [{"target": "AllUsers"}, {"target": 3, "targetType": "user"}]}
        }
    }
    assert references(PARTNER, body) == []
    assert references(PARTNER, None) == [] and references(PARTNER, ["x", 1]) == []
