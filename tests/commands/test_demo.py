"""`xtap demo` (reconciler/commands/demo.py) end to end: it runs, catches the drift it plants and
reports the unmanaged partner."""

from __future__ import annotations

import re

from support.paths import REPO
from support.xtap import run_xtap


def test_the_demo_runs_end_to_end() -> None:
    demo = run_xtap("demo", cwd=REPO)
    assert demo.code == 0, demo.stderr
    assert "Demo complete" in demo.stderr and "Traceback" not in demo.stderr
    assert "inboundTrust.isMfaAccepted: false → true" in demo.stdout  # the drift is caught
    assert "Unmanaged (live, no policy file; never touched):\n  partner a1b2c3d4-" in demo.stdout


def test_the_demo_applies_the_example_capabilities_and_policy_with_the_capability_permission() -> None:
    """The example folder declares Microsoft 365 capabilities and policy.yaml; the demo's token
    can write them (Policy.ReadWrite.CrossTenantCapability), so they converge like the rest."""
    demo = run_xtap("demo", cwd=REPO)
    assert demo.code == 0, demo.stderr
    printed = demo.stdout + demo.stderr
    assert "m365Capability: 2, mtoPartnerTemplate: 1, policy: 1)." in printed  # validate counts them
    assert "applied: + m365Capability default/crossTenantMailTipsLimited" in printed
    assert "applied: + m365Capability 90e29127-71ad-49c7-9ce8-db3f41ea06f1/crossTenantCalendarAvailabilityBasic" in (
        printed
    )
    assert "Skipped:" not in printed  # the token reads them too
    # After apply, both plans read both capabilities back, and the converged one is clean.
    assert printed.count("policy: 1, m365Capability: 2 (") == 2


def test_the_readme_quotes_the_demo_as_it_runs() -> None:
    """Every line of the README's demo excerpt (but `…`) is a line the demo prints, the
    emulator's port aside: the quick start stays true when the demo or policies/ change."""
    readme = (REPO / "README.md").read_text()
    excerpt = readme.split("An excerpt of the demo's output", 1)[1].split("```", 2)[1]
    demo = run_xtap("demo", cwd=REPO)
    assert demo.code == 0, demo.stderr
    port = re.compile(r"127\.0\.0\.1:\d+")
    printed = {port.sub("127.0.0.1:PORT", line) for line in (demo.stdout + demo.stderr).splitlines()}
    quoted = [port.sub("127.0.0.1:PORT", line) for line in excerpt.splitlines()[1:] if line.strip() not in ("", "…")]
    assert [line for line in quoted if line not in printed] == []


def test_the_demo_tenant_names_every_guid_of_its_partners_and_the_example_policies() -> None:
    """The sample directory gives a name to each partner of the demo and each GUID policies/
    holds, so that a lookup of any of them, as names are shown, finds one."""
    from reconciler.emulator import Emulator
    from reconciler.emulator.seeds import DEMO_DIRECTORY, DEMO_PARTNERS

    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "policies").rglob("*.yaml")))
    guids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
    guids |= {partner["tenantId"] for partner in DEMO_PARTNERS}
    emulator = Emulator()
    emulator.load_directory(DEMO_DIRECTORY)

    named = {k: v["displayName"] for k, v in {**emulator.known_tenants(), **emulator.directory_objects()}.items()}
    assert len(guids) >= 4 and guids <= set(named), guids - set(named)
    assert all(named[g] for g in guids)
