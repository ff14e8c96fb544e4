"""`xtap check --live` judging whether the users and groups of this tenant the files name still
exist (`target-exists`), over real HTTP against the emulator's directory: a deleted group fails
the check at its own target or capability scope, a group still there does not, the partner's
groups are never looked up, and a token that may not look them up says so and sends no lookup."""

from __future__ import annotations

import json
from pathlib import Path

from support.missing_targets import (
    GROUP,
    GROUP_AT,
    LOOKUP_ROLES,
    PARTNERS_GROUP,
    SCOPED,
    SCOPED_AT,
    folder,
    get_by_ids,
    group,
    plant,
)
from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator

RULE = "target-exists"


def missing(stdout: str) -> list[tuple[str, int, int, str]]:
    """The rule's findings in a JSON report: where, and the message."""
    found = json.loads(stdout)["findings"]
    return [(item["file"], item["line"], item["col"], item["message"]) for item in found if item["rule"] == RULE]


def test_a_deleted_group_fails_the_check_at_its_target(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator, GROUP)
    run = run_xtap("check", "--live", "--policies", str(policies), emulator=emulator, roles=LOOKUP_ROLES)
    assert run.code == 1, run.stdout + run.stderr
    expected = (
        f"{policies}/{GROUP_AT}: error [{RULE}] partner 90e29127-71ad-49c7-9ce8-db3f41ea06f1: group {GROUP} named in "
        "b2bCollaborationOutbound.usersAndGroups.targets no longer exists in this tenant (Graph's getByIds finds "
        "no such object): remove it, or name the group that replaced it"
    )
    assert expected in run.stdout
    assert f"{RULE}] m365Capability" not in run.stdout  # the default's group is still there
    # One lookup for every id the files and the tenant name, and never the partner's group.
    [lookup] = get_by_ids(emulator)
    assert sorted(lookup.body["ids"]) == sorted([GROUP, SCOPED]) and PARTNERS_GROUP not in json.dumps(lookup.body)


def test_a_deleted_group_in_a_default_capability_scope_fails_at_its_entry(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator, SCOPED)
    run = run_xtap(
        "check", "--live", "--format", "json", "--policies", str(policies), emulator=emulator, roles=LOOKUP_ROLES
    )
    assert run.code == 1, run.stderr
    file, line, col = SCOPED_AT.split(":")
    [(at_file, at_line, at_col, message)] = missing(run.stdout)
    assert (at_file, at_line, at_col) == (f"{policies}/{file}", int(line), int(col))
    assert message.startswith(f"group {SCOPED} named in inboundAccess.resourceScopes.included no longer exists")


def test_groups_still_there_are_no_finding(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator)
    run = run_xtap(
        "check", "--live", "--format", "json", "--policies", str(policies), emulator=emulator, roles=LOOKUP_ROLES
    )
    assert run.code == 0, run.stdout + run.stderr
    assert missing(run.stdout) == [] and len(get_by_ids(emulator)) == 1


def test_a_group_returned_without_its_name_is_not_missing(tmp_path: Path, emulator: Emulator) -> None:
    """getByIds returns an object the token may not read with its id and type only: it exists."""
    policies = folder(tmp_path)
    plant(emulator, GROUP)
    emulator.put_directory_object(group(GROUP, displayName=None))
    run = run_xtap(
        "check", "--live", "--format", "json", "--policies", str(policies), emulator=emulator, roles=LOOKUP_ROLES
    )
    assert run.code == 0, run.stdout + run.stderr
    assert missing(run.stdout) == []


def test_without_directory_read_nothing_is_looked_up_and_it_says_so(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator, GROUP, SCOPED)
    run = run_xtap(
        "check", "--live", "--format", "json", "--policies", str(policies), emulator=emulator, roles=READ_ONLY
    )
    assert run.code == 0, run.stdout + run.stderr
    assert missing(run.stdout) == [] and get_by_ids(emulator) == []
    [said] = [line for line in run.stderr.splitlines() if "Directory.Read.All" in line]
    assert said.startswith("Not checked: whether the users and groups of this tenant that the policies name still")
    assert "Directory.Read.All would let xtap check it" in said


def test_offline_the_rule_finds_nothing_and_sends_nothing(tmp_path: Path, emulator: Emulator) -> None:
    policies = folder(tmp_path)
    plant(emulator, GROUP, SCOPED)
    run = run_xtap("check", "--format", "json", "--policies", str(policies), emulator=emulator, roles=LOOKUP_ROLES)
    assert run.code == 0, run.stdout + run.stderr
    assert missing(run.stdout) == [] and emulator.requests == []
