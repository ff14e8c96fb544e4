"""`xtap drift` as a user runs it: the CLI in a subprocess, msgraph-sdk over real HTTP, the
emulator as Graph, and out-of-band changes made through Graph by other identities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.emulator_http import PARTNERS, SYNC, TRUST, graph_call
from support.policy_files import write_policies
from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator
from reconciler.plan.drift import Drift, Drifted
from reconciler.plan.model import DiffEntry
from reconciler.render.drift import render_drift_markdown
from reconciler.render.markdown import MARKDOWN_LIMIT

AUDIT_READER = (*READ_ONLY, "AuditLog.Read.All")
FABRIKAM = "11111111-1111-1111-1111-111111111111"
CONTOSO = "22222222-2222-2222-2222-222222222222"
GDAP_CUSTOMER = "33333333-3333-3333-3333-333333333333"


@pytest.fixture
def applied(emulator: Emulator, tmp_path: Path) -> Path:
    """Two partners (one with an identity sync) declared and applied: a tenant without drift."""
    policies = write_policies(
        tmp_path / "policies",
        [
            {"tenantId": FABRIKAM, "inboundTrust": TRUST},
            {"tenantId": CONTOSO, "inboundTrust": TRUST, "identitySynchronization": SYNC},
        ],
    )
    done = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
    assert done.code == 0, done.stderr
    emulator.clear_requests()
    return policies


def out_of_band(emulator: Emulator) -> None:
    """A portal admin (a delegated token) turns off Fabrikam's MFA trust and deletes Contoso's
    identity sync; Partner Center (the app EntraGDAP) adds a GDAP customer's partner."""
    admin = emulator.mint_token(roles=None, scp="Policy.ReadWrite.CrossTenantAccess", name="portal admin")
    gdap = emulator.mint_token(name="EntraGDAP")
    assert (
        graph_call(
            emulator, "PATCH", f"{PARTNERS}/{FABRIKAM}", {"inboundTrust": {**TRUST, "isMfaAccepted": False}}, admin
        )
        == 204
    )
    assert graph_call(emulator, "DELETE", f"{PARTNERS}/{CONTOSO}/identitySynchronization", None, admin) == 204
    assert graph_call(emulator, "POST", PARTNERS, {"tenantId": GDAP_CUSTOMER}, gdap) == 201


def drift_json(
    policies: Path, emulator: Emulator, *args: str, roles: tuple[str, ...] = AUDIT_READER
) -> tuple[int, dict[str, Any], str]:
    done = run_xtap("drift", "--format", "json", "--policies", str(policies), *args, emulator=emulator, roles=roles)
    return done.code, json.loads(done.stdout), done.stderr


def by_kind(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = {"changed": [], "missing": [], "unmanaged": []}
    for item in report["drift"]:
        kinds[item["kind"]].append(item)
    return kinds


def test_no_drift_exits_0_and_says_so(applied: Path, emulator: Emulator) -> None:
    done = run_xtap("drift", "--policies", str(applied), emulator=emulator, roles=READ_ONLY)
    assert done.code == 0, done.stderr
    assert "No drift. The tenant matches policies/." in done.stdout
    assert not [r for r in emulator.requests if r.method != "GET"]


def test_changed_missing_and_unmanaged_with_each_property(applied: Path, emulator: Emulator) -> None:
    out_of_band(emulator)
    emulator.clear_requests()
    code, report, _ = drift_json(applied, emulator)
    assert code == 2
    assert report["summary"] == {"changed": 1, "missing": 1, "unmanaged": 1}
    kinds = by_kind(report)
    [changed], [missing], [unmanaged] = kinds["changed"], kinds["missing"], kinds["unmanaged"]
    assert (changed["resource"], changed["id"], changed["remedy"]) == ("partner", FABRIKAM, "update")
    assert changed["properties"] == [{"path": "inboundTrust.isMfaAccepted", "declared": True, "live": False}]
    assert changed["source"].endswith(f"{FABRIKAM}.yaml:2")
    assert (missing["resource"], missing["id"], missing["remedy"]) == ("identitySynchronization", CONTOSO, "create")
    assert {p["path"]: p["declared"] for p in missing["properties"]} == SYNC
    assert (unmanaged["resource"], unmanaged["id"], unmanaged["remedy"]) == ("partner", GDAP_CUSTOMER, None)
    assert report["attribution"] == "not requested"
    assert all(item["lastChange"] is None for item in report["drift"])
    assert [r.method for r in emulator.requests] == ["GET", "GET"]  # read-only: partners, default


def test_attribute_names_the_person_and_the_service(applied: Path, emulator: Emulator) -> None:
    out_of_band(emulator)
    emulator.clear_requests()
    code, report, stderr = drift_json(applied, emulator, "--attribute")
    assert code == 2, stderr
    assert report["attribution"] == "done"
    kinds = by_kind(report)
    changed, missing, unmanaged = (kinds[k][0]["lastChange"] for k in ("changed", "missing", "unmanaged"))
    assert changed["actor"]["kind"] == "person" and changed["actor"]["name"] == "portal admin"
    assert changed["activity"] == "Update a partner cross-tenant access setting"
    assert missing["actor"]["name"] == "portal admin"
    assert missing["activity"] == "Delete a partner cross-tenant identity sync setting"
    assert unmanaged["actor"] == {"kind": "service", "name": "EntraGDAP", "id": unmanaged["actor"]["id"]}
    audit_reads = [r for r in emulator.requests if r.path.startswith("/v1.0/auditLogs/")]
    assert len(audit_reads) == 1, "one filtered query, not one per resource"
    assert (
        "%24filter" not in audit_reads[0].path
        and "category%20eq%20%27CrossTenantAccessSettings%27" in audit_reads[0].path
    )


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


def test_without_audit_permission_drift_still_reported(applied: Path, emulator: Emulator) -> None:
    out_of_band(emulator)
    code, report, stderr = drift_json(applied, emulator, "--attribute", roles=READ_ONLY)
    assert code == 2
    assert report["summary"] == {"changed": 1, "missing": 1, "unmanaged": 1}
    assert "AuditLog.Read.All" in report["attribution"] and "403" in report["attribution"]
    assert "Warning: attribution was not possible: the identity lacks AuditLog.Read.All" in stderr
    text = run_xtap("drift", "--attribute", "--policies", str(applied), emulator=emulator, roles=READ_ONLY)
    assert "Attribution was not possible: the identity lacks AuditLog.Read.All (Graph answered 403)" in text.stdout


def test_an_undeclared_sync_and_a_create_only_conflict(applied: Path, emulator: Emulator) -> None:
    """An identity sync the partner's file does not declare is changed (apply would delete it);
    a differing create-only isServiceProvider is changed, explained instead of diffed."""
    emulator.put_identity_sync(FABRIKAM, {"tenantId": FABRIKAM, "displayName": "added in the portal"})
    (applied / "partners" / f"{CONTOSO}.yaml").write_text(
        json.dumps(
            {"tenantId": CONTOSO, "inboundTrust": TRUST, "identitySynchronization": SYNC, "isServiceProvider": True}
        )
    )
    code, report, stderr = drift_json(applied, emulator)
    assert code == 2, stderr
    sync, conflict = by_kind(report)["changed"]
    assert (sync["resource"], sync["id"], sync["remedy"]) == ("identitySynchronization", FABRIKAM, "delete")
    assert sync["properties"] == [{"path": "displayName", "declared": None, "live": "added in the portal"}]
    assert (conflict["resource"], conflict["id"], conflict["properties"]) == ("partner", CONTOSO, [])
    assert "isServiceProvider is null in the tenant but true in the file" in conflict["note"]
    text = run_xtap("drift", "--policies", str(applied), emulator=emulator)
    assert '    + displayName = "added in the portal"' in text.stdout


def test_invalid_policies_exit_1_and_write_nothing(emulator: Emulator, tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": FABRIKAM, "inboundTrus": TRUST}])
    done = run_xtap("drift", "--policies", str(policies), emulator=emulator)
    assert done.code == 1
    assert f"{FABRIKAM}.yaml:" in done.stderr and "Traceback" not in done.stderr
    assert all(r.method == "GET" for r in emulator.requests)  # reads may start while files load; no write


def test_fifteen_hundred_partners_half_drifted(emulator: Emulator, tmp_path: Path) -> None:
    """Done-when 3: exit 2, JSON names each drifted property, markdown fits GitHub and lists
    every drifted and unmanaged partner."""
    tenants = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1500)]
    policies = write_policies(tmp_path / "policies", [{"tenantId": t, "inboundTrust": TRUST} for t in tenants])
    drifted = set(tenants[::2])
    for tenant in tenants:
        live = {**TRUST, "isMfaAccepted": False, "isCompliantDeviceAccepted": True} if tenant in drifted else TRUST
        emulator.put_partner({"tenantId": tenant, "inboundTrust": live})
    strangers = [f"ffffffff-0000-4000-8000-{i:012x}" for i in range(20)]
    for tenant in strangers:
        emulator.put_partner({"tenantId": tenant})
    code, report, stderr = drift_json(policies, emulator)
    assert code == 2, stderr
    assert report["summary"] == {"changed": 750, "missing": 0, "unmanaged": 20}
    expected = [
        {"path": "inboundTrust.isCompliantDeviceAccepted", "declared": False, "live": True},
        {"path": "inboundTrust.isMfaAccepted", "declared": True, "live": False},
    ]
    changed = {item["id"]: item["properties"] for item in by_kind(report)["changed"]}
    assert changed == dict.fromkeys(sorted(drifted), expected)
    markdown = run_xtap("drift", "--format", "markdown", "--policies", str(policies), emulator=emulator)
    assert markdown.code == 2
    assert len(markdown.stdout) <= MARKDOWN_LIMIT
    assert "| ~ changed | 750 |" in markdown.stdout
    assert all(f"`{tenant}`" in markdown.stdout or f"<code>{tenant}</code>" in markdown.stdout for tenant in drifted)
    assert all(tenant in markdown.stdout for tenant in strangers)
    assert "JSON artifact" in markdown.stdout


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
