"""Apply's verifying re-read (`apply/verify.py`): what was written is read back within the plan's
own number of requests (a GET per change, 20 to a `$batch`, when those batches are fewer, else
the tenant again, once), and a short read lag is waited out while a longer one is named in a
warning."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from support.clock import ManualClock
from support.paged_tenant import COUNT, DEFAULT, PAGES, PARTNERS, list_pages, partner, seeded, tenant
from support.policy_files import write_policies
from support.xtap import run_xtap

from reconciler.apply import verify
from reconciler.apply.verify import READ_BACK_DELAYS
from reconciler.emulator import Emulator, EmulatorConfig

RELATIVE = PARTNERS.removeprefix("/v1.0")  # a $batch item's URL is relative to the version


def read_back(emulator: Emulator) -> tuple[list[str], list[str]]:
    """The GETs sent on their own (the plan's reads), and those sent in `$batch`es (the re-read)."""
    gets = [r for r in emulator.requests if r.method == "GET"]
    return [r.path for r in gets if r.batch_id is None], [r.path for r in gets if r.batch_id is not None]


def batch_posts(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.path.endswith("/$batch") and r.batch_id is None)


@pytest.mark.parametrize("saved", [False, True])
def test_apply_reads_the_tenant_once_and_verifies_what_it_wrote_in_a_batch(tmp_path: Path, saved: bool) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    plan_file = tmp_path / "plan.json"
    with seeded(drifted=1) as emulator:
        if saved:
            assert run_xtap("plan", "--out", str(plan_file), "--policies", str(root), emulator=emulator).code == 0
            emulator.clear_requests()
        applied = run_xtap(
            "apply", *([str(plan_file)] if saved else ["--auto-approve"]), "--policies", str(root), emulator=emulator
        )
        alone, batched = read_back(emulator)
        posts = batch_posts(emulator)
    assert applied.code == 0, applied.stderr
    # The plan's reads (three pages and the default), then the one partner written, read back.
    assert len(list_pages(alone)) == PAGES and alone.count(DEFAULT) == 1 and len(alone) == PAGES + 1
    assert batched == [f"{RELATIVE}/{tenant(0)}"] and posts == 2  # the write's batch, the re-read's
    assert "Warning" not in applied.stderr


def test_many_changes_are_verified_by_one_batch_of_gets_rather_than_the_pages(tmp_path: Path) -> None:
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(COUNT)])
    with seeded(drifted=10) as emulator:
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        alone, batched = read_back(emulator)
        posts = batch_posts(emulator)
    assert applied.code == 0 and "Apply complete: 10 applied" in applied.stdout, applied.stdout + applied.stderr
    # Ten GETs in one $batch cost less than the plan's four reads: the pages are not read again.
    assert len(list_pages(alone)) == PAGES and alone.count(DEFAULT) == 1
    assert sorted(batched) == sorted(f"{RELATIVE}/{tenant(n)}" for n in range(10)) and posts == 2
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
        read_back_paths = read_back(emulator)
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
    alone, batched = read_back_paths
    assert len(alone) == PAGES + 1 and batched.count(f"{RELATIVE}/{tenant(0)}") >= 2


def test_a_re_read_of_the_scope_reads_only_the_types_that_hold_what_was_written(tmp_path: Path) -> None:
    """More changes than the plan's reads would take in `$batch`es of GETs: the partner list is
    read again, but not the default policy, which nothing wrote."""
    count = 100  # 5 batches of GETs, against the plan's 3 reads (2 pages and the default)
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(count)])
    with Emulator(EmulatorConfig(page_size=50)) as emulator:
        for n in range(count):
            emulator.put_partner(partner(n, mfa=False))
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        wire = [r for r in emulator.requests if r.batch_id is None]
    assert applied.code == 0 and f"Apply complete: {count} applied" in applied.stdout, applied.stderr
    last_write = max(i for i, r in enumerate(wire) if r.path.endswith("/$batch"))
    re_read = [r.path for r in wire[last_write + 1 :]]
    assert len(re_read) == 2 and len(list_pages(re_read)) == 2, re_read
    assert DEFAULT in [r.path for r in wire[:last_write]]  # the plan read it
    assert "Warning" not in applied.stderr


def test_a_re_read_of_the_scope_names_what_its_pages_show_unwritten(
    tmp_path: Path, emulator_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages read again are compared as they come: under a read lag longer than the retries,
    each partner they show as it was is named, those the budget let apply read once more too."""

    async def wait(seconds: float) -> None:
        emulator_clock.advance(seconds)

    monkeypatch.setattr(verify, "asyncio", SimpleNamespace(sleep=wait))
    count = 100  # 5 batches of GETs, against the plan's 3 reads (2 pages and the default)
    root = write_policies(tmp_path / "policies", [partner(n) for n in range(count)])
    with Emulator(EmulatorConfig(page_size=50, read_lag_s=8.0)) as emulator:
        for n in range(count):
            emulator.put_partner(partner(n, mfa=False))
        applied = run_xtap("apply", "--auto-approve", "--policies", str(root), emulator=emulator)
        alone, batched = read_back(emulator)
    assert applied.code == 0 and f"Apply complete: {count} applied" in applied.stdout, applied.stderr
    assert len(list_pages(alone)) == 4 and len(batched) == 20  # the plan's pages, the re-read's, one retry
    warnings = [line for line in applied.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        f"Warning: partner {tenant(n)}: inboundTrust does not read back as it was written "
        "(Graph may still be replicating; run xtap plan to check)."
        for n in range(count)
    ]
