"""What the tests of the deleted users and groups a policy names share (`target-exists`: `xtap
check --live` fails on one, a plan warns of it): a folder whose partner file names one of this
tenant's groups in an outbound target and one of the partner's groups inbound, and whose
default.yaml names another of this tenant's groups in a capability's scope; the emulator's
directory with those groups planted; and the getByIds requests it served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.emulator import Emulator, RecordedRequest

PARTNER_ID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"  # this tenant's, in the partner's outbound target
SCOPED = "0b944de3-e0fc-4774-a49a-b135213725ef"  # this tenant's, in the default's capability scope
PARTNERS_GROUP = "b75a5ab2-fe55-4463-bd31-d21ad555c6e0"  # the partner's, in the inbound target
LOOKUP_ROLES = ("Policy.Read.All", "Directory.Read.All")

PARTNER_FILE = f"""tenantId: {PARTNER_ID}
b2bCollaborationOutbound:
  usersAndGroups:
    accessType: allowed
    targets:
      - target: AllUsers
        targetType: user
      - target: {GROUP}
        targetType: group
b2bCollaborationInbound:
  usersAndGroups:
    accessType: allowed
    targets:
      - target: {PARTNERS_GROUP}
        targetType: group
"""
GROUP_AT = "partners/fabrikam.yaml:8:9"  # the `- target:` of GROUP's item

DEFAULT_FILE = f"""m365Capabilities:
  - name: crossTenantOpenProfileCard
    inboundAccess:
      isAllowed: true
      resourceScopes:
        included:
          - resourceId: {SCOPED}
            resourceType: group
        excluded: []
"""
SCOPED_AT = "default.yaml:7:13"  # the `- resourceId:` of SCOPED's item


def folder(tmp_path: Path) -> Path:
    """policies/ with the partner's file and default.yaml above."""
    policies = tmp_path / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "partners" / "fabrikam.yaml").write_text(PARTNER_FILE)
    (policies / "default.yaml").write_text(DEFAULT_FILE)
    return policies


def group(object_id: str, **more: Any) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.group", "id": object_id, "displayName": "Partner liaisons", **more}


def plant(emulator: Emulator, *deleted: str) -> None:
    """This tenant's groups (not the partner's: a lookup here would find it gone), then `deleted`
    removed again, as an admin deleting them after the files named them."""
    for object_id in (GROUP, SCOPED):
        emulator.put_directory_object(group(object_id))
    for object_id in deleted:
        emulator.remove_directory_object(object_id)


def get_by_ids(emulator: Emulator) -> list[RecordedRequest]:
    return [request for request in emulator.requests if request.path.endswith("/directoryObjects/getByIds")]
