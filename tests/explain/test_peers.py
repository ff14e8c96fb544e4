"""Both sides of a partnership (reconciler/explain/peers.py), pure: each finding once per side, at
the property that decides it on that side, naming the other."""

from __future__ import annotations

from typing import Any

from reconciler.explain.peers import At, Declared, Tenant, mismatches

A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
OPEN = {
    "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "g1", "targetType": "group"}]},
    "applications": {"accessType": "blocked", "targets": [{"target": "a1", "targetType": "application"}]},
}


def tenant(tid: str, **parts: Any) -> Tenant:
    return Tenant(tid, f"{tid}/xtap.yaml", **parts)


def file_of(tid: str, name: str, values: dict[str, Any]) -> Declared:
    return Declared(values, f"{tid}/{name}.yaml")


def test_direct_connect_allowed_out_and_inherited_closed_in() -> None:
    a = tenant(A, partners={B: file_of(A, "b", {"b2bDirectConnectOutbound": OPEN})})
    b = tenant(B, default=file_of(B, "default", {}))  # declares no partner a: its xtap.yaml is pointed at
    found = mismatches([a, b])
    assert [(m.rule, m.at, m.other) for m in found] == [
        (
            "peer-direct-connect",
            At(A, "partner", B, f"{A}/b.yaml", ("b2bDirectConnectOutbound",)),
            At(B, "partner", A, f"{B}/xtap.yaml", ("tenant",)),
        ),
        (
            "peer-direct-connect",
            At(B, "partner", A, f"{B}/xtap.yaml", ("tenant",)),
            At(A, "partner", B, f"{A}/b.yaml", ("b2bDirectConnectOutbound",)),
        ),
    ]


def test_a_value_from_default_yaml_is_pointed_at_there() -> None:
    a = tenant(A, partners={B: file_of(A, "b", {})}, default=file_of(A, "default", {"b2bDirectConnectOutbound": OPEN}))
    b = tenant(B, partners={A: file_of(B, "a", {})})
    places = {(m.at.file, m.at.path) for m in mismatches([a, b])}
    assert places == {(f"{A}/default.yaml", ("b2bDirectConnectOutbound",)), (f"{B}/a.yaml", ("tenantId",))}


def test_sync_needs_both_consents() -> None:
    sync = {"userSyncInbound": {"isSyncAllowed": True}}
    target = tenant(
        B,
        partners={A: file_of(B, "a", {"automaticUserConsentSettings": {"inboundAllowed": True}})},
        syncs={A: file_of(B, "a", sync)},
    )
    consenting = tenant(A, partners={B: file_of(A, "b", {"automaticUserConsentSettings": {"outboundAllowed": True}})})
    assert mismatches([target, consenting]) == []
    silent = tenant(A, partners={B: file_of(A, "b", {})})
    found = mismatches([target, silent])
    assert {(m.at.file, m.at.path) for m in found} == {
        (f"{B}/a.yaml", ("identitySynchronization", "userSyncInbound", "isSyncAllowed")),
        (f"{A}/b.yaml", ("automaticUserConsentSettings", "outboundAllowed")),
    }


def test_a_sync_that_is_not_allowed_needs_nothing() -> None:
    target = tenant(B, syncs={A: file_of(B, "a", {"userSyncInbound": {"isSyncAllowed": False}})})
    assert mismatches([target, tenant(A)]) == []


def test_an_mto_sync_template_with_every_consent_is_quiet() -> None:
    consent = {"automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True}}
    both = [
        tenant(
            tid,
            partner_template=file_of(tid, "pt", consent),
            sync_template=file_of(tid, "st", {"userSyncInbound": {"isSyncAllowed": True}}),
        )
        for tid in (A, B)
    ]
    assert mismatches(both) == []
    lacking = tenant(B, partner_template=file_of(B, "pt", {}))
    found = mismatches([both[0], lacking])
    assert {m.at.file for m in found} == {f"{A}/st.yaml", f"{B}/pt.yaml"}
