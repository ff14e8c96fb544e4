"""How instances are told apart (`core/keys.py`): each key kind keys the items Graph lists or
refuses them, finds the instances a parent's block holds and writes the block back, and names
the instance a directory audit entry is about, however malformed the entry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.capability import CAPABILITY, TENANT

from reconciler.core.registry import DEFAULT, IDENTITY_SYNC, M365_CAPABILITY, PARTNER


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


# -- a name that is its item's Graph type (Microsoft 365 capabilities) ---------------------------

CAPABILITY_KIND = M365_CAPABILITY.key_kind
MAIL_TIPS = "crossTenantMailTipsAll"


@pytest.mark.parametrize("odata_type", [f"#microsoft.graph.{MAIL_TIPS}", f"microsoft.graph.{MAIL_TIPS}"])
def test_a_capability_is_named_by_its_odata_type_with_or_without_the_hash(odata_type: str) -> None:
    assert CAPABILITY_KIND.id_of({"@odata.type": odata_type}, "default") == f"default/{MAIL_TIPS}"
    assert CAPABILITY_KIND.id_of({"@odata.type": odata_type, "name": MAIL_TIPS}, TENANT) == f"{TENANT}/{MAIL_TIPS}"
    assert CAPABILITY_KIND.id_of({"name": MAIL_TIPS}, TENANT) == f"{TENANT}/{MAIL_TIPS}"  # as Graph echoes it


@pytest.mark.parametrize(
    "item",
    [
        {"@odata.type": f"#microsoft.graph.{MAIL_TIPS}", "name": "crossTenantMailTipsLimited"},  # they disagree
        {"@odata.type": f"#other.namespace.{MAIL_TIPS}"},
        {"@odata.type": "#microsoft.graph."},
        {"@odata.type": "#microsoft.graph.a/b"},
        {"@odata.type": 7},
        {"@odata.type": None, "name": MAIL_TIPS},
        {},
    ],
)
def test_a_capability_whose_type_and_name_disagree_or_say_nothing_is_refused(item: dict[str, Any]) -> None:
    assert CAPABILITY_KIND.id_of(item, "default") is None
    assert CAPABILITY_KIND.instances("default", [item]) is None


def test_a_capability_block_is_written_with_its_odata_type_and_found_either_way() -> None:
    profile = "crossTenantOpenProfileCard"
    block = CAPABILITY_KIND.block({f"default/{MAIL_TIPS}": {"inboundAccess": {"isAllowed": True}}})
    assert block == [{"@odata.type": f"#microsoft.graph.{MAIL_TIPS}", "inboundAccess": {"isAllowed": True}}]
    written = [{"@odata.type": f"microsoft.graph.{MAIL_TIPS}"}, "not an object", {"name": profile}]
    assert CAPABILITY_KIND.located(written, f"default/{MAIL_TIPS}") is written[0]
    assert CAPABILITY_KIND.located(written, f"default/{profile}") is written[2]
    # One capability written once by its type and once by its name is the same capability twice.
    assert CAPABILITY_KIND.instances("default", [{"@odata.type": f"#microsoft.graph.{profile}"}, written[2]]) is None


def test_a_capability_is_created_with_its_odata_type_and_a_stand_in_with_its_name() -> None:
    assert CAPABILITY_KIND.created_with(f"{TENANT}/{MAIL_TIPS}", {"name": MAIL_TIPS, "inboundAccess": {}}) == {
        "@odata.type": f"#microsoft.graph.{MAIL_TIPS}"
    }
    assert CAPABILITY.key_kind.created_with("default/teams", {"name": "teams", "isEnabled": True}) == {"name": "teams"}
    assert CAPABILITY.key_kind.created_with("default/teams", {"isEnabled": True}) == {}
    assert (
        M365_CAPABILITY.url(f"{TENANT}/{MAIL_TIPS}"),
        M365_CAPABILITY.collection_url_of(f"default/{MAIL_TIPS}"),
    ) == (
        f"/policies/crossTenantAccessPolicy/partners/{TENANT}/m365Capabilities/{MAIL_TIPS}",
        "/policies/crossTenantAccessPolicy/default/m365Capabilities",
    )
