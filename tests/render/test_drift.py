"""How a drift report reads (`render/drift.py`): each property and the last change's actor in
text and markdown, the largest details trimmed first when markdown must fit GitHub's limit, and an
actor's name from the audit log escaped so that it forges neither a workflow command nor markup,
nor do a file name, a note or Graph's message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.drift_tenant import AUDIT_READER, FABRIKAM, GDAP_CUSTOMER, declared_and_applied, out_of_band
from support.emulator_http import PARTNERS, TRUST, graph_call
from support.markup import MARKUP_FILE, MARKUP_FILE_SHOWN, MARKUP_MESSAGE, MARKUP_MESSAGE_SHOWN, assert_no_markup
from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator
from reconciler.plan.drift import Actor, Drift, Drifted, LastChange
from reconciler.plan.model import DiffEntry
from reconciler.render.drift import render_drift_markdown, render_drift_text


@pytest.fixture
def applied(emulator: Emulator, tmp_path: Path) -> Path:
    return declared_and_applied(emulator, tmp_path)


def test_attribute_in_text_and_markdown(applied: Path, emulator: Emulator) -> None:
    out_of_band(emulator)
    common = ("drift", "--attribute", "--policies", str(applied))
    text = run_xtap(*common, emulator=emulator, roles=AUDIT_READER)
    assert text.code == 2, text.stderr
    assert f"~ partner {FABRIKAM}: differs from its policy file" in text.stdout
    assert "inboundTrust.isMfaAccepted: true → false" in text.stdout
    assert "last changed by portal admin (person)" in text.stdout
    assert f"+ partner {GDAP_CUSTOMER}: in the tenant, no policy file" in text.stdout
    assert "last changed by EntraGDAP (service-made)" in text.stdout
    assert text.stdout.rstrip().endswith("Drift: 1 changed, 1 missing, 1 unmanaged.")
    markdown = run_xtap(*common, "--format", "markdown", emulator=emulator, roles=AUDIT_READER)
    assert markdown.code == 2
    assert markdown.stdout.startswith("### xtap drift\n\n| drift | count |")
    assert "| `inboundTrust.isMfaAccepted` | `true` | `false` |" in markdown.stdout
    assert "by EntraGDAP (service)</summary>" in markdown.stdout


def test_one_giant_partner_does_not_flatten_the_report() -> None:
    """The largest details are trimmed first: the giant loses its table, the small ones keep theirs."""
    giant_targets = [{"target": f"{i:08x}-0000-4000-8000-000000000000", "targetType": "user"} for i in range(3000)]
    giant = Drifted(
        "changed",
        "partner",
        "a" * 8,
        "giant.yaml:1",
        (DiffEntry("b2bCollaborationInbound", None, giant_targets),),
        "update",
    )
    small = [
        Drifted(
            "changed",
            "partner",
            f"small-{i}",
            f"small-{i}.yaml:1",
            (DiffEntry("inboundTrust.isMfaAccepted", True, False),),
            "update",
        )
        for i in range(20)
    ]
    report = render_drift_markdown(Drift((giant, *small)), limit=20_000)
    assert len(report) <= 20_000
    assert "- **changed** partner `aaaaaaaa`: 1 property" in report
    assert report.count("| `inboundTrust.isMfaAccepted` | `true` | `false` |") == 20
    assert "Some details are omitted" in report


def test_an_actor_name_cannot_forge_a_log_line_or_markup(applied: Path, emulator: Emulator) -> None:
    """The audit log holds names as someone typed them: escaped in text and in markdown."""
    evil = emulator.mint_token(roles=None, scp="Policy.ReadWrite.CrossTenantAccess", name="Eve\n::error::pwned <img>")
    graph_call(emulator, "PATCH", f"{PARTNERS}/{FABRIKAM}", {"inboundTrust": {**TRUST, "isMfaAccepted": False}}, evil)
    text = run_xtap("drift", "--attribute", "--policies", str(applied), emulator=emulator, roles=AUDIT_READER)
    assert text.code == 2
    assert "last changed by Eve\\u000a::error::pwned <img> (person)" in text.stdout
    assert not any(line.startswith("::error::") for line in text.stdout.splitlines())
    markdown = run_xtap(
        "drift",
        "--attribute",
        "--format",
        "markdown",
        "--policies",
        str(applied),
        emulator=emulator,
        roles=AUDIT_READER,
    )
    escaped = "Eve&#92;u000a::error::pwned &lt;img&gt;"  # GitHub shows it as the text it is
    assert "<img>" not in markdown.stdout
    assert f"by {escaped} (person)</summary>" in markdown.stdout
    assert f"last changed by {escaped} (person)" in markdown.stdout


def test_drift_markdown_escapes_sources_notes_actors_and_graph_messages() -> None:
    actor = Actor("person", f"Eve {MARKUP_MESSAGE}", None)
    changed = Drifted(
        "changed",
        "partner",
        "90e29127-71ad-49c7-9ce8-db3f41ea06f1",
        f"{MARKUP_FILE}:3",
        (DiffEntry("inboundTrust.isMfaAccepted", True, False),),
        "update",
        note=f"- {MARKUP_MESSAGE}",
        last_change=LastChange("Update a partner cross-tenant access setting", "2026-01-01T00:00:00Z", actor),
    )
    for drift in (Drift((changed,), attribution="done"), Drift((changed,), attribution=MARKUP_MESSAGE)):
        for limit in (65536, 600):
            markdown = render_drift_markdown(drift, limit=limit)
            assert_no_markup(markdown)
            assert f"by Eve {MARKUP_MESSAGE_SHOWN} (person)" in markdown
    markdown = render_drift_markdown(Drift((changed,), attribution=MARKUP_MESSAGE))
    assert f"_Attribution was not possible: {MARKUP_MESSAGE_SHOWN}_" in markdown  # Graph's message
    assert f"file {MARKUP_FILE_SHOWN}:3" in markdown
    assert f"\n\n&#45; {MARKUP_MESSAGE_SHOWN}\n\n" in markdown  # the note, which would start a list


LOOKER_UP = (*READ_ONLY, "CrossTenantInformation.ReadBasic.All", "Directory.Read.All")
LIAISONS = "5a0e1b2c-3d4e-4f60-8a7b-9c0d1e2f3a4b"


def test_drift_names_each_partner_and_the_ids_its_diff_shows(applied: Path, emulator: Emulator) -> None:
    """The partner changed out of band, by the plan's lookups; the unmanaged one, which the plan
    does not change, by drift's own lookup (one more tenant-information `$batch`)."""
    out_of_band(emulator)
    emulator.put_known_tenant({"tenantId": FABRIKAM, "displayName": "Fabrikam", "defaultDomainName": "fabrikam.com"})
    emulator.put_known_tenant({"tenantId": GDAP_CUSTOMER, "displayName": "Woodgrove", "defaultDomainName": None})
    common = ("drift", "--policies", str(applied))
    text = run_xtap(*common, emulator=emulator, roles=LOOKER_UP)
    assert text.code == 2, text.stderr
    assert f"~ partner {FABRIKAM}  Fabrikam (fabrikam.com): differs from its policy file" in text.stdout
    assert f"+ partner {GDAP_CUSTOMER}  Woodgrove: in the tenant, no policy file" in text.stdout
    assert "Names not shown" not in text.stderr
    found = json.loads(run_xtap(*common, "--format", "json", emulator=emulator, roles=LOOKER_UP).stdout)
    assert {item["id"]: item["name"] for item in found["drift"]}[FABRIKAM] == "Fabrikam (fabrikam.com)"
    assert found["names"][GDAP_CUSTOMER] == "Woodgrove"
    markdown = run_xtap(*common, "--format", "markdown", emulator=emulator, roles=LOOKER_UP).stdout
    assert f"<code>{FABRIKAM}</code> Fabrikam &#40;fabrikam.com&#41;" in markdown
    # Without the permissions: the same report by GUID, and one line saying why.
    plain = run_xtap(*common, emulator=emulator, roles=READ_ONLY)
    assert f"~ partner {FABRIKAM}: differs from its policy file" in plain.stdout
    assert plain.stderr.count("Names not shown") == 1


def test_drift_names_are_escaped_in_text_and_markdown() -> None:
    """A name is what a tenant's admin typed: in text it cannot act on the terminal or forge a
    workflow command, in markdown it cannot become a link, a tag, a mention or a table cell."""
    hostile = "Evil\x1b[2J\n::error::x " + MARKUP_MESSAGE
    group_row = DiffEntry("b2bCollaborationOutbound.usersAndGroups.targets", [{"target": LIAISONS}], [])
    drift = Drift(
        (Drifted("changed", "partner", FABRIKAM, "p.yaml:1", (group_row,), "update"),),
        names={FABRIKAM: hostile, LIAISONS: hostile},
    )
    text = render_drift_text(drift, color=False)
    assert "\x1b" not in text and "\n::error::" not in text
    assert f"    {LIAISONS} = Evil\\u001b[2J\\u000a::error::x" in text
    markdown = render_drift_markdown(drift)
    assert_no_markup(markdown)
    assert f"| `{LIAISONS}` | Evil&#92;u001b&#91;2J&#92;u000a::error::x {MARKUP_MESSAGE_SHOWN} |" in markdown
    assert "\x1b" not in markdown
