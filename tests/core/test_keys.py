"""How instances are told apart (`core/keys.py`): each key kind keys the items Graph lists or
refuses them, finds the instances a parent's block holds and writes the block back, and names
the instance a directory audit entry is about, however malformed the entry."""

from __future__ import annotations

import json
from typing import Any

from support.capability import CAPABILITY, TENANT

from reconciler.core.registry import DEFAULT, IDENTITY_SYNC, PARTNER


def test_a_parent_s_block_holds_the_nested_instances_both_ways() -> None:
    kind = CAPABILITY.key_kind
    block = [{"name": "teams", "isEnabled": True}, {"name": "exchange"}]
    found = kind.instances(TENANT, block)
    assert found == {f"{TENANT}/teams": block[0], f"{TENANT}/exchange": block[1]}
    bodies = {resource_id: {k: v for k, v in body.items() if k != "name"} for resource_id, body in found.items()}
    assert kind.block(bodies) == [{"name": "exchange"}, {"name": "teams", "isEnabled": True}]
    assert kind.located(block, f"{TENANT}/exchange") is block[1]
    for wrong in ({"name": "teams"}, [{"name": ".."}], [{"name": "a/b"}], [{"isEnabled": True}], [{"name": "x"}] * 2):
        assert kind.instances(TENANT, wrong) is None, wrong
    assert kind.shape == "a list of objects, each with its own name"
    sync = IDENTITY_SYNC.key_kind
    assert sync.instances(TENANT, {"displayName": "x"}) == {TENANT: {"displayName": "x"}}
    assert sync.instances(TENANT, [1]) is None and sync.shape == "an object"
    assert sync.block({TENANT: {"displayName": "x"}}) == {"displayName": "x"}


def test_listed_items_are_keyed_or_refused_by_their_key_kind() -> None:
    assert PARTNER.key_kind.id_of({"tenantId": TENANT.upper()}, None) == TENANT
    assert PARTNER.key_kind.id_of({"tenantId": "contoso"}, None) is None
    assert PARTNER.key_kind.refusal() == "without a GUID tenantId"
    assert DEFAULT.key_kind.id_of({}, None) == "default"
    assert CAPABILITY.key_kind.id_of({"name": "teams"}, "default") == "default/teams"


def modified(name: str, value: str) -> list[dict[str, Any]]:
    return [{"id": "not-a-guid", "modifiedProperties": [{"displayName": name, "newValue": json.dumps(value)}]}]


def test_an_audit_entry_names_its_instance_as_the_type_says() -> None:
    assert PARTNER.audit_instance(modified("tenantId", TENANT.upper())) == TENANT
    assert PARTNER.audit_instance([{"id": TENANT}]) == TENANT
    assert IDENTITY_SYNC.audit_instance(modified("tenantId", TENANT)) == TENANT
    assert DEFAULT.audit_instance("anything Graph sends") == "default"
    named = modified("tenantId", TENANT)
    named[0]["modifiedProperties"].append({"displayName": "name", "newValue": '"teams"'})
    assert CAPABILITY.audit_instance(named) == f"{TENANT}/teams"
    assert PARTNER.audit_instance([{"modifiedProperties": "not a list"}]) is None
