"""Prune (`prune: true` in xtap.yaml), as a user runs it: the CLI in a subprocess, msgraph-sdk over
real HTTP, the emulator as Graph. Live partners with no file are deleted, their identity sync
first; MTO members, protected tenants and service-made partners are spared; a mass delete is
refused before anything is written; and the next plan is clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.policy_files import write_policies
from support.xtap import Run, run_xtap, writes_served

from reconciler.core.address import Address
from reconciler.core.desired import Desired, DesiredInstance, Prune
from reconciler.core.live import Live
from reconciler.core.wire import NOT_A_TENANT_ID
from reconciler.emulator import Emulator
from reconciler.plan import file as planfile
from reconciler.plan.model import Change, Plan
from reconciler.plan.planner import make_plan
from reconciler.render.plan import render_text

PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
KEPT = "11111111-1111-4111-8111-111111111111"  # has a file
NEW = "22222222-2222-4222-8222-222222222222"  # has a file, not live yet
SYNCED = "33333333-3333-4333-8333-333333333333"  # no file, has an identity sync: deleted, sync first
STRAY = "44444444-4444-4444-8444-444444444444"  # no file: deleted
MTO = "55555555-5555-4555-8555-555555555555"  # MTO member: spared, even listed in pruneServiceMade
GUARDED = "66666666-6666-4666-8666-666666666666"  # protected: spared
GDAP = "77777777-7777-4777-8777-777777777777"  # service provider: spared
NAMED_GDAP = "88888888-8888-4888-8888-888888888888"  # service provider named in pruneServiceMade: deleted
SYNC = {"userSyncInbound": {"isSyncAllowed": True}}
TRUST = {"inboundTrust": {"isMfaAccepted": True, "isCompliantDeviceAccepted": False}}


def settings(policies: Path, text: str) -> Path:
    (policies / "xtap.yaml").write_text(text)
    return policies


def plant(emulator: Emulator) -> None:
    """A tenant with one partner of each kind prune must tell apart."""
    for tenant in (KEPT, SYNCED, STRAY, GUARDED):
        emulator.put_partner({"tenantId": tenant, **TRUST})
    emulator.put_identity_sync(SYNCED, {"tenantId": SYNCED, **SYNC})
    emulator.put_partner({"tenantId": MTO, "isInMultiTenantOrganization": True})
    emulator.put_identity_sync(MTO, {"tenantId": MTO, **SYNC})
    emulator.put_partner({"tenantId": GDAP, "isServiceProvider": True})
    emulator.put_partner({"tenantId": NAMED_GDAP, "isServiceProvider": True})


def pruning(tmp_path: Path, extra: str = "") -> Path:
    policies = write_policies(tmp_path / "policies", [{"tenantId": KEPT, **TRUST}, {"tenantId": NEW}])
    guards = f"protected: [{GUARDED}]\npruneServiceMade:\n  - {MTO}\n  - {NAMED_GDAP}\n"
    return settings(policies, f"prune: true\n{guards}{extra}")


def xtap(*args: str, policies: Path, emulator: Emulator) -> Run:
    return run_xtap(*args, "--policies", str(policies), emulator=emulator)


def test_prune_deletes_sync_before_partner_and_spares_mto_protected_and_service_made(
    tmp_path: Path, emulator: Emulator
) -> None:
    plant(emulator)
    policies = pruning(tmp_path)

    shown = xtap("plan", "--format", "json", policies=policies, emulator=emulator)
    applied = xtap("apply", "--auto-approve", policies=policies, emulator=emulator)
    again = xtap("plan", "--detailed-exitcode", policies=policies, emulator=emulator)

    assert shown.code == 0, shown.stderr
    plan = json.loads(shown.stdout)
    changes = [(c["resource"], c["id"], c["action"], c["source"]) for c in plan["changes"]]
    prune_line = f"{policies}/xtap.yaml:1"
    assert changes == [
        ("partner", NEW, "create", f"{policies}/partners/{NEW}.yaml:2"),
        ("identitySynchronization", SYNCED, "delete", prune_line),
        ("partner", SYNCED, "delete", prune_line),
        ("partner", STRAY, "delete", prune_line),
        ("partner", NAMED_GDAP, "delete", prune_line),
    ]
    synced_delete = plan["changes"][2]
    assert synced_delete["dependsOn"] == [{"resource": "identitySynchronization", "id": SYNCED}]
    assert plan["summary"] == {"create": 1, "update": 0, "delete": 4, "reset": 0}
    spared = {u["id"]: u["spared"] for u in plan["unmanaged"]}
    assert sorted(spared) == [MTO, GUARDED, GDAP]
    assert spared[MTO].startswith("a member of the tenant's multitenant organization")
    assert spared[MTO].endswith("prune never deletes one")
    assert spared[GUARDED] == "protected in xtap.yaml"
    assert spared[GDAP].endswith("list it under pruneServiceMade in xtap.yaml to prune it")

    assert applied.code == 0, applied.stdout + applied.stderr
    deletes = [r.path for r in writes_served(emulator) if r.method == "DELETE"]
    assert deletes.index(f"{PARTNERS}/{SYNCED}/identitySynchronization") < deletes.index(f"{PARTNERS}/{SYNCED}")
    assert sorted(emulator.partners()) == sorted([KEPT, NEW, MTO, GUARDED, GDAP])
    assert emulator.identity_sync(MTO) is not None
    assert again.code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_a_prune_over_the_limit_is_refused_and_nothing_is_written(tmp_path: Path, emulator: Emulator) -> None:
    plant(emulator)
    policies = pruning(tmp_path, "pruneLimit: 0.25\n")
    (policies / "partners" / f"{NEW}.yaml").unlink()  # 7 live partners, 3 to prune, 1 allowed

    planned = xtap("plan", "--format", "json", policies=policies, emulator=emulator)
    applied = xtap("apply", "--auto-approve", policies=policies, emulator=emulator)

    assert planned.code == 1
    message = "prune would delete 3 of the 7 live partners: more than pruneLimit 0.25 allows (1); nothing is applied."
    assert f"Error: {policies}/xtap.yaml:1: partner: {message}" in planned.stderr
    [error] = json.loads(planned.stdout)["errors"]
    assert (error["resource"], error["id"], error["source"]) == ("partner", "", f"{policies}/xtap.yaml:1")
    assert applied.code == 1
    assert "raise pruneLimit in xtap.yaml" in applied.stdout
    assert writes_served(emulator) == []
    assert len(emulator.partners()) == 7


def test_a_prune_of_exactly_the_limit_goes_ahead(tmp_path: Path, emulator: Emulator) -> None:
    plant(emulator)
    emulator.put_partner({"tenantId": NEW})
    policies = pruning(tmp_path, "pruneLimit: 0.375\n")  # 3 of 8, exactly: 0.375 * 8 is 3 in decimal and in binary

    applied = xtap("apply", "--auto-approve", policies=policies, emulator=emulator)

    assert applied.code == 0, applied.stdout + applied.stderr
    assert sorted(emulator.partners()) == sorted([KEPT, NEW, MTO, GUARDED, GDAP])


def test_a_prune_of_every_partner_is_refused_whatever_the_limit(tmp_path: Path, emulator: Emulator) -> None:
    """An empty folder, or --policies pointed at the wrong one, must not wipe the tenant."""
    for tenant in (SYNCED, STRAY):
        emulator.put_partner({"tenantId": tenant})
    policies = settings(write_policies(tmp_path / "policies", []), "prune: true\npruneLimit: 1\n")

    planned = xtap("plan", policies=policies, emulator=emulator)
    applied = xtap("apply", "--auto-approve", policies=policies, emulator=emulator)

    assert planned.code == 1
    assert "prune would delete 2 of the 2 live partners: every one of them" in planned.stdout
    assert "Plan: 0 to create, 0 to update, 2 to delete, 0 to reset." in planned.stdout
    assert applied.code == 1
    assert writes_served(emulator) == []


PLAIN = [f"{n}{n}{n}{n}{n}{n}{n}{n}-aaaa-4aaa-8aaa-aaaaaaaaaaaa" for n in range(1, 6)]  # ordinary partners
EVERY_ONE = "every one but the {spared} it spares (protected, MTO members, service-made)"


def planned_errors(live: list[dict[str, Any]], files: tuple[str, ...] = (), **guards: Any) -> list[str]:
    """The plan's errors when xtap.yaml prunes with `guards` and files declare `files` (as they
    are live: no change of their own)."""
    partners = {Address("partner", partner["tenantId"]): partner for partner in live}
    declared = {Address("partner", tenant): DesiredInstance({"tenantId": tenant}, "p.yaml:1") for tenant in files}
    desired = Desired(declared, prune=Prune("xtap.yaml:1", **guards))
    return [error.message for error in make_plan(desired, Live(partners, ("partner",))).errors]


def test_a_prune_of_every_partner_it_does_not_spare_is_refused_though_some_are_spared() -> None:
    """Five partners no file declares and one GDAP partner prune spares, with an empty folder:
    5 of 6 is not every live partner, yet it is every one the folder could have kept."""
    live = [{"tenantId": tenant} for tenant in PLAIN] + [{"tenantId": GDAP, "isServiceProvider": True}]

    [error] = planned_errors(live)

    assert error.startswith(f"prune would delete 5 of the 6 live partners: {EVERY_ONE.format(spared=1)}. ")
    assert "pruneLimit does not change that; nothing is applied." in error
    assert "list them under protected in xtap.yaml; to delete them all, delete them in the admin center." in error
    assert "raise pruneLimit" not in error  # advice that would not help


def test_spared_partners_count_as_spared_whether_or_not_a_file_declares_them() -> None:
    """A folder that declares only partners prune would spare anyway keeps nothing prune may
    delete: a protected partner and an MTO member with files, three strays without."""
    live = [{"tenantId": tenant} for tenant in PLAIN[:4]] + [{"tenantId": MTO, "isInMultiTenantOrganization": True}]

    [error] = planned_errors(live, files=(PLAIN[0], MTO), protected=frozenset({PLAIN[0]}))

    assert error.startswith(f"prune would delete 3 of the 5 live partners: {EVERY_ONE.format(spared=2)}. ")


def test_a_prune_that_leaves_one_partner_it_could_delete_goes_ahead() -> None:
    live = [{"tenantId": tenant} for tenant in PLAIN] + [{"tenantId": GDAP, "isServiceProvider": True}]

    assert planned_errors(live, files=(PLAIN[0],)) == []


def test_a_prune_of_every_partner_says_so_and_not_that_it_is_over_the_limit() -> None:
    """Both rules refuse it; the one that says what is wrong wins, with its own advice."""
    [error] = planned_errors([{"tenantId": tenant} for tenant in PLAIN[:2]], limit=0.5)

    assert error == (
        "prune would delete 2 of the 2 live partners: every one of them. pruneLimit does not change that; "
        "nothing is applied. Add files for the partners to keep, or list them under protected in xtap.yaml; "
        "to delete them all, delete them in the admin center."
    )  # the whole message: no advice to raise pruneLimit, which would not help


def test_a_prune_over_the_limit_says_so_with_its_numbers_and_advice() -> None:
    live = [{"tenantId": tenant} for tenant in PLAIN] + [{"tenantId": GDAP, "isServiceProvider": True}]

    [error] = planned_errors(live, files=(PLAIN[0],), limit=0.5)

    assert error == (
        "prune would delete 4 of the 6 live partners: more than pruneLimit 0.5 allows (3); nothing is applied. "
        "Add files for the partners to keep, list them under protected, or raise pruneLimit in xtap.yaml."
    )


def test_an_emptied_folder_cannot_prune_past_a_spared_partner(tmp_path: Path, emulator: Emulator) -> None:
    """The case above through the CLI: nothing is written, whatever pruneLimit says."""
    for tenant in PLAIN:
        emulator.put_partner({"tenantId": tenant, **TRUST})
    emulator.put_partner({"tenantId": GDAP, "isServiceProvider": True})
    policies = settings(write_policies(tmp_path / "policies", []), "prune: true\npruneLimit: 1\n")

    planned = xtap("plan", policies=policies, emulator=emulator)
    applied = xtap("apply", "--auto-approve", policies=policies, emulator=emulator)

    assert planned.code == 1
    assert f"prune would delete 5 of the 6 live partners: {EVERY_ONE.format(spared=1)}." in planned.stderr
    assert "Plan: 0 to create, 0 to update, 5 to delete, 0 to reset." in planned.stdout
    assert applied.code == 1
    assert writes_served(emulator) == []
    assert len(emulator.partners()) == 6


def test_a_saved_prune_plan_applies_and_the_next_plan_is_clean(tmp_path: Path, emulator: Emulator) -> None:
    plant(emulator)
    policies = pruning(tmp_path)
    saved = tmp_path / "plan.json"

    planned = xtap("plan", "--out", str(saved), policies=policies, emulator=emulator)
    applied = xtap("apply", str(saved), policies=policies, emulator=emulator)
    again = xtap("plan", "--detailed-exitcode", policies=policies, emulator=emulator)

    assert planned.code == 0, planned.stderr
    spared = {u.id: u.spared for u in planfile.loads(saved.read_text()).unmanaged}
    assert spared[GUARDED] == "protected in xtap.yaml"  # read back as written
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "applied: - partner " + STRAY in applied.stdout
    assert again.code == 0, again.stdout


def test_deletes_come_first_in_markdown_and_are_counted(tmp_path: Path, emulator: Emulator) -> None:
    plant(emulator)
    policies = pruning(tmp_path)

    markdown = xtap("plan", "--format", "markdown", policies=policies, emulator=emulator)

    assert markdown.code == 0, markdown.stderr
    lines = markdown.stdout.splitlines()
    actions = [line.split("<b>")[1].split("</b>")[0] for line in lines if line.startswith("<summary>")]
    assert actions == ["delete"] * 4 + ["create"]
    assert "| - delete | 4 |" in lines
    assert f"- partner `{GUARDED}`  (not pruned: protected in xtap.yaml)" in markdown.stdout


def test_text_plan_shows_deletes_in_red_and_spared_partners_with_their_reason(
    tmp_path: Path, emulator: Emulator
) -> None:
    plant(emulator)
    policies = pruning(tmp_path)

    text = xtap("plan", policies=policies, emulator=emulator)
    plan = json.loads(xtap("plan", "--format", "json", policies=policies, emulator=emulator).stdout)

    assert f"  partner {GUARDED}  (not pruned: protected in xtap.yaml)" in text.stdout
    assert "Plan: 1 to create, 0 to update, 4 to delete, 0 to reset." in text.stdout
    delete = next(c for c in plan["changes"] if c["action"] == "delete")
    colored = render_text(Plan(changes=(Change(delete["resource"], delete["id"], "delete", None, (), ()),)), True)
    assert colored.startswith(f"\x1b[1;31m- identitySynchronization {SYNCED}\x1b[0m")


def test_drift_still_reports_unmanaged_partners_when_prune_is_on(tmp_path: Path, emulator: Emulator) -> None:
    """Prune acts at apply; drift reports what differs, and an unmanaged partner is not drift of a file."""
    plant(emulator)
    policies = pruning(tmp_path)

    drift = xtap("drift", "--format", "json", policies=policies, emulator=emulator)

    assert drift.code == 2, drift.stderr
    items: list[dict[str, Any]] = json.loads(drift.stdout)["drift"]
    unmanaged = sorted(item["id"] for item in items if item["kind"] == "unmanaged")
    assert unmanaged == sorted([SYNCED, STRAY, MTO, GUARDED, GDAP, NAMED_GDAP])
    assert all(item.get("remedy") != "delete" for item in items)
    assert writes_served(emulator) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("prune: true\nprotected:\n  - nope\n", "xtap.yaml:3:5: 'nope' is not a tenant id"),
        (f"prune: true\npruneServiceMade: [{GDAP}, 5]\n", f"xtap.yaml:2:58: 5 {NOT_A_TENANT_ID}"),
        ("prune: yes\n", "xtap.yaml:1:8: prune must be true or false, not 'yes' (xtap reads YAML 1.2"),
        ("prune: true\npruneLimit: 0\n", "xtap.yaml:2:13: pruneLimit 0 is not a share of the live partners"),
        ("prune: true\npruneLimit: 1.5\n", "xtap.yaml:2:13: pruneLimit 1.5 is not a share of the live partners"),
        ("prune: true\npruneLimit: '25%'\n", "xtap.yaml:2:13: pruneLimit must be a number, not '25%'"),
        ("prune: true\npruneLimit: .nan\n", "xtap.yaml:2:13: pruneLimit must be a number, not '.nan'"),
        ("prune: true\npruneLimit: .inf\n", "xtap.yaml:2:13: pruneLimit must be a number, not '.inf'"),
        ("prune: true\npruneLimit: 1e400\n", "xtap.yaml:2:13: pruneLimit inf is not a share of the live partners"),
        ("prune: true\nprotected: " + GDAP + "\n", f"xtap.yaml:2:12: protected must be a list, not '{GDAP}'"),
    ],
)
def test_bad_prune_settings_are_a_problem_at_their_place(
    tmp_path: Path, emulator: Emulator, content: str, problem: str
) -> None:
    emulator.put_partner({"tenantId": STRAY})
    policies = settings(write_policies(tmp_path / "policies", [{"tenantId": KEPT}]), content)
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = xtap(*command, policies=policies, emulator=emulator)

        assert result.code == 1, (command, result.stderr)
        assert result.stderr.splitlines()[0].removeprefix(f"{policies}/").startswith(problem), result.stderr
        assert "Traceback" not in result.stderr
    assert emulator.requests == []
