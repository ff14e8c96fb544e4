"""The plan file is input too: apply sends only requests this version's planner makes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from reconciler import planfile
from reconciler.plan import PARTNER, Change, Plan, Request

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
UPDATE = Change(
    PARTNER,
    TENANT,
    "update",
    "policies/partners/f.yaml:3",
    (),
    (Request("PATCH", f"/policies/crossTenantAccessPolicy/partners/{TENANT}", {"inboundTrust": None}),),
)
PLAN = Plan(changes=(UPDATE,), live_digest="sha256:x", graph_url="https://graph.microsoft.com/v1.0")


def saved() -> dict[str, Any]:
    return copy.deepcopy(planfile.to_dict(PLAN))


def test_round_trip() -> None:
    assert planfile.loads(planfile.dumps(PLAN)) == PLAN


def tampered(edit: str) -> dict[str, Any]:
    data = saved()
    request = data["changes"][0]["requests"][0]
    if edit == "delete smuggled in":
        request["method"] = "DELETE"
    elif edit == "another url":
        request["url"] = "/policies/crossTenantAccessPolicy/default"
    elif edit == "path in the id":
        data["changes"][0]["id"] = "../default"
    elif edit == "unknown action":
        data["changes"][0]["action"] = "nuke"
    elif edit == "future version":
        data["formatVersion"] = 2
    elif edit == "missing field":
        del data["liveDigest"]
    return data


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("delete smuggled in", "is not one xtap plans"),
        ("another url", "is not one xtap plans"),
        ("path in the id", "is not a tenant id"),
        ("unknown action", "does not apply 'nuke'"),
        ("future version", "this xtap reads version 1"),
        ("missing field", "malformed plan"),
    ],
)
def test_a_tampered_or_foreign_plan_is_refused(edit: str, message: str) -> None:
    with pytest.raises(planfile.PlanFileError, match=message):
        planfile.loads(json.dumps(tampered(edit)), "plan.json")


def test_not_json_names_the_position() -> None:
    with pytest.raises(planfile.PlanFileError, match=r"plan.json:1:2: not JSON"):
        planfile.loads("{oops", "plan.json")
