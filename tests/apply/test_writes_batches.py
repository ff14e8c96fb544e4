"""Writes in JSON `$batch`: how many requests apply sends, in what order, and what each item's
answer does to its change (the envelope itself, and a reply that is not one, are in
tests/graph/test_batch.py). msgraph-sdk over real HTTP against the emulator, whose `$batch` is as
strict as Graph's and runs a batch's items in reverse, so a request sent before what it waits for
is answered fails."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.apply_changes import apply_changes, envelopes, plant, statuses, tenant, trust_updates
from support.emulator_http import TRUST
from support.policy_files import write_policies
from support.seeds import SEED_001_PATCH_BODIES, SYNC_PUT_BODY
from support.xtap import READ_ONLY, READ_WRITE, run_xtap, writes_served

from reconciler.apply import writes
from reconciler.apply.writes import MAX_IN_FLIGHT, SKIPPED_REASON, THROTTLED_ATTEMPTS
from reconciler.core.registry import IDENTITY_SYNC, M365_CAPABILITY, PARTNER
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph.batch import MAX_ITEMS, BatchItem, ItemReply, send_batch
from reconciler.graph.client import Graph
from reconciler.plan import actions
from reconciler.plan.model import Change

RESTRICTIONS = SEED_001_PATCH_BODIES[2]


def test_999_patches_among_1000_partners_go_in_50_batches(emulator: Emulator) -> None:
    plant(emulator, 1000)
    report = apply_changes(emulator.base_url, trust_updates(999), emulator.mint_token())
    assert report.ok and len(report.outcomes) == 999
    assert len(envelopes(emulator)) == 50  # ceil(999 / 20): nothing waits, full batches
    served = writes_served(emulator)
    assert sorted(r.path for r in served) == sorted(f"/v1.0{PARTNER.url(tenant(n))}" for n in range(1, 1000))
    assert {(r.method, r.status) for r in served} == {("PATCH", 204)}
    assert emulator.partners()[tenant(999)]["inboundTrust"] == TRUST
    assert emulator.partners()[tenant(1000)].get("inboundTrust") is None


def test_creates_with_a_patch_and_an_identity_sync_go_in_three_batches(tmp_path: Path, emulator: Emulator) -> None:
    """POST, then the PATCH of what create does not take, then the sync's PUT: three batches
    for nine writes, each request after everything it needs, though items run in reverse."""
    partners = [{"tenantId": tenant(n), **RESTRICTIONS, "identitySynchronization": SYNC_PUT_BODY} for n in (1, 2, 3)]
    policies = write_policies(tmp_path / "policies", partners)
    applied = run_xtap("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)
    assert applied.code == 0, applied.stdout + applied.stderr
    for n in (1, 2, 3):
        assert f"applied: + partner {tenant(n)}\n" in applied.stdout
        assert f"applied: + identitySynchronization {tenant(n)}\n" in applied.stdout
    assert applied.stdout.endswith("Apply complete: 6 applied, 0 failed, 0 skipped.\n")
    assert len(envelopes(emulator)) == 3  # each answer makes the next three ready together
    served = writes_served(emulator)
    assert [r.method for r in served] == ["POST"] * 3 + ["PATCH"] * 3 + ["PUT"] * 3
    assert all(200 <= r.status < 300 for r in served)
    clean = run_xtap("plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator)
    assert clean.code == 0, clean.stdout + clean.stderr


@dataclass(frozen=True)
class Sent:
    """An item of a `$batch` apply sent: when the batch went and when its answer came, by the
    clock apply schedules its sends by (the event loop's), and the item's answer."""

    method: str
    url: str
    body: Any
    at: float
    answered_at: float
    status: int
    retry_after: str | None


def sent_items(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every item apply sends from now on, as it sends them (`writes.send_batch` recorded)."""
    sent: list[Sent] = []

    async def recorded(graph: Graph, items: Sequence[BatchItem]) -> list[ItemReply]:
        clock = asyncio.get_running_loop().time
        at = clock()
        replies = await send_batch(graph, items)
        answered_at = clock()
        for item, reply in zip(items, replies, strict=True):
            request = item.request
            sent.append(
                Sent(
                    request.method,
                    request.url,
                    request.body,
                    at,
                    answered_at,
                    reply.status,
                    reply.headers.get("retry-after"),
                )
            )
        return replies

    monkeypatch.setattr(writes, "send_batch", recorded)
    return sent


def test_throttled_items_are_sent_again_after_their_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every 4th item is answered 429 with Retry-After 0.1: each goes again once per 429, never
    before its Retry-After has passed on apply's own clock, and lands once."""
    sent = sent_items(monkeypatch)
    with Emulator(EmulatorConfig(throttle_every=4, retry_after_s=0.1)) as emulator:
        plant(emulator, 30)
        report = apply_changes(emulator.base_url, trust_updates(30), emulator.mint_token())
        served = writes_served(emulator)
    assert report.ok, [o.error for o in report.outcomes]
    throttled = [item for item in sent if item.status == 429]
    assert throttled and len(throttled) == sum(1 for r in served if r.status == 429)
    assert {item.retry_after for item in throttled} == {"0.1"}  # as the emulator answered
    for url in {item.url for item in sent}:
        tries = [item for item in sent if item.url == url]
        assert [item.status for item in tries] == [429] * (len(tries) - 1) + [204]
        for answered, again in itertools.pairwise(tries):
            assert again.at >= answered.answered_at + 0.1, url
    done = sorted(r.path for r in served if r.status == 204)
    assert done == sorted(f"/v1.0{PARTNER.url(tenant(n))}" for n in range(1, 31))  # each once


def test_an_item_throttled_too_often_fails_with_graphs_429() -> None:
    with Emulator(EmulatorConfig(throttle_every=1, retry_after_s=0)) as emulator:
        plant(emulator, 1)
        report = apply_changes(emulator.base_url, trust_updates(1), emulator.mint_token())
        attempts = len(writes_served(emulator))
    [outcome] = report.outcomes
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert outcome.error.startswith(f"PATCH {PARTNER.url(tenant(1))}: 429 TooManyRequests: Please retry again later.")
    assert "(request-id " in outcome.error
    assert attempts == THROTTLED_ATTEMPTS + 1


def test_a_fallback_is_sent_at_once() -> None:
    """Graph answers the identity sync's PATCH 405 in one reading of its sources: PUT follows."""
    with Emulator(EmulatorConfig(sync_patch=False, sync_put_replaces=True)) as emulator:
        plant(emulator, 1)
        emulator.put_identity_sync(tenant(1), {"tenantId": tenant(1), **SYNC_PUT_BODY})
        whole = {**SYNC_PUT_BODY, "displayName": "Contoso"}
        requests = actions.update(IDENTITY_SYNC, tenant(1), {"displayName": "Contoso"}, whole)
        change = Change(IDENTITY_SYNC.name, tenant(1), "update", None, (), requests)
        report = apply_changes(emulator.base_url, (change,), emulator.mint_token())
        served = [(r.method, r.status) for r in writes_served(emulator)]
        assert emulator.identity_sync(tenant(1)) == {"tenantId": tenant(1), **whole}
    assert statuses(report) == ["applied"]
    assert served == [("PATCH", 405), ("PUT", 204)]


def created_with_syncs(partners: range) -> tuple[Change, ...]:
    """`partners` created, each with an identity sync that waits for its create."""
    creates = [
        Change(PARTNER.name, tenant(n), "create", None, (), actions.create(PARTNER, tenant(n), {"tenantId": tenant(n)}))
        for n in partners
    ]
    syncs = [
        Change(
            IDENTITY_SYNC.name,
            create.id,
            "create",
            None,
            (),
            actions.create(IDENTITY_SYNC, create.id, SYNC_PUT_BODY),
            (create.address,),
        )
        for create in creates
    ]
    return (*creates, *syncs)


def test_an_identity_sync_goes_once_its_own_partner_is_answered(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    """One batch of creates more than go at once: syncs go while the last creates are still in
    flight, and no sync before its own partner's create is answered."""
    sent = sent_items(monkeypatch)
    count = (MAX_IN_FLIGHT + 1) * MAX_ITEMS
    report = apply_changes(emulator.base_url, created_with_syncs(range(1, count + 1)), emulator.mint_token())
    assert report.ok
    created = {item.body["tenantId"]: item.answered_at for item in sent if item.method == "POST"}
    syncs = {
        tenant(n): item.at for n in range(1, count + 1) for item in sent if item.url == IDENTITY_SYNC.url(tenant(n))
    }
    assert len(created) == len(syncs) == count
    assert all(at >= created[partner] for partner, at in syncs.items())  # never before its own partner
    assert min(syncs.values()) < max(created.values())  # but before the last partner's


def test_the_changes_others_wait_for_go_first(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> None:
    """As many updates as go at once, then one batch of creates with identity syncs: the creates,
    last in the plan, go in the first round, so their syncs need not wait for the updates."""
    sent = sent_items(monkeypatch)
    updates = MAX_IN_FLIGHT * MAX_ITEMS
    plant(emulator, updates)
    changes = (*trust_updates(updates), *created_with_syncs(range(updates + 1, updates + MAX_ITEMS + 1)))
    report = apply_changes(emulator.base_url, changes, emulator.mint_token())
    assert report.ok
    first_round = min(item.answered_at for item in sent)
    assert all(item.at < first_round for item in sent if item.method == "POST")


def test_a_failed_item_skips_its_dependants_and_no_other_change(emulator: Emulator) -> None:
    """Partner 1 exists, so its create is a 409 (on a first attempt, a real conflict)."""
    plant(emulator, 1)
    report = apply_changes(emulator.base_url, created_with_syncs(range(1, 3)), emulator.mint_token())
    assert statuses(report) == ["failed", "applied", "skipped", "applied"]
    failed, skipped = report.outcomes[0], report.outcomes[2]
    assert failed.error is not None and failed.error.startswith(f"POST {PARTNER.collection_url}: 409 ")
    assert "(request-id " in failed.error
    assert skipped.error == f"not attempted: it needs partner {tenant(1)}, which was not applied"
    assert emulator.identity_sync(tenant(2)) is not None and emulator.identity_sync(tenant(1)) is None


def test_a_refused_capability_write_names_the_capability_permission(emulator: Emulator) -> None:
    """Apply names the permission from the change's type (its registry entry), not from the URL:
    a token apply could not read claims from still learns which permission Graph wants."""
    body = {"inboundAccess": {"isAllowed": False, "resourceScopes": {"included": [], "excluded": []}}}
    change = Change(
        M365_CAPABILITY.name,
        "default/crossTenantMailTipsLimited",
        "create",
        None,
        (),
        actions.create(M365_CAPABILITY, "default/crossTenantMailTipsLimited", body),
    )
    report = apply_changes(emulator.base_url, (change,), emulator.mint_token(roles=READ_WRITE))
    [failed] = report.outcomes
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.startswith(f"POST {M365_CAPABILITY.collection_url_of(change.id)}: 403 ")
    assert failed.error.endswith(
        f"The identity needs the {M365_CAPABILITY.write_permission} permission (application or delegated)."
    )
    assert PARTNER.write_permission not in failed.error


@pytest.mark.parametrize(
    ("token_for", "says"),
    [
        (lambda emulator: emulator.mint_token(roles=READ_ONLY), "needs the Policy.ReadWrite.CrossTenantAccess"),
        (lambda emulator: "not-a-token", "The access token was refused"),
    ],
    ids=["403", "401"],
)
def test_a_refused_token_stops_every_write_not_yet_sent(emulator: Emulator, token_for: object, says: str) -> None:
    """One batch more than go at once: those in flight together fail; nothing more is sent."""
    sent = MAX_IN_FLIGHT * MAX_ITEMS
    plant(emulator, sent + MAX_ITEMS)
    report = apply_changes(emulator.base_url, trust_updates(sent + MAX_ITEMS), token_for(emulator))  # type: ignore[operator]
    assert len(envelopes(emulator)) == MAX_IN_FLIGHT
    assert statuses(report) == ["failed"] * sent + ["skipped"] * MAX_ITEMS
    assert all(says in (o.error or "") for o in report.outcomes[:sent])
    assert {o.error for o in report.outcomes[sent:]} == {SKIPPED_REASON}
    assert emulator.partners()[tenant(1)].get("inboundTrust") is None
