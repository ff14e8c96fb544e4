"""Requests and wall time of one converge: xtap against a per-resource baseline, in one run.

The baseline does what per-resource tools do: one GET and one full PATCH per declared
partner, whether or not it changed. xtap lists partners page by page and PATCHes only the
changed properties of the changed partners. Both run through msgraph-sdk over real HTTP
against the same emulator, seeded with the same tenant.

    python bench/plan_apply.py [--partners 500] [--changed 0.1] [--page-size 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.apply import apply_plan
from reconciler.emulator import Emulator, EmulatorConfig
from reconciler.graph import CLOUDS, Graph
from reconciler.load import load_policies
from reconciler.plan import Request
from reconciler.planner import make_plan
from reconciler.read import read_live, scope
from reconciler.registry import PARTNER

TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": True, "isHybridAzureADJoinedDeviceAccepted": False}
INBOUND = {
    "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {"accessType": "allowed", "targets": [{"target": "Office365", "targetType": "application"}]},
}


def tenant(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def desired_partner(n: int) -> dict[str, Any]:
    return {"tenantId": tenant(n), "inboundTrust": TRUST, "b2bCollaborationInbound": INBOUND}


def write_policies(root: Path, count: int) -> Path:
    (root / "partners").mkdir(parents=True)
    for n in range(count):
        (root / "partners" / f"p{n}.yaml").write_text(json.dumps(desired_partner(n)))
    return root


def seeded(count: int, changed: float, page_size: int) -> Emulator:
    emulator = Emulator(EmulatorConfig(page_size=page_size)).start()
    every = max(1, round(1 / changed)) if changed else count + 1
    for n in range(count):
        live = desired_partner(n)
        if n % every == 0:
            live = {**live, "inboundTrust": {**TRUST, "isMfaAccepted": False}}
        emulator.put_partner(live)
    return emulator


async def xtap_converge(emulator: Emulator, policies: Path, token: str) -> None:
    desired = load_policies(policies)
    async with Graph(emulator.base_url, CLOUDS["global"], token) as graph:
        plan = make_plan(desired, await read_live(graph, scope(desired)))
        report = await apply_plan(graph, plan)
        assert report.ok


async def baseline_converge(emulator: Emulator, count: int, token: str) -> None:
    async with Graph(emulator.base_url, CLOUDS["global"], token) as graph:
        for n in range(count):
            builder = graph.client.policies.cross_tenant_access_policy.partners
            await graph.get(
                builder.by_cross_tenant_access_policy_configuration_partner_tenant_id(
                    tenant(n)
                ).to_get_request_information()
            )
            body = {k: v for k, v in desired_partner(n).items() if k != "tenantId"}
            await graph.write(Request("PATCH", PARTNER.url(tenant(n)), body))


def measure(label: str, run: Any, emulator: Emulator) -> tuple[str, int, float]:
    emulator.clear_requests()
    start = time.perf_counter()
    asyncio.run(run)
    return label, len(emulator.requests), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--changed", type=float, default=0.1, help="fraction of partners that drifted")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policies = write_policies(Path(tmp) / "policies", args.partners)
        rows = []
        for label in ("baseline (GET + full PATCH each)", "xtap (list + minimal PATCH)"):
            emulator = seeded(args.partners, args.changed, args.page_size)
            token = emulator.mint_token(roles=("Policy.ReadWrite.CrossTenantAccess",), name="bench")
            work = (
                baseline_converge(emulator, args.partners, token)
                if label.startswith("baseline")
                else xtap_converge(emulator, policies, token)
            )
            rows.append(measure(label, work, emulator))
            emulator.stop()
    print(f"{args.partners} partners, {args.changed:.0%} drifted, page size {args.page_size}")
    print(f"{'':36} {'requests':>9} {'wall s':>8}")
    for label, requests, seconds in rows:
        print(f"{label:36} {requests:9d} {seconds:8.2f}")
    (_, base_requests, base_s), (_, xtap_requests, xtap_s) = rows
    print(f"{'ratio baseline / xtap':36} {base_requests / xtap_requests:9.1f} {base_s / xtap_s:8.1f}")


if __name__ == "__main__":
    main()
