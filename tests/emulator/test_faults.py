"""The emulator's injected faults over real HTTP (httpx): latency and its jitter, 503s, lost
replies, the write quota, reads that lag writes and portal-admin edits (docs/emulator.md).
Each must hit exactly the requests it promises, replay with its seed, and leave the others alone."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support.clock import ManualClock
from support.emulator_cli import serving
from support.emulator_http import OTHER, PARTNERS, TID, TRUST, batch, create, get
from support.xtap import READ_ONLY, client_for, run_xtap

from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.emulator.app import GraphHost
from reconciler.emulator.faults import PORTAL_ADMIN, knob_random

DEFAULT = "/policies/crossTenantAccessPolicy/default"
ADD_PARTNER = "Add a partner to cross-tenant access setting"
PLANTED = [f"{i:08d}-0000-0000-0000-00000000000{i}" for i in range(1, 6)]


def statuses(config: EmulatorConfig, requests: int = 9) -> list[int]:
    """The status of each of `requests` GETs of a missing partner, one at a time."""
    with Emulator(config) as emu, client_for(emu) as client:
        return [client.get(f"{PARTNERS}/{OTHER}").status_code for _ in range(requests)]


# -- latency jitter ------------------------------------------------------------------------------


def test_each_request_waits_the_latency_plus_its_own_seeded_draw(emulator_clock: ManualClock) -> None:
    config = EmulatorConfig(latency_s=0.05, latency_jitter_s=0.3, seed=5)
    draws = knob_random(5, "latency jitter")
    expected = [0.05 + draws.uniform(0, 0.3) for _ in range(5)]
    with Emulator(config) as emu, client_for(emu) as client:
        for _ in expected:
            client.get(PARTNERS)
    assert max(expected) - min(expected) > 0.05  # the draws differ, so the test tells them apart
    assert emulator_clock.slept == expected


def test_the_handling_time_counts_toward_the_latency(
    emulator_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The latency is the server's whole part of a round trip, as a Graph client sees it: a
    request that took 0.2 s to handle waits only the rest, and one that took longer than the
    latency is answered at once."""
    handling = iter([0.2, 0.7])
    dispatch = GraphHost.dispatch

    def slow_dispatch(*args: Any) -> Any:
        emulator_clock.advance(next(handling))
        return dispatch(*args)

    monkeypatch.setattr(GraphHost, "dispatch", slow_dispatch)
    with Emulator(EmulatorConfig(latency_s=0.5)) as emu, client_for(emu) as client:
        assert [client.get(PARTNERS).status_code for _ in range(2)] == [200, 200]
    assert emulator_clock.slept == [pytest.approx(0.3), 0.0]  # the second, handled in 0.7 s, waits no more


# -- 503 -----------------------------------------------------------------------------------------


def test_every_nth_request_is_unavailable_with_graphs_error_and_no_retry_after() -> None:
    with Emulator(EmulatorConfig(unavailable_every=2)) as emu, client_for(emu) as client:
        first, second = client.get(f"{PARTNERS}/{OTHER}"), client.post(PARTNERS, json={"tenantId": TID})
        answers = batch(client, create("1", TID), get("2", OTHER))
        assert emu.partners() == {} and emu.audit_entries() == []
    assert (first.status_code, second.status_code) == (404, 503)
    assert second.json()["error"]["code"] == "ServiceUnavailable" and "Retry-After" not in second.headers
    # Items run in reverse: "2" is the third request counted, "1" the fourth.
    assert (answers["2"]["status"], answers["1"]["status"]) == (404, 503)
    assert "Retry-After" not in answers["1"]["headers"]


def test_each_fault_counts_every_request_so_knobs_do_not_shift_each_other() -> None:
    both = statuses(EmulatorConfig(throttle_every=2, unavailable_every=3))
    assert both == [404, 429, 503, 429, 404, 429, 404, 429, 503]  # the 6th is both: the 429 wins
    drawn = EmulatorConfig(throttle_probability=0.4, seed=3)
    alone = statuses(drawn, 30)
    with_503s = statuses(EmulatorConfig(throttle_probability=0.4, unavailable_probability=0.4, seed=3), 30)
    assert 503 in with_503s
    assert [s == 429 for s in alone] == [s == 429 for s in with_503s]
    assert alone == statuses(drawn, 30)


def test_auth_comes_before_every_fault() -> None:
    config = EmulatorConfig(throttle_every=1, unavailable_every=1, drop_every=1, write_quota=1, out_of_band_every=1)
    with Emulator(config) as emu:
        emu.put_partner({"tenantId": TID})
        with client_for(emu, "not-a-token") as anonymous, client_for(emu, emu.mint_token(READ_ONLY)) as reader:
            unauthenticated = anonymous.post(PARTNERS, json={"tenantId": OTHER})
            forbidden = reader.delete(f"{PARTNERS}/{TID}")
        assert emu.audit_entries() == []  # refused requests are not counted: no portal edit either
    assert (unauthenticated.status_code, forbidden.status_code) == (401, 403)


# -- lost replies --------------------------------------------------------------------------------


def test_a_dropped_write_lands_and_its_retry_answers_409() -> None:
    with Emulator(EmulatorConfig(drop_every=1)) as emu, client_for(emu) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(PARTNERS, json={"tenantId": TID})
        assert TID in emu.partners()
        assert [e["activityDisplayName"] for e in emu.audit_entries()] == [
            "Add a partner to cross-tenant access setting"
        ]
        retried = client.post(PARTNERS, json={"tenantId": TID})  # errors are answered, never dropped
        logged = [(r.method, r.status, r.dropped) for r in emu.requests]
    assert retried.status_code == 409
    assert logged == [("POST", 201, True), ("POST", 409, False)]


def test_every_nth_successful_request_loses_its_reply_and_a_batch_loses_all_of_it() -> None:
    with Emulator(EmulatorConfig(drop_every=2)) as emu, client_for(emu) as client:
        missing = client.get(f"{PARTNERS}/{OTHER}")  # a 404: not counted
        listed = client.get(PARTNERS)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/$batch", json={"requests": [create("1", TID), create("2", OTHER)]})
        assert set(emu.partners()) == {TID, OTHER}
        logged = [(r.batch_id, r.status, r.dropped) for r in emu.requests]
    assert (missing.status_code, listed.status_code) == (404, 200)
    assert logged[2:] == [("2", 201, False), ("1", 201, False), (None, 200, True)]


def test_seeded_drops_replay_exactly() -> None:
    def lost(seed: int) -> list[bool]:
        with Emulator(EmulatorConfig(drop_probability=0.5, seed=seed)) as emu, client_for(emu) as client:
            for _ in range(12):
                with contextlib.suppress(httpx.RemoteProtocolError):
                    client.get(PARTNERS)
            return [r.dropped for r in emu.requests]

    assert lost(1) == lost(1) != lost(2)
    assert 0 < sum(lost(1)) < 12


# -- the write quota -----------------------------------------------------------------------------


def writes_until_throttled(client: httpx.Client, most: int) -> tuple[int, httpx.Response]:
    """How many writes pass before the first 429, and that 429."""
    for passed in range(most):
        response = client.patch(f"{PARTNERS}/{OTHER}", json={})
        if response.status_code == 429:
            return passed, response
        assert response.status_code == 404  # a write that reached its handler took a token
    raise AssertionError(f"no 429 within {most} writes")


def test_an_empty_bucket_answers_429_with_graphs_headers_and_reads_go_on(emulator_clock: ManualClock) -> None:
    with Emulator(EmulatorConfig(write_quota=200, write_quota_window_s=100)) as emu, client_for(emu) as client:
        passed, throttled = writes_until_throttled(client, 260)
        read = client.get(PARTNERS)
        assert passed == 200  # no time passes on the emulator's clock while the writes run
        assert throttled.json()["error"]["code"] == "TooManyRequests"
        assert throttled.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
        scope = throttled.headers["x-ms-throttle-scope"]
        assert scope.startswith("Tenant_Application/ReadWrite/") and scope.endswith(f"/{emu.tenant_id}")
        # Retry-After is fractional and waits for max(1, 200/100) = 2 tokens at 2 a second.
        assert throttled.headers["Retry-After"] == "1.000"
        assert read.status_code == 200
        emulator_clock.advance(float(throttled.headers["Retry-After"]))
        assert writes_until_throttled(client, 5)[0] == 2


def test_the_bucket_refills_at_the_quota_per_window_and_each_app_has_its_own(emulator_clock: ManualClock) -> None:
    with Emulator(EmulatorConfig(write_quota=20, write_quota_window_s=1)) as emu, client_for(emu) as client:
        assert writes_until_throttled(client, 30)[0] == 20
        emulator_clock.advance(0.5)
        refilled, _ = writes_until_throttled(client, 30)
        with client_for(emu) as other_app:  # a new token is a new appid
            assert writes_until_throttled(other_app, 30)[0] == 20
    assert refilled == 10  # half a window


def test_batch_items_take_tokens_and_carry_the_throttle_headers_but_the_envelope_takes_none() -> None:
    with Emulator(EmulatorConfig(write_quota=2, write_quota_window_s=600)) as emu, client_for(emu) as client:
        answers = batch(client, create("1", TID), create("2", OTHER), get("3", TID), create("4", PLANTED[0]))
        assert set(emu.partners()) == {OTHER, PLANTED[0]}
    assert [answers[i]["status"] for i in "1234"] == [429, 201, 404, 201]  # a GET takes no token
    assert answers["1"]["headers"]["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert float(answers["1"]["headers"]["Retry-After"]) > 0


def test_the_quota_holds_under_concurrent_writes(emulator_clock: ManualClock) -> None:
    """Exactly the quota passes: the emulator's clock stands still, so nothing refills meanwhile."""
    with Emulator(EmulatorConfig(write_quota=50, write_quota_window_s=3600)) as emu:
        token = emu.mint_token()
        passed: list[int] = []

        def write() -> None:
            with client_for(emu, token) as client:
                passed.extend(client.patch(f"{PARTNERS}/{OTHER}", json={}).status_code for _ in range(10))

        threads = [threading.Thread(target=write) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(set(passed)) == [404, 429] and passed.count(404) == 50


# -- reads that lag writes -----------------------------------------------------------------------


def test_reads_show_a_partner_as_it_was_until_the_lag_has_passed(emulator_clock: ManualClock) -> None:
    with Emulator(EmulatorConfig(read_lag_s=1.0)) as emu, client_for(emu) as client:
        assert client.post(PARTNERS, json={"tenantId": TID}).status_code == 201
        assert client.get(f"{PARTNERS}/{TID}").status_code == 404
        assert client.get(PARTNERS).json()["value"] == []
        assert TID in emu.partners()  # the truth, for the test, at once
        # Writes act on the real state; reads keep showing the state from before the first write.
        assert client.patch(f"{PARTNERS}/{TID}", json={"inboundTrust": TRUST}).status_code == 204
        assert client.get(f"{PARTNERS}/{TID}").status_code == 404
        emulator_clock.advance(0.5)
        assert client.get(f"{PARTNERS}/{TID}").status_code == 404  # half the lag: still as it was ...
        emulator_clock.advance(0.5)
        read = client.get(f"{PARTNERS}/{TID}")  # ... the whole lag: as written
        assert read.status_code == 200 and read.json()["inboundTrust"] == TRUST
        sync = {"displayName": "s", "userSyncInbound": {"isSyncAllowed": True}}
        assert client.put(f"{PARTNERS}/{TID}/identitySynchronization", json=sync).status_code == 204
        expanded = client.get(PARTNERS, params={"$expand": "identitySynchronization"}).json()["value"]
        assert expanded[0]["inboundTrust"] == TRUST and expanded[0]["identitySynchronization"] is None
        assert client.get(f"{PARTNERS}/{TID}/identitySynchronization").status_code == 404
        emulator_clock.advance(1.0)
        assert client.get(f"{PARTNERS}/{TID}/identitySynchronization").status_code == 200


def test_a_deleted_partner_and_a_patched_default_read_as_before_during_the_lag(emulator_clock: ManualClock) -> None:
    with Emulator(EmulatorConfig(read_lag_s=1.0)) as emu, client_for(emu) as client:
        emu.put_partner({"tenantId": TID})  # planted: visible at once
        assert client.delete(f"{PARTNERS}/{TID}").status_code == 204
        assert [p["tenantId"] for p in client.get(PARTNERS).json()["value"]] == [TID]
        assert client.patch(DEFAULT, json={"inboundTrust": {"isMfaAccepted": True}}).status_code == 204
        assert client.get(DEFAULT).json()["isServiceDefault"] is True
        assert emu.default()["isServiceDefault"] is False
        emulator_clock.advance(1.0)
        assert client.get(DEFAULT).json()["isServiceDefault"] is False
        assert client.get(PARTNERS).json()["value"] == []


# -- portal-admin edits --------------------------------------------------------------------------


def edited(config: EmulatorConfig, requests: int = 10) -> list[dict[str, Any]]:
    """The audit entries (oldest first) of `requests` reads against the five planted partners."""
    with Emulator(config) as emu, client_for(emu) as client:
        for tenant in PLANTED:
            emu.put_partner({"tenantId": tenant})
        for _ in range(requests):
            client.get(PARTNERS)
        return list(reversed(emu.audit_entries()))


def test_every_nth_request_a_portal_admin_flips_a_seeded_partners_mfa_trust() -> None:
    with Emulator(EmulatorConfig(out_of_band_every=3, seed=4)) as emu, client_for(emu) as client:
        for tenant in PLANTED:
            emu.put_partner({"tenantId": tenant})
        before = emu.partners()
        pages = [client.get(PARTNERS).json()["value"] for _ in range(3)]
        entries = emu.audit_entries()
        changed = [t for t, p in emu.partners().items() if p != before[t]]
    assert len(entries) == 1 and entries[0]["initiatedBy"] == PORTAL_ADMIN
    assert entries[0]["activityDisplayName"] == "Update a partner cross-tenant access setting"
    assert changed == [entries[0]["targetResources"][0]["id"]] == [knob_random(4, "out of band pick").choice(PLANTED)]
    assert pages[0] == pages[1] != pages[2]  # the edit came before the third request was handled
    flipped = next(p for p in pages[2] if p["tenantId"] == changed[0])
    assert flipped["inboundTrust"]["isMfaAccepted"] is True


def test_without_partners_the_portal_admin_edits_nothing() -> None:
    with Emulator(EmulatorConfig(out_of_band_every=1)) as emu, client_for(emu) as client:
        assert client.get(PARTNERS).status_code == 200
        assert emu.audit_entries() == []


def test_portal_edits_replay_with_their_seed_whatever_else_is_on() -> None:
    def targets(config: EmulatorConfig) -> list[str]:
        return [e["targetResources"][0]["id"] for e in edited(config)]

    first = targets(EmulatorConfig(out_of_band_every=2, seed=9))
    assert len(first) == 5 and len(set(first)) > 1
    assert first == targets(EmulatorConfig(out_of_band_every=2, seed=9, throttle_probability=0.5))
    assert first != targets(EmulatorConfig(out_of_band_every=2, seed=10))


def test_drift_names_the_portal_admin() -> None:
    with Emulator(EmulatorConfig(out_of_band_every=1)) as emu:
        emu.put_partner({"tenantId": TID})
        result = run_xtap("drift", "--attribute", emulator=emu, roles=("Policy.Read.All", "AuditLog.Read.All"))
    assert result.code == 2, result.stderr
    assert "admin@contoso.onmicrosoft.com" in result.stdout


# -- xtap emulator -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latency-jitter", "601"], "latency jitter must be 0 to 600 seconds, got 601"),
        (["--unavailable-every", "-1"], "unavailable every must be 0 (never) or more, got -1"),
        (["--unavailable-probability", "nan"], "unavailable probability must be 0 to 1, got nan"),
        (["--drop-every", "-2"], "drop every must be 0 (never) or more, got -2"),
        (["--drop-probability", "-0.1"], "drop probability must be 0 to 1, got -0.1"),
        (["--write-quota", "-1"], "write quota must be 0 (no quota) or more, got -1"),
        (["--write-quota-window", "0"], "write quota window must be more than 0 and at most 86400 seconds, got 0"),
        (["--read-lag", "inf"], "read lag must be 0 to 600 seconds, got inf"),
        (["--out-of-band-every", "-1"], "out of band every must be 0 (never) or more, got -1"),
    ],
)
def test_a_bad_fault_option_is_a_usage_error(args: list[str], message: str) -> None:
    result = run_xtap("emulator", "--port", "0", *args)
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: {message}", result.stderr


def test_xtap_emulator_injects_the_faults_it_is_given() -> None:
    with (
        serving("--unavailable-every", "3", "--write-quota", "1", "--write-quota-window", "600") as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client,
    ):
        answers = [client.delete(f"{PARTNERS}/{OTHER}").status_code for _ in range(3)]
    assert answers == [404, 429, 503]


def test_latency_delays_the_answer_after_the_write_has_landed(emulator_clock: ManualClock) -> None:
    """The wait comes once the request is handled: a client that gives up meanwhile has still
    written. Each answer waits the latency (recorded by the emulator's clock, not timed)."""
    with Emulator(EmulatorConfig(latency_s=0.5)) as slow:
        url = urlsplit(slow.base_url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=0.2)
        headers = {"Authorization": f"Bearer {slow.mint_token()}", "Content-Type": "application/json"}
        with emulator_clock.holding():  # the answer waits until the client has given up
            connection.request("POST", f"{url.path}{PARTNERS}", body=json.dumps({"tenantId": TID}), headers=headers)
            with pytest.raises(TimeoutError):
                connection.getresponse()  # the client gives up while the answer is delayed ...
            connection.close()
            assert list(slow.partners()) == [TID]  # ... and the write has landed all the same
        with client_for(slow) as client:
            assert client.get(f"{PARTNERS}/{TID}").status_code == 200
    assert emulator_clock.slept == [0.5, 0.5]  # the POST's answer and the GET's each waited 0.5 s
