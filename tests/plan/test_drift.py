"""The drift report (`plan/drift.py`) as a user gets it from `xtap drift`: changed, missing and
unmanaged resources with each property, the last change attributed to a person or a service
from the audit log (or why not), an undeclared identity sync and a create-only conflict, and
1,500 partners half drifted. The CLI in a subprocess, msgraph-sdk over real HTTP, the emulator as
Graph, and out-of-band changes made through Graph by other identities. How the report reads in
text and markdown is in tests/render/test_drift.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.drift_tenant import (
    AUDIT_READER,
    CONTOSO,
    FABRIKAM,
    GDAP_CUSTOMER,
    declared_and_applied,
    out_of_band,
)
from support.emulator_http import SYNC, TRUST
from support.policy_files import write_policies
from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator
from reconciler.render.markdown import MARKDOWN_LIMIT


@pytest.fixture
def applied(emulator: Emulator, tmp_path: Path) -> Path:
    return declared_and_applied(emulator, tmp_path)


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
