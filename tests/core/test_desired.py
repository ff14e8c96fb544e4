"""A declared instance keeps its properties packed: `written` is what was given, a new copy
each time, and the packed form crosses a pipe and compares as the properties do."""

from __future__ import annotations

import pickle

from reconciler.core.desired import DesiredInstance
from reconciler.core.rules import ToolKey

WRITTEN = {"tenantId": "a", "inboundTrust": {"isMfaAccepted": True}, "targets": [{"target": "AllUsers"}]}


def test_written_round_trips_and_is_a_copy() -> None:
    instance = DesiredInstance(WRITTEN, "p.yaml:1", holds={"identitySynchronization": "p.yaml:4"})
    assert instance.written == WRITTEN and instance.file == "p.yaml"
    instance.written["tenantId"] = "b"
    assert instance.written == WRITTEN
    assert DesiredInstance(instance.body, "p.yaml:1", None, instance.holds) == instance
    assert pickle.loads(pickle.dumps((instance.body, instance.tool, instance.holds))) == (
        instance.body,
        ToolKey(),
        {"identitySynchronization": "p.yaml:4"},
    )
    assert instance != DesiredInstance({**WRITTEN, "tenantId": "b"}, "p.yaml:1", holds=instance.holds)
