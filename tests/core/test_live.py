"""The live tenant is held packed (`Wires`): what is read back equals what was stored, is a
copy, and joining or filtering never unpacks."""

from __future__ import annotations

from reconciler.core.address import Address
from reconciler.core.live import Live, Wires

PARTNER = Address("partner", "a")
SYNC = Address("identitySynchronization", "a")
WIRE = {"tenantId": "a", "inboundTrust": {"isMfaAccepted": True}, "n": [1, 2.5, None, "é"]}


def test_an_instance_reads_back_equal_and_a_copy() -> None:
    live = Live({PARTNER: WIRE, SYNC: {"userSyncInbound": None}})
    assert isinstance(live.instances, Wires)
    assert live.instances[PARTNER] == WIRE and live.instances == {PARTNER: WIRE, SYNC: {"userSyncInbound": None}}
    live.instances[PARTNER]["tenantId"] = "changed"
    assert live.instances[PARTNER] == WIRE


def test_joined_and_of_keep_every_instance_once() -> None:
    wires = Wires({PARTNER: WIRE})
    joined = wires.joined({SYNC: {"displayName": "x"}, PARTNER: {"tenantId": "a"}})
    assert dict(joined) == {PARTNER: {"tenantId": "a"}, SYNC: {"displayName": "x"}}
    assert dict(wires) == {PARTNER: WIRE}  # unchanged
    assert dict(Live(joined).of("identitySynchronization")) == {SYNC: {"displayName": "x"}}
