"""`xtap show`'s report (reconciler/render/show.py): one line per setting, `own` or where it is
inherited from, values clipped and escaped; the JSON has every value whole. Through the CLI in
tests/commands/test_show.py."""

from __future__ import annotations

import json

from reconciler.core.address import Address
from reconciler.plan.effective import Held, InEffect, Setting
from reconciler.render.show import render_show, render_show_json

PARTNER = Address("partner", "90e29127-71ad-49c7-9ce8-db3f41ea06f1")
SETTINGS = (
    Setting("inboundTrust", {"isMfaAccepted": True}, None),
    Setting("b2bCollaborationInbound", {"note": "x" * 300}, "default"),
    Setting("tenantRestrictions", None, None),
)


def shown(address: Address = PARTNER, settings: tuple[Setting, ...] = SETTINGS, **rest: object) -> InEffect:
    """A partner's report with nothing but its settings, unless told."""
    parts: dict[str, object] = {"held": {}, "service_managed": {}, "not_read": {}, **rest}
    return InEffect(address, settings, **parts)  # type: ignore[arg-type]


def test_each_setting_is_a_line_saying_own_or_inherited() -> None:
    lines = render_show([shown()], color=False).splitlines()
    assert lines[0] == f"partner {PARTNER.id}"
    assert lines[1].split() == ["inboundTrust", "own", '{"isMfaAccepted":', "true}"]
    assert lines[2].split()[:3] == ["b2bCollaborationInbound", "from", "default"]
    assert lines[2].endswith("…") and len(lines[2].split("  ")[-1].strip()) == 140  # clipped
    assert lines[3].split() == ["tenantRestrictions", "own", "null"]


def test_the_header_is_bold_only_with_color_and_ids_are_escaped() -> None:
    hostile = Address("partner", "evil\x1b[2J")
    plain = render_show([shown(hostile, SETTINGS[:1])], color=False)
    assert plain.startswith("partner evil\\u001b[2J\n") and "\x1b" not in plain
    assert render_show([shown(settings=SETTINGS[:1])], color=True).startswith(f"\x1b[1mpartner {PARTNER.id}\x1b[0m\n")


def test_no_partners_is_said() -> None:
    assert render_show([], color=False) == "The tenant has no partners.\n"
    assert json.loads(render_show_json([])) == []


def test_the_json_has_each_value_whole_and_where_it_comes_from() -> None:
    [partner] = json.loads(render_show_json([shown()]))
    assert partner["resource"] == "partner" and partner["id"] == PARTNER.id
    assert partner["settings"]["b2bCollaborationInbound"] == {"value": {"note": "x" * 300}, "inheritedFrom": "default"}
    assert partner["settings"]["tenantRestrictions"] == {"value": None, "inheritedFrom": None}


ACCESS = {"isAllowed": True}
CAPABILITIES = (
    Held("crossTenantCalendarAvailabilityBasic", {"inboundAccess": ACCESS}, None),
    Held("crossTenantMailTipsLimited", {"inboundAccess": ACCESS}, "default"),
)


def test_capabilities_and_service_managed_values_follow_the_settings() -> None:
    constraints = {
        "@odata.type": "#microsoft.graph.delegatedAdminServiceProviderConstraints",
        "id": "x",
        "allowedRoleTemplateIds": ["62E90394-69F5-4237-9190-012177145E10", "b\x1b[31m"],
        "createdDateTime": "2026-08-03T10:00:00Z",
    }
    report = shown(held={"m365Capabilities": CAPABILITIES}, service_managed={"serviceProviderConstraints": constraints})
    lines = render_show([report], color=False).splitlines()[4:]
    assert [line.split() for line in lines] == [
        ["m365Capabilities.crossTenantCalendarAvailabilityBasic", "own", '{"isAllowed":', "true}"],
        ["m365Capabilities.crossTenantMailTipsLimited", "from", "default", '{"isAllowed":', "true}"],
        [
            "serviceProviderConstraints",
            "service-managed",
            "allowedRoleTemplateIds:",
            "62E90394-69F5-4237-9190-012177145E10",
            "(Global",
            "Administrator),",
            "b\\u001b[31m",
        ],
    ]


def test_capabilities_not_read_or_none_say_so_and_a_navigation_not_read_too() -> None:
    unread = shown(
        held={"m365Capabilities": None},
        not_read={"m365Capabilities": "Insufficient privileges", "serviceProviderConstraints": "denied\x07"},
    )
    lines = render_show([unread], color=False).splitlines()[4:]
    assert [line.split()[:3] for line in lines] == [
        ["m365Capabilities", "not", "read"],
        ["serviceProviderConstraints", "not", "read"],
    ]
    assert "Insufficient privileges" in lines[0] and "\x07" not in lines[1]
    none = render_show(
        [shown(held={"m365Capabilities": ()}, service_managed={"serviceProviderConstraints": None})], False
    )
    assert [line.split()[:2] for line in none.splitlines()[4:]] == [
        ["m365Capabilities", "none"],
        ["serviceProviderConstraints", "service-managed"],
    ]
    assert none.splitlines()[-1].split()[-1] == "none"


def test_the_json_has_capabilities_by_name_and_service_managed_read_only() -> None:
    constraints = {"@odata.context": "http://x/$metadata", "allowedRoleTemplateIds": []}
    report = shown(held={"m365Capabilities": CAPABILITIES}, service_managed={"serviceProviderConstraints": constraints})
    [partner] = json.loads(render_show_json([report]))
    assert partner["m365Capabilities"]["crossTenantMailTipsLimited"] == {
        "value": {"inboundAccess": ACCESS},
        "inheritedFrom": "default",
    }
    assert partner["serviceManaged"] == {
        "serviceProviderConstraints": {"value": {"allowedRoleTemplateIds": []}, "readOnly": True}
    }
    unread = shown(held={"m365Capabilities": None}, not_read={"m365Capabilities": "denied"})
    [partner] = json.loads(render_show_json([unread]))
    assert partner["m365Capabilities"] is None and partner["notRead"] == {"m365Capabilities": "denied"}
