"""`core/names.py`: the labels a view prints beside a target or a partner, from what the lookups
found and from the tables (keywords, first-party apps, the Microsoft Accounts tenant), and how
two lookups' findings merge."""

from __future__ import annotations

from reconciler.core.names import EITHER, FIRST_PARTY_APPS, KEYWORDS, MICROSOFT_ACCOUNTS, PARTNER_SIDE, TENANT, Names

GROUP = "aaaaaaaa-0000-4000-8000-000000000002"
GONE = "aaaaaaaa-0000-4000-8000-000000000009"
APP = "aaaaaaaa-0000-4000-8000-000000000003"
CONTOSO = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
FOUND = Names(
    tenants={CONTOSO: ("Contoso Ltd", "contoso.com"), GONE: ("Nameless domain", None)},
    objects={GROUP: ("Liaisons", "group")},
    apps={APP: "Payroll"},
    missing=frozenset({GONE}),
)


def test_partners_by_name_and_domain() -> None:
    assert FOUND.tenant(CONTOSO) == "Contoso Ltd (contoso.com)"
    assert FOUND.tenant(GONE) == "Nameless domain"
    assert FOUND.tenant(APP) is None
    assert Names().tenant(MICROSOFT_ACCOUNTS[0]) == MICROSOFT_ACCOUNTS[1]  # a table, not a lookup


def test_this_tenants_objects_by_name_and_kind_the_missing_said_so() -> None:
    assert FOUND.target(GROUP, "group", TENANT) == "Liaisons (group)"
    assert FOUND.target(GROUP.upper(), "group", EITHER) == "Liaisons (group)"
    assert FOUND.target(GONE, "user", TENANT) == "no such user in this tenant"
    assert FOUND.target(APP, "application", TENANT) == "Payroll"
    assert Names().target(GROUP, "group", TENANT) is None  # not looked up: the GUID alone


def test_the_partners_objects_are_labelled_by_whose_never_by_a_name_found_here() -> None:
    assert FOUND.target(GROUP, "group", PARTNER_SIDE) == "the partner's group"
    assert FOUND.target(GONE, "user", PARTNER_SIDE) == "the partner's user"
    assert Names().target(APP, "application", PARTNER_SIDE) == "the partner's app"
    # An appId is global: a first-party app is named on either side, from the table.
    assert Names().target(TEAMS, "application", PARTNER_SIDE) == FIRST_PARTY_APPS[TEAMS] == "Microsoft Teams"


def test_keywords_from_the_table() -> None:
    for keyword, meaning in KEYWORDS.items():
        assert Names().target(keyword, "user", PARTNER_SIDE) == meaning


def test_merged_keeps_both_and_what_one_found_is_not_missing() -> None:
    later = Names(objects={GONE: ("Back again", "user")}, unavailable={"partner names": "the token lacks X"})
    merged = FOUND.merged(later)
    assert merged.objects.keys() == {GROUP, GONE} and merged.missing == frozenset()
    assert merged.tenants == FOUND.tenants and merged.unavailable == later.unavailable
