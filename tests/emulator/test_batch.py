"""The emulator's JSON `$batch` and injected 429s over real HTTP (httpx), held to Graph's
batching guide (https://learn.microsoft.com/graph/json-batching): the rules a batching client must
follow, so that it fails here rather than against Graph."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.emulator_cli import serving
from support.emulator_http import JSON, OTHER, PARTNERS, TID, batch, create, get
from support.xtap import client_for, run_xtap

from reconciler.emulator import Emulator, EmulatorConfig


def refused(client: httpx.Client, body: Any) -> str:
    """The message of a batch refused as a whole, which must have run no item."""
    response = client.post("/$batch", json=body)
    assert response.status_code == 400
    return str(response.json()["error"]["message"])


def test_items_answer_as_top_level_requests_and_are_logged_as_batch_items(emu: Emulator, client: httpx.Client) -> None:
    answers = batch(client, create("a", TID), get("b", OTHER))
    assert answers["a"]["status"] == 201 and answers["a"]["body"]["tenantId"] == TID
    assert answers["a"]["headers"]["Location"].endswith(f"{PARTNERS}/{TID}")
    assert answers["b"]["status"] == 404 and answers["b"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert TID in emu.partners()
    logged = [(r.method, r.path, r.status, r.batch_id) for r in emu.requests]
    assert logged == [
        ("GET", f"{PARTNERS}/{OTHER}", 404, "b"),
        ("POST", PARTNERS, 201, "a"),
        ("POST", "/v1.0/$batch", 200, None),
    ]
    assert [e["activityDisplayName"] for e in emu.audit_entries()] == ["Add a partner to cross-tenant access setting"]


def test_independent_items_run_in_reverse_and_dependants_after_their_dependencies(client: httpx.Client) -> None:
    response = client.post(
        "/$batch", json={"requests": [create("1", TID), get("2", TID, dependsOn=["1"]), get("3", TID)]}
    )
    order = [r["id"] for r in response.json()["responses"]]
    assert order == ["3", "1", "2"]
    statuses = {r["id"]: r["status"] for r in response.json()["responses"]}
    assert statuses == {"3": 404, "1": 201, "2": 200}  # 3 ran before the create it did not depend on


def test_a_failed_dependency_answers_424_down_the_chain(emu: Emulator, client: httpx.Client) -> None:
    answers = batch(
        client,
        get("1", TID),
        create("2", TID, dependsOn=["1"]),
        get("3", OTHER, dependsOn=["2"]),
    )
    assert [answers[i]["status"] for i in "123"] == [404, 424, 424]
    assert answers["2"]["body"]["error"]["code"] == "FailedDependency"
    assert emu.partners() == {}


def test_more_than_20_items_refuse_the_whole_batch(emu: Emulator, client: httpx.Client) -> None:
    assert batch(client, *(get(str(i), OTHER) for i in range(20))).keys() == {str(i) for i in range(20)}
    emu.clear_requests()
    assert "limit of 20" in refused(client, {"requests": [get(str(i), OTHER) for i in range(21)]})
    assert [r.batch_id for r in emu.requests] == [None]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([get("1", OTHER), get("2", OTHER, dependsOn=["3"]), get("3", OTHER)], "Invalid dependency for request Id 2."),
        ([get("1", OTHER, dependsOn=["1"])], "Invalid dependency for request Id 1."),
        ([get("a", OTHER), get("A", OTHER)], "Duplicate request id: A."),
        ([{**create("1", TID), "headers": {}}], "Write request id : 1 does not contain Content-Type header or body."),
        ([{"id": "1", "method": "GET"}], "Invalid batch payload format."),
        ([], "Invalid batch payload format."),
    ],
)
def test_malformed_batches_are_refused_whole(
    emu: Emulator, client: httpx.Client, items: list[dict[str, Any]], message: str
) -> None:
    assert refused(client, {"requests": items}) == message
    assert emu.partners() == {} and [r.batch_id for r in emu.requests] == [None]


def test_item_urls_are_relative_to_the_version_root(client: httpx.Client, emu: Emulator) -> None:
    answers = batch(
        client,
        get("absolute", TID, url=f"{emu.base_url}{PARTNERS}/{TID}"),
        get("versioned", TID, url=f"/v1.0{PARTNERS}/{TID}"),
        get("bare", OTHER, url=f"{PARTNERS.lstrip('/')}/{OTHER}"),
        {"id": "nested", "method": "POST", "url": "/$batch", "headers": JSON, "body": {"requests": []}},
    )
    assert answers["absolute"]["status"] == 400
    assert answers["absolute"]["body"]["error"]["message"] == "Invalid batch payload format."
    assert answers["versioned"]["body"]["error"]["message"] == "Resource not found for the segment 'v1.0'."
    assert answers["bare"]["status"] == 404
    assert answers["nested"]["body"]["error"]["message"] == "Resource not found for the segment '$batch'."


def test_items_are_authorised_by_the_batch_token(emu: Emulator) -> None:
    with client_for(emu, token="not-a-token") as anonymous:
        assert anonymous.post("/$batch", json={"requests": [get("1", OTHER)]}).status_code == 401
    with client_for(emu, emu.mint_token(roles=["Policy.Read.All"])) as reader:
        answers = batch(reader, create("w", TID), get("r", OTHER))
    assert (answers["w"]["status"], answers["r"]["status"]) == (403, 404)
    assert [(r.status, r.batch_id) for r in emu.requests] == [(401, None), (404, "r"), (403, "w"), (200, None)]


def throttled(config: EmulatorConfig, batches: int = 3) -> list[int]:
    """The statuses of every item of `batches` five-item batches and of a top-level GET after each."""
    statuses: list[int] = []
    with Emulator(config) as emu, client_for(emu) as client:
        for _ in range(batches):
            answers = batch(client, *(get(str(i), OTHER) for i in range(5)))
            statuses += [answers[str(i)]["status"] for i in reversed(range(5))]  # the run order
            statuses.append(client.get(f"{PARTNERS}/{OTHER}").status_code)
    return statuses


def test_every_nth_request_is_throttled_inside_batches_and_out() -> None:
    statuses = throttled(EmulatorConfig(throttle_every=4))
    assert [i for i, s in enumerate(statuses) if s == 429] == [3, 7, 11, 15]
    assert set(statuses) == {404, 429}
    with Emulator(EmulatorConfig(throttle_every=2, retry_after_s=2.5)) as throttling, client_for(throttling) as client:
        client.get(f"{PARTNERS}/{OTHER}")
        response = client.get(f"{PARTNERS}/{OTHER}")
        client.get(f"{PARTNERS}/{OTHER}")
        answers = batch(client, get("1", OTHER), get("2", OTHER, dependsOn=["1"]))
    assert response.status_code == 429 and response.headers["Retry-After"] == "2.5"
    assert response.json()["error"]["code"] == "TooManyRequests"
    assert answers["1"]["headers"]["Retry-After"] == "2.5"
    assert (answers["1"]["status"], answers["2"]["status"]) == (429, 424)


def test_seeded_throttling_replays_exactly() -> None:
    first = throttled(EmulatorConfig(throttle_probability=0.3, seed=7), batches=6)
    assert first == throttled(EmulatorConfig(throttle_probability=0.3, seed=7), batches=6)
    assert first != throttled(EmulatorConfig(throttle_probability=0.3, seed=8), batches=6)
    assert 0 < first.count(429) < len(first)


def test_xtap_emulator_throttles_as_asked() -> None:
    with (
        serving("--throttle-every", "2", "--retry-after", "3") as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client,
    ):
        statuses = [client.get(f"{PARTNERS}/{OTHER}") for _ in range(4)]
    assert [r.status_code for r in statuses] == [404, 429, 404, 429]
    assert statuses[1].headers["Retry-After"] == "3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--throttle-every", "-1"], "throttle every must be 0 (never) or more, got -1"),
        (["--throttle-probability", "1.5"], "throttle probability must be 0 to 1, got 1.5"),
        (["--throttle-probability", "nan"], "throttle probability must be 0 to 1, got nan"),
        (["--retry-after", "-1"], "retry after must be 0 to 600 seconds, got -1"),
    ],
)
def test_a_bad_throttle_option_is_a_usage_error(args: list[str], message: str) -> None:
    result = run_xtap("emulator", "--port", "0", *args)
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: {message}", result.stderr


def test_a_throttled_write_does_nothing() -> None:
    with Emulator(EmulatorConfig(throttle_every=1)) as emu, client_for(emu) as client:
        direct = client.post(PARTNERS, json={"tenantId": TID})
        answers = batch(client, create("1", OTHER))
        assert (direct.status_code, answers["1"]["status"]) == (429, 429)
        assert emu.partners() == {} and emu.audit_entries() == []


def test_the_batch_body_needs_its_json_content_type(client: httpx.Client) -> None:
    response = client.post("/$batch", content=b'{"requests": []}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "Request_BadRequest"


def test_an_item_body_is_held_to_the_rules_of_a_top_level_body(emu: Emulator, client: httpx.Client) -> None:
    """An item's body comes parsed with its batch, and still meets the checks a top-level body
    meets: JSON's Content-Type, and the handler's own (a null body is not an object)."""
    answers = batch(
        client,
        create("text", TID, headers={"Content-Type": "text/plain"}),
        create("null", TID, body=None),
        create("json", OTHER, headers={"content-type": "application/json; charset=utf-8"}),
    )
    assert answers["text"]["body"]["error"]["message"].startswith("Unable to read JSON request payload.")
    assert answers["null"]["body"]["error"]["message"] == "The request body must be a JSON object."
    assert (answers["text"]["status"], answers["null"]["status"], answers["json"]["status"]) == (400, 400, 201)
    assert list(emu.partners()) == [OTHER]
    logged = {r.batch_id: r.body for r in emu.requests if r.batch_id is not None}
    assert logged == {"text": {"tenantId": TID}, "null": None, "json": {"tenantId": OTHER}}
