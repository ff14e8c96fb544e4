"""No perpetual diff: random desired x random live → plan → apply → plan == no changes.

Every resource type of the registry takes part: partners with their identity sync policies
and Microsoft 365 capabilities, the tenant default (and its capabilities), both MTO templates
and the policy itself, each file absent, declaring the unconfigured state (only comments: a
reset) or random settings. Live state is planted with every quirk Graph has
(`convergence_strategies`) and the loop runs through msgraph-sdk over real HTTP against the
emulator, under both plausible PATCH semantics and each reading of the identity sync verbs.
Every PATCH must carry only properties that really changed, and the tenant must end up holding
what the files say: convergence alone would also pass a planner that forgot a change on both
plans.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from support.convergence_strategies import scenario
from support.policy_files import write_policies
from support.xtap import examples

from reconciler.apply.writes import apply_plan, unconfirmed
from reconciler.commands.planning import listed
from reconciler.core.address import Address
from reconciler.core.canonical import canonical_property, compared
from reconciler.core.clouds import CLOUDS
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.registry import (
    DEFAULT,
    IDENTITY_SYNC,
    M365_CAPABILITY,
    MTO_IDENTITY_SYNC_TEMPLATE,
    MTO_PARTNER_TEMPLATE,
    PARTNER,
    POLICY_ROOT,
    REGISTRY_BY_NAME,
)
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.emulator.auth import CAPABILITY, READ_WRITE
from reconciler.emulator.schema import SYSTEM_DEFAULT
from reconciler.graph.client import Graph
from reconciler.graph.read import read_live, scope, with_listed
from reconciler.plan.model import Plan
from reconciler.plan.planner import make_plan
from reconciler.policies.load import load_policies

CAPABILITIES = M365_CAPABILITY.nested_key or ""


def held_capabilities(emulator: Emulator, parent: str) -> dict[str, Any]:
    """The capabilities the emulator holds for a partner or the default, by name."""
    holder = emulator.default() if parent == DEFAULT.name else emulator.partners().get(parent, {})
    return dict(holder.get(CAPABILITIES) or {})


def held_capability(emulator: Emulator, resource_id: str) -> dict[str, Any] | None:
    parent, _, name = resource_id.partition("/")
    return held_capabilities(emulator, parent).get(name)


# What the emulator holds for an instance, read from its store, not through xtap's reader.
STORED: Mapping[str, Callable[[Emulator, str], dict[str, Any] | None]] = {
    M365_CAPABILITY.name: held_capability,
    POLICY_ROOT.name: lambda emulator, _: emulator.policy_root(),
    PARTNER.name: lambda emulator, tenant: emulator.partners().get(tenant),
    IDENTITY_SYNC.name: lambda emulator, tenant: emulator.identity_sync(tenant),
    DEFAULT.name: lambda emulator, _: emulator.default(),
    MTO_PARTNER_TEMPLATE.name: lambda emulator, _: emulator.template(),
    MTO_IDENTITY_SYNC_TEMPLATE.name: lambda emulator, _: emulator.sync_template(),
}
# The singleton files of a scenario: its key, the file, and how the emulator plants its live state.
SINGLETONS: tuple[tuple[str, str, Callable[[Emulator, dict[str, Any]], None]], ...] = (
    ("template", "mto-partner-template.yaml", lambda e, raw: e.set_template({**e.template(), **raw})),
    (
        "sync_template",
        "mto-identity-sync-template.yaml",
        lambda e, raw: e.set_sync_template({**e.sync_template(), **raw}),
    ),
    ("default", "default.yaml", lambda e, raw: e.set_default(raw)),
    ("policy", "policy.yaml", lambda e, raw: e.set_policy_root({**e.policy_root(), **raw})),
)


def plant(emulator: Emulator, case: dict[str, Any]) -> None:
    for body in case["live"]:
        emulator.put_partner(body)
    for tenant, policy in case["live_syncs"].items():
        emulator.put_identity_sync(tenant, policy)
    for key, _, set_live in SINGLETONS:
        set_live(emulator, case[f"live_{key}"])
    for tenant, held in case.get("live_capabilities", {}).items():
        emulator.put_partner({**emulator.partners()[tenant], CAPABILITIES: held})
    emulator.set_default({**emulator.default(), CAPABILITIES: case.get("live_default_capabilities", {})})


def write_files(root: Path, case: dict[str, Any]) -> Path:
    """The policies/ folder; a singleton declaring the unconfigured state is a file with only
    comments, as a user writes it."""
    policies = write_policies(root, case["desired"])
    for key, file, _ in SINGLETONS:
        body = case[key]
        if body is not None:
            (policies / file).write_text(json.dumps(body, indent=2) if body else "# the unconfigured state\n")
    return policies


async def converge(emulator: Emulator, policies: Path) -> tuple[Desired, Live, Plan, Plan]:
    token = emulator.mint_token(roles=(READ_WRITE, CAPABILITY), name="convergence")
    desired = load_policies(policies)
    async with Graph(emulator.base_url, CLOUDS["global"], token) as graph:
        before = await read(graph, desired)
        first = make_plan(desired, before)
        report = await apply_plan(graph, first)
        assert report.ok, [o.error for o in report.outcomes]
        live_after = await read(graph, desired)
        assert unconfirmed(report, live_after) == []
        after = make_plan(desired, live_after)
    return desired, before, first, after


async def read(graph: Graph, desired: Desired) -> Live:
    """The tenant as a plan reads it: the types in scope, then the lists the files hold."""
    live = await read_live(graph, scope(desired))
    return await with_listed(graph, live, listed(desired, live))


def assert_patches_minimal(emulator: Emulator, before: Live, desired: Desired, plan: Plan) -> None:
    """Every property an update PATCHed differed between live and file (canonically): nothing
    unchanged is sent. (A create's follow-up PATCH sends what the create could not.)"""
    updates = {r.url: c for c in plan.changes if c.action == "update" for r in c.requests}
    for request in emulator.requests:
        url = request.path.removeprefix("/v1.0")
        if request.method != "PATCH" or url not in updates or request.status == 405:
            continue  # a 405 is answered before its body is read (the sync verb fallback follows)
        change = updates[url]
        rtype = REGISTRY_BY_NAME[change.resource]
        live, written = before.instances.get(change.address, {}), desired.instances[change.address].written
        assert request.body, "an empty PATCH was sent"
        for name in request.body:
            assert name in rtype.settings
            was, wants = (canonical_property(rtype, name, side.get(name)) for side in (live, written))
            assert was != wants, name


def assert_tenant_holds_files(emulator: Emulator, desired: Desired, plan: Plan) -> None:
    """What the emulator stores equals what each file manages, property by property, and a
    managed partner has no sync policy its file leaves out. Judged apart from the planner, so
    a change the planner leaves out (say, a sync delete or a reset) fails here even though the
    second plan, made by the same planner, is empty. An instance with a plan error (a
    create-only conflict) was not written and is left out."""
    refused = {Address(error.resource, error.id) for error in plan.errors}
    for address, want in desired.instances.items():
        if address in refused:
            continue
        rtype = REGISTRY_BY_NAME[address.resource]
        held = STORED[address.resource](emulator, address.id)
        assert held is not None, f"{address} is not in the tenant"
        for name in compared(rtype, want.written):
            assert canonical_property(rtype, name, held.get(name)) == canonical_property(
                rtype, name, want.written.get(name)
            ), f"{address}: {name}"
    for address in desired.of(PARTNER.name):
        if Address(IDENTITY_SYNC.name, address.id) not in desired.instances:
            assert emulator.identity_sync(address.id) is None, f"{address} keeps a sync policy its file leaves out"
    for address in desired.holders(M365_CAPABILITY.name):
        if address.resource == PARTNER.name and address not in refused:
            declared = {
                Address(M365_CAPABILITY.name, f"{address.id}/{name}")
                for name in held_capabilities(emulator, address.id)
            }
            assert declared <= desired.instances.keys(), f"{address} keeps capabilities its file leaves out"


def known_case() -> dict[str, Any]:
    """Cases every run checks, whatever Hypothesis draws: an identity sync update where Graph
    has no PATCH (405, then the PUT fallback), and a default.yaml whose `null`s mean absent:
    the system value for inboundTrust (Graph refuses a null there) and, for tenantRestrictions,
    which has no documented system value, not managed."""
    partner = "00000001-5d3d-455c-8016-e2af1ae4d31a"
    live_sync = {"tenantId": partner, "displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}}
    trust = {"isMfaAccepted": True, "isCompliantDeviceAccepted": None, "isHybridAzureADJoinedDeviceAccepted": None}
    return {
        "desired": [{"tenantId": partner, "identitySynchronization": {"displayName": "Fabrikam people"}}],
        "live": [{"tenantId": partner, "isServiceProvider": False}],
        "live_syncs": {partner: live_sync},
        **{key: None for key, _, _ in SINGLETONS},
        **{f"live_{key}": {} for key, _, _ in SINGLETONS},
        "default": {"inboundTrust": None, "tenantRestrictions": None},
        "live_default": {**SYSTEM_DEFAULT, "isServiceDefault": False, "inboundTrust": trust},
        "page_size": 1,
        "sync_reading": {"sync_patch": False, "sync_put_replaces": True},
    }


@pytest.mark.parametrize("patch_mode", ["replace_top_level", "odata_merge"])
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenario())
@example(case=known_case())
def test_plan_apply_plan_converges(patch_mode: str, case: dict[str, Any]) -> None:
    config = EmulatorConfig(page_size=case["page_size"], patch_mode=patch_mode, **case["sync_reading"])
    with tempfile.TemporaryDirectory() as tmp, Emulator(config) as emulator:
        plant(emulator, case)
        desired, before, first, after = asyncio.run(converge(emulator, write_files(Path(tmp) / "policies", case)))
        for change in first.changes:  # what the examples covered: --hypothesis-show-statistics
            event(f"{change.resource} {change.action}")
        for request in emulator.requests:
            if request.status in (405, 409):
                event(f"{request.method} answered {request.status}, then the fallback")
        assert after.changes == (), after.changes
        assert after.errors == first.errors
        assert_patches_minimal(emulator, before, desired, first)
        assert_tenant_holds_files(emulator, desired, first)
