"""Every row of Graph's "Interpreting the API response" table
(https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicy-overview), its API
output as the page shows it, judged for a user in group g1, a user in no group, application a1
and another application: the verdicts are the page's interpretation, word for word below."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.explain.access import Half, Subject, decide, matched, opens

G1, A1 = "g1", "a1"
IN_G1, OUTSIDE = Subject(groups=(G1,)), Subject(user="u2", groups=("g2",))


def half(access: str, target: str, kind: str) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": target, "targetType": kind}]}


def allowed(setting: dict[str, Any], who: Subject, app: str) -> bool:
    asked = Subject(who.user, who.groups, app)
    halves = [matched(Half.of(name, setting[name]), asked) for name in ("usersAndGroups", "applications")]
    return decide(halves).allowed


ALL_USERS, ALL_APPS = ("AllUsers", "user"), ("AllApplications", "application")
GROUP, APP = (G1, "group"), (A1, "application")
OTHER_APP = "a2"

# (scenario, usersAndGroups, applications, {(who, app): allowed}) in the page's order.
ROWS = [
    # "Block all users and block all applications"
    ("block all", ("blocked", *ALL_USERS), ("blocked", *ALL_APPS), {(IN_G1, A1): False, (OUTSIDE, OTHER_APP): False}),
    # "Allow all users and allow all applications"
    ("allow all", ("allowed", *ALL_USERS), ("allowed", *ALL_APPS), {(IN_G1, A1): True, (OUTSIDE, OTHER_APP): True}),
    # "Users in group 'g1' can access any app. All other users not in group 'g1' are blocked."
    (
        "allow g1 any app",
        ("allowed", *GROUP),
        ("allowed", *ALL_APPS),
        {(IN_G1, A1): True, (IN_G1, OTHER_APP): True, (OUTSIDE, A1): False, (OUTSIDE, OTHER_APP): False},
    ),
    # "All users are only allowed to access application 'a1'"
    (
        "allow only a1",
        ("allowed", *ALL_USERS),
        ("allowed", *APP),
        {(IN_G1, A1): True, (OUTSIDE, A1): True, (IN_G1, OTHER_APP): False, (OUTSIDE, OTHER_APP): False},
    ),
    # "All users in group 'g1' are allowed to access any application except application 'a1'."
    ("allow g1, block a1", ("allowed", *GROUP), ("blocked", *APP), {(IN_G1, OTHER_APP): True, (IN_G1, A1): False}),
    # "Users in group 'g1' can't access any application. Other users not in group 'g1' have
    # access to all applications."
    (
        "block g1 from any app",
        ("blocked", *GROUP),
        ("blocked", *ALL_APPS),
        {(IN_G1, A1): False, (IN_G1, OTHER_APP): False, (OUTSIDE, A1): True, (OUTSIDE, OTHER_APP): True},
    ),
    # "Users in group 'g1' can't access any application. Any user not in group 'g1' can only
    # access application 'a1'."
    (
        "block g1, allow only a1",
        ("blocked", *GROUP),
        ("allowed", *APP),
        {(IN_G1, A1): False, (IN_G1, OTHER_APP): False, (OUTSIDE, A1): True, (OUTSIDE, OTHER_APP): False},
    ),
    # "Users in group 'g1' are only allowed to access application 'a1'. All users, including
    # users in group 'g1', are blocked from accessing any other application."
    (
        "allow g1 only a1",
        ("allowed", *GROUP),
        ("allowed", *APP),
        {(IN_G1, A1): True, (IN_G1, OTHER_APP): False, (OUTSIDE, OTHER_APP): False},
    ),
    # "Users in group 'g1' are blocked from accessing application 'a1' only. All users,
    # including users in group 'g1' are able to access any other application."
    (
        "block g1 from a1",
        ("blocked", *GROUP),
        ("blocked", *APP),
        {(IN_G1, A1): False, (IN_G1, OTHER_APP): True, (OUTSIDE, A1): True, (OUTSIDE, OTHER_APP): True},
    ),
]


@pytest.mark.parametrize(("scenario", "users", "apps", "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_every_row_of_graphs_interpretation_table(
    scenario: str, users: tuple[str, str, str], apps: tuple[str, str, str], expected: dict[tuple[Subject, str], bool]
) -> None:
    setting = {"usersAndGroups": half(*users), "applications": half(*apps)}
    assert {key: allowed(setting, *key) for key in expected} == expected


def test_the_table_is_not_a_plain_and_of_the_halves() -> None:
    """The row that tells the two readings apart: a plain AND would block everyone outside g1
    from every application, since the applications half blocks AllApplications."""
    setting = {"usersAndGroups": half("blocked", *GROUP), "applications": half("blocked", *ALL_APPS)}
    halves = [matched(Half.of(name, setting[name]), Subject(groups=("g2",))) for name in setting]
    assert [m.passes for m in halves] == [True, False]  # each half alone
    assert decide(halves).allowed  # together: the block is on the pair


@pytest.mark.parametrize(
    ("target", "app", "named"),
    [
        ("AllApplications", "00000003-0000-0ff1-ce00-000000000000", True),
        ("AllApplications", None, True),
        ("Office365", "Office365", True),
        ("office365", "OFFICE365", True),
        ("AllMicrosoftApps", "Office365", True),
        ("Office365", "AllMicrosoftApps", False),  # the suite is the smaller one
        ("Office365", "00000003-0000-0ff1-ce00-000000000000", False),  # ids are never taken to be in a suite
        ("A1", "a1", True),  # ids match whatever their case
        ("a1", None, False),
    ],
)
def test_application_targets(target: str, app: str | None, named: bool) -> None:
    judged = matched(Half.of("applications", half("allowed", target, "application")), Subject(app=app))
    assert (judged.target is not None) is named


def test_a_user_target_names_that_user_and_a_group_target_its_members() -> None:
    users = Half.of("usersAndGroups", {"accessType": "allowed", "targets": [{"target": "U1", "targetType": "user"}]})
    assert matched(users, Subject(user="u1")).passes
    assert not matched(users, Subject(user="u2", groups=("u1",))).passes  # a group is not the user


def test_an_access_type_xtap_does_not_know_lets_no_one_past() -> None:
    judged = matched(Half.of("usersAndGroups", half("unknownFutureValue", "AllUsers", "user")), Subject())
    assert (
        not judged.passes
        and not matched(Half.of("usersAndGroups", half("unknownFutureValue", "g9", "group")), Subject()).passes
    )


@pytest.mark.parametrize(
    ("users", "apps", "open_"),
    [
        (("blocked", *ALL_USERS), ("blocked", *ALL_APPS), False),  # the system default of direct connect
        (("allowed", *ALL_USERS), ("allowed", *ALL_APPS), True),
        (("blocked", *GROUP), ("blocked", *ALL_APPS), True),  # everyone outside g1 gets everything
        (("blocked", *ALL_USERS), ("blocked", *APP), True),  # every other application stays open
        (("blocked", *ALL_USERS), ("allowed", *ALL_APPS), False),  # no user gets past the first half
        (("allowed", *GROUP), ("blocked", *ALL_APPS), False),  # no application gets past the second
        (("allowed", *GROUP), ("allowed", *APP), True),
    ],
)
def test_whether_a_setting_lets_anyone_through(
    users: tuple[str, str, str], apps: tuple[str, str, str], open_: bool
) -> None:
    setting = {"usersAndGroups": half(*users), "applications": half(*apps)}
    assert opens([Half.of(name, setting[name]) for name in setting]) is open_


def test_an_allowing_half_that_names_no_one_lets_no_one_through() -> None:
    assert not opens([Half("applications", "allowed", ())])
    assert opens([Half("applications", "blocked", ())])
