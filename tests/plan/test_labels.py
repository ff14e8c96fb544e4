"""`plan/labels.py`: what a plan looks up (the partners it changes and this tenant's objects
their values name, never the partner's own objects, never the unchanged partners) and the labels
it shows; what `xtap show` looks up of the bodies it shows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Live
from reconciler.core.names import Names
from reconciler.plan.labels import Wanted, body_labels, in_bodies, in_files, labels, shown, shown_change, wanted
from reconciler.plan.model import Change

CHANGED = "11111111-1111-4111-8111-111111111111"
UNCHANGED = "22222222-2222-4222-8222-222222222222"
MINE = "aaaaaaaa-0000-4000-8000-000000000001"  # this tenant's group
THEIRS = "aaaaaaaa-0000-4000-8000-000000000002"  # the partner's group
LIVE_ONLY = "aaaaaaaa-0000-4000-8000-000000000003"  # this tenant's user, only in the live body
APP = "aaaaaaaa-0000-4000-8000-000000000004"  # this tenant's app (inbound applications)
OTHER = "aaaaaaaa-0000-4000-8000-000000000005"  # a group only the unchanged partner names


def _targets(target: str, kind: str) -> dict[str, Any]:
    return {"accessType": "allowed", "targets": [{"target": target, "targetType": kind}]}


def _partner(tenant: str, outbound: str, inbound: str = THEIRS) -> dict[str, Any]:
    return {
        "tenantId": tenant,
        "b2bCollaborationInbound": {
            "usersAndGroups": _targets(inbound, "group"),
            "applications": _targets(APP, "application"),
        },
        "b2bCollaborationOutbound": {"usersAndGroups": _targets(outbound, "group")},
    }


DESIRED = Desired(
    {
        Address("partner", CHANGED): DesiredInstance(_partner(CHANGED, MINE), "p/changed.yaml:1"),
        Address("partner", UNCHANGED): DesiredInstance(_partner(UNCHANGED, OTHER), "p/unchanged.yaml:1"),
    }
)
LIVE = Live(
    {
        Address("partner", CHANGED): {
            **_partner(CHANGED, LIVE_ONLY),
            "b2bCollaborationOutbound": {"usersAndGroups": _targets(LIVE_ONLY, "user")},
        },
        Address("partner", UNCHANGED): _partner(UNCHANGED, OTHER),
    },
    read=("partner",),
)
CHANGES = [Change("partner", CHANGED, "update", "p/changed.yaml:1", (), ())]


def test_wanted_is_the_changed_partners_and_this_tenants_objects_they_name() -> None:
    assert wanted(shown(CHANGES, DESIRED, LIVE)) == Wanted(
        tenants=frozenset({CHANGED}), objects=frozenset({MINE, LIVE_ONLY}), apps=frozenset({APP})
    )


def test_the_partners_objects_are_never_wanted_nor_anything_without_a_change() -> None:
    found = wanted(shown(CHANGES, DESIRED, LIVE))
    assert THEIRS not in found.objects | found.apps and OTHER not in found.objects
    assert wanted(shown([], DESIRED, LIVE)) == Wanted()


def test_in_files_is_every_files_users_and_groups_of_this_tenant() -> None:
    assert in_files(DESIRED) == Wanted(objects=frozenset({MINE, OTHER}))


def test_labels_are_the_ids_the_changes_show_that_something_is_known_of() -> None:
    names = Names(
        tenants={CHANGED: ("Contoso", "contoso.com"), UNCHANGED: ("Fabrikam", None)},
        objects={MINE: ("Liaisons", "group"), OTHER: ("Other", "group")},
        missing=frozenset({LIVE_ONLY}),
    )
    assert labels(shown(CHANGES, DESIRED, LIVE), names) == {
        CHANGED: "Contoso (contoso.com)",
        MINE: "Liaisons (group)",
        LIVE_ONLY: "no such user in this tenant",
        THEIRS: "the partner's group",
    }  # APP: nothing known, so not shown; the unchanged partner and its group: not in the plan


def test_a_shown_bodys_lookups_and_labels_keywords_included() -> None:
    body = {**_partner(UNCHANGED, OTHER), "b2bDirectConnectOutbound": {"usersAndGroups": _targets("AllUsers", "user")}}
    assert in_bodies([("partner", body)]) == Wanted(objects=frozenset({OTHER}), apps=frozenset({APP}))
    assert body_labels([("partner", body)], Names(apps={APP: "Payroll"})) == {
        APP: "Payroll",
        THEIRS: "the partner's group",
        "AllUsers": "all users",
    }


def test_a_member_equal_in_both_bodies_is_walked_once_and_what_only_live_holds_is_walked() -> None:
    extra = {"b2bDirectConnectInbound": {"usersAndGroups": _targets(OTHER, "group")}}
    live = Live({Address("partner", CHANGED): {**LIVE.instances[Address("partner", CHANGED)], **extra}}, ("partner",))
    [(tenant, refs)] = shown(CHANGES, DESIRED, live).changes
    values = [ref.value for ref in refs]
    # b2bCollaborationInbound is the same in both: its group and app once, from the desired body.
    assert tenant == CHANGED and values.count(THEIRS) == 1 and values.count(APP) == 1
    # Outbound differs (MINE desired, LIVE_ONLY live); the direct-connect block is only live.
    assert {MINE, LIVE_ONLY, OTHER} <= set(values)


def test_what_was_shown_ahead_is_taken_for_the_very_change_only() -> None:
    """`plan.ahead` walks each change it makes while the tenant is read (`shown_change`); `shown`
    takes that for the same change object, and walks an equal one that is another object."""
    [change] = CHANGES
    walked = shown(CHANGES, DESIRED, LIVE).changes
    address = Address("partner", CHANGED)
    assert walked == (shown_change(change, DESIRED.instances[address].written, LIVE.instances[address]),)
    marked = (CHANGED, ())
    assert shown(CHANGES, DESIRED, LIVE, {address: (change, marked)}).changes == (marked,)
    assert shown(CHANGES, DESIRED, LIVE, {address: (replace(change), marked)}).changes == walked
