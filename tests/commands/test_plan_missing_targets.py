"""`xtap plan` warning of each user or group of this tenant the files name that Graph says is
gone, at its `file:line:col` on stderr, by the same rule as `xtap check --live` (`target-exists`),
over real HTTP against the emulator's directory; the plan and its exit code stay as they were."""

from __future__ import annotations

from pathlib import Path

from support.missing_targets import (
    GROUP,
    GROUP_AT,
    LOOKUP_ROLES,
    PARTNER_ID,
    PARTNERS_GROUP,
    SCOPED,
    SCOPED_AT,
    folder,
    plant,
)
from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator

ROLES = (*LOOKUP_ROLES, "Policy.ReadWrite.CrossTenantAccess")


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning: ") and "no longer exists" in line]


def test_a_plan_warns_of_a_deleted_group_at_its_target_and_exits_as_before(tmp_path: Path) -> None:
    policies = folder(tmp_path)
    runs = {}
    for deleted in ((), (GROUP,)):
        with Emulator() as emulator:
            plant(emulator, *deleted)
            runs[deleted] = run_xtap(
                "plan", "--detailed-exitcode", "--policies", str(policies), emulator=emulator, roles=ROLES
            )
    present, gone = runs[()], runs[(GROUP,)]
    assert warnings(present.stderr) == [], present.stderr
    assert warnings(gone.stderr) == [
        f"Warning: {policies}/{GROUP_AT}: group {GROUP} named in b2bCollaborationOutbound.usersAndGroups.targets no "
        "longer exists in this tenant (Graph's getByIds finds no such object): remove it, or name the group that "
        "replaced it [target-exists]"
    ]
    assert gone.code == present.code == 2  # changes to apply, as before: a warning stops nothing
    assert f"+ partner {PARTNER_ID}" in gone.stdout  # the plan as before
    assert "no longer exists" not in gone.stdout  # the warning is on stderr only


def test_a_plan_warns_of_each_deleted_group_and_never_of_the_partners(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator, GROUP, SCOPED)
    run = run_xtap("plan", "--policies", str(policies), emulator=emulator, roles=ROLES)
    assert run.code == 0, run.stderr
    said = warnings(run.stderr)
    assert [line.split(": ")[1] for line in said] == [f"{policies}/{SCOPED_AT}", f"{policies}/{GROUP_AT}"]
    assert PARTNERS_GROUP not in run.stderr


def test_a_plan_without_directory_read_warns_of_nothing(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator, GROUP, SCOPED)
    run = run_xtap("plan", "--policies", str(policies), emulator=emulator, roles=READ_ONLY)
    assert run.code == 0, run.stderr
    assert warnings(run.stderr) == []
