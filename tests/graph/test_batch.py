"""Graph's `$batch` envelope, client side (`graph/batch.py`): a reply that is not a batch reply
naming each item once fails the writes it carried with one clean line, never a traceback or a
write counted as done. How apply groups its writes into batches, and in what order, is in
tests/apply/test_writes_batches.py."""

from __future__ import annotations

import pytest
from support.apply_changes import apply_changes, trust_updates
from support.stub_servers import json_reply, serving


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        ({"responses": 7}, "a $batch reply without a 'responses' list"),
        ({"responses": [{"id": "0", "status": "204"}]}, "a $batch response that is not {id, status, headers, body}"),
        ({"responses": []}, "the $batch reply leaves request 0 unanswered"),
    ],
)
def test_a_batch_reply_that_is_not_graphs_fails_its_writes(reply: object, says: str) -> None:
    with serving({"/v1.0/$batch": json_reply(reply)}) as url:
        report = apply_changes(url, trust_updates(1), "stub-token")
    [outcome] = report.outcomes
    assert outcome.status == "failed"
    assert outcome.error == f"POST /$batch: not Graph's reply: {says}"
