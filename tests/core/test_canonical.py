"""The one form live and desired values are compared in (`core/canonical.py`): GUIDs in one case,
`targets` a set (any order, no duplicates, empty is unset), an object whose members are all null
unset, `@odata.*` annotations and members xtap does not model ignored, an absent property read as
the system value its type documents, and a value nested too deep refused. Directly, and through a
plan that finds no change where Graph and a file only write the same setting differently."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from support.planner_cases import UNSET_PARTNER, plan_for
from support.seeds import SEED_001_TENANT
from support.stub_servers import nested

from reconciler.core.canonical import (
    TooDeep,
    absent_value,
    canonical,
    canonical_property,
    compared,
    is_compared_member,
)
from reconciler.core.registry import DEFAULT, MTO_PARTNER_TEMPLATE, PARTNER

GROUP = "6F546279-4DA5-4B53-A095-09EA0CEF9971"
OTHER = "0be493dc-cb56-4a53-936f-9cf64410b8b0"


def users(*targets: str) -> dict[str, object]:
    return {"accessType": "allowed", "targets": [{"target": t, "targetType": "group"} for t in targets]}


def test_a_guid_target_is_compared_in_lower_case() -> None:
    form = canonical_property(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": users(GROUP)})
    assert form == {"usersAndGroups": users(GROUP.lower())}


def test_targets_are_a_set_in_any_order_with_duplicates_and_empty_is_unset() -> None:
    one = canonical_property(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": users(GROUP, OTHER)})
    other = canonical_property(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": users(OTHER, GROUP, OTHER)})
    assert one == other and len(one["usersAndGroups"]["targets"]) == 2
    assert canonical_property(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": users(OTHER)}) != one
    empty = canonical_property(PARTNER, "b2bCollaborationInbound", {"usersAndGroups": {"targets": []}})
    assert empty is None


def test_an_object_whose_members_are_all_null_is_unset() -> None:
    unset = {"inboundAllowed": None, "outboundAllowed": None}
    assert canonical_property(PARTNER, "automaticUserConsentSettings", unset) is None
    assert canonical_property(PARTNER, "automaticUserConsentSettings", {**unset, "inboundAllowed": False}) == {
        "inboundAllowed": False
    }


def test_annotations_and_unmodelled_members_are_not_compared() -> None:
    trust = {"@odata.type": "#microsoft.graph.x", "isMfaAccepted": True, "isPasskeyAccepted": True}
    assert canonical_property(PARTNER, "inboundTrust", trust) == {"isMfaAccepted": True}
    form = canonical(PARTNER, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata", "inboundTrust": trust})
    assert set(form) == set(PARTNER.settings) and "@odata.context" not in form
    assert not is_compared_member(PARTNER, "inboundTrust", "isPasskeyAccepted")
    # The members of an object xtap does not model all count, but for its annotations.
    assert is_compared_member(PARTNER, "notModelled", "anything")
    assert not is_compared_member(PARTNER, "notModelled", "@odata.type")


def test_an_absent_property_is_the_system_value_its_type_documents() -> None:
    assert canonical_property(DEFAULT, "inboundTrust", None) == {
        "isMfaAccepted": False,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    assert canonical_property(PARTNER, "inboundTrust", None) is None
    assert absent_value(DEFAULT, "b2bDirectConnectInbound")["usersAndGroups"]["accessType"] == "blocked"
    assert absent_value(PARTNER, "inboundTrust") is None
    assert canonical_property(MTO_PARTNER_TEMPLATE, "templateApplicationLevel", "none, newPartners") == "newPartners"


def test_a_file_manages_what_it_writes_and_what_has_a_system_value() -> None:
    assert "tenantRestrictions" not in compared(DEFAULT, {})
    assert "tenantRestrictions" in compared(DEFAULT, {"tenantRestrictions": {}})
    assert "inboundTrust" in compared(DEFAULT, {})
    assert "isServiceProvider" not in compared(PARTNER, {})
    assert "isServiceProvider" in compared(PARTNER, {"isServiceProvider": True})


def test_graph_quirks_are_not_changes(tmp_path: Path) -> None:
    desired = {
        "tenantId": SEED_001_TENANT.upper(),
        "b2bCollaborationInbound": {
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [
                    {"target": "6F546279-4DA5-4B53-A095-09EA0CEF9971", "targetType": "group"},
                    {"target": "0be493dc-cb56-4a53-936f-9cf64410b8b0", "targetType": "group"},
                ],
            }
        },
        "inboundTrust": {"isMfaAccepted": True, "isCompliantDeviceAccepted": None},
    }
    live = copy.deepcopy(UNSET_PARTNER)
    live["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#partners/$entity"
    live["b2bCollaborationInbound"] = {
        "@odata.type": "#microsoft.graph.crossTenantAccessPolicyB2BSetting",
        "usersAndGroups": {
            "accessType": "allowed",
            "targets": [
                {"target": "0be493dc-cb56-4a53-936f-9cf64410b8b0", "targetType": "group"},
                {"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"},
                {"target": "0be493dc-cb56-4a53-936f-9cf64410b8b0", "targetType": "group"},
            ],
        },
        "applications": None,
    }
    live["inboundTrust"] = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": None,
    }
    assert plan_for(tmp_path, [desired], [live]).changes == ()


@pytest.mark.parametrize("live_level", ["newPartners", "none,newPartners", "newPartners, none"])
def test_none_vanishes_beside_other_flags(tmp_path: Path, live_level: str) -> None:
    live_template = {"id": "75b1889b-6f42-4cc5-8e62-e774b8db243c", "templateApplicationLevel": live_level}
    template = {"templateApplicationLevel": "newPartners"}
    assert plan_for(tmp_path, [], [], template=template, live_template=live_template).changes == ()


@pytest.mark.parametrize("depth", [31, 32, 33, 50_000])
def test_canonical_form_recurses_only_so_deep(depth: int) -> None:
    """Counted from a property's value, which a reply holds 3 levels down: 32 levels are more
    than any reply xtap takes can hold there."""
    value = nested(depth, {"member": "x"})
    if depth <= 31:  # and the object inside makes one more
        assert canonical(PARTNER, {"inboundTrust": value}) is not None
    else:
        with pytest.raises(TooDeep, match="nested deeper than 32 levels"):
            canonical(PARTNER, {"inboundTrust": value})
