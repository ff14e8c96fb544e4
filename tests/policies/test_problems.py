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


def test_a_wrong_type_names_the_path_and_a_plain_value() -> None:
    assert said({"inboundTrust": {"isMfaAccepted": "yes"}}) == [
        Placed(
            ("inboundTrust", "isMfaAccepted"), "inboundTrust.isMfaAccepted: Input should be a valid boolean, got 'yes'"
        )
    ]
    [placed] = said({"inboundTrust": []})  # a list is not shown: it may be long
    assert placed.message.endswith("instance of InboundTrust")


def test_a_policy_error_lists_every_problem_by_file_and_line() -> None:
    error = PolicyError([Problem("b.yaml", 1, 1, "x"), Problem.whole("a.yaml", "y"), Problem("a.yaml", 3, 2, "z")])
    assert str(error) == "a.yaml:1:1: y\na.yaml:3:2: z\nb.yaml:1:1: x"
