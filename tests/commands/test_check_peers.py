"""`xtap check --peers` (reconciler/commands/check.py, reconciler/explain/peers.py) on a repository
that holds both tenants of a partnership: what one side allows and the other does not is
reported at file:line:col on both files, in every format, and nothing is sent to Graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.xtap import run_xtap

A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
EVERYONE = {
    "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "allowed", "targets": [{"target": "AllApplications", "targetType": "application"}]},
}


def tenant(root: Path, name: str, tenant_id: str, partners: dict[str, dict[str, Any]], **files: Any) -> Path:
    policies = root / "tenants" / name / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "xtap.yaml").write_text(f"# {name}\ntenant: {tenant_id}\n")
    for file, body in partners.items():
        (policies / "partners" / f"{file}.yaml").write_text(json.dumps(body, indent=2))
    for file, body in files.items():
        (policies / f"{file.replace('_', '-')}.yaml").write_text(json.dumps(body, indent=2))
    return policies


def peers(root: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    run = run_xtap("check", "--peers", str(root / "tenants" / "*" / "policies"), "--format", "json", *args)
    assert run.stdout, run.stderr
    return run.code, json.loads(run.stdout)["findings"]


def test_direct_connect_one_side_allows_is_reported_on_both_files(tmp_path: Path) -> None:
    tenant(tmp_path, "a", A, {"b": {"tenantId": B, "b2bDirectConnectOutbound": EVERYONE}})
    tenant(tmp_path, "b", B, {"a": {"tenantId": A}})  # inbound left to the system default: blocked
    code, found = peers(tmp_path)
    assert code == 0  # warnings
    places = sorted((Path(f["file"]).parent.parent.parent.name, f["line"], f["col"], f["property"]) for f in found)
    assert places == [("a", 3, 3, "b2bDirectConnectOutbound"), ("b", 2, 3, "tenantId")]
    assert {f["rule"] for f in found} == {"peer-direct-connect"} and {f["severity"] for f in found} == {"warning"}
    outbound = next(f for f in found if f["property"] == "b2bDirectConnectOutbound")
    assert (
        "lets users through, but that tenant's b2bDirectConnectInbound for this one blocks everyone"
        in outbound["message"]
    )
    assert outbound["message"].endswith("tenants/b/policies/partners/a.yaml:2:3)")


def test_direct_connect_both_sides_allow_or_neither_names_the_other_is_quiet(tmp_path: Path) -> None:
    tenant(tmp_path, "a", A, {"b": {"tenantId": B, "b2bDirectConnectOutbound": EVERYONE}})
    tenant(tmp_path, "b", B, {"a": {"tenantId": A, "b2bDirectConnectInbound": EVERYONE}})
    tenant(tmp_path, "c", "cccccccc-0000-4000-8000-000000000003", {}, default={"b2bDirectConnectInbound": EVERYONE})
    assert peers(tmp_path) == (0, [])


def test_sync_without_the_sources_outbound_consent(tmp_path: Path) -> None:
    sync = {"identitySynchronization": {"userSyncInbound": {"isSyncAllowed": True}}}
    consent_in = {"automaticUserConsentSettings": {"inboundAllowed": True}}
    tenant(tmp_path, "target", B, {"source": {"tenantId": A, **consent_in, **sync}})
    tenant(tmp_path, "source", A, {})  # declares no partner for the target: its xtap.yaml is pointed at
    _, found = peers(tmp_path)
    places = sorted((Path(f["file"]).name, f["line"], f["property"]) for f in found)
    assert places == [
        ("source.yaml", 8, "identitySynchronization.userSyncInbound.isSyncAllowed"),
        ("xtap.yaml", 2, "tenant"),
    ]
    assert all(f["rule"] == "peer-identity-sync" for f in found)


def test_sync_without_the_targets_own_inbound_consent_is_one_sided(tmp_path: Path) -> None:
    consent_out = {"automaticUserConsentSettings": {"outboundAllowed": True}}
    tenant(
        tmp_path,
        "target",
        B,
        {"s": {"tenantId": A, "identitySynchronization": {"userSyncInbound": {"isSyncAllowed": True}}}},
    )
    tenant(tmp_path, "source", A, {"t": {"tenantId": B, **consent_out}})
    _, found = peers(tmp_path)
    assert [(Path(f["file"]).name, f["message"]) for f in found] == [
        (
            "s.yaml",
            f"sync from {A} is allowed, but this tenant's automaticUserConsentSettings.inboundAllowed for it "
            "is not true",
        )
    ]


def test_an_mto_sync_template_that_cannot_take_effect(tmp_path: Path) -> None:
    sync_template = {"userSyncInbound": {"isSyncAllowed": True}}
    tenant(
        tmp_path, "a", A, {},
        mto_identity_sync_template=sync_template,
        mto_partner_template={"automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True}},
    )  # fmt: skip
    tenant(tmp_path, "b", B, {}, mto_partner_template={"automaticUserConsentSettings": {"inboundAllowed": True}})
    _, found = peers(tmp_path)
    files = sorted((Path(f["file"]).parent.parent.name, Path(f["file"]).name, f["property"]) for f in found)
    assert files == [
        ("a", "mto-identity-sync-template.yaml", "userSyncInbound.isSyncAllowed"),
        ("b", "mto-partner-template.yaml", "automaticUserConsentSettings.outboundAllowed"),
    ]


def test_the_text_and_sarif_name_both_places(tmp_path: Path) -> None:
    tenant(tmp_path, "a", A, {"b": {"tenantId": B, "b2bDirectConnectOutbound": EVERYONE}})
    tenant(tmp_path, "b", B, {"a": {"tenantId": A}})
    text = run_xtap("check", "--peers", str(tmp_path / "tenants" / "*" / "policies"))
    assert text.code == 0, text.stderr
    lines = [line for line in text.stdout.splitlines() if "[peer-direct-connect]" in line]
    assert len(lines) == 2 and all(": warning [peer-direct-connect] partner " in line for line in lines)
    sarif = run_xtap("check", "--peers", str(tmp_path / "tenants" / "*" / "policies"), "--format", "sarif")
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert len(results) == 2 and {r["level"] for r in results} == {"warning"}


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ("one", "--peers needs the folders of two tenants at least"),
        ("unbound", "binds no tenant; with --peers each folder names its tenant"),
        ("bad", "partners/b.yaml:2:1: YAML syntax"),
    ],
)
def test_what_peers_refuses(tmp_path: Path, setup: str, error: str) -> None:
    a = tenant(tmp_path, "a", A, {"b": {"tenantId": B}})
    if setup != "one":
        b = tenant(tmp_path, "b", B, {})
        if setup == "unbound":
            (b / "xtap.yaml").write_text("# no tenant\n")
        if setup == "bad":
            (a / "partners" / "b.yaml").write_text("tenantId: [\n")
    run = run_xtap("check", "--peers", str(tmp_path / "tenants" / "*" / "policies"))
    assert run.code == 1 and run.stdout == ""
    assert error in run.stderr


def test_peers_and_live_do_not_go_together(tmp_path: Path) -> None:
    run = run_xtap("check", "--peers", "x", "--live")
    assert run.code == 1 and "--peers reads policies/ folders only; leave out --live" in run.stderr
