"""Apply under Graph's faults (lost replies, 503s, throttling, the write quota) against the
emulator's seeded fault knobs; and apply's read-back check, without a tenant."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from support.apply_changes import apply_changes, envelopes, plant, statuses, tenant, trust_updates
from support.policy_files import write_policies
from support.seeds import SEED_001_PATCH_BODIES, SYNC_PUT_BODY
from support.xtap import run_xtap, writes_served

from reconciler.apply.writes import UNAVAILABLE_ATTEMPTS, ApplyReport, Outcome, unconfirmed
from reconciler.core.address import Address
from reconciler.core.live import Live
from reconciler.core.registry import PARTNER
from reconciler.core.request import Request
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph.client import WriteQuota
from reconciler.plan import actions
from reconciler.plan.model import Change

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


def creates(numbers: range) -> tuple[Change, ...]:
    return tuple(
        Change(PARTNER.name, tenant(n), "create", None, (), actions.create(PARTNER, tenant(n), {"tenantId": tenant(n)}))
        for n in numbers
    )


def test_a_create_whose_reply_was_lost_is_applied_once() -> None:
    """Every 2nd reply is lost: the first apply's batch is answered; the second's creates land
    unanswered, so the resend meets 409s, which on a resend mean the lost attempt did it."""
    with Emulator(EmulatorConfig(drop_every=2)) as emulator:
        plant(emulator, 1)
        assert apply_changes(emulator.base_url, trust_updates(1), emulator.mint_token()).ok
        report = apply_changes(emulator.base_url, creates(range(2, 5)), emulator.mint_token())
        posts = [(r.path, r.status) for r in writes_served(emulator) if r.method == "POST"]
        assert sorted(emulator.partners()) == [tenant(n) for n in range(1, 5)]
    assert statuses(report) == ["applied"] * 3
    assert {o.error for o in report.outcomes} == {"already created by the earlier attempt whose reply was lost"}
    assert sorted(status for _, status in posts) == [201] * 3 + [409] * 3


def test_a_batch_whose_reply_is_always_lost_fails_and_stops_apply() -> None:
    """Each resend lands too (as a 409, still a 200 batch) and is lost again: after 4 attempts
    Graph counts as unreachable, so nothing more is sent."""
    with Emulator(EmulatorConfig(drop_every=1)) as emulator:
        report = apply_changes(emulator.base_url, creates(range(1, 3)), emulator.mint_token())
        assert len(envelopes(emulator)) == 4
    assert statuses(report) == ["failed"] * 2
    assert all((o.error or "").startswith("POST /$batch: cannot reach Graph: ") for o in report.outcomes)


def test_unavailable_items_are_retried_and_fail_after_their_attempts() -> None:
    with Emulator(EmulatorConfig(unavailable_every=3)) as emulator:
        plant(emulator, 12)
        report = apply_changes(emulator.base_url, trust_updates(12), emulator.mint_token())
        served = Counter(r.status for r in writes_served(emulator))
    assert report.ok and served[503] > 0 and served[204] == 12
    with Emulator(EmulatorConfig(unavailable_every=1)) as emulator:
        plant(emulator, 1)
        [outcome] = apply_changes(emulator.base_url, trust_updates(1), emulator.mint_token()).outcomes
        assert len(writes_served(emulator)) == UNAVAILABLE_ATTEMPTS
    assert outcome.status == "failed"
    assert f"PATCH {PARTNER.url(tenant(1))}: 503 ServiceUnavailable: " in (outcome.error or "")


def test_reads_whose_connection_drops_are_sent_again(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": tenant(1)}])
    with Emulator(EmulatorConfig(drop_every=2)) as emulator:
        planned = run_xtap("plan", "--format", "json", "--policies", str(policies), emulator=emulator)
        lost = [r for r in emulator.requests if r.dropped]
    assert planned.code == 0, planned.stderr
    assert [c["id"] for c in json.loads(planned.stdout)["changes"]] == [tenant(1)]
    assert lost and all(r.method == "GET" for r in lost)


def test_apply_converges_through_throttling_and_lost_replies(tmp_path: Path) -> None:
    """60 changes: 20 creates with tenantRestrictions and an identity sync (3 requests in a chain), 20
    updates; every 4th request throttled and about one reply in seven lost. No partner is created twice,
    apply says every change was applied, and the next plan is clean."""
    restrictions = SEED_001_PATCH_BODIES[2]
    new = [{"tenantId": tenant(n), **restrictions, "identitySynchronization": SYNC_PUT_BODY} for n in range(1, 21)]
    updated = [{"tenantId": tenant(n), **SEED_001_PATCH_BODIES[0]} for n in range(101, 121)]
    policies = write_policies(tmp_path / "policies", new + updated)
    config = EmulatorConfig(throttle_every=4, retry_after_s=0.05, drop_probability=0.15, seed=3)
    with Emulator(config) as emulator:
        for partner in updated:
            emulator.put_partner({"tenantId": partner["tenantId"]})
        applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
        created = Counter(r.body["tenantId"] for r in writes_served(emulator) if (r.method, r.status) == ("POST", 201))
        lost = sum(1 for r in emulator.requests if r.dropped)
        again = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert applied.stdout.endswith("Apply complete: 60 applied, 0 failed, 0 skipped.\n")
    assert lost > 0
    assert sorted(created.values()) == [1] * 20
    assert again.code == 0, again.stdout + again.stderr


def test_writes_beyond_the_write_quota_are_paced_by_it_and_never_throttled() -> None:
    """A plan just over the quota (scaled down: 100 writes per second): apply, told the quota as
    it knows Graph's, sends the quota's worth and then the rest at the quota's pace, so the
    emulator answers no write 429 and each lands once. How close to the quota's floor they
    finish is a timing goal, measured by bench/quota.py."""
    writes, quota = 150, WriteQuota(100, 1.0)
    with Emulator(EmulatorConfig(write_quota=quota.writes, write_quota_window_s=quota.window_s)) as emulator:
        plant(emulator, writes)
        report = apply_changes(emulator.base_url, trust_updates(writes), emulator.mint_token(), quota)
        served = writes_served(emulator)
    assert report.ok
    done = Counter(r.path for r in served if r.status == 204)
    assert len(done) == writes and set(done.values()) == {1}
    assert not [r for r in served if r.status == 429]


def test_writes_past_a_quota_apply_does_not_know_are_throttled_and_land_once_at_most() -> None:
    """The same plan, apply counting on ten times what the emulator allows: the emulator
    throttles (so the test above holds only because the count paces apply), and no write
    lands twice. (Whether every write lands is the gate's business, at Graph's Retry-After:
    this scaled-down quota asks to come back for a single write.)"""
    writes, quota = 150, WriteQuota(100, 1.0)
    with Emulator(EmulatorConfig(write_quota=quota.writes, write_quota_window_s=quota.window_s)) as emulator:
        plant(emulator, writes)
        report = apply_changes(emulator.base_url, trust_updates(writes), emulator.mint_token(), WriteQuota(1000, 1.0))
        served = writes_served(emulator)
    done = Counter(r.path for r in served if r.status == 204)
    assert len(done) == report.count("applied") and set(done.values()) == {1}
    assert any(r.status == 429 for r in served)
