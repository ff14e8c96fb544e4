"""The plan file is input too: apply sends only requests this version's planner makes."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.request import Request
from reconciler.plan import file as planfile
from reconciler.plan.model import Change, DiffEntry, Plan, Written

PARTNER = "partner"

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
    skipped = replace(PLAN, skipped={"m365Capability": "Insufficient privileges to complete the operation."})
    assert planfile.loads(planfile.dumps(skipped)) == skipped


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(formatVersion=2), "this xtap reads version 1"),
        (lambda d: d.pop("liveDigest"), "malformed plan"),
        (lambda d: d["changes"][0].update(id=["not", "a", "string"]), "must be strings"),
        (lambda d: d.update(changes="none"), "malformed plan"),
        (lambda d: d.update(skipped={"m365Capability": 3}), "must be strings"),
        (lambda d: d.update(skipped=["m365Capability"]), "malformed plan"),
    ],
    ids=["future version", "missing field", "id not a string", "changes not a list", "reason not text", "not a map"],
)
def test_a_malformed_or_foreign_plan_is_refused(edit: Any, message: str) -> None:
    data = saved()
    edit(data)
    with pytest.raises(planfile.PlanFileError, match=message):
        planfile.loads(json.dumps(data), "plan.json")


def test_a_deeply_nested_plan_is_an_error_not_a_crash() -> None:
    with pytest.raises(planfile.PlanFileError, match="nested too deeply"):
        planfile.loads("[" * 100_000 + "]" * 100_000, "plan.json")


OTHER = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"


def edited(edit: str) -> Plan:
    """PLAN as a hand-edited file would load."""
    data = saved()
    change = data["changes"][0]
    if edit == "retargeted":
        change["id"] = OTHER
        change["requests"][0]["url"] = f"/policies/crossTenantAccessPolicy/partners/{OTHER}"
    elif edit == "another body":
        change["requests"][0]["body"] = {"isServiceProvider": True}
    elif edit == "added":
        data["changes"].append({**copy.deepcopy(change), "id": OTHER})
    elif edit == "repeated":
        data["changes"].append(copy.deepcopy(change))
    elif edit == "dropped":
        data["changes"] = []
    return planfile.loads(json.dumps(data))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("retargeted", f"it changes partner {OTHER}, which the plan made now leaves alone"),
        ("another body", f"its change to partner {TENANT} differs from the one planned now"),
        ("added", f"it changes partner {OTHER}, which the plan made now leaves alone"),
        ("repeated", f"it changes partner {TENANT} more than once"),
        ("dropped", f"the plan made now also changes partner {TENANT}"),
    ],
)
def test_an_edited_plan_differs_from_the_plan_made_now(edit: str, message: str) -> None:
    assert planfile.difference(edited(edit), PLAN) == message


def test_the_same_plan_found_through_another_path_is_no_difference() -> None:
    elsewhere = Plan(changes=(replace(UPDATE, source="./policies/partners/f.yaml:3"),), live_digest="sha256:x")
    assert planfile.difference(PLAN, elsewhere) is None


def test_not_json_names_the_position() -> None:
    with pytest.raises(planfile.PlanFileError, match=r"plan.json:1:2: not JSON"):
        planfile.loads("{oops", "plan.json")


GRANT = Change(
    PARTNER,
    OTHER,
    "update",
    "policies/partners/c.yaml:3",
    (DiffEntry("inboundTrust.isMfaAccepted", False, True),),
    (
        Request(
            "PATCH", f"/policies/crossTenantAccessPolicy/partners/{OTHER}", {"inboundTrust": {"isMfaAccepted": True}}
        ),
    ),
)


def test_each_change_says_its_risk_and_apply_neither_reads_nor_compares_it() -> None:
    plan = replace(PLAN, changes=(UPDATE, GRANT))
    data = copy.deepcopy(planfile.to_dict(plan))
    assert [change["risk"] for change in data["changes"]] == [
        {"class": "update", "reasons": []},
        {"class": "grant", "reasons": ["inboundTrust.isMfaAccepted → true"]},
    ]
    # A file whose risk says otherwise is the same plan: the risk is made from the change, not read.
    data["changes"][1]["risk"] = {"class": "create", "reasons": []}
    loaded = planfile.loads(json.dumps(data))
    assert loaded == plan and planfile.difference(loaded, plan) is None
    assert planfile.to_dict(loaded)["changes"][1]["risk"]["class"] == "grant"
    # Nor do what a null inherits, which can change a risk but sends nothing, make plans differ.
    inheriting = replace(plan, inherited={PARTNER: {"inboundTrust": {"isMfaAccepted": True}}})
    assert planfile.difference(inheriting, plan) is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_the_plan_file_is_indented_exactly_as_json_dumps_indents(value: Any) -> None:
    """`dumps` writes the plan with its own indenting writer, faster than json's: any JSON
    value, odd strings, floats and empty containers included, reads as `json.dumps` writes it."""
    out: list[str] = []
    planfile._indented(value, out.append, "\n")
    assert "".join(out) == json.dumps(value, indent=2)
    assert planfile.dumps(PLAN) == json.dumps(planfile.to_dict(PLAN), indent=2) + "\n"


def test_a_part_written_ahead_is_taken_only_for_the_very_change_and_inherited_values() -> None:
    """`Plan.written` (made while the tenant was read, `plan.ahead`): its text of a change is
    what the file holds for that very change object, and none is taken when the values a null
    inherits are not those it was written under, nor for an equal change that is another object."""
    inherited = {PARTNER: {"inboundTrust": {"isMfaAccepted": True}}}
    plan = replace(PLAN, changes=(UPDATE, GRANT), inherited=inherited)
    whole = planfile.dumps(plan)
    ahead = {change.address: (change, planfile.change_text(change, inherited[PARTNER])) for change in plan.changes}
    settings = (plan.settings, planfile.settings_text(plan.settings))
    assert planfile.dumps(replace(plan, written=Written(inherited, ahead, settings))) == whole
    marked = {UPDATE.address: (UPDATE, '"written ahead"')}
    assert '"written ahead"' in planfile.dumps(replace(plan, written=Written(inherited, marked)))
    assert planfile.dumps(replace(plan, written=Written({}, marked))) == whole  # other inherited values
    other = {UPDATE.address: (replace(UPDATE), '"written ahead"')}  # equal, but not the same object
    assert planfile.dumps(replace(plan, written=Written(inherited, other))) == whole
