"""One question answered (reconciler/explain/verdict.py): inheritance from the default, whole and
half by half, what each answer says it assumed, the one-half settings, and what also applies."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.registry import DEFAULT
from reconciler.explain.access import Subject
from reconciler.explain.verdict import INBOUND, OUTBOUND, VIAS, Question, Source, explain

TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
SYSTEM = Source("default", "system", dict(DEFAULT.absent_means))


def half(access: str, target: str, kind: str) -> dict[str, Any]:
    return {"accessType": access, "targets": [{"target": target, "targetType": kind}]}


def ask(via: str = "b2bCollaboration", direction: str = INBOUND, **subject: Any) -> Question:
    return Question(TID, via, direction, Subject(**subject))


def partner(**values: Any) -> Source:
    return Source("partner", "fabrikam.yaml:2", {"tenantId": TID, **values})


def test_a_partner_without_the_setting_inherits_the_defaults_whole() -> None:
    answer = explain(ask("b2bDirectConnect"), partner(), SYSTEM)
    assert not answer.allowed
    assert [(step.origin, step.where) for step in answer.chain[:2]] == [("default", "system")] * 2
    assert answer.assumptions == ()  # a null setting inheriting is documented


def test_a_partners_half_overrides_the_defaults_half_only() -> None:
    own = partner(b2bDirectConnectInbound={"usersAndGroups": half("allowed", "AllUsers", "user")})
    answer = explain(ask("b2bDirectConnect", app="x"), own, SYSTEM)
    assert [step.origin for step in answer.chain[:2]] == ["partner", "default"]
    assert not answer.allowed  # the default's applications half blocks every application
    assert answer.assumptions == (
        "b2bDirectConnectInbound.applications is null in the partner's setting: xtap takes the default's",
    )


def test_the_defaults_own_assumptions_are_passed_on() -> None:
    default = Source("default", "default.yaml:1", {}, {"tenantRestrictions": "not managed"})
    answer = explain(ask("tenantRestrictions", OUTBOUND), None, default)
    assert not answer.allowed
    assert "not managed" in answer.assumptions
    assert (
        "tenantRestrictions.usersAndGroups is set nowhere, so xtap takes it to let no one through" in answer.assumptions
    )


@pytest.mark.parametrize(
    ("via", "direction", "half_name"),
    [
        ("m365Collaboration", INBOUND, "users"),
        ("m365Collaboration", OUTBOUND, "usersAndGroups"),
        ("appServiceConnect", INBOUND, "applications"),
    ],
)
def test_a_one_half_setting_is_decided_by_that_half(via: str, direction: str, half_name: str) -> None:
    setting = VIAS[via][direction].setting
    target = ("a1", "application") if half_name == "applications" else ("g1", "group")
    own = partner(**{setting: {half_name: half("allowed", *target)}})
    named = {"app": "a1"} if half_name == "applications" else {"groups": ("g1",)}
    assert explain(ask(via, direction, **named), own, SYSTEM).allowed
    assert not explain(ask(via, direction), own, SYSTEM).allowed
    assert [step.setting for step in explain(ask(via, direction), own, SYSTEM).chain] == [
        f"{setting}.{half_name}",
        setting,
    ]


def test_what_also_bears_on_inbound_collaboration() -> None:
    trust = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False}
    own = partner(inboundTrust=trust, automaticUserConsentSettings={"inboundAllowed": True})
    sync = Source("partner", "fabrikam.yaml:30", {"userSyncInbound": {"isSyncAllowed": False}})
    also = {step.setting: step for step in explain(ask(), own, SYSTEM, sync).also}
    assert also["inboundTrust"].says == "accepts the partner's MFA"
    assert also["automaticUserConsentSettings.inboundAllowed"].says.startswith("true")
    assert (
        also["identitySynchronization"].says == "userSyncInbound.isSyncAllowed is false: sync from it provisions no one"
    )
    outbound = {step.setting for step in explain(ask(direction=OUTBOUND), own, SYSTEM).also}
    assert outbound == {"automaticUserConsentSettings.outboundAllowed"}  # inbound trust and sync are inbound matters


def test_direct_connect_names_the_other_tenants_setting() -> None:
    [*_, last] = explain(ask("b2bDirectConnect", OUTBOUND), None, SYSTEM).also
    assert last.setting == "b2bDirectConnectInbound" and "xtap check --peers" in last.says


def test_an_assumption_both_halves_rest_on_is_said_once() -> None:
    default = Source("default", "system", dict(DEFAULT.absent_means), {"b2bCollaborationInbound": "not managed"})
    assert explain(ask(), None, default).assumptions == ("not managed",)
