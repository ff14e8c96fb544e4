"""Apply's read-back check, without a tenant."""

from __future__ import annotations

from reconciler.address import Address
from reconciler.apply import ApplyReport, Outcome, unconfirmed
from reconciler.live import Live
from reconciler.plan import Change, Request
from reconciler.registry import PARTNER

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": None}
CHANGE = Change(
    PARTNER.name, TENANT, "update", "p.yaml:1", (), (Request("PATCH", PARTNER.url(TENANT), {"inboundTrust": TRUST}),)
)


def live_with(trust: object) -> Live:
    return Live({Address(PARTNER.name, TENANT): {"tenantId": TENANT, "inboundTrust": trust}})


def test_a_write_that_reads_back_in_graph_form_is_confirmed() -> None:
    as_graph_says = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": None,
        "isHybridAzureADJoinedDeviceAccepted": None,
    }
    assert unconfirmed(ApplyReport((Outcome(CHANGE, "applied"),)), live_with(as_graph_says)) == []


def test_a_write_graph_did_not_keep_is_named() -> None:
    report = ApplyReport((Outcome(CHANGE, "applied"),))
    assert unconfirmed(report, live_with(None)) == [
        f"partner {TENANT}: inboundTrust does not read back as it was written"
    ]
    assert unconfirmed(report, Live()) != []  # the partner vanished


def test_failed_and_skipped_changes_are_not_checked() -> None:
    report = ApplyReport((Outcome(CHANGE, "failed", "403"), Outcome(CHANGE, "skipped", "not attempted")))
    assert unconfirmed(report, Live()) == []
