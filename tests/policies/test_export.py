"""`xtap export`: the live tenant as a policies/ folder that validates and plans to zero changes,
and a re-export that edits that folder in place. Through the CLI,
against the emulator over real HTTP."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO
from support.seeds import (
    DEFAULT_PATCH_BODIES,
    SEED_000_CREATE_BODY,
    SEED_001_PATCH_BODIES,
    SEED_001_TENANT,
    SEED_003_TEMPLATE_BODY,
)
from support.xtap import READ_ONLY, READ_WRITE, client_for, run_xtap

from reconciler.emulator import Emulator
from reconciler.policies.export import instance_paths as partner_paths
from reconciler.policies.export import slug

GDAP = "aaaaaaaa-0000-4000-8000-000000000001"
MTO = "bbbbbbbb-0000-4000-8000-000000000002"
NAMESAKE = "cccccccc-0000-4000-8000-000000000003"
QUIRKY = "DDDDDDDD-0000-4000-8000-000000000004"
GROUP = "6F546279-4DA5-4B53-A095-09EA0CEF9971"
UNSET_CONSENT = {"inboundAllowed": None, "outboundAllowed": None}
# The comment export writes beside a trust mark it sets (the rule's `Mark.why`).
TRUST_MARK = (
    "set by xtap export, as the tenant already trusts these inbound claims; review this: xtap check asks that "
    "trust be marked trusted"
)


def sync(tenant: str, name: str | None, allowed: bool | None = True) -> dict[str, Any]:
    return {"tenantId": tenant.lower(), "displayName": name, "userSyncInbound": {"isSyncAllowed": allowed}}


def partner(tenant: str, **settings: Any) -> dict[str, Any]:
    """A partner as Graph returns it: every property present, unset ones null."""
    return {
        "tenantId": tenant,
        "isServiceProvider": False,
        "isInMultiTenantOrganization": False,
        "inboundTrust": None,
        "automaticUserConsentSettings": UNSET_CONSENT,
        "b2bCollaborationInbound": None,
        "b2bCollaborationOutbound": None,
        "b2bDirectConnectInbound": None,
        "b2bDirectConnectOutbound": None,
        "tenantRestrictions": None,
        "m365CollaborationInbound": None,
        "m365CollaborationOutbound": None,
        "appServiceConnectInbound": None,
        **settings,
    }


def seed_varied_tenant(emulator: Emulator) -> None:
    """Partners made by people and by services, with and without identity sync, Graph's quirks
    (upper-case GUIDs, targets out of order and repeated, explicit false, all-null objects), a
    customised default and both templates configured."""
    seed_001 = {name: value for body in SEED_001_PATCH_BODIES for name, value in body.items()}
    emulator.put_partner(partner(SEED_001_TENANT, **seed_001))
    emulator.put_identity_sync(SEED_001_TENANT, sync(SEED_001_TENANT, "Fabrikam"))
    emulator.put_partner(partner(SEED_000_CREATE_BODY["tenantId"], **SEED_000_CREATE_BODY))
    emulator.put_partner(partner(GDAP, isServiceProvider=True))
    emulator.put_identity_sync(GDAP, sync(GDAP, "Contoso Bücher GmbH"))
    emulator.put_partner(partner(MTO, isInMultiTenantOrganization=True))
    emulator.put_identity_sync(MTO, sync(MTO, "Northwind", allowed=None))
    emulator.put_partner(partner(NAMESAKE))
    emulator.put_identity_sync(NAMESAKE, sync(NAMESAKE, "Northwind", allowed=False))
    users = {"target": "AllUsers", "targetType": "user"}
    group = {"target": GROUP, "targetType": "group"}
    trust = {"isMfaAccepted": False, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": None}
    inbound = {"usersAndGroups": {"accessType": "allowed", "targets": [group, users, group]}, "applications": None}
    emulator.put_partner(partner(QUIRKY, inboundTrust=trust, b2bCollaborationInbound=inbound))
    emulator.put_identity_sync(QUIRKY, sync(QUIRKY, None, allowed=None))
    default = emulator.default() | DEFAULT_PATCH_BODIES["block a group's outbound B2B"]
    emulator.set_default(default | {"isServiceDefault": False})
    emulator.set_template(
        emulator.template() | SEED_003_TEMPLATE_BODY | {"templateApplicationLevel": "existingPartners"}
    )
    emulator.set_sync_template({**emulator.sync_template(), "userSyncInbound": {"isSyncAllowed": True}})


def export(emulator: Emulator, out: Path, *args: str, roles: tuple[str, ...] = READ_WRITE) -> str:
    done = run_xtap("export", "--out", str(out), *args, emulator=emulator, roles=roles)
    assert done.code == 0, done.stderr
    return done.stderr


def plans_clean(emulator: Emulator, folder: Path, roles: tuple[str, ...] = READ_WRITE) -> None:
    assert run_xtap("validate", "--policies", str(folder)).code == 0
    done = run_xtap("plan", "--policies", str(folder), "--detailed-exitcode", emulator=emulator, roles=roles)
    assert done.code == 0 and done.stdout.endswith("No changes. The tenant matches policies/.\n"), (
        done.stdout + done.stderr
    )
    assert "+ " not in done.stdout and "~ " not in done.stdout  # settings in force may be stated, nothing else


CAPABILITIES = "/policies/crossTenantAccessPolicy/{holder}/m365Capabilities"
WRITE_CAPABILITIES = ("Policy.ReadWrite.CrossTenantCapability",)


def capability(name: str, allowed: bool, resource_id: str, resource_type: str) -> dict[str, Any]:
    """A Microsoft 365 capability's create body, as Graph's create page shows it."""
    scope = {"resourceId": resource_id, "resourceType": resource_type}
    return {
        "@odata.type": f"#microsoft.graph.{name}",
        "inboundAccess": {"isAllowed": allowed, "resourceScopes": {"included": [scope], "excluded": []}},
    }


def seed_capabilities(emulator: Emulator) -> None:
    """Two partners' capabilities and one of the default's, created through Graph's API."""
    with client_for(emulator, emulator.mint_token(roles=WRITE_CAPABILITIES)) as graph:
        for holder, body in (
            (f"partners/{NAMESAKE}", capability("crossTenantCalendarAvailabilityBasic", True, "All", "user")),
            (f"partners/{SEED_001_TENANT}", capability("crossTenantMailTipsAll", False, GROUP, "group")),
            ("default", capability("crossTenantMailTipsLimited", True, "All", "user")),
        ):
            assert graph.post(CAPABILITIES.format(holder=holder), json=body).status_code == 201


def files(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_export_of_a_varied_tenant_validates_and_plans_to_zero_changes(emulator: Emulator, tmp_path: Path) -> None:
    seed_varied_tenant(emulator)
    seed_capabilities(emulator)
    out = tmp_path / "adopted"
    stderr = export(emulator, out, roles=READ_ONLY)
    assert (
        "Exported 6 partners (identitySynchronization: 5, m365Capability: 2), default (m365Capability: 1), "
        f"mtoPartnerTemplate, mtoIdentitySyncTemplate, policy to {out}: 10 file(s) written, 0 unchanged." in stderr
    )
    written = files(out)
    assert sorted(written) == [
        "default.yaml",
        "mto-identity-sync-template.yaml",
        "mto-partner-template.yaml",
        f"partners/{SEED_000_CREATE_BODY['tenantId']}.yaml",  # no identity sync, so no name
        "partners/contoso-bucher-gmbh.yaml",
        f"partners/{QUIRKY.lower()}.yaml",  # its identity sync has no displayName
        "partners/fabrikam.yaml",
        "partners/northwind-bbbbbbbb.yaml",  # two partners share the name: neither gets it plain
        "partners/northwind-cccccccc.yaml",
        "policy.yaml",
    ]
    assert written["partners/northwind-cccccccc.yaml"] == (
        f"tenantId: {NAMESAKE}\n"
        "identitySynchronization:\n"
        "  displayName: Northwind\n"
        "  userSyncInbound:\n"
        "    isSyncAllowed: false\n"
        "m365Capabilities:\n"  # Graph's create body: @odata.type names it, no name or timestamp
        "  - '@odata.type': '#microsoft.graph.crossTenantCalendarAvailabilityBasic'\n"
        "    inboundAccess:\n"
        "      isAllowed: true\n"
        "      resourceScopes:\n"
        "        included:\n"
        "          - resourceId: All\n"
        "            resourceType: user\n"
    )
    assert "'@odata.type': '#microsoft.graph.crossTenantMailTipsAll'" in written["partners/fabrikam.yaml"]
    assert "'@odata.type': '#microsoft.graph.crossTenantMailTipsLimited'" in written["default.yaml"]
    assert "m365Capabilities" not in written["partners/contoso-bucher-gmbh.yaml"]  # none: nothing to manage
    assert written["partners/northwind-bbbbbbbb.yaml"] == (
        "# Service-made: a member of the tenant's multitenant organization (made when the tenant joined it); "
        "prune (xtap.yaml) spares it.\n"
        f"tenantId: {MTO}\n"
        "identitySynchronization:\n"
        "  displayName: Northwind\n"
    )
    assert written["partners/contoso-bucher-gmbh.yaml"].startswith("# Service-made: a service provider partner")
    assert "isServiceProvider: true" in written["partners/contoso-bucher-gmbh.yaml"]
    assert written[f"partners/{QUIRKY.lower()}.yaml"] == (
        f"tenantId: {QUIRKY.lower()}\n"
        "inboundTrust:\n"  # explicit false is not "inherit", so it is written
        "  isMfaAccepted: false\n"
        "  isCompliantDeviceAccepted: false\n"
        "b2bCollaborationInbound:\n"
        "  usersAndGroups:\n"
        "    accessType: allowed\n"
        "    targets:\n"  # a set: once each, in one stable order, GUIDs in lower case
        f"      - target: {GROUP.lower()}\n"
        "        targetType: group\n"
        "      - target: AllUsers\n"
        "        targetType: user\n"
        "identitySynchronization: {}\n"  # present though empty: leaving it out would delete it
    )
    assert "isServiceProvider" not in written["partners/fabrikam.yaml"]  # false is not a choice anyone made
    assert "b2bCollaborationOutbound:" in written["default.yaml"]
    assert "b2bCollaborationInbound:" not in written["default.yaml"]  # still the system value
    assert written["mto-identity-sync-template.yaml"] == "userSyncInbound:\n  isSyncAllowed: true\n"
    plans_clean(emulator, out, roles=READ_ONLY)


def test_an_unconfigured_tenant_exports_comment_only_singletons(emulator: Emulator, tmp_path: Path) -> None:
    export(emulator, tmp_path)
    for name in ("default.yaml", "mto-partner-template.yaml", "mto-identity-sync-template.yaml"):
        text = (tmp_path / name).read_text()
        assert text.startswith("# Unconfigured: no settings here, so this file declares the state reset"), text
        assert text.count("\n") == 1
    assert not (tmp_path / "partners").exists()
    plans_clean(emulator, tmp_path)
    emulator.set_default({**emulator.default(), "isServiceDefault": False, "inboundTrust": {"isMfaAccepted": True}})
    stderr = export(emulator, tmp_path)
    assert "1 file(s) written, 3 unchanged" in stderr
    assert (
        (tmp_path / "default.yaml")
        .read_text()
        .startswith(f"xtap:\n  trusted: true  # {TRUST_MARK}\ninboundTrust:\n  isMfaAccepted: true\n")
    )
    plans_clean(emulator, tmp_path)


def test_a_second_export_keeps_comments_and_names_and_shows_the_new_value(emulator: Emulator, tmp_path: Path) -> None:
    seed_varied_tenant(emulator)
    export(emulator, tmp_path)
    fabrikam = tmp_path / "partners" / "fabrikam.yaml"
    edited = fabrikam.read_text().replace(
        "inboundTrust:\n", "# Fabrikam's MFA is trusted: ticket SEC-42\ninboundTrust:\n"
    )
    edited = edited.replace("tenantRestrictions:", "tenantRestrictions:  # TRv2 pilot")
    moved = tmp_path / "partners" / "our-gdap-partner.yaml"
    (tmp_path / "partners" / "contoso-bucher-gmbh.yaml").rename(moved)
    fabrikam.write_text(edited)
    seed_000 = tmp_path / "partners" / f"{SEED_000_CREATE_BODY['tenantId']}.yaml"
    untouched = {path: path.stat().st_mtime_ns for path in (seed_000, tmp_path / "default.yaml")}
    # Out of band: a portal admin stops trusting Fabrikam's MFA, and the MTO partner's sync is gone.
    changed = emulator.partners()[SEED_001_TENANT]
    changed["inboundTrust"]["isMfaAccepted"] = False
    emulator.put_partner(changed)
    emulator.put_identity_sync(MTO, None)

    stderr = export(emulator, tmp_path)

    assert "2 file(s) written, 8 unchanged" in stderr  # fabrikam.yaml and northwind-bbbbbbbb.yaml
    text = fabrikam.read_text()
    assert text == edited.replace("isMfaAccepted: true", "isMfaAccepted: false", 1)
    assert "identitySynchronization" not in (tmp_path / "partners" / "northwind-bbbbbbbb.yaml").read_text()
    assert moved.is_file() and not (tmp_path / "partners" / "contoso-bucher-gmbh.yaml").exists()
    assert {path: path.stat().st_mtime_ns for path in untouched} == untouched
    plans_clean(emulator, tmp_path)


def test_a_token_that_may_not_read_capabilities_leaves_their_blocks_as_written(
    emulator: Emulator, tmp_path: Path
) -> None:
    seed_varied_tenant(emulator)
    seed_capabilities(emulator)
    export(emulator, tmp_path, roles=READ_ONLY)
    before = files(tmp_path)

    stderr = export(emulator, tmp_path)  # Policy.ReadWrite.CrossTenantAccess alone: 403 on capabilities

    assert "Skipped: m365Capabilities (m365Capability) were not read" in stderr
    assert "Exported 6 partners (identitySynchronization: 5), default, " in stderr  # none counted: none read
    assert "0 file(s) written, 10 unchanged" in stderr
    assert files(tmp_path) == before


def test_a_capability_gone_from_the_tenant_leaves_its_file(emulator: Emulator, tmp_path: Path) -> None:
    seed_varied_tenant(emulator)
    seed_capabilities(emulator)
    export(emulator, tmp_path, roles=READ_ONLY)
    with client_for(emulator, emulator.mint_token(roles=WRITE_CAPABILITIES)) as graph:
        url = CAPABILITIES.format(holder=f"partners/{SEED_001_TENANT}") + "/crossTenantMailTipsAll"
        assert graph.delete(url).status_code == 204

    stderr = export(emulator, tmp_path, roles=READ_ONLY)

    assert "1 file(s) written, 9 unchanged" in stderr
    assert "m365Capabilities" not in (tmp_path / "partners" / "fabrikam.yaml").read_text()
    assert "crossTenantCalendarAvailabilityBasic" in (tmp_path / "partners" / "northwind-cccccccc.yaml").read_text()
    plans_clean(emulator, tmp_path, roles=READ_ONLY)


def test_partners_gone_from_the_tenant_are_reported_not_deleted(emulator: Emulator, tmp_path: Path) -> None:
    seed_varied_tenant(emulator)
    export(emulator, tmp_path)
    emulator.put_identity_sync(NAMESAKE, None)
    with client_for(emulator) as graph:
        assert graph.delete(f"/policies/crossTenantAccessPolicy/partners/{NAMESAKE}").status_code == 204
    emulator.put_partner(partner("eeeeeeee-0000-4000-8000-000000000005"))  # a new one, with no name
    stale = tmp_path / "partners" / "northwind-cccccccc.yaml"

    stderr = export(emulator, tmp_path)

    assert f"Stale: {stale} declares partner {NAMESAKE}, which the tenant no longer has; left as is." in stderr
    assert stale.is_file()
    assert "1 file(s) written, 9 unchanged" in stderr
    assert (tmp_path / "partners" / "eeeeeeee-0000-4000-8000-000000000005.yaml").is_file()


@pytest.mark.parametrize("cloud", ["usgov", "china"])
def test_a_national_cloud_skips_the_templates_with_a_note(emulator: Emulator, tmp_path: Path, cloud: str) -> None:
    seed_varied_tenant(emulator)
    stderr = export(emulator, tmp_path, "--cloud", cloud)
    assert (
        "Not exported: m365Capability, mtoPartnerTemplate, mtoIdentitySyncTemplate: "
        "Graph offers them only in the global cloud, "
        f"not {cloud}." in stderr
    )
    assert not any("/templates/" in request.path for request in emulator.requests)
    assert not (tmp_path / "mto-partner-template.yaml").exists()
    assert (tmp_path / "default.yaml").is_file()
    done = run_xtap("plan", "--policies", str(tmp_path), "--cloud", cloud, "--detailed-exitcode", emulator=emulator)
    assert done.code == 0, done.stdout + done.stderr


def test_an_invalid_folder_is_refused_before_graph_is_asked(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "partners").mkdir()
    (tmp_path / "partners" / "x.yaml").write_text("tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\ninboundtrust: {}\n")
    done = run_xtap("export", "--out", str(tmp_path), emulator=emulator)
    assert done.code == 1
    assert f"{tmp_path}/partners/x.yaml:2:1: unknown property 'inboundtrust'" in done.stderr
    assert "Traceback" not in done.stderr
    assert emulator.requests == []


def test_a_file_in_place_of_the_folder_is_an_error(emulator: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "policies"
    out.write_text("not a folder")
    done = run_xtap("export", "--policies", str(out), emulator=emulator)
    assert (done.code, done.stderr.strip()) == (1, f"Error: {out} is not a folder; export writes a policies/ folder")
    assert emulator.requests == []


def test_a_graph_error_is_one_line_and_writes_nothing(emulator: Emulator, tmp_path: Path) -> None:
    token = emulator.mint_token(roles=("User.Read.All",))
    done = run_xtap("export", "--out", str(tmp_path / "out"), emulator=emulator, token=token)
    assert done.code == 1
    assert "403 Authorization_RequestDenied" in done.stderr and "Policy.Read.All" in done.stderr
    assert not (tmp_path / "out").exists()
    assert run_xtap("export", "--out", str(tmp_path / "ok"), emulator=emulator, roles=READ_ONLY).code == 0


def test_export_never_writes_through_a_symbolic_link(emulator: Emulator, tmp_path: Path) -> None:
    """Even a link that stays inside the folder (one leading outside stops export before it reads
    the tenant, as it stops every command)."""
    seed_varied_tenant(emulator)
    folder = tmp_path / "policies"
    export(emulator, folder)
    fabrikam, target = folder / "partners" / "fabrikam.yaml", folder / ".shared" / "fabrikam.yaml"
    target.parent.mkdir()
    target.write_text(fabrikam.read_text())
    fabrikam.unlink()
    fabrikam.symlink_to(target)
    changed = emulator.partners()[SEED_001_TENANT]
    changed["inboundTrust"] = None
    emulator.put_partner(changed)
    before = copy.deepcopy(files(folder))
    done = run_xtap("export", "--out", str(folder), emulator=emulator)
    assert done.code == 1
    assert f"Error: {fabrikam}: symbolic link(s); xtap export writes no file through a link" in done.stderr
    assert "inboundTrust" in target.read_text() and files(folder) == before


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("Fabrikam", "fabrikam"),
        ("Contoso Bücher GmbH", "contoso-bucher-gmbh"),
        ("  -- ", ""),
        ("日本", ""),
        ("A" * 80, "a" * 60),
    ],
)
def test_a_display_name_becomes_a_file_name_a_person_finds(name: str, stem: str) -> None:
    assert slug(name) == stem


def test_names_are_stable_and_never_taken_twice(tmp_path: Path) -> None:
    (tmp_path / "fabrikam.yaml").write_text("# someone else's file\n")
    kept = tmp_path / "hand-named.yaml"
    names = {"aaaaaaaa-1": "Fabrikam", "bbbbbbbb-2": "Fabrikam Ltd", "cccccccc-3": "Contoso", "dddddddd-4": None}
    paths = partner_paths(names, {"cccccccc-3": kept}, tmp_path)
    assert {tenant: path.name for tenant, path in paths.items()} == {
        "aaaaaaaa-1": "fabrikam-aaaaaaaa.yaml",  # the plain name is another file's
        "bbbbbbbb-2": "fabrikam-ltd.yaml",
        "cccccccc-3": "hand-named.yaml",  # a partner a file declares keeps that file
        "dddddddd-4": "dddddddd-4.yaml",
    }


def test_a_hand_written_folder_keeps_every_comment_when_a_value_changes(emulator: Emulator, tmp_path: Path) -> None:
    """The repository's own example folder, written by a person: applied, changed in the portal,
    exported over. Only the changed lines differ; every comment stays where it was."""
    folder = tmp_path / "policies"
    shutil.copytree(REPO / "policies", folder)
    roles = READ_WRITE + WRITE_CAPABILITIES  # the example folder declares capabilities
    assert run_xtap("apply", "--policies", str(folder), "--auto-approve", emulator=emulator, roles=roles).code == 0
    fabrikam = folder / "partners" / "fabrikam.yaml"
    before = fabrikam.read_text()
    changed = emulator.partners()[SEED_001_TENANT]
    changed["inboundTrust"] = {"isMfaAccepted": False}
    emulator.put_partner(changed)

    export(emulator, folder, roles=roles)

    after = fabrikam.read_text()
    assert [line for line in after.splitlines() if "#" in line] == [line for line in before.splitlines() if "#" in line]
    assert "  isMfaAccepted: false\n" in after and "isCompliantDeviceAccepted" not in after
    plans_clean(emulator, folder, roles=roles)


LOOKUP = ("CrossTenantInformation.ReadBasic.All",)
WOODGROVE = SEED_000_CREATE_BODY["tenantId"]


def seed_known_tenants(emulator: Emulator, fabrikam: str = "Fabrikam, Inc.") -> None:
    """What Graph's tenant lookups find for four of the varied tenant's six partners."""
    for tenant, name, domain in (
        (WOODGROVE, "Woodgrove Bank", "woodgrove.com"),
        (SEED_001_TENANT, fabrikam, "fabrikam.com"),
        (MTO, "Northwind Traders", "northwind.com"),
        (QUIRKY, "Tailspin\n# not: a comment\u202e Toys", "tailspin/../toys.com"),
    ):
        emulator.put_known_tenant({"tenantId": tenant, "displayName": name, "defaultDomainName": domain})


def lookup_batches(emulator: Emulator) -> int:
    return sum(
        1
        for request in emulator.requests
        if request.path.endswith("/$batch") and "findTenantInformationByTenantId" in str(request.body)
    )


def test_export_names_new_files_from_partner_names_and_comments_each(emulator: Emulator, tmp_path: Path) -> None:
    seed_varied_tenant(emulator)
    seed_known_tenants(emulator)
    stderr = export(emulator, tmp_path, roles=READ_ONLY + LOOKUP)

    assert "could not be looked up" not in stderr
    assert lookup_batches(emulator) == 1  # six partners, one $batch
    written = files(tmp_path)
    assert sorted(name for name in written if name.startswith("partners/")) == [
        "partners/contoso-bucher-gmbh.yaml",  # not known to the lookup: no comment
        "partners/fabrikam.yaml",  # the identity sync's displayName comes first
        "partners/northwind-bbbbbbbb.yaml",
        "partners/northwind-cccccccc.yaml",
        "partners/tailspin-not-a-comment-toys.yaml",  # no sync name: the partner's own
        "partners/woodgrove-bank.yaml",
    ]
    assert written["partners/woodgrove-bank.yaml"] == (
        f"# Partner: Woodgrove Bank (woodgrove.com)\ntenantId: {WOODGROVE}\n"
        + written["partners/woodgrove-bank.yaml"].split(f"tenantId: {WOODGROVE}\n", 1)[1]
    )
    assert written["partners/northwind-bbbbbbbb.yaml"] == (
        "# Partner: Northwind Traders (northwind.com)\n"
        "# Service-made: a member of the tenant's multitenant organization (made when the tenant joined it); "
        "prune (xtap.yaml) spares it.\n"
        f"tenantId: {MTO}\n"
        "identitySynchronization:\n"
        "  displayName: Northwind\n"
    )
    assert written["partners/fabrikam.yaml"].startswith("# Partner: Fabrikam, Inc. (fabrikam.com)\ntenantId: ")
    tailspin = written["partners/tailspin-not-a-comment-toys.yaml"]
    assert tailspin.startswith("# Partner: Tailspin # not: a comment Toys (tailspin .. toys.com)\ntenantId: ")
    assert "# Partner" not in written["partners/contoso-bucher-gmbh.yaml"]
    plans_clean(emulator, tmp_path, roles=READ_ONLY + LOOKUP)

    again = export(emulator, tmp_path, roles=READ_ONLY + LOOKUP)

    assert "0 file(s) written, 10 unchanged" in again
    assert files(tmp_path) == written


def test_names_come_to_an_existing_folder_and_its_comments_stay(emulator: Emulator, tmp_path: Path) -> None:
    seed_varied_tenant(emulator)
    seed_known_tenants(emulator)
    stderr = export(emulator, tmp_path, roles=READ_ONLY)  # no lookup permission: as before
    assert (
        "Partner names could not be looked up (the token lacks CrossTenantInformation.ReadBasic.All): "
        "new files are named as before, and no name comments." in stderr
    )
    assert f"partners/{WOODGROVE}.yaml" in files(tmp_path)
    fabrikam = tmp_path / "partners" / "fabrikam.yaml"
    hand_written = "# yaml-language-server: $schema=../../schemas/partner.schema.json\n# Ours since 2019.\n"
    fabrikam.write_text(hand_written + fabrikam.read_text())

    stderr = export(emulator, tmp_path, roles=READ_ONLY + LOOKUP)

    assert "4 file(s) written, 6 unchanged" in stderr  # the four partners the lookup knows
    assert fabrikam.read_text().startswith(
        "# yaml-language-server: $schema=../../schemas/partner.schema.json\n"
        "# Partner: Fabrikam, Inc. (fabrikam.com)\n"
        "# Ours since 2019.\n"
        f"tenantId: {SEED_001_TENANT}\n"
    )
    assert (tmp_path / "partners" / f"{WOODGROVE}.yaml").read_text().startswith("# Partner: Woodgrove Bank")
    named = files(tmp_path)
    plans_clean(emulator, tmp_path)

    stderr = export(emulator, tmp_path, roles=READ_ONLY)  # names not looked up: the comments stay

    assert "0 file(s) written, 10 unchanged" in stderr
    assert files(tmp_path) == named

    seed_known_tenants(emulator, fabrikam="Fabrikam Group")  # the partner renamed itself
    stderr = export(emulator, tmp_path, roles=READ_ONLY + LOOKUP)

    assert "1 file(s) written, 9 unchanged" in stderr
    text = fabrikam.read_text()
    assert text.count("# Partner: ") == 1 and "# Partner: Fabrikam Group (fabrikam.com)\n# Ours since 2019.\n" in text


def seed_trusting_tenant(emulator: Emulator) -> None:
    """The varied tenant, its capabilities, and more of what a real one holds that the built-in
    rules judge: a default that trusts other tenants' MFA, a partner open to every guest by B2B
    collaboration, one reached by direct connect for a named group, one whose capability needs a
    trust it has not."""
    seed_varied_tenant(emulator)
    seed_capabilities(emulator)
    emulator.set_default({**emulator.default(), "inboundTrust": {"isMfaAccepted": True}})
    everyone = {
        "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {
            "accessType": "allowed",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        },
    }
    woodgrove = emulator.partners()[WOODGROVE]
    woodgrove["b2bCollaborationInbound"] = everyone
    woodgrove["b2bDirectConnectInbound"] = {
        "usersAndGroups": {"accessType": "allowed", "targets": [{"target": GROUP.lower(), "targetType": "group"}]},
        "applications": everyone["applications"],
    }
    emulator.put_partner(woodgrove)


def test_an_exported_tenant_passes_its_own_check_and_a_second_export_keeps_the_marks(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The first pull request after adopting a tenant is green: where the tenant already trusts
    claims, export marks the file trusted, with why, and changes no setting."""
    seed_trusting_tenant(emulator)
    out = tmp_path / "adopted"

    export(emulator, out, roles=READ_ONLY)

    written = files(out)
    assert written["partners/fabrikam.yaml"].startswith(
        f"tenantId: {SEED_001_TENANT}\nxtap:\n  trusted: true  # {TRUST_MARK}\ninboundTrust:\n  isMfaAccepted: true\n"
    )
    assert written["default.yaml"].startswith(f"xtap:\n  trusted: true  # {TRUST_MARK}\n")
    unmarked = [name for name, text in written.items() if "trusted:" not in text]
    assert len(unmarked) == len(written) - 2  # the partner that trusts nothing (QUIRKY's false) is not marked
    done = run_xtap("check", "--policies", str(out))
    assert done.code == 0, done.stdout + done.stderr
    assert "Check passed: 0 error(s)" in done.stdout
    plans_clean(emulator, out, roles=READ_ONLY)

    again = export(emulator, out, roles=READ_ONLY)

    assert "0 file(s) written, 10 unchanged" in again
    assert files(out) == written
