"""`xtap add-partner DOMAIN|TENANT_ID`: one lookup in Graph, one new partner file that validates
and plans as a create, and every refusal with nothing written. Through the CLI, against the
emulator over real HTTP."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from support.xtap import READ_ONLY, run_xtap

from reconciler.commands.add_partner import EXAMPLES
from reconciler.core.names import written_name
from reconciler.emulator import Emulator

CONTOSO = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
LOOKUP = ("CrossTenantInformation.ReadBasic.All",)
ROLES = READ_ONLY + LOOKUP
MODELINE = "# yaml-language-server: $schema=../../schemas/partner.schema.json\n"


def contoso(name: str = "Contoso Ltd", **more: object) -> dict[str, object]:
    return {
        "tenantId": CONTOSO,
        "displayName": name,
        "defaultDomainName": "contoso.com",
        "domains": ["contoso.onmicrosoft.com"],
        **more,
    }


@pytest.fixture
def folder(emulator: Emulator, tmp_path: Path) -> Path:
    """A policies/ folder bound to the emulator's tenant, with one partner already."""
    policies = tmp_path / "policies"
    (policies / "partners").mkdir(parents=True)
    (policies / "xtap.yaml").write_text(f"tenant: {emulator.tenant_id}\n")
    (policies / "partners" / "fabrikam.yaml").write_text("tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\n")
    return policies


def files(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*")) if path.is_file()}


def add(emulator: Emulator, folder: Path, given: str, roles: tuple[str, ...] = ROLES) -> tuple[int, str]:
    done = run_xtap("add-partner", "--policies", str(folder), "--", given, emulator=emulator, roles=roles)
    assert "Traceback" not in done.stderr
    return done.code, done.stderr


def today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def expected(comment: str, tenant: str = CONTOSO) -> str:
    return f"{MODELINE}{comment}\n{EXAMPLES}tenantId: {tenant}\n"


def plans_one_create(emulator: Emulator, folder: Path, tenant: str = CONTOSO) -> str:
    assert run_xtap("validate", "--policies", str(folder)).code == 0
    done = run_xtap("plan", "--policies", str(folder), "--detailed-exitcode", emulator=emulator, roles=ROLES)
    assert done.code == 2, done.stdout + done.stderr
    assert f"+ partner {tenant}" in done.stdout
    assert "Plan: 2 to create, 0 to update, 0 to delete, 0 to reset." in done.stdout  # fabrikam too
    return done.stdout


@pytest.mark.parametrize("given", ["contoso.com", "Contoso.onmicrosoft.com.", CONTOSO.upper()])
def test_a_partner_found_by_domain_or_tenant_id_gets_a_named_file(emulator: Emulator, folder: Path, given: str) -> None:
    emulator.put_known_tenant(contoso())
    code, stderr = add(emulator, folder, given)
    assert code == 0, stderr
    path = folder / "partners" / "contoso-ltd.yaml"
    assert path.read_text() == expected(
        f"# Partner: Contoso Ltd (contoso.com), found by xtap add-partner on {today()}."
    )
    assert f"Wrote {path}: partner Contoso Ltd (contoso.com), tenant {CONTOSO}; every setting inherits" in stderr
    assert stderr.endswith(f"Next: xtap plan --policies {folder}\n")
    lookups = [r.path for r in emulator.requests if "findTenantInformation" in r.path]
    assert len(lookups) == 1  # one lookup, by what was given
    assert ("ByDomainName" in lookups[0]) == ("." in given)
    plans_one_create(emulator, folder)


def test_the_next_command_is_quoted_for_the_shell(emulator: Emulator, tmp_path: Path) -> None:
    folder = tmp_path / "my policies"
    folder.mkdir()
    emulator.put_known_tenant(contoso())
    code, stderr = add(emulator, folder, "contoso.com")
    assert code == 0, stderr
    assert stderr.endswith(f"Next: xtap plan --policies '{folder}'\n")
    assert (folder / "partners" / "contoso-ltd.yaml").is_file()  # partners/ made when missing


def test_a_name_from_graph_is_made_safe_for_a_comment_and_a_file_name(emulator: Emulator, folder: Path) -> None:
    emulator.put_known_tenant(contoso("Evil\n../tenant: x\u202e\x1b[31m Corp", defaultDomainName="evil\r\n.example"))
    code, stderr = add(emulator, folder, CONTOSO)
    assert code == 0, stderr
    written = files(folder)
    assert sorted(written) == ["partners/evil-tenant-x-31m-corp.yaml", "partners/fabrikam.yaml", "xtap.yaml"]
    text = written["partners/evil-tenant-x-31m-corp.yaml"]
    comment = f"# Partner: Evil .. tenant: x [31m Corp (evil .example), found by xtap add-partner on {today()}."
    assert text == expected(comment)
    assert "\x1b" not in stderr and "\u202e" not in stderr
    plans_one_create(emulator, folder)


def test_a_name_with_nothing_left_falls_back_to_the_tenant_id(emulator: Emulator, folder: Path) -> None:
    emulator.put_known_tenant(contoso("日本"))
    code, stderr = add(emulator, folder, "contoso.com")
    assert code == 0, stderr
    assert (
        (folder / "partners" / f"{CONTOSO}.yaml")
        .read_text()
        .startswith(f"{MODELINE}# Partner: 日本 (contoso.com), found by")
    )


def test_without_the_lookup_permission_a_tenant_id_gets_a_file_named_by_its_guid(
    emulator: Emulator, folder: Path
) -> None:
    code, stderr = add(emulator, folder, CONTOSO, roles=READ_ONLY)
    assert code == 0, stderr
    comment = (
        f"# Partner: {CONTOSO}, found by xtap add-partner on {today()}: its name could not be looked up "
        "(the token lacks CrossTenantInformation.ReadBasic.All); with CrossTenantInformation.ReadBasic.All, "
        "xtap export writes it here."
    )
    assert (folder / "partners" / f"{CONTOSO}.yaml").read_text() == expected(comment)
    assert not [r for r in emulator.requests if "findTenantInformation" in r.path]  # the claims said so
    assert f"partner tenant {CONTOSO}, its name not looked up" in stderr
    plans_one_create(emulator, folder)


def test_without_the_lookup_permission_a_domain_is_refused(emulator: Emulator, folder: Path) -> None:
    before = files(folder)
    code, stderr = add(emulator, folder, "contoso.com", roles=READ_ONLY)
    assert code == 1
    assert (
        "Error: looking up contoso.com needs CrossTenantInformation.ReadBasic.All, and the token lacks "
        "CrossTenantInformation.ReadBasic.All; grant it, or give the partner's tenant id instead" in stderr
    )
    assert files(folder) == before


def test_a_token_naming_no_permissions_is_refused_by_graph_and_said_so(emulator: Emulator, folder: Path) -> None:
    """Without claims to go by, the lookup is sent, and Graph's 403 is the answer."""
    code, stderr = add(emulator, folder, "contoso.com", roles=("User.Read.All",))
    assert code == 1
    assert "needs CrossTenantInformation.ReadBasic.All, and the token lacks" in stderr
    assert sorted(files(folder)) == ["partners/fabrikam.yaml", "xtap.yaml"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("unknown.example", "Error: Graph knows no tenant with the domain name unknown.example; check the spelling"),
        (
            "eeeeeeee-0000-4000-8000-00000000000e",
            "Error: Graph knows no tenant with the tenant id eeeeeeee-0000-4000-8000-00000000000e; check the spelling",
        ),
        ("90E29127-71ad-49c7-9ce8-db3f41ea06f1", "already declared in"),
        ("fabrikam.com", "Error: partner 90e29127-71ad-49c7-9ce8-db3f41ea06f1 is already declared in"),
        ("{own}", "Error: {own} is this folder's own tenant (tenant: in xtap.yaml)"),
        ("own.example", "Error: {own} is this folder's own tenant"),
        ("contoso", "is neither a tenant id"),
        ("contoso..com", "is neither a tenant id"),
        ("-contoso.com", "is neither a tenant id"),
        ("10.0.0.1", "is neither a tenant id"),
        ("contoso.com/../x", "is neither a tenant id"),
        ("contoso.com')?$x=('", "is neither a tenant id"),
        (f"{{{CONTOSO}}}", "is neither a tenant id"),
    ],
)
def test_refusals_write_nothing(emulator: Emulator, folder: Path, given: str, message: str) -> None:
    emulator.put_known_tenant(contoso())
    emulator.put_known_tenant(
        {
            "tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1",
            "displayName": "Fabrikam",
            "defaultDomainName": "fabrikam.com",
        }
    )
    own = emulator.tenant_id
    emulator.put_known_tenant({"tenantId": own, "displayName": "Us", "defaultDomainName": "own.example"})
    before = files(folder)
    code, stderr = add(emulator, folder, given.format(own=own) if given == "{own}" else given)
    assert code == 1
    assert message.format(own=own) in stderr, stderr
    assert "nothing was written" in stderr.lower()
    assert files(folder) == before


def test_a_file_name_already_taken_is_refused(emulator: Emulator, folder: Path) -> None:
    (folder / "partners" / "Contoso-Ltd.yaml").write_text("tenantId: 11111111-0000-4000-8000-000000000001\n")
    emulator.put_known_tenant(contoso())
    before = files(folder)
    code, stderr = add(emulator, folder, "contoso.com")
    assert code == 1
    assert (
        f"Error: {folder / 'partners' / 'contoso-ltd.yaml'} already exists, and add-partner never writes over" in stderr
    )
    assert files(folder) == before


def test_an_invalid_folder_is_refused_before_graph_is_asked(emulator: Emulator, folder: Path) -> None:
    (folder / "partners" / "bad.yaml").write_text("tenantId: 11111111-0000-4000-8000-000000000001\ninboundtrust: {}\n")
    code, stderr = add(emulator, folder, CONTOSO)
    assert code == 1
    assert "bad.yaml:2:1: unknown property 'inboundtrust'" in stderr
    assert emulator.requests == []


def test_no_folder_is_made_up(emulator: Emulator, tmp_path: Path) -> None:
    code, stderr = add(emulator, tmp_path / "typo", CONTOSO)
    assert code == 1 and "is not a folder" in stderr
    assert not (tmp_path / "typo").exists()


def test_export_keeps_the_name_line_add_partner_wrote(emulator: Emulator, folder: Path) -> None:
    """The comment add-partner writes is the one export maintains: once applied and exported
    over, the file is unchanged, date and all."""
    emulator.put_known_tenant(contoso())
    assert add(emulator, folder, "contoso.com")[0] == 0
    (folder / "partners" / "fabrikam.yaml").unlink()
    assert run_xtap("apply", "--policies", str(folder), "--auto-approve", emulator=emulator).code == 0
    path = folder / "partners" / "contoso-ltd.yaml"
    before = path.read_text()
    done = run_xtap("export", "--policies", str(folder), emulator=emulator, roles=ROLES)
    assert done.code == 0, done.stderr
    assert path.read_text() == before
    assert sorted(path.name for path in (folder / "partners").iterdir()) == ["contoso-ltd.yaml"]


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("Contoso Ltd", "Contoso Ltd"),
        ("a\nb\rc\x85d\u2028e\u2029f", "a b c d e f"),  # every line break YAML or an editor knows
        ("left\u202eright\u200b", "left right"),  # bidi override, zero-width space
        ("a/b\\c", "a b c"),
        ("\x00\t \n", ""),
        ("x" * 150, "x" * 100),
        (None, ""),
    ],
)
def test_a_name_is_one_plain_line_before_it_reaches_a_file(name: str | None, written: str) -> None:
    assert written_name(name) == written
