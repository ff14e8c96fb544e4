"""The plan, byte for byte: a fixed, varied tenant against a checked-in plan file.

Optimising the loader and the comparison must not change a single byte of any plan:
a reviewer reading a plan, and `apply` checking its digest, rely on it being a pure function of
files and live state. The inputs cover every resource type and the quirks canonical.py exists
for (GUID case, target order and duplicates, unset objects, `@odata.*`, absent-means values).
After a deliberate change to the plan format, regenerate with
`python -c "import sys; sys.path[:0] = ['tests/plan', 'tests']; import test_planner_golden as g; g.write_golden()"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.golden_tenant import b2b, desired_partner, live_partner, live_sync, tenant, trust
from support.paths import TESTS

from reconciler.core.address import Address
from reconciler.core.desired import Desired
from reconciler.core.live import Live, Wires
from reconciler.core.registry import DEFAULT, IDENTITY_SYNC, MTO_IDENTITY_SYNC_TEMPLATE, MTO_PARTNER_TEMPLATE, PARTNER
from reconciler.plan import file as planfile
from reconciler.plan.ahead import Ahead
from reconciler.plan.planner import Forms, desired_form, instance_change, live_form, live_line, make_plan
from reconciler.policies.load import load_policies

GOLDEN = TESTS / "golden" / "plan.json"
PARTNERS = 60


def write_files(root: Path) -> None:
    (root / "partners").mkdir(parents=True)
    for n in range(PARTNERS):
        (root / "partners" / f"p{n:03}.yaml").write_text(json.dumps(desired_partner(n), indent=2 if n % 2 else None))
    default = {
        "inboundTrust": trust(1),
        "b2bDirectConnectInbound": b2b(4, upper=True),
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": ["externalFederation", "azureActiveDirectory"],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
    }
    (root / "default.yaml").write_text(json.dumps(default))
    template = {"inboundTrust": trust(3), "templateApplicationLevel": "newPartners,existingPartners"}
    (root / "mto-partner-template.yaml").write_text(json.dumps(template))
    (root / "mto-identity-sync-template.yaml").write_text("# only comments: the unconfigured state\n")


def live_state() -> Live:
    """Partners 0..PARTNERS-8 exist (the rest are created), plus three nobody declares."""
    instances: dict[Address, dict[str, Any]] = {}
    for n in [*range(PARTNERS - 8), 900, 901, 902]:
        instances[Address(PARTNER.name, tenant(n))] = live_partner(n)
        if n % 5 in (0, 3):
            instances[Address(IDENTITY_SYNC.name, tenant(n))] = live_sync(n)
    instances[Address(DEFAULT.name, "default")] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy/default",
        "id": "default",
        "isServiceDefault": False,
        "inboundTrust": None,
        "b2bCollaborationInbound": b2b(2, upper=False),
        "b2bDirectConnectInbound": b2b(4, upper=False),
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": ["azureActiveDirectory", "externalFederation"],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
    }
    instances[Address(MTO_PARTNER_TEMPLATE.name, MTO_PARTNER_TEMPLATE.singleton_id or "")] = {
        "id": "multiTenantOrganizationPartnerConfiguration",
        "templateApplicationLevel": "existingPartners,newPartners",
        "inboundTrust": trust(5),
    }
    instances[Address(MTO_IDENTITY_SYNC_TEMPLATE.name, MTO_IDENTITY_SYNC_TEMPLATE.singleton_id or "")] = {
        "id": "multiTenantOrganizationIdentitySynchronization",
        "templateApplicationLevel": "newPartners",
        "userSyncInbound": {"isSyncAllowed": True},
    }
    read = (PARTNER.name, DEFAULT.name, MTO_PARTNER_TEMPLATE.name, MTO_IDENTITY_SYNC_TEMPLATE.name)
    return Live(instances, read)


def plan_json(workdir: Path, ahead: Callable[[Desired, Live], Forms] | None = None) -> str:
    """The plan of the files in `workdir`, sources relative to it so the file names no temp dir;
    with the canonical forms `ahead` computes for it ahead of the compare, if given."""
    with contextlib.chdir(workdir):
        desired, live = load_policies("policies"), live_state()
        return planfile.dumps(make_plan(desired, live, ahead and ahead(desired, live)))


def write_golden() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        write_files(Path(workdir) / "policies")
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(plan_json(Path(workdir)))


def test_plan_is_byte_identical_to_the_golden_file(tmp_path: Path) -> None:
    write_files(tmp_path / "policies")
    assert plan_json(tmp_path) == GOLDEN.read_text()


def every_form(desired: Desired, live: Live) -> Forms:
    lives = {address: live_form(address, wire) for address, wire in live.instances.items()}
    changes = {
        address: instance_change(address, want, desired_form(address, want), live.instances[address], lives[address])
        for address, want in desired.instances.items()
        if address in live.instances
    }
    return Forms({address: live_line(address, form) for address, form in lives.items()}, changes)


def every_other_form(desired: Desired, live: Live) -> Forms:
    """Some forms ready and some not, as when a plan's reads end before the forms are done."""
    forms = every_form(desired, live)
    return Forms(half(forms.live_lines, 1), half(forms.changes, 0))


def half(ready: Mapping[Address, Any], start: int) -> dict[Address, Any]:
    return dict(list(ready.items())[start::2])


@pytest.mark.parametrize("ahead", [every_form, every_other_form])
def test_forms_computed_ahead_give_the_same_plan(tmp_path: Path, ahead: Callable[[Desired, Live], Forms]) -> None:
    """`plan` puts instances in canonical form while it still reads the tenant (ahead.py); the
    plan must be the same bytes whichever forms were ready by the compare."""
    write_files(tmp_path / "policies")
    assert plan_json(tmp_path, ahead) == GOLDEN.read_text()


@pytest.mark.parametrize("per_page", [0, 10], ids=["loaded at once", "loaded as pages come"])
def test_ahead_as_plan_runs_it_gives_the_same_plan(tmp_path: Path, per_page: int) -> None:
    """ahead.py itself, fed the live state in pages while the files load, as `xtap plan` feeds
    it: `load_policies(declared=...)` fills `Ahead.declared` (`per_page` files a page, in
    another order than Graph's, or none) until all are loaded by the fifth page. Its work is
    used (changes made ahead; some read before their files loaded, and differing; their texts
    in the plan file, and the settings') and the plan is the golden one."""

    async def read_in_pages(desired: Desired, live: Live) -> Ahead:
        ahead, pages = Ahead(live.read), list(live.instances.items())
        files = list(reversed(desired.instances.items()))
        for n, start in enumerate(range(0, len(pages), 10)):
            ahead.declared.update(files[n * per_page : (n + 1) * per_page])
            if n == 4:
                ahead.declared.update(files)
                ahead.settled(desired)
                ahead.loaded(replace(desired, instances=ahead.declared))
            ahead.read(Wires(dict(pages[start : start + 10])))
            await asyncio.sleep(0.01)  # a round trip: the page's work runs meanwhile
        return ahead

    write_files(tmp_path / "policies")
    with contextlib.chdir(tmp_path):
        desired, live = load_policies("policies"), live_state()
        ahead = asyncio.run(read_in_pages(desired, live))
        made = make_plan(desired, live, ahead.finish())
        plan = replace(made, written=ahead.written())
    assert planfile.dumps(plan) == GOLDEN.read_text()
    assert plan.written is not None and plan.written.settings is not None
    taken = [change for change in plan.changes if plan.written.changes.get(change.address, (None,))[0] is change]
    assert len(taken) > len(plan.changes) / 2  # most were written ahead, and those texts were used
    # Those read before the files were all in (the first four pages) that change were made ahead too.
    early = {address for address, _ in list(live.instances.items())[:40]}
    made_early = [change for change in plan.changes if change.address in early and change.action == "update"]
    assert made_early and all(ahead.finish().changes[change.address][0] == change for change in made_early)


def test_forms_computed_ahead_are_taken_as_given(tmp_path: Path) -> None:
    """So the test above compares something: live lines that say "all unset" change the plan (its
    digest), and so do changes ahead that say "no change"."""
    write_files(tmp_path / "policies")
    unset = plan_json(tmp_path, lambda _, live: Forms({a: live_line(a, live_form(a, {})) for a in live.instances}))
    assert unset != GOLDEN.read_text()
    unchanged = plan_json(tmp_path, lambda desired, _: Forms(changes=dict.fromkeys(desired.instances, (None, ()))))
    summary = json.loads(unchanged)["summary"]
    assert summary["create"] == summary["update"] == summary["reset"] == 0  # only leftovers' deletes


def test_the_golden_plan_exercises_every_resource_type_and_action() -> None:
    """A golden file of no-ops would pin nothing down."""
    plan = json.loads(GOLDEN.read_text())
    changed = {(change["resource"], change["action"]) for change in plan["changes"]}
    resources = {resource for resource, _ in changed}
    assert resources == {
        PARTNER.name,
        IDENTITY_SYNC.name,
        DEFAULT.name,
        MTO_PARTNER_TEMPLATE.name,
        MTO_IDENTITY_SYNC_TEMPLATE.name,
    }
    assert {"create", "update"} <= {action for _, action in changed}
    assert plan["unmanaged"] and plan["errors"]


@pytest.mark.parametrize("n", [0, 3, 13])
def test_a_changed_input_changes_the_plan(tmp_path: Path, n: int) -> None:
    """The comparison is sensitive: one flipped flag in one file gives another plan."""
    golden = GOLDEN.read_text()
    write_files(tmp_path / "policies")
    path = tmp_path / "policies" / "partners" / f"p{n:03}.yaml"
    body = json.loads(path.read_text())
    body["inboundTrust"]["isMfaAccepted"] = not body["inboundTrust"]["isMfaAccepted"]
    path.write_text(json.dumps(body))
    assert plan_json(tmp_path) != golden
