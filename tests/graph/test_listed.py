"""The types Graph lists per parent (`graph/listed.py`, Microsoft 365 capabilities) over real HTTP:
up to 20 lists to a `$batch`, a type the token may not read skipped with Graph's reason, a list
that pages read again alone and followed, and every item keyed or refused.
https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-list-m365capabilities"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.capability_plans import MAIL_TIPS, PROFILE, capability, listed
from support.stub_servers import json_reply, paging, serving
from support.xtap import READ_ONLY, READ_WRITE

from reconciler.core.address import Address
from reconciler.core.clouds import CLOUDS
from reconciler.core.registry import DEFAULT, M365_CAPABILITY, PARTNER
from reconciler.emulator import Emulator
from reconciler.graph.client import Graph
from reconciler.graph.errors import GraphError
from reconciler.graph.listed import read_listed

CAPABILITY = M365_CAPABILITY.name
POLICY = "/policies/crossTenantAccessPolicy"


def tenant(n: int) -> str:
    return f"{n:08x}-5d3d-455c-8016-e2af1ae4d31a"


def planted(emulator: Emulator, tenants: list[str], held: dict[str, Any]) -> None:
    """Partners that each hold `held` (name → capability, verbatim), as the emulator stores them."""
    for each in tenants:
        emulator.put_partner({"tenantId": each, "m365Capabilities": held})


def lists(*tenants: str) -> list[tuple[str, Address]]:
    return [(CAPABILITY, Address(PARTNER.name, each)) for each in tenants]


def read(url: str, token: str, wanted: list[tuple[str, Address]]) -> tuple[dict[Address, Any], dict[str, str]]:
    async def reading() -> tuple[dict[Address, Any], dict[str, str]]:
        async with Graph(url, CLOUDS["global"], token) as graph:
            return await read_listed(graph, wanted)

    return asyncio.run(reading())


def test_45_lists_go_in_3_batches_of_gets(emulator: Emulator) -> None:
    tenants = [tenant(n) for n in range(1, 46)]
    planted(emulator, tenants, {MAIL_TIPS: listed(capability(MAIL_TIPS))})
    emulator.set_default({**emulator.default(), "m365Capabilities": {PROFILE: listed(capability(PROFILE))}})
    wanted = [*lists(*tenants), (CAPABILITY, Address(DEFAULT.name, "default"))]
    found, skipped = read(emulator.base_url, emulator.mint_token(roles=READ_ONLY), wanted)
    assert skipped == {}
    assert sorted(found) == sorted(
        [Address(CAPABILITY, f"{each}/{MAIL_TIPS}") for each in tenants] + [Address(CAPABILITY, f"default/{PROFILE}")]
    )
    assert found[Address(CAPABILITY, f"default/{PROFILE}")]["name"] == PROFILE
    batches = [r for r in emulator.requests if r.path.endswith("/$batch")]
    items = [r for r in emulator.requests if r.batch_id is not None]
    assert len(batches) == 3 and len(items) == 46  # 20, 20 and 6: no GET outside a batch
    assert {(r.method, r.status) for r in items} == {("GET", 200)}
    assert sorted(r.path for r in items) == sorted(
        [f"{POLICY}/partners/{each}/m365Capabilities" for each in tenants] + [f"{POLICY}/default/m365Capabilities"]
    )
    assert len(emulator.requests) == 3 + 46


def test_a_token_that_may_not_read_them_skips_the_type_with_graph_s_reason(emulator: Emulator) -> None:
    planted(emulator, [tenant(1)], {MAIL_TIPS: listed(capability(MAIL_TIPS))})
    found, skipped = read(emulator.base_url, emulator.mint_token(roles=READ_WRITE), lists(tenant(1)))
    assert found == {}
    assert list(skipped) == [CAPABILITY]
    [item] = [r for r in emulator.requests if r.batch_id is not None]
    assert item.status == 403
    assert skipped[CAPABILITY] and "Insufficient privileges" in skipped[CAPABILITY], skipped


@pytest.mark.parametrize(
    ("held", "message"),
    [
        ({"bad": {**listed(capability(MAIL_TIPS)), "@odata.type": None, "name": "../x"}}, "without a name"),
        ({"a": listed(capability(MAIL_TIPS)), "b": listed(capability(MAIL_TIPS))}, "listed twice"),
    ],
    ids=["a bad name", "a name twice"],
)
def test_an_item_that_cannot_be_keyed_is_a_graph_error(emulator: Emulator, held: dict[str, Any], message: str) -> None:
    planted(emulator, [tenant(1)], held)
    with pytest.raises(GraphError) as raised:
        read(emulator.base_url, emulator.mint_token(roles=READ_ONLY), lists(tenant(1)))
    assert message in str(raised.value)


def test_a_list_that_pages_is_read_again_alone_and_followed() -> None:
    path = f"/v1.0{POLICY}/partners/{tenant(1)}/m365Capabilities"

    def page(n: int, url: str) -> dict[str, Any]:
        if n == 0:
            return {"value": [listed(capability(MAIL_TIPS))], "@odata.nextLink": url.split("?")[0] + "?$skiptoken=1"}
        return {"value": [listed(capability(PROFILE))]}

    first = {"value": [listed(capability(MAIL_TIPS))], "@odata.nextLink": "http://127.0.0.1:9/v1.0/elsewhere"}
    batch = {"responses": [{"id": "0", "status": 200, "headers": {}, "body": first}]}
    with serving({"/v1.0/$batch": json_reply(batch), path: paging(page)}) as url:
        found, skipped = read(url, "eyJ.test.token", lists(tenant(1)))
    assert skipped == {}
    assert sorted(found) == [Address(CAPABILITY, f"{tenant(1)}/{name}") for name in sorted((MAIL_TIPS, PROFILE))]
