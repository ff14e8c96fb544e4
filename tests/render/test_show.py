"""`xtap show`'s report (reconciler/render/show.py): one line per setting, `own` or where it is
inherited from, values clipped and escaped; the JSON has every value whole. Through the CLI in
tests/commands/test_show.py."""

from __future__ import annotations

import json

from reconciler.core.address import Address
from reconciler.plan.effective import Setting
from reconciler.render.show import render_show, render_show_json

PARTNER = Address("partner", "90e29127-71ad-49c7-9ce8-db3f41ea06f1")
SETTINGS = (
    Setting("inboundTrust", {"isMfaAccepted": True}, None),
    Setting("b2bCollaborationInbound", {"note": "x" * 300}, "default"),
    Setting("tenantRestrictions", None, None),
)


def test_each_setting_is_a_line_saying_own_or_inherited() -> None:
    lines = render_show([(PARTNER, SETTINGS)], color=False).splitlines()
    assert lines[0] == f"partner {PARTNER.id}"
    assert lines[1].split() == ["inboundTrust", "own", '{"isMfaAccepted":', "true}"]
    assert lines[2].split()[:3] == ["b2bCollaborationInbound", "from", "default"]
    assert lines[2].endswith("…") and len(lines[2].split("  ")[-1].strip()) == 140  # clipped
    assert lines[3].split() == ["tenantRestrictions", "own", "null"]


def test_the_header_is_bold_only_with_color_and_ids_are_escaped() -> None:
    hostile = Address("partner", "evil\x1b[2J")
    plain = render_show([(hostile, SETTINGS[:1])], color=False)
    assert plain.startswith("partner evil\\u001b[2J\n") and "\x1b" not in plain
    assert render_show([(PARTNER, SETTINGS[:1])], color=True).startswith(f"\x1b[1mpartner {PARTNER.id}\x1b[0m\n")


def test_no_partners_is_said() -> None:
    assert render_show([], color=False) == "The tenant has no partners.\n"
    assert json.loads(render_show_json([])) == []


def test_the_json_has_each_value_whole_and_where_it_comes_from() -> None:
    [partner] = json.loads(render_show_json([(PARTNER, SETTINGS)]))
    assert partner["resource"] == "partner" and partner["id"] == PARTNER.id
    assert partner["settings"]["b2bCollaborationInbound"] == {"value": {"note": "x" * 300}, "inheritedFrom": "default"}
    assert partner["settings"]["tenantRestrictions"] == {"value": None, "inheritedFrom": None}
