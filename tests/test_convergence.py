"""No perpetual diff: random desired x random live → plan → apply → plan == no changes.

Live state is planted with every quirk Graph has (GUIDs in other case, targets reordered and
repeated, all-null objects, explicit null members, `@odata.*` keys) and the loop runs through
msgraph-sdk over real HTTP against the emulator, under both plausible PATCH semantics. Every
PATCH must carry only properties that really changed.
"""

from __future__ import annotations

import asyncio
import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_files import write_policies
from pydantic import BaseModel, ValidationError

from reconciler.apply import apply_plan, unconfirmed
from reconciler.canonical import canonical_property
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph import CLOUDS, Graph
from reconciler.live import Live
from reconciler.load import load_policies
from reconciler.models import B2BSetting, TenantRestrictions
from reconciler.plan import Plan
from reconciler.planner import make_plan
from reconciler.read import read_live, scope
from reconciler.registry import REGISTRY_BY_NAME

TENANTS = [f"{n:08x}-5d3d-455c-8016-e2af1ae4d31a" for n in range(1, 5)]
GUIDS = ["6f546279-4da5-4b53-a095-09ea0cef9971", "0be493dc-cb56-4a53-936f-9cf64410b8b0"]


def guid(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from([value, value.upper()])


def targets_for(kind: str) -> st.SearchStrategy[list[dict[str, str]]]:
    keyword = {"user": "AllUsers", "application": "AllApplications"}[kind]
    object_type = "group" if kind == "user" else "application"
    one = st.one_of(
        st.just({"target": keyword, "targetType": kind}),
        st.builds(lambda g: {"target": g, "targetType": object_type}, st.sampled_from(GUIDS).flatmap(guid)),
    )
    return st.lists(one, min_size=1, max_size=3)


ACCESS = ["allowed", "blocked"]
# Values Graph may return but a file may not write: its enum sentinel, and devices (GRAPH_FACTS §7).
LIVE_ACCESS = [*ACCESS, "unknownFutureValue"]


def target_configuration(kind: str, access: list[str] = ACCESS) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"accessType": st.sampled_from(access), "targets": targets_for(kind)})


def accepted_by(model: type[BaseModel]) -> Callable[[dict[str, Any]], bool]:
    """Only settings xtap's own validation accepts (Entra's block-all rules among them)."""

    def accepts(setting: dict[str, Any]) -> bool:
        try:
            model.model_validate(setting)
        except ValidationError:
            return False
        return True

    return accepts


B2B_HALVES = {"usersAndGroups": target_configuration("user"), "applications": target_configuration("application")}
B2B = st.fixed_dictionaries({}, optional=B2B_HALVES).filter(accepted_by(B2BSetting))
DEVICES = st.fixed_dictionaries(
    {"mode": st.sampled_from(LIVE_ACCESS), "rule": st.just("device.deviceAttribute2 -eq 'PAW'")}
)
TENANT_RESTRICTIONS = st.fixed_dictionaries({}, optional=B2B_HALVES).filter(accepted_by(TenantRestrictions))
LIVE_TENANT_RESTRICTIONS = st.fixed_dictionaries(
    {},
    optional={
        "usersAndGroups": target_configuration("user", LIVE_ACCESS),
        "applications": target_configuration("application", LIVE_ACCESS),
        "devices": DEVICES,
    },
)


def flags(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: st.sampled_from([True, False, None]) for name in names})


TRUST = flags(["isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted"])
CONSENT = flags(["inboundAllowed", "outboundAllowed"])
B2B_SETTINGS = {
    name: B2B
    for name in (
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
    )
}
SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "inboundTrust": TRUST,
    "automaticUserConsentSettings": CONSENT,
    **B2B_SETTINGS,
    "tenantRestrictions": TENANT_RESTRICTIONS,
    "m365CollaborationInbound": st.fixed_dictionaries({"users": target_configuration("user")}),
    "m365CollaborationOutbound": st.fixed_dictionaries({"usersAndGroups": target_configuration("user")}),
    "appServiceConnectInbound": st.fixed_dictionaries({"applications": target_configuration("application")}),
}
LIVE_SETTINGS = {**SETTINGS, "tenantRestrictions": LIVE_TENANT_RESTRICTIONS}
LEVELS = [
    "newPartners,existingPartners",
    "existingPartners, newPartners",
    "none",
    "newPartners",
    "newPartners,newPartners",
]
TEMPLATE_SETTINGS_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "inboundTrust": TRUST,
    "automaticUserConsentSettings": CONSENT,
    **B2B_SETTINGS,
    "templateApplicationLevel": st.sampled_from(LEVELS),
}
LIVE_TEMPLATE_SETTINGS = {
    **TEMPLATE_SETTINGS_STRATEGIES,
    "templateApplicationLevel": st.sampled_from([*LEVELS, "none,newPartners", "existingPartners,unknownFutureValue"]),
}


@st.composite
def quirky(draw: st.DrawFn, value: Any) -> Any:
    """The same value as Graph might return it: reordered, repeated, annotated, explicit nulls."""
    if isinstance(value, list):
        items = [draw(quirky(item)) for item in value]
        if items and draw(st.booleans()):
            items.append(copy.deepcopy(items[0]))
        return draw(st.permutations(items))
    if isinstance(value, dict):
        result = {key: draw(quirky(item)) for key, item in value.items()}
        if draw(st.booleans()):
            result["@odata.type"] = "#microsoft.graph.someComplexType"
        return result
    if isinstance(value, str) and value.lower() in GUIDS:
        return draw(guid(value.lower()))
    return value


@st.composite
def partner(draw: st.DrawFn, tenant: str, live: bool, exists: bool = False) -> dict[str, Any]:
    """A live partner as Graph returns it, or a desired one as a file says it. `exists`: the
    desired partner is live already, so isServiceProvider (create-only) must match."""
    chosen = draw(st.fixed_dictionaries({}, optional=LIVE_SETTINGS if live else SETTINGS))
    body: dict[str, Any] = {"tenantId": draw(guid(tenant)), **chosen}
    if live:
        body = draw(quirky(body))
        if "automaticUserConsentSettings" not in body:  # Graph's "unset" is an all-null object
            body["automaticUserConsentSettings"] = {"inboundAllowed": None, "outboundAllowed": None}
        body["isServiceProvider"] = draw(st.sampled_from([None, False]))
        body["isInMultiTenantOrganization"] = draw(st.booleans())
    else:
        service_provider = st.sampled_from([False] if exists else [False, True])
        body.update(draw(st.fixed_dictionaries({}, optional={"isServiceProvider": service_provider})))
    return body


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    desired_ids = draw(st.sets(st.sampled_from(TENANTS), max_size=3))
    live_ids = draw(st.sets(st.sampled_from(TENANTS), max_size=4))
    template = draw(st.one_of(st.none(), st.fixed_dictionaries({}, optional=TEMPLATE_SETTINGS_STRATEGIES)))
    live_template = draw(st.fixed_dictionaries({}, optional=LIVE_TEMPLATE_SETTINGS))
    return {
        "desired": [draw(partner(t, live=False, exists=t in live_ids)) for t in sorted(desired_ids)],
        "live": [draw(partner(t, live=True)) for t in sorted(live_ids)],
        "template": template,
        "live_template": {"id": "75b1889b-6f42-4cc5-8e62-e774b8db243c", **draw(quirky(live_template))},
        "page_size": draw(st.integers(min_value=1, max_value=3)),
    }


async def converge(emulator: Emulator, policies: Path) -> tuple[Any, Live, Plan, Plan]:
    token = emulator.mint_token(roles=("Policy.ReadWrite.CrossTenantAccess",), name="convergence")
    desired = load_policies(policies)
    async with Graph(emulator.base_url, CLOUDS["global"], token) as graph:
        before = await read_live(graph, scope(desired))
        first = make_plan(desired, before)
        report = await apply_plan(graph, first)
        assert report.ok, [o.error for o in report.outcomes]
        live_after = await read_live(graph, scope(desired))
        assert unconfirmed(report, live_after) == []
        after = make_plan(desired, live_after)
    return desired, before, first, after


def assert_patches_minimal(emulator: Emulator, before: Live, desired: Any, plan: Plan) -> None:
    """Every property an update PATCHed differed between live and file (canonically): nothing
    unchanged is sent. (A create's follow-up PATCH sends what the create could not.)"""
    updates = {r.url: c for c in plan.changes if c.action == "update" for r in c.requests}
    for request in emulator.requests:
        url = request.path.removeprefix("/v1.0")
        if request.method != "PATCH" or url not in updates:
            continue
        change = updates[url]
        rtype = REGISTRY_BY_NAME[change.resource]
        live, written = before.instances.get(change.address, {}), desired.instances[change.address].written
        assert request.body, "an empty PATCH was sent"
        for name in request.body:
            assert name in rtype.settings
            was, wants = (canonical_property(rtype, name, side.get(name)) for side in (live, written))
            assert was != wants, name


@pytest.mark.parametrize("patch_mode", ["replace_top_level", "odata_merge"])
@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenario())
def test_plan_apply_plan_converges(patch_mode: str, case: dict[str, Any]) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        Emulator(EmulatorConfig(page_size=case["page_size"], patch_mode=patch_mode)) as emulator,
    ):
        for body in case["live"]:
            emulator.put_partner(body)
        emulator.set_template({**emulator.template(), **case["live_template"]})
        policies = write_policies(Path(tmp) / "policies", case["desired"], case["template"])
        desired, before, first, after = asyncio.run(converge(emulator, policies))
        assert after.changes == (), after.changes
        assert_patches_minimal(emulator, before, desired, first)
