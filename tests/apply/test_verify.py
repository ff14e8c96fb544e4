"""Apply's verifying re-read (`apply/verify.py`): what was written is read back within the plan's
own number of GETs (one GET per change when that is fewer, else the tenant again, once), and a
short read lag is waited out while a longer one is named in a warning."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from support.clock import ManualClock
from support.paged_tenant import COUNT, DEFAULT, PAGES, PARTNERS, gets, list_pages, partner, seeded, tenant
from support.policy_files import write_policies
from support.xtap import run_xtap

from reconciler.apply import verify
from reconciler.apply.verify import READ_BACK_DELAYS


@pytest.mark.parametrize("saved", [False, True])
def test_apply_reads_the_tenant_once_and_verifies_with_one_get_per_change(tmp_path: Path, saved: bool) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    plan_file = tmp_path / "plan.json"
    with seeded(drifted=1) as emulator:
        if saved:
            assert run_xtap("plan", "--out", str(plan_file), "--policies", str(root), emulator=emulator).code == 0
            emulator.clear_requests()
        applied = run_xtap(
            "apply", *([str(plan_file)] if saved else ["--auto-approve"]), "--policies", str(root), emulator=emulator
        )
        paths = gets(emulator)
    assert applied.code == 0, applied.stderr
    # The plan's reads (three pages and the default), then the one partner written, read back.
    assert len(list_pages(paths)) == PAGES and paths.count(DEFAULT) == 1
    assert [path for path in paths if path.startswith(PARTNERS + "/")] == [f"{PARTNERS}/{tenant(0)}"]
    assert len(paths) == PAGES + 2 and "Warning" not in applied.stderr


def test_many_changes_are_verified_by_reading_the_tenant_again_once(tmp_path: Path) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(drifted=10) as emulator:
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        paths = gets(emulator)
    assert applied.code == 0 and "Apply complete: 10 applied" in applied.stdout, applied.stdout + applied.stderr
    # Ten GETs would cost more than the plan's four reads: the list and the default again instead.
    assert len(list_pages(paths)) == 2 * PAGES and paths.count(DEFAULT) == 2 and len(paths) == 2 * (PAGES + 1)
    assert "Warning" not in applied.stderr


@pytest.mark.parametrize(("lag", "warned"), [(0.3, False), (8.0, True)])
def test_the_re_read_waits_out_a_short_read_lag_and_names_what_outlasts_it(
    tmp_path: Path, lag: float, warned: bool, emulator_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graph may show the old value just after a write (undocumented; other tools report it). A
    lag shorter than the retries (0.5 s, 1 s, 2 s) draws no warning; a longer one names the
    resource. Either way the check costs no more GETs than the plan did (four: three pages and the
    default). Apply's waits between re-reads pass on the emulator's clock, which nothing else moves."""

    async def wait(seconds: float) -> None:
        emulator_clock.advance(seconds)

    monkeypatch.setattr(verify, "asyncio", SimpleNamespace(sleep=wait))
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(drifted=1, read_lag_s=lag) as emulator:
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        paths = gets(emulator)
    assert emulator_clock.now == (sum(READ_BACK_DELAYS) if warned else READ_BACK_DELAYS[0])  # what apply waited
    assert applied.code == 0, applied.stderr
    warnings = [line for line in applied.stderr.splitlines() if line.startswith("Warning:")]
    assert lag > sum(READ_BACK_DELAYS) if warned else lag < READ_BACK_DELAYS[0]
    if not warned:
        assert warnings == [], applied.stderr
    else:
        assert warnings == [
            f"Warning: partner {tenant(0)}: inboundTrust does not read back as it was written "
            "(Graph may still be replicating; run xtap plan to check)."
        ]
    assert len(paths) <= 2 * (PAGES + 1) and paths.count(f"{PARTNERS}/{tenant(0)}") >= 2
