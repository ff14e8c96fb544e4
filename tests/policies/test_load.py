"""The policies loader on its own: odd files give a clear file:line:col problem, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.address import Address
from reconciler.core.desired import DesiredInstance
from reconciler.policies.load import PolicyError, load_policies
from reconciler.policies.reader import MAX_FILE_BYTES, bounded_read

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


def problems(root: Path) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        load_policies(root)
    return [str(problem).removeprefix(f"{root}/") for problem in raised.value.problems]


def partner_file(tmp_path: Path, content: bytes | str, name: str = "p.yaml") -> Path:
    (tmp_path / "partners").mkdir(exist_ok=True)
    path = tmp_path / "partners" / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return tmp_path


def test_layout_problems_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "partners").mkdir()
    (tmp_path / "xtap.yml").write_text("{}")
    (tmp_path / "stray.yml").write_text("{}")
    (tmp_path / "templates").mkdir()
    (tmp_path / "README.md").write_text("not a policy: ignored")
    expected = (
        "unknown policy file; expected default.yaml, mto-partner-template.yaml, "
        "mto-identity-sync-template.yaml, policy.yaml, xtap.yaml or a partner file in partners/"
    )
    assert problems(tmp_path) == [
        f"stray.yml:1:1: {expected}",
        "templates:1:1: unknown folder; partner files go in partners/",
        f"xtap.yml:1:1: {expected}",
    ]


def test_upper_case_suffixes_are_read_not_skipped(tmp_path: Path) -> None:
    partner_file(tmp_path, f"tenantId: {TENANT}\n", "Fabrikam.YAML")
    assert [a.id for a in load_policies(tmp_path).of("partner")] == [TENANT]


def test_an_empty_file_is_a_problem_that_says_what_it_needs_at_least(tmp_path: Path) -> None:
    assert problems(partner_file(tmp_path, "")) == [
        "partners/p.yaml:1:1: empty: a partner file needs at least tenantId: <GUID>"
    ]


def test_a_list_is_not_an_empty_file(tmp_path: Path) -> None:
    """A list and an empty file were one message; a list is told it is a list."""
    assert problems(partner_file(tmp_path, f"- tenantId: {TENANT}\n")) == [
        "partners/p.yaml:1:1: a policy file holds one mapping (key: value lines), not a list"
    ]


def test_a_byte_order_mark_is_fine_and_other_encodings_are_a_problem(tmp_path: Path) -> None:
    partner_file(tmp_path, f"\ufefftenantId: {TENANT}\n")
    assert [a.id for a in load_policies(tmp_path).of("partner")] == [TENANT]
    partner_file(tmp_path, f"tenantId: {TENANT}\nxtap:\n  notes: caf\xe9 \u00e9t\xe9\n".encode("latin-1"), "latin.yaml")
    # the first byte that is not UTF-8, where an editor shows it: line 3, after "  notes: caf"
    assert problems(tmp_path) == ["partners/latin.yaml:3:13: byte 0xe9 is not UTF-8: save the file as UTF-8"]


def test_alias_bombs_and_recursive_aliases_are_refused_quickly(tmp_path: Path) -> None:
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 9)
    )
    partner_file(tmp_path, f"tenantId: {TENANT}\nxtap:\n  notes: &n [*n]\n", "loop.yaml")
    partner_file(tmp_path, f"tenantId: {TENANT}\n{bomb}", "bomb.yaml")
    found = problems(tmp_path)
    assert "partners/loop.yaml:3:14: YAML aliases (*name) are not supported: write the value out" in found
    assert sum("bomb.yaml" in p and "aliases" in p for p in found) == 80  # each alias once, never expanded


def test_a_property_at_the_wrong_level_says_so(tmp_path: Path) -> None:
    partner_file(tmp_path, f"tenantId: {TENANT}\ninboundTrust:\n  inboundAllowed: true\n")
    assert problems(tmp_path) == [
        "partners/p.yaml:3:3: 'inboundAllowed' is not a property of 'inboundTrust' (it belongs to another object)"
    ]


def test_duplicate_keys_and_non_string_keys(tmp_path: Path) -> None:
    partner_file(tmp_path, f"tenantId: {TENANT}\ninboundTrust: {{}}\ninboundTrust: {{}}\n? [a]\n: 1\n")
    assert problems(tmp_path) == [
        "partners/p.yaml:3:1: duplicate key 'inboundTrust'",
        "partners/p.yaml:4:3: keys must be plain property names",
    ]


def test_the_template_source_is_its_first_setting(tmp_path: Path) -> None:
    (tmp_path / "mto-partner-template.yaml").write_text("# the template\n\ntemplateApplicationLevel: none\n")
    [template] = load_policies(tmp_path).of("mtoPartnerTemplate").values()
    assert template.source == f"{tmp_path}/mto-partner-template.yaml:3"


def test_a_template_file_with_only_comments_declares_the_unconfigured_template(tmp_path: Path) -> None:
    (tmp_path / "mto-partner-template.yaml").write_text("# back to the defaults\n")
    [template] = load_policies(tmp_path).of("mtoPartnerTemplate").values()
    assert template.written == {} and template.source == f"{tmp_path}/mto-partner-template.yaml:1"


def test_microsoft_accounts_tenant_restrictions_target_all_users_only(tmp_path: Path) -> None:
    group = "6f546279-4da5-4b53-a095-09ea0cef9971"
    partner_file(
        tmp_path,
        "tenantId: 9188040D-6C67-4C5B-B112-36A304B66DAD\n"
        "tenantRestrictions:\n"
        "  usersAndGroups:\n"
        f"    accessType: blocked\n    targets: [{{target: {group}, targetType: group}}]\n",
    )
    [problem] = problems(tmp_path)
    assert problem.startswith("partners/p.yaml:1:1:") and "can only target AllUsers" in problem


def block(target: str, target_type: str, access: str = "blocked") -> str:
    return f"{{accessType: {access}, targets: [{{target: {target}, targetType: {target_type}}}]}}"


@pytest.mark.parametrize(
    ("setting", "users", "apps", "message"),
    [
        # The overview's "block group g1 from any application": valid in a B2B setting.
        ("b2bCollaborationInbound", block(TENANT, "group"), block("AllApplications", "application"), None),
        (
            "b2bCollaborationInbound",
            block("AllUsers", "user"),
            block("Office365", "application", "allowed"),
            "must block AllApplications",
        ),
        (
            "tenantRestrictions",
            block("AllUsers", "user", "allowed"),
            block("AllApplications", "application"),
            "must block AllUsers",
        ),
        ("tenantRestrictions", block("AllUsers", "user"), block("AllApplications", "application"), None),
    ],
)
def test_block_all_rules(tmp_path: Path, setting: str, users: str, apps: str, message: str | None) -> None:
    partner_file(tmp_path, f"tenantId: {TENANT}\n{setting}:\n  usersAndGroups: {users}\n  applications: {apps}\n")
    if message is None:
        assert [a.id for a in load_policies(tmp_path).of("partner")] == [TENANT]
    else:
        [problem] = problems(tmp_path)
        assert problem.startswith("partners/p.yaml:3:3:") and message in problem


def test_identity_sync_is_its_own_instance_never_in_the_partner_s_body(tmp_path: Path) -> None:
    """Graph's PUT example body, nested in its partner's file:
    https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-put-identitysynchronization"""
    partner_file(
        tmp_path,
        f"tenantId: {TENANT}\ninboundTrust:\n  isMfaAccepted: true\n"
        "identitySynchronization:\n  displayName: Fabrikam\n  userSyncInbound:\n    isSyncAllowed: true\n",
    )
    desired = load_policies(tmp_path)
    [partner] = desired.of("partner").values()
    [sync] = desired.of("identitySynchronization").items()
    assert partner.written == {"tenantId": TENANT, "inboundTrust": {"isMfaAccepted": True}}
    assert sync[0].id == TENANT.lower()
    assert sync[1].written == {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
    assert sync[1].source.endswith(":4")


OWN_TENANT = (
    "is this folder's own tenant (tenant: in xtap.yaml); a tenant is never its own partner: "
    "remove this file, or correct the tenant id here or in xtap.yaml"
)


@pytest.mark.parametrize(
    ("bound", "written"), [(TENANT, TENANT.upper()), (TENANT.upper(), TENANT)], ids=["file upper", "xtap.yaml upper"]
)
@pytest.mark.parametrize("bodies", [True, False], ids=["plan", "validate"])
def test_a_partner_file_for_the_folder_s_own_tenant_is_a_problem_at_its_tenant_id(
    tmp_path: Path, bound: str, written: str, bodies: bool
) -> None:
    other = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
    partner_file(tmp_path, f"tenantId: {other}\n", "contoso.yaml")
    partner_file(tmp_path, f"# copied from the wrong folder\ntenantId: '{written}'\ninboundTrust: {{}}\n", "self.yaml")
    (tmp_path / "xtap.yaml").write_text(f"tenant: {bound}\n")

    with pytest.raises(PolicyError) as raised:
        load_policies(tmp_path, bodies=bodies)

    assert [str(p).removeprefix(f"{tmp_path}/") for p in raised.value.problems] == [
        f"partners/self.yaml:2:11: tenantId {TENANT} {OWN_TENANT}"
    ]


def test_a_folder_bound_to_no_tenant_or_another_may_declare_any_partner(tmp_path: Path) -> None:
    partner_file(tmp_path, f"tenantId: {TENANT}\n")
    assert [a.id for a in load_policies(tmp_path).of("partner")] == [TENANT]
    (tmp_path / "xtap.yaml").write_text("tenant: 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\n")
    assert [a.id for a in load_policies(tmp_path).of("partner")] == [TENANT]


def test_a_file_that_never_ends_is_read_only_up_to_the_limit() -> None:
    """A regular file is read at its own size; anything else only up to one byte past the 1 MiB
    cap. Nothing in a policies folder can lead to /dev/zero any more (a link outside it is
    refused before any read), so the reader is tested on its own: a second line of defence."""
    assert len(bounded_read(Path("/dev/zero"))) == MAX_FILE_BYTES + 1


def test_instances_are_declared_into_the_caller_s_dict_as_each_file_loads(tmp_path: Path) -> None:
    """A plan pairs the pages it reads with the files loaded so far (`plan/ahead.py`): each
    file's instances are in `declared` before the next file is read, and the folder's desired
    state is that same dict."""
    other = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
    partner_file(tmp_path, f"tenantId: {TENANT}\n", "a.yaml")
    partner_file(tmp_path, f"tenantId: {other}\n", "b.yaml")
    seen: list[list[str]] = []

    class Watched(dict[Address, DesiredInstance]):
        def __setitem__(self, address: Address, instance: DesiredInstance) -> None:
            seen.append([a.id for a in self])  # what was declared before this one
            super().__setitem__(address, instance)

    declared = Watched()
    desired = load_policies(tmp_path, declared=declared)
    assert desired.instances is declared
    assert seen == [[], [TENANT]] and list(declared) == [Address("partner", TENANT), Address("partner", other)]
