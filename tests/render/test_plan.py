"""The plan's renderers (reconciler/render/plan.py): text for terminals, markdown for PR comments,
JSON for programs. No I/O. How markdown.fit trims any report is in test_markdown.py."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from reconciler.core.request import Request
from reconciler.plan import file as planfile
from reconciler.plan.model import Change, DiffEntry, Plan, Unmanaged
from reconciler.render.plan import render_json, render_markdown, render_text

PARTNER, MTO_PARTNER_TEMPLATE = "partner", "mtoPartnerTemplate"

NEW = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
STRAY = "11111111-2222-3333-4444-555555555555"
PARTNERS = "/policies/crossTenantAccessPolicy/partners"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

B2B_ALL = {
    "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {
        "accessType": "allowed",
        "targets": [{"target": "AllApplications", "targetType": "application"}],
    },
}

CREATE = Change(
    resource=PARTNER,
    id=NEW,
    action="create",
    source="policies/partners/contoso.yaml:1",
    diff=(DiffEntry("isServiceProvider", None, True), DiffEntry("b2bCollaborationInbound", None, B2B_ALL)),
    requests=(
        Request("POST", PARTNERS, {"tenantId": NEW, "isServiceProvider": True, "b2bCollaborationInbound": B2B_ALL}),
    ),
)
UPDATE = Change(
    resource=PARTNER,
    id=FABRIKAM,
    action="update",
    source="policies/partners/fabrikam.yaml:3",
    diff=(
        DiffEntry("inboundTrust", {"isMfaAccepted": False}, {"isMfaAccepted": True}),
        DiffEntry("tenantRestrictions", {"usersAndGroups": {"accessType": "blocked"}}, None),
    ),
    requests=(
        Request(
            "PATCH",
            f"{PARTNERS}/{FABRIKAM}",
            {"inboundTrust": {"isMfaAccepted": True}, "tenantRestrictions": None},
        ),
    ),
)
# What a partner's null inherits: B2B collaboration open to everyone, as the system default has it.
INHERITED = {PARTNER: {"b2bCollaborationInbound": B2B_ALL, "b2bCollaborationOutbound": B2B_ALL}}
# A create that restates the default (a `create`) and an update that trusts MFA claims (a `grant`).
PLAN = Plan(
    changes=(CREATE, UPDATE), unmanaged=(Unmanaged(PARTNER, STRAY),), live_digest="sha256:abc", inherited=INHERITED
)


def big_plan(n: int) -> Plan:
    """`n` updates, each with a large diff and a large request body."""
    changes = tuple(
        Change(
            resource=PARTNER,
            id=f"00000000-0000-0000-0000-{i:012d}",
            action="update",
            source=f"policies/partners/partner-{i}.yaml:2",
            diff=tuple(DiffEntry(f"b2bCollaboration{side}", None, B2B_ALL) for side in ("Inbound", "Outbound")),
            requests=(
                Request(
                    "PATCH",
                    f"{PARTNERS}/00000000-0000-0000-0000-{i:012d}",
                    {"b2bCollaborationInbound": B2B_ALL, "b2bCollaborationOutbound": B2B_ALL},
                ),
            ),
        )
        for i in range(n)
    )
    return Plan(changes=changes, inherited=INHERITED)  # so each restates the default: an update


def fences_balanced(markdown: str) -> bool:
    """CommonMark fences: an opening run of 3+ backticks is closed only by a bare run at least
    as long."""
    open_fence = 0
    for line in markdown.split("\n"):
        match = re.match(r"(`{3,})(.*)$", line)
        if not match:
            continue
        run, rest = len(match.group(1)), match.group(2).strip()
        if not open_fence:
            open_fence = run
        elif run >= open_fence and not rest:
            open_fence = 0
    return open_fence == 0


def details_balanced(markdown: str) -> bool:
    return markdown.count("<details>") == markdown.count("</details>")


# --- text ------------------------------------------------------------------------------------------


def test_text_has_a_header_per_change_with_symbol_id_and_source() -> None:
    lines = render_text(PLAN, color=False).split("\n")
    assert f"+ partner {NEW}  (policies/partners/contoso.yaml:1)" in lines
    assert f"~ partner {FABRIKAM}  (policies/partners/fabrikam.yaml:3)" in lines


def test_text_symbols_for_delete_and_reset_and_no_source() -> None:
    plan = Plan(
        changes=(
            Change(PARTNER, STRAY, "delete", None, (), (Request("DELETE", f"{PARTNERS}/{STRAY}"),)),
            Change(MTO_PARTNER_TEMPLATE, "multiTenantOrganizationPartnerConfiguration", "reset", None, (), ()),
        )
    )
    lines = render_text(plan, color=False).split("\n")
    assert f"- partner {STRAY}" in lines
    assert "! mtoPartnerTemplate multiTenantOrganizationPartnerConfiguration" in lines
    assert f"    DELETE {PARTNERS}/{STRAY}" in lines
    assert "Plan: 0 to create, 0 to update, 1 to delete, 1 to reset." in lines


def test_text_create_shows_only_the_after_side() -> None:
    text = render_text(Plan(changes=(CREATE,)), color=False)
    assert "    + isServiceProvider = true" in text.split("\n")
    assert "→" not in text
    assert "null" not in text


def test_text_update_shows_before_arrow_after() -> None:
    lines = render_text(PLAN, color=False).split("\n")
    assert '    inboundTrust: {"isMfaAccepted": false} → {"isMfaAccepted": true}' in lines
    assert '    tenantRestrictions: {"usersAndGroups": {"accessType": "blocked"}} → null' in lines


def test_a_null_that_inherits_shows_the_inherited_value_and_only_there() -> None:
    """A partner's top-level null takes the default's value; a template's null is just unset."""
    reset = Change(
        MTO_PARTNER_TEMPLATE, "t", "update", None, (DiffEntry("inboundTrust", {"isMfaAccepted": True}, None),), ()
    )
    plan = Plan(changes=(*PLAN.changes, reset), inherited={PARTNER: {"tenantRestrictions": {"usersAndGroups": None}}})
    lines = render_text(plan, color=False).split("\n")
    tail = '→ null (inherit default: {"usersAndGroups": null})'
    assert f'    tenantRestrictions: {{"usersAndGroups": {{"accessType": "blocked"}}}} {tail}' in lines
    assert '    inboundTrust: {"isMfaAccepted": true} → null' in lines
    markdown = render_markdown(plan)
    assert '`null` _(inherit default: `{"usersAndGroups": null}`)_ |' in markdown
    assert '| `inboundTrust` | `{"isMfaAccepted": true}` | `null` |' in markdown


def test_text_long_values_are_pretty_printed_on_following_lines() -> None:
    lines = render_text(PLAN, color=False).split("\n")
    header = lines.index("    + b2bCollaborationInbound = {")
    assert lines[header + 1].strip() == '"usersAndGroups": {'
    # Every line of the pretty value is indented below the entry, none runs on for ever.
    body = lines[header + 1 : lines.index("        }", header)]
    assert body and all(line.startswith("        ") and len(line) <= 80 for line in body)


def test_text_long_update_values_get_before_and_after_labels() -> None:
    change = Change(PARTNER, FABRIKAM, "update", None, (DiffEntry("b2bDirectConnectOutbound", B2B_ALL, None),), ())
    lines = render_text(Plan(changes=(change,)), color=False).split("\n")
    assert "    b2bDirectConnectOutbound:" in lines
    assert "      before: {" in lines
    assert "      after: null" in lines


def test_text_lists_each_request_with_a_truncated_body() -> None:
    lines = render_text(PLAN, color=False).split("\n")
    body = '{"inboundTrust": {"isMfaAccepted": true}, "tenantRestrictions": null}'
    patch = f"    PATCH {PARTNERS}/{FABRIKAM}  {body}"
    assert patch in lines
    (post,) = [line for line in lines if line.startswith("    POST ")]
    assert post.startswith(f'    POST {PARTNERS}  {{"tenantId": "{NEW}"')
    assert post.endswith("…")
    assert len(post) < len(f"    POST {PARTNERS}  ") + 101


def test_text_unmanaged_and_summary_come_last() -> None:
    text = render_text(PLAN, color=False)
    assert text.endswith(
        f"Unmanaged (live, no policy file; never touched):\n  partner {STRAY}\n\n"
        "Risk: 0 deletes, 1 grant, 0 updates, 1 create.\n"
        "Plan: 1 to create, 1 to update, 0 to delete, 0 to reset.\n"
    )


def test_text_without_changes_says_so() -> None:
    assert render_text(Plan(), color=False) == "No changes. The tenant matches policies/.\n"
    with_stray = render_text(Plan(unmanaged=(Unmanaged(PARTNER, STRAY),)), color=False)
    assert with_stray.endswith(f"  partner {STRAY}\n\nNo changes. The tenant matches policies/.\n")
    assert "Plan:" not in with_stray


def test_text_without_color_has_no_escape_codes() -> None:
    assert "\x1b" not in render_text(PLAN, color=False)


def test_text_with_color_differs_only_by_escape_codes() -> None:
    colored = render_text(PLAN, color=True)
    assert "\x1b[1;32m+ partner" in colored  # bold green create header
    assert "\x1b[1;33m~ partner" in colored  # bold yellow update header
    assert '\x1b[31m{"isMfaAccepted": false}\x1b[0m → \x1b[32m{"isMfaAccepted": true}\x1b[0m' in colored
    assert ANSI.sub("", colored) == render_text(PLAN, color=False)


HOSTILE = "evil\x1b[2J\x9b31m\u202e\n::set-output name=x::y"


def test_text_escapes_control_characters_from_files_and_graph() -> None:
    change = Change(
        PARTNER,
        HOSTILE,
        "update",
        f"policies/partners/{HOSTILE}.yaml:1",
        (DiffEntry(HOSTILE, HOSTILE, {"k": HOSTILE}),),
        (Request("PATCH", f"{PARTNERS}/{HOSTILE}", {"k": HOSTILE}),),
    )
    text = render_text(Plan(changes=(change,), unmanaged=(Unmanaged(PARTNER, HOSTILE),)), color=False)
    for char in ("\x1b", "\x9b", "\u202e"):
        assert char not in text
    assert not any(line.startswith("::") for line in text.split("\n"))
    assert "evil\\u001b[2J\\u009b31m\\u202e\\u000a::set-output" in text


# --- markdown --------------------------------------------------------------------------------------


def test_markdown_has_heading_summary_table_and_details_per_change() -> None:
    markdown = render_markdown(PLAN)
    risk = f"**Risk:** 0 deletes, 1 grant, 0 updates, 1 create\n\n- `~` **update** partner `{FABRIKAM}`: grants"
    assert markdown.startswith(f"### xtap plan\n\n{risk} inboundTrust.isMfaAccepted → true\n\n| action | count |\n")
    for row in ("| + create | 1 |", "| ~ update | 1 |", "| - delete | 0 |", "| ! reset | 0 |"):
        assert row in markdown.split("\n")
    assert markdown.count("<details>") == 2
    assert details_balanced(markdown) and fences_balanced(markdown)
    summary = re.search(r"<summary>(.*)</summary>", markdown.split("<details>")[1])  # the grant comes first
    assert summary is not None
    for part in ("update", "partner", FABRIKAM, "policies/partners/fabrikam.yaml:3", "grants inboundTrust"):
        assert part in summary.group(1)


def test_markdown_diff_table_and_requests() -> None:
    markdown = render_markdown(PLAN)
    lines = markdown.split("\n")
    assert "| path | before | after |" in lines
    assert '| `inboundTrust` | `{"isMfaAccepted": false}` | `{"isMfaAccepted": true}` |' in lines
    before = '`{"usersAndGroups": {"accessType": "blocked"}}`'
    assert f"| `tenantRestrictions` | {before} | `null` |" in lines
    assert "| `isServiceProvider` |  | `true` |" in lines  # a create has no before
    blocks = re.findall(r"```json\n(.*?)\n```", markdown, re.DOTALL)
    assert [json.loads(block)[0]["method"] for block in blocks] == ["PATCH", "POST"]  # the grant, then the create
    assert json.loads(blocks[0])[0]["body"] == {"inboundTrust": {"isMfaAccepted": True}, "tenantRestrictions": None}


def test_markdown_lists_unmanaged_at_the_end() -> None:
    markdown = render_markdown(PLAN)
    assert markdown.endswith(f"**Unmanaged (live, no policy file; never touched):**\n\n- partner `{STRAY}`\n")


def test_markdown_without_changes() -> None:
    assert render_markdown(Plan()) == "### xtap plan\n\nNo changes. The tenant matches policies/.\n"


def test_markdown_escapes_pipes_backticks_and_control_characters() -> None:
    change = Change(
        PARTNER,
        HOSTILE,
        "update",
        "policies/partners/<b>.yaml:1",
        (DiffEntry("a|b", "x`y", "|"),),
        (Request("PATCH", f"{PARTNERS}/x", {"k": "```"}),),
    )
    markdown = render_markdown(Plan(changes=(change,)))
    assert '| `a\\|b` | ``"x`y"`` | `"\\|"` |' in markdown.split("\n")
    assert "\x1b" not in markdown and "\x9b" not in markdown and "\u202e" not in markdown
    assert "(policies/partners/&lt;b&gt;.yaml:1)</summary>" in markdown
    assert "````json\n" in markdown  # a body holding ``` gets a longer fence
    assert fences_balanced(markdown) and details_balanced(markdown)


def test_markdown_trims_the_largest_details_first_keeping_every_summary_line() -> None:
    """One giant partner must not flatten the report: its details go, the others' stay."""
    giant = big_plan(1).changes[0]
    small = Change(PARTNER, FABRIKAM, "update", None, (DiffEntry("inboundTrust", None, {"isMfaAccepted": True}),), ())
    plan = Plan(changes=(giant, small), inherited=INHERITED)
    full = render_markdown(plan)
    trimmed = render_markdown(plan, limit=len(full) - 1)
    assert "Some details are omitted to fit a GitHub comment" in trimmed
    lines = trimmed.split("\n")
    assert f"- `~` **update** partner `{giant.id}` ({giant.source}): 2 properties, 1 request" in lines
    assert trimmed.count("<details>") == 1 and f"<code>{FABRIKAM}</code>" in trimmed  # the small one keeps its
    assert fences_balanced(trimmed) and details_balanced(trimmed)


def test_markdown_keeps_a_line_per_change_when_every_detail_goes() -> None:
    lines_only = render_markdown(PLAN, limit=800)  # room for the head and three summary lines only
    assert "<details>" not in lines_only and "| path |" not in lines_only
    lines = lines_only.split("\n")
    for symbol, action, tenant, name, tail in (
        ("+", "create", NEW, "contoso:1", ""),
        ("~", "update", FABRIKAM, "fabrikam:3", "; **grants inboundTrust.isMfaAccepted → true**"),
    ):
        file, line = name.split(":")
        expected = f"- `{symbol}` **{action}** partner `{tenant}` (policies/partners/{file}.yaml:{line})"
        assert f"{expected}: 2 properties, 1 request{tail}" in lines
    assert "more item" not in lines_only  # every change still listed
    # The unmanaged list, never touched, is the first to give up its details.
    assert "- 1 unmanaged resource (never touched; listed in the JSON artifact)" in lines


def test_markdown_of_a_huge_plan_fits_a_github_comment() -> None:
    markdown = render_markdown(big_plan(3000))
    assert len(markdown) <= 65536
    assert fences_balanced(markdown) and details_balanced(markdown)
    shown = [line for line in markdown.split("\n") if line.startswith("- `~` **update**")]
    assert 0 < len(shown) < 3000
    assert f"…and {3000 - len(shown)} more items omitted" in markdown
    assert "the full plan is in the JSON artifact" in markdown.split("\n")[-2]


@pytest.mark.parametrize("limit", [600, 700, 1500, 3000, 6000, 12000, 25000, 50000])
def test_markdown_never_exceeds_the_limit_nor_cuts_a_block(limit: int) -> None:
    unmanaged = tuple(Unmanaged(PARTNER, f"{i:036d}") for i in range(30))
    plan = Plan(changes=big_plan(20).changes, unmanaged=unmanaged, inherited=INHERITED)
    markdown = render_markdown(plan, limit=limit)
    assert len(markdown) <= limit
    assert fences_balanced(markdown) and details_balanced(markdown)
    assert "<summary>" not in markdown or markdown.count("<summary>") == markdown.count("</summary>")


def test_markdown_shortens_a_long_unmanaged_list_to_its_count() -> None:
    plan = Plan(unmanaged=tuple(Unmanaged(PARTNER, f"{i:036d}") for i in range(5000)))
    markdown = render_markdown(plan)
    assert len(markdown) <= 65536
    assert "- 5000 unmanaged resources (never touched; listed in the JSON artifact)" in markdown.split("\n")


def test_markdown_refuses_a_limit_too_small_for_the_summary() -> None:
    with pytest.raises(ValueError, match="50 characters"):
        render_markdown(PLAN, limit=50)


def test_markdown_has_no_escape_codes() -> None:
    assert "\x1b" not in render_markdown(PLAN)


# --- json ------------------------------------------------------------------------------------------


def test_json_parses_and_round_trips() -> None:
    data = json.loads(render_json(PLAN))
    assert data["formatVersion"] == planfile.FORMAT_VERSION
    assert data["summary"] == {"create": 1, "update": 1, "delete": 0, "reset": 0}
    assert data["unmanaged"] == [{"resource": PARTNER, "id": STRAY}]
    assert planfile.loads(render_json(PLAN)) == PLAN


# --- risk: the dangerous changes first ------------------------------------------------------------

GRANTED = "ffffffff-0000-4000-8000-000000000001"
TRUST_OFF = {"isMfaAccepted": False, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}


def created(i: int) -> Change:
    """A new partner that restates the default's B2B settings and trusts nothing: a `create`."""
    tenant = f"{i:08x}-0000-4000-8000-000000000000"
    body = {"tenantId": tenant, "inboundTrust": TRUST_OFF, "b2bCollaborationInbound": B2B_ALL}
    diff = (DiffEntry("inboundTrust", None, TRUST_OFF), DiffEntry("b2bCollaborationInbound", None, B2B_ALL))
    return Change(PARTNER, tenant, "create", f"policies/partners/p{i}.yaml:1", diff, (Request("POST", PARTNERS, body),))


MFA_GRANT = Change(
    PARTNER,
    GRANTED,
    "update",
    "policies/partners/granted.yaml:1",
    (DiffEntry("inboundTrust.isMfaAccepted", False, True),),
    (Request("PATCH", f"{PARTNERS}/{GRANTED}", {"inboundTrust": {**TRUST_OFF, "isMfaAccepted": True}}),),
)


def test_a_huge_plan_still_names_the_one_partner_granted_mfa_trust() -> None:
    """2,500 creates and, last in the planner's order, one update that trusts a partner's MFA
    claims: the comment fits, and it says which partner and why, however much else is cut."""
    plan = Plan(changes=(*(created(i) for i in range(2500)), MFA_GRANT), inherited=INHERITED)
    markdown = render_markdown(plan)
    assert len(markdown) <= 65536
    head = markdown.split("| action | count |")[0]
    assert "**Risk:** 0 deletes, 1 grant, 0 updates, 2,500 creates" in head
    assert f"- `~` **update** partner `{GRANTED}`: grants inboundTrust.isMfaAccepted → true" in head
    # Every detail gives way before any line does; then its line, first, still says why, and
    # it is creates that are cut.
    body = markdown.split("_Some details are omitted")[1].split("\n")
    line = f"- `~` **update** partner `{GRANTED}` (policies/partners/granted.yaml:1): 1 property, 1 request"
    assert body[2] == f"{line}; **grants inboundTrust.isMfaAccepted → true**"
    assert body[3].startswith("- `+` **create**")
    assert re.search(r"…and [\d,]+ more items omitted", markdown)
    assert fences_balanced(markdown) and details_balanced(markdown)


def test_markdown_orders_deletes_grants_updates_creates_and_text_keeps_the_planners_order() -> None:
    delete = Change(PARTNER, STRAY, "delete", "xtap.yaml:2", (), (Request("DELETE", f"{PARTNERS}/{STRAY}"),))
    update = Change(PARTNER, FABRIKAM, "update", None, (DiffEntry("inboundTrust.isMfaAccepted", True, False),), ())
    reset = Change(
        MTO_PARTNER_TEMPLATE, "t", "reset", None, (DiffEntry("inboundTrust", {"isMfaAccepted": True}, None),), ()
    )
    planned = (created(1), update, MFA_GRANT, created(2), reset, delete)
    plan = Plan(changes=planned, inherited=INHERITED)
    markdown = render_markdown(plan)
    ids = re.findall(r"<summary><code>.</code> <b>\w+</b> \w+ <code>([^<]*)</code>", markdown)
    assert ids == [STRAY, GRANTED, FABRIKAM, "t", created(1).id, created(2).id]
    assert "**Risk:** 1 delete, 1 grant, 2 updates, 2 creates" in markdown
    assert f"- `-` **delete** partner `{STRAY}`: pruned: no policy file" in markdown
    text = render_text(plan, color=False)
    headers = [line.split()[2] for line in text.split("\n") if line[:2] in ("+ ", "~ ", "- ", "! ")]
    assert headers == [change.id for change in planned]
    assert (
        "\nRisk: 1 delete, 1 grant, 2 updates, 2 creates.\nPlan: 2 to create, 2 to update, 1 to delete, 1 to reset.\n"
        in text
    )


def test_when_even_the_lines_do_not_fit_the_creates_go_first() -> None:
    delete = Change(PARTNER, STRAY, "delete", "xtap.yaml:2", (), (Request("DELETE", f"{PARTNERS}/{STRAY}"),))
    update = Change(PARTNER, FABRIKAM, "update", None, (DiffEntry("inboundTrust.isMfaAccepted", True, False),), ())
    plan = Plan(changes=(*(created(i) for i in range(40)), update, MFA_GRANT, delete), inherited=INHERITED)
    markdown = render_markdown(plan, limit=3000)
    assert len(markdown) <= 3000 and "<details>" not in markdown
    lines = markdown.split("\n")
    for symbol, action, tenant in (("-", "delete", STRAY), ("~", "update", GRANTED), ("~", "update", FABRIKAM)):
        # its line among the changes' (the head's risk list names no property count)
        assert any(
            line.startswith(f"- `{symbol}` **{action}** partner `{tenant}`") and "propert" in line for line in lines
        )
    shown = sum(line.startswith("- `+` **create**") for line in lines)
    assert 0 < shown < 40 and f"…and {40 - shown} more items omitted" in markdown


def test_the_risk_summary_is_bounded_whatever_the_plan() -> None:
    """1,000 new partners, each granting everything a partner can: the head names 20 of them,
    each with 4 reasons, and counts the rest."""
    everything = {
        "inboundTrust": {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": True,
            "isHybridAzureADJoinedDeviceAccepted": True,
        },
        "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
        **{
            f"b2b{kind}{side}": B2B_ALL
            for kind in ("Collaboration", "DirectConnect")
            for side in ("Inbound", "Outbound")
        },
        "tenantRestrictions": B2B_ALL,
    }
    grants = tuple(
        Change(PARTNER, f"{i:036d}", "create", None, tuple(DiffEntry(k, None, v) for k, v in everything.items()), ())
        for i in range(1000)
    )
    markdown = render_markdown(Plan(changes=grants))
    head = markdown.split("| action | count |")[0]
    assert len(head) < 8000
    assert "**Risk:** 0 deletes, 1,000 grants, 0 updates, 0 creates" in head
    assert head.count("\n- `+` **create** partner") == 20
    assert "- …and 980 more deletes and grants, below" in head
    assert "grants inboundTrust.isMfaAccepted → true; inboundTrust.isCompliantDeviceAccepted → true;" in head
    assert "; and 11 more\n" in head  # 15 reasons each, 4 shown
    assert len(markdown) <= 65536


def test_the_least_risky_details_give_way_first_even_when_a_grant_is_the_largest() -> None:
    groups = [{"target": f"{i:08x}-0000-4000-8000-000000000000", "targetType": "group"} for i in range(300)]
    blocked = {"usersAndGroups": {"accessType": "blocked", "targets": groups}}
    large = replace(MFA_GRANT, diff=(*MFA_GRANT.diff, DiffEntry("b2bDirectConnectInbound", None, blocked)))
    plan = Plan(changes=(*(created(i) for i in range(30)), large), inherited=INHERITED)
    full = render_markdown(plan)
    trimmed = render_markdown(plan, limit=len(full) - 1)
    # A create or two gave way (the note saying so takes room too), not the grant, ten times their size.
    cut = sum(line.startswith("- `+` **create**") for line in trimmed.split("\n"))
    assert 1 <= cut <= 2 and trimmed.count("<details>") == 31 - cut
    assert f"<code>{GRANTED}</code>" in trimmed.split("<details>")[1]


def test_a_type_the_token_may_not_read_is_said_above_everything_and_no_changes_is_qualified() -> None:
    why = "Insufficient privileges\x1b[31m to complete the operation."
    plan = Plan(skipped={"m365Capability": why})
    text = render_text(plan, color=False)
    assert "Not read (the token may not read them; left out of this plan):\n  m365Capability: " in text
    assert "\x1b" not in text  # Graph's words are outside text
    assert "No changes in what was read." in text and "No changes. The tenant matches" not in text
    markdown = render_markdown(plan)
    assert markdown.index("Not read") < len(markdown) and "m365Capability" in markdown
    assert "No changes in what was read." in markdown
    assert "No changes in what was read." not in render_text(Plan(), color=False)


# --- names beside GUIDs ------------------------------------------------------------------------

LIAISONS = "6f546279-4da5-4b53-a095-09ea0cef9971"
WITH_GROUP = Change(
    resource=PARTNER,
    id=NEW,
    action="update",
    source="policies/partners/contoso.yaml:1",
    diff=(
        DiffEntry("b2bCollaborationOutbound.usersAndGroups.targets", [], [{"target": LIAISONS, "targetType": "group"}]),
    ),
    requests=(),
)
HOSTILE_NAME = "Contoso\x1b[2J\u202e\n::error::x [link](http://evil.example) <b>@octocat</b> | `code` *em*"


def test_names_beside_the_partner_and_each_id_in_text_and_markdown() -> None:
    plan = Plan(changes=(WITH_GROUP,), names={NEW: "Contoso Ltd (contoso.com)", LIAISONS: "Partner liaisons (group)"})
    lines = render_text(plan, color=False).splitlines()
    assert lines[0] == f"~ partner {NEW}  Contoso Ltd (contoso.com)  (policies/partners/contoso.yaml:1)"
    assert f"    {LIAISONS} = Partner liaisons (group)" in lines
    markdown = render_markdown(plan)
    assert f"<code>{NEW}</code> Contoso Ltd &#40;contoso.com&#41;" in markdown
    assert f"| `{LIAISONS}` | Partner liaisons &#40;group&#41; |" in markdown
    # Without names, the same plan by GUID alone.
    plain = render_text(replace(plan, names={}), color=False)
    assert " = " not in plain and plain.splitlines()[0] == f"~ partner {NEW}  (policies/partners/contoso.yaml:1)"


def test_names_from_graph_are_escaped_in_text_and_markdown() -> None:
    """A display name is what a tenant's admin typed: it must neither act on a terminal or a CI
    log nor become markup, a mention or a table cell in a pull request comment."""
    plan = Plan(changes=(WITH_GROUP,), names={NEW: HOSTILE_NAME, LIAISONS: HOSTILE_NAME})
    for color in (False, True):
        text = ANSI.sub("", render_text(plan, color=color))
        assert "\x1b" not in text and "\u202e" not in text and "\n::error::" not in text
    assert f"{LIAISONS} = Contoso\\u001b[2J\\u202e\\u000a::error::x" in render_text(plan, color=False)
    markdown = render_markdown(plan)
    assert "\x1b" not in markdown and "\u202e" not in markdown and "\n::error::" not in markdown
    for raw in ("<b>@", "[link](", "@octocat", "`code`", "*em*", " | `code"):
        assert raw not in markdown, raw
    assert "&lt;b&gt;@&#8203;octocat&lt;/b&gt; &#124; &#96;code&#96; &#42;em&#42;" in markdown
