"""The one form live and desired values are compared in (`core/canonical.py`): GUIDs in one case,
`targets` a set (any order, no duplicates, empty is unset), an object whose members are all null
unset, `@odata.*` annotations and members xtap does not model ignored, an absent property read as
the system value its type documents, and a value nested too deep refused. Directly, and through a
plan that finds no change where Graph and a file only write the same setting differently."""

from __future__ import annotations

import copy
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.planner_cases import UNSET_PARTNER, plan_for
from support.seeds import SEED_001_TENANT
from support.stub_servers import nested

from reconciler.core.bounds import MAX_REPLY_DEPTH
from reconciler.core.canonical import (
    _UNANNOTATED,
    TooDeep,
    absent_value,
    canonical,
    canonical_property,
    compared,
    is_compared_member,
)
from reconciler.core.registry import DEFAULT, MTO_PARTNER_TEMPLATE, PARTNER, REGISTRY, ResourceType

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


# -- the canonical form equals its first, plainly recursive, writing ---------------------------
# `core/canonical.py` is written for speed (it runs for every value of every partner); this is
# the form as first written, one isinstance test after another, which it must equal exactly:
# same values, same member order, same errors.


def reference_property(rtype: ResourceType, name: str, value: Any) -> Any:
    value = _reference(rtype, name, value)
    if value is None and name in rtype.absent_means:
        return _reference(rtype, name, rtype.absent_means[name])
    return value


def _reference(rtype: ResourceType, key: str | None, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict):
        return _reference_object(rtype, key, value, depth + 1)
    if isinstance(value, list):
        if depth >= MAX_REPLY_DEPTH:
            raise TooDeep(key)
        if key in rtype.set_members:
            normalised = (_reference(rtype, key, item, depth + 1) for item in value)
            unique = {_reference_sort_key(item): item for item in normalised if item is not None}
            return [unique[text] for text in sorted(unique)] or None
        return [_reference(rtype, None, item, depth + 1) for item in value] or None
    spell = rtype.spellings.get(key) if key is not None and isinstance(value, str) else None
    return value if spell is None else spell(value)


def _reference_object(rtype: ResourceType, key: str | None, value: dict[str, Any], depth: int) -> Any:
    if depth > MAX_REPLY_DEPTH:
        raise TooDeep(key)
    members: dict[str, Any] = {}
    compared_members = None if key is None else rtype.nested_members.get(key, _UNANNOTATED)
    for name, member in value.items():
        if compared_members is not None and name not in compared_members:
            continue
        if isinstance(member, (dict, list)) or name in rtype.spellings:
            member = _reference(rtype, name, member, depth)
        if member is not None:
            members[name] = member
    return members or None


def _reference_sort_key(item: Any) -> str:
    return repr(sorted(item.items())) if isinstance(item, dict) else repr(item)


class Text(str):
    """A str that is not exactly a str: the canonical form must treat it as one."""


# Every member name the registry gives a meaning to, and some it does not.
MEANINGFUL = sorted({name for rtype in REGISTRY for name in (*rtype.spellings, *rtype.set_members)})
NAMES = sorted(
    {name for rtype in REGISTRY for name in (*rtype.settings, *rtype.spellings, *rtype.set_members)}
    | {member for rtype in REGISTRY for members in rtype.nested_members.values() for member in members}
    | {name for rtype in REGISTRY for name in rtype.nested_members}
    | {"@odata.type", "notModelled"}
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from([GROUP, GROUP.lower(), "AllUsers", "none, newPartners", "existingPartners,newPartners", ""]),
    st.builds(Text, st.sampled_from([GROUP, "newPartners,none"])),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(NAMES), inner, max_size=5),
        st.dictionaries(st.sampled_from(MEANINGFUL), inner, max_size=3).map(OrderedDict),
    ),
    max_leaves=30,
)


def outcome(form: Any, *args: Any) -> str:
    """The form's repr (member order and all), or the error it raised."""
    try:
        return repr(form(*args))
    except TooDeep:
        return "TooDeep"


# Where a faster writing most easily goes wrong: a set of one item that is unset, members alike
# but in another order (the last one read is kept), a member of an unmodelled object.
@example(PARTNER, "targets", [None])
@example(PARTNER, "targets", [{"targetType": None}])
@example(PARTNER, "targets", [{"target": GROUP, "targetType": "group"}, {"targetType": "group", "target": GROUP}])
@example(PARTNER, "targets", [[GROUP], [GROUP.lower()], None])
@example(PARTNER, "notModelled", {"@odata.type": "x", "target": GROUP, "targets": [{"target": GROUP}]})
@example(PARTNER, "b2bCollaborationInbound", [{"target": GROUP, "@odata.type": "x"}])
@example(PARTNER, "target", Text(GROUP))
@example(PARTNER, "targets", [OrderedDict(target=Text(GROUP))])
@given(st.sampled_from(REGISTRY), st.one_of(st.sampled_from(MEANINGFUL), st.sampled_from(NAMES)), VALUES)
def test_the_canonical_form_is_the_reference_form(rtype: ResourceType, name: str, value: Any) -> None:
    assert outcome(canonical_property, rtype, name, value) == outcome(reference_property, rtype, name, value)


@given(st.sampled_from(REGISTRY), st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6))
def test_the_canonical_form_of_an_instance_is_the_reference_form(rtype: ResourceType, wire: dict[str, Any]) -> None:
    expected = {name: reference_property(rtype, name, wire.get(name)) for name in rtype.settings}
    assert repr(canonical(rtype, wire)) == repr(expected)


def in_objects(depth: int, leaf: Any, member: str) -> Any:
    value = leaf
    for _ in range(depth):
        value = {member: value}
    return value


@pytest.mark.parametrize("depth", range(26, 34))
@pytest.mark.parametrize("inner", [{"targets": [{"target": "x"}]}, [[1]], {"member": "x"}])
@pytest.mark.parametrize("chain", [nested, lambda depth, leaf: in_objects(depth, leaf, "notModelled")])
def test_the_canonical_form_refuses_where_the_reference_does(depth: int, inner: Any, chain: Any) -> None:
    value = chain(depth, inner)
    for rtype in (PARTNER, DEFAULT):
        assert outcome(canonical_property, rtype, "inboundTrust", value) == outcome(
            reference_property, rtype, "inboundTrust", value
        )
