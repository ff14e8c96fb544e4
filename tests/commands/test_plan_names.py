"""`xtap plan` with names beside GUIDs, end to end against the emulator: with the lookup
permissions the partner and the group its change names are shown by name; without them the same
plan by GUID, and one line saying why. And what the lookups cost, counted from the emulator's
request log rather than timed: a plan of 300 partners of which 3 change adds one tenant-information
`$batch` for those 3 and one getByIds for the users and groups the files name, nothing more."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from support.policy_files import write_policies
from support.xtap import READ_ONLY, run_xtap

from reconciler.emulator import Emulator
from reconciler.emulator.app import RecordedRequest

NAMES_ROLES = (*READ_ONLY, "CrossTenantInformation.ReadBasic.All", "Directory.Read.All")
CONTOSO = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
LIAISONS = "6f546279-4da5-4b53-a095-09ea0cef9971"


def _outbound(group: str) -> dict[str, Any]:
    targets = [{"target": group, "targetType": "group"}]
    return {"b2bCollaborationOutbound": {"usersAndGroups": {"accessType": "allowed", "targets": targets}}}


def _contoso(emulator: Emulator, tmp_path: Path) -> Path:
    emulator.put_partner({"tenantId": CONTOSO})
    emulator.put_known_tenant({"tenantId": CONTOSO, "displayName": "Contoso Ltd", "defaultDomainName": "contoso.com"})
    emulator.put_directory_object({"@odata.type": "#microsoft.graph.group", "id": LIAISONS, "displayName": "Liaisons"})
    return write_policies(tmp_path / "policies", [{"tenantId": CONTOSO, **_outbound(LIAISONS)}])


def test_plan_names_the_partner_and_the_group_and_without_permission_the_same_plan_by_guid(
    emulator: Emulator, tmp_path: Path
) -> None:
    policies = _contoso(emulator, tmp_path)
    named = run_xtap("plan", "--policies", str(policies), emulator=emulator, roles=NAMES_ROLES)
    assert named.code == 0, named.stderr
    assert f"~ partner {CONTOSO}  Contoso Ltd (contoso.com)" in named.stdout
    assert f"    {LIAISONS} = Liaisons (group)" in named.stdout
    assert "Names not shown" not in named.stderr
    unnamed = run_xtap("plan", "--policies", str(policies), emulator=emulator, roles=READ_ONLY)
    assert unnamed.code == 0, unnamed.stderr
    assert unnamed.stderr.count("Names not shown, GUIDs instead") == 1
    # The same plan, less the names.
    expected = named.stdout.replace("  Contoso Ltd (contoso.com)", "").replace(
        f"    {LIAISONS} = Liaisons (group)\n", ""
    )
    assert unnamed.stdout == expected
    plans = [
        json.loads(
            run_xtap("plan", "--policies", str(policies), "--format", "json", emulator=emulator, roles=roles).stdout
        )
        for roles in (NAMES_ROLES, READ_ONLY)
    ]
    assert plans[0]["names"] == {CONTOSO: "Contoso Ltd (contoso.com)", LIAISONS: "Liaisons (group)"}
    assert plans[1]["names"] == {}
    assert {**plans[0], "names": {}} == plans[1]


def _lookups(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    marks = ("findTenantInformation", "getByIds", "servicePrincipals(")
    return [r for r in requests if any(mark in r.path for mark in marks)]


def test_names_cost_one_batch_for_the_changed_partners_and_one_get_by_ids_for_the_files(
    emulator: Emulator, tmp_path: Path
) -> None:
    partners = sorted(str(uuid.uuid4()) for _ in range(300))
    groups = [str(uuid.uuid4()) for _ in range(5)]
    changed = partners[:3]
    bodies = [{"tenantId": tenant, **_outbound(groups[index % 5])} for index, tenant in enumerate(partners)]
    for body in bodies:
        emulator.put_partner(body if body["tenantId"] not in changed else {"tenantId": body["tenantId"]})
        emulator.put_known_tenant({"tenantId": body["tenantId"], "displayName": "T", "defaultDomainName": None})
    for group in groups:
        emulator.put_directory_object({"@odata.type": "#microsoft.graph.group", "id": group, "displayName": "G"})
    policies = write_policies(tmp_path / "policies", bodies)

    counts = {}
    for roles in (READ_ONLY, NAMES_ROLES):
        emulator.clear_requests()
        done = run_xtap("plan", "--policies", str(policies), emulator=emulator, roles=roles)
        assert done.code == 0, done.stderr
        counts[roles] = emulator.requests
    without, with_names = counts[READ_ONLY], counts[NAMES_ROLES]
    assert _lookups(without) == []
    extra = len(with_names) - len(without)
    lookups = _lookups(with_names)
    tenant_items = [r for r in lookups if "findTenantInformation" in r.path]
    assert sorted(r.path.split("'")[1] for r in tenant_items) == changed
    [getbyids] = [r for r in lookups if r.path.endswith("/getByIds")]
    assert sorted(getbyids.body["ids"]) == sorted(groups)
    # The lookups, and the one `$batch` envelope the three tenant lookups travel in: no more.
    assert len(lookups) == 4 and extra == len(lookups) + 1
