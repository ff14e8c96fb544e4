"""pydantic's errors in the words of a policy file's author, each with the property it is about
and whether to point at its key: before any file or position is involved."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.core.models import Partner
from reconciler.policies.problems import Placed, PolicyError, Problem, described

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


def said(data: dict[str, Any]) -> list[Placed]:
    with pytest.raises(ValidationError) as raised:
        Partner.model_validate({"tenantId": TENANT, **data} if data else data)
    return [described(error) for error in raised.value.errors()]


def test_an_unknown_property_points_at_its_key_with_the_name_it_likely_means() -> None:
    assert said({"inboundtrust": {}}) == [
        Placed(
            ("inboundtrust",),
            "unknown property 'inboundtrust'; did you mean 'inboundTrust'? (names are Graph's, case-sensitive)",
            on_key=True,
        )
    ]
    assert said({"inboundTrust": {"usersAndGroups": {}}}) == [
        Placed(
            ("inboundTrust", "usersAndGroups"),
            "'usersAndGroups' is not a property of 'inboundTrust' (it belongs to another object)",
            on_key=True,
        )
    ]


def test_a_missing_property_is_required() -> None:
    assert said({}) == [Placed(("tenantId",), "'tenantId' is required")]


def test_a_refused_property_points_at_its_key_with_our_own_message() -> None:
    [placed] = said({"isInMultiTenantOrganization": True})
    assert placed.path == ("isInMultiTenantOrganization",) and placed.on_key
    assert placed.message.startswith("'isInMultiTenantOrganization' is read-only")


def test_another_objects_odata_type_points_at_the_annotation() -> None:
    [placed] = said({"inboundTrust": {"@odata.type": "#x"}})
    assert placed.path == ("inboundTrust", "@odata.type") and not placed.on_key


def test_a_mapping_written_as_a_value_lists_the_model_s_fields() -> None:
    """pydantic's "valid dictionary or instance of InboundTrust" names a class the author never
    wrote; the message names the property and the fields the model has."""
    assert said({"inboundTrust": True}) == [
        Placed(
            ("inboundTrust",),
            "inboundTrust must be a mapping of isMfaAccepted, isCompliantDeviceAccepted, "
            "isHybridAzureADJoinedDeviceAccepted (true/false), not true",
        )
    ]
    [placed] = said({"inboundTrust": []})  # a list is named, not shown: it may be long
    assert placed.message.endswith("(true/false), not a list")
    assert "instance of" not in placed.message and "Input should" not in placed.message


def test_the_fields_listed_come_from_the_model_not_from_a_list_here() -> None:
    """A list item's model (UserTarget) is found by the class name pydantic gives, and its
    fields listed without "(true/false)", since they are not all booleans."""
    setting = {"usersAndGroups": {"accessType": "allowed", "targets": ["AllUsers"]}}
    assert said({"b2bCollaborationInbound": setting}) == [
        Placed(
            ("b2bCollaborationInbound", "usersAndGroups", "targets", 0),
            "an item of targets must be a mapping of target, targetType, not 'AllUsers'",
        )
    ]
    # a read-only property (refused by name) is not offered as one to write
    [placed] = said({"tenantRestrictions": "blocked"})
    assert placed.message == "tenantRestrictions must be a mapping of usersAndGroups, applications, not 'blocked'"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"inboundTrust": {"isMfaAccepted": "yes"}},
            "isMfaAccepted must be true or false, not 'yes' (xtap reads YAML 1.2, where yes is a string, not a "
            "boolean: write true)",
        ),
        (
            {"inboundTrust": {"isMfaAccepted": "Off"}},
            "isMfaAccepted must be true or false, not 'Off' (xtap reads YAML 1.2, where Off is a string, not a "
            "boolean: write false)",
        ),
        (
            {"inboundTrust": {"isMfaAccepted": "true"}},
            "isMfaAccepted must be true or false, not 'true' (quoted, so a string: write true without quotes)",
        ),
        ({"inboundTrust": {"isMfaAccepted": 1}}, "isMfaAccepted must be true or false, not 1"),
        (
            {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed", "targets": "AllUsers"}}},
            "targets must be a list, not 'AllUsers'",
        ),
        (
            {"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allow"}}},
            "accessType must be 'allowed' or 'blocked', not 'allow'",
        ),
        (
            {"identitySynchronization": {"displayName": 7}},
            "displayName must be a string, not 7 (quote it to make it a string)",
        ),
        (
            {"inboundTrust": {"isMfaAccepted": "x\n" * 40}},  # escaped and clipped
            "isMfaAccepted must be true or false, not " + repr("x\n" * 30 + "…"),
        ),
    ],
)
def test_a_wrong_type_says_the_type_expected_and_what_was_written(data: dict[str, Any], message: str) -> None:
    [placed] = said(data)
    assert placed.message == message
    assert "Input should" not in placed.message and "\n" not in placed.message  # escaped: one line


def test_a_tenant_id_written_as_a_number_is_not_a_tenant_id() -> None:
    with pytest.raises(ValidationError) as raised:
        Partner.model_validate({"tenantId": 12345})
    assert [described(error) for error in raised.value.errors()] == [
        Placed(("tenantId",), "tenantId 12345 is not a tenant id (a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)")
    ]


def test_a_policy_error_lists_every_problem_by_file_and_line() -> None:
    error = PolicyError([Problem("b.yaml", 1, 1, "x"), Problem.whole("a.yaml", "y"), Problem("a.yaml", 3, 2, "z")])
    assert str(error) == "a.yaml:1:1: y\na.yaml:3:2: z\nb.yaml:1:1: x"
