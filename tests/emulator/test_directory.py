"""The name lookups (reconciler/emulator/directory.py) over real HTTP: the docs' examples verbatim,
unknown tenants and ids, the 1,000-id limit, each lookup's permission, and use inside `$batch`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.emulator_http import GROUP, JSON, assert_error, batch
from support.xtap import client_for

from reconciler.emulator import Emulator, EmulatorConfig, StartError

INFO = "CrossTenantInformation.ReadBasic.All"
LOOKUP_ROLES = (INFO, "Directory.Read.All", "Application.Read.All")
BY_TENANT = "/tenantRelationships/findTenantInformationByTenantId"
BY_DOMAIN = "/tenantRelationships/findTenantInformationByDomainName"
GET_BY_IDS = "/directoryObjects/getByIds"
GRAPH = "https://graph.microsoft.com/v1.0"

# https://learn.microsoft.com/graph/api/tenantrelationship-findtenantinformationbytenantid and
# ...bydomainname: both pages' example answer is the same tenant, found by id or by `contoso.com`.
DOCS_TENANT_REQUEST = (
    f"{GRAPH}/tenantRelationships/findTenantInformationByTenantId(tenantId='6babcaad-604b-40ac-a9d7-9fd97c0b779f')"
)
DOCS_DOMAIN_REQUEST = f"{GRAPH}/tenantRelationships/findTenantInformationByDomainName(domainName='contoso.com')"
DOCS_TENANT_RESPONSE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.tenantInformation",
    "tenantId": "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
    "federationBrandName": None,
    "displayName": "Contoso, Ltd",
    "defaultDomainName": "CONTOSO18839.onmicrosoft.com",
}
CONTOSO = {
    "tenantId": "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
    "federationBrandName": None,
    "displayName": "Contoso, Ltd",
    "defaultDomainName": "CONTOSO18839.onmicrosoft.com",
    "domains": ["contoso.com"],
}

# https://learn.microsoft.com/graph/api/directoryobject-getbyids: the example, verbatim. Its
# response repeats the first id for "Billy Smith"; the emulator plants him under the second id.
DOCS_IDS_REQUEST = {
    "ids": [
        "84b80893-8749-40a3-97b7-68513b600544",
        "5d6059b6-368d-45f8-91e1-8e07d485f1d0",
        "0b944de3-e0fc-4774-a49a-b135213725ef",
        "b75a5ab2-fe55-4463-bd31-d21ad555c6e0",
    ],
    "types": ["user", "group", "device"],
}
DOCS_IDS_RESPONSE: dict[str, Any] = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
    "value": [
        {
            "@odata.type": "#microsoft.graph.user",
            "id": "84b80893-8749-40a3-97b7-68513b600544",
            "accountEnabled": True,
            "displayName": "Trevor Jones",
        },
        {
            "@odata.type": "#microsoft.graph.user",
            "id": "84b80893-8749-40a3-97b7-68513b600544",
            "accountEnabled": True,
            "displayName": "Billy Smith",
        },
    ],
}
# An earlier version of the page sent ids that are not GUIDs: the emulator refuses them.
OLD_DOCS_IDS_REQUEST = {
    "ids": ["84b80893874940a3-97b7-68513b600544", "5d6059b6368d-45f8-91e18e07d485f1d0"],
    "types": ["user"],
}
TREVOR, BILLY = DOCS_IDS_RESPONSE["value"][0], {**DOCS_IDS_RESPONSE["value"][1], "id": DOCS_IDS_REQUEST["ids"][1]}
TEAM = {"@odata.type": "#microsoft.graph.group", "id": GROUP, "displayName": "Partner liaisons"}
GRAPH_APP = "00000003-0000-0000-c000-000000000000"
GRAPH_SP = {
    "@odata.type": "#microsoft.graph.servicePrincipal",
    "id": "7408235b-7540-4850-82fe-a5f15ed019e2",
    "appId": GRAPH_APP,
    "displayName": "Microsoft Graph",
}


def local(docs: dict[str, Any], emu: Emulator) -> dict[str, Any]:
    """A documented answer as the emulator gives it: its own base URL in the context."""
    return {**docs, "@odata.context": docs["@odata.context"].replace(GRAPH, emu.base_url)}


def path_of(url: str) -> str:
    return url.removeprefix(GRAPH)


@pytest.fixture
def lookups(emu: Emulator) -> Iterator[httpx.Client]:
    """A client holding each lookup's permission, against a planted directory."""
    emu.put_known_tenant(CONTOSO)
    for raw in (TREVOR, BILLY, TEAM, GRAPH_SP):
        emu.put_directory_object(raw)
    with client_for(emu, emu.mint_token(roles=LOOKUP_ROLES)) as c:
        yield c


# -- findTenantInformationByTenantId / ByDomainName ------------------------------------------


def test_tenant_by_id_answers_the_docs_example(emu: Emulator, lookups: httpx.Client) -> None:
    response = lookups.get(path_of(DOCS_TENANT_REQUEST))

    assert response.status_code == 200
    assert response.json() == local(DOCS_TENANT_RESPONSE, emu)
    assert list(response.json()) == list(DOCS_TENANT_RESPONSE)  # in the page's order


def test_tenant_by_domain_answers_the_docs_example(emu: Emulator, lookups: httpx.Client) -> None:
    response = lookups.get(path_of(DOCS_DOMAIN_REQUEST))

    assert response.status_code == 200
    assert response.json() == local(DOCS_TENANT_RESPONSE, emu)


@pytest.mark.parametrize(
    "path",
    [
        f"{BY_TENANT}(tenantId=%276babcaad-604b-40ac-a9d7-9fd97c0b779f%27)",  # percent-encoded quotes
        f"{BY_TENANT}(tenantId='6BABCAAD-604B-40AC-A9D7-9FD97C0B779F')",
        "/TenantRelationships/FindTenantInformationByTenantId(tenantId='6babcaad-604b-40ac-a9d7-9fd97c0b779f')",
        f"{BY_DOMAIN}(domainName='contoso18839.onmicrosoft.com')",  # its default domain, in any case
        f"{BY_DOMAIN}(domainName=%27CONTOSO.com%27)",
    ],
)
def test_lookups_take_encoded_quotes_and_any_case(emu: Emulator, lookups: httpx.Client, path: str) -> None:
    response = lookups.get(path)

    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == "Contoso, Ltd"


@pytest.mark.parametrize(
    "path",
    [f"{BY_TENANT}(tenantId='00000000-0000-4000-8000-000000000000')", f"{BY_DOMAIN}(domainName='nowhere.example')"],
)
def test_an_unknown_tenant_is_404(lookups: httpx.Client, path: str) -> None:
    response = lookups.get(path)

    assert_error(
        response, 404, "Directory_ObjectNotFound", "Unable to read the company information from the directory."
    )


@pytest.mark.parametrize(
    "path",
    [
        f"{BY_TENANT}(tenantId='not-a-guid')",
        f"{BY_TENANT}(tenantId='6babcaad-604b-40ac-a9d7-9fd97c0b779f%0A')",
        f"{BY_TENANT}(tenantId='{{6babcaad-604b-40ac-a9d7-9fd97c0b779f}}')",
        f"{BY_TENANT}(tenantId=6babcaad-604b-40ac-a9d7-9fd97c0b779f)",  # not a string literal
        f"{BY_TENANT}(tenantId='6babcaad-604b-40ac-a9d7-9fd97c0b779f)",
        f"{BY_TENANT}(tenantId=)",
        f"{BY_DOMAIN}(domainName='')",
        f"{BY_DOMAIN}(domainName='it's')",
    ],
)
def test_a_malformed_parameter_is_400(lookups: httpx.Client, path: str) -> None:
    assert_error(lookups.get(path), 400, "Request_BadRequest")


@pytest.mark.parametrize("path", [f"{BY_TENANT}(id='x')", "/tenantRelationships/findTenantInformation(tenantId='x')"])
def test_another_function_or_parameter_is_an_unknown_segment(lookups: httpx.Client, path: str) -> None:
    assert_error(lookups.get(path), 400, "Request_BadRequest")


def test_a_tenant_lookup_is_get_only(lookups: httpx.Client) -> None:
    response = lookups.post(path_of(DOCS_TENANT_REQUEST), json={})

    assert response.status_code == 405


@pytest.mark.parametrize(
    "roles",
    [
        ("Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess", "Directory.Read.All", "Application.Read.All"),
        ("CrossTenantInformation.Read.All",),
    ],
)
def test_tenant_lookups_need_their_permission(emu: Emulator, roles: tuple[str, ...]) -> None:
    emu.put_known_tenant(CONTOSO)
    with client_for(emu, emu.mint_token(roles=roles)) as c:
        for url in (DOCS_TENANT_REQUEST, DOCS_DOMAIN_REQUEST):
            assert_error(c.get(path_of(url)), 403, "Authorization_RequestDenied")


def test_a_delegated_token_with_the_scope_reads_tenants(emu: Emulator) -> None:
    emu.put_known_tenant(CONTOSO)
    with client_for(emu, emu.mint_token(roles=None, scp=f"User.Read {INFO}")) as c:
        assert c.get(path_of(DOCS_TENANT_REQUEST)).status_code == 200


def test_a_removed_tenant_is_no_longer_found(emu: Emulator, lookups: httpx.Client) -> None:
    emu.remove_known_tenant(CONTOSO["tenantId"].upper())

    assert lookups.get(path_of(DOCS_TENANT_REQUEST)).status_code == 404
    assert emu.known_tenants() == {}


# -- directoryObjects/getByIds -----------------------------------------------------------------


def test_get_by_ids_answers_the_docs_example(emu: Emulator, lookups: httpx.Client) -> None:
    response = lookups.post(GET_BY_IDS, json=DOCS_IDS_REQUEST)

    assert response.status_code == 200
    assert response.json() == local({**DOCS_IDS_RESPONSE, "value": [TREVOR, BILLY]}, emu)


def test_get_by_ids_refuses_the_old_docs_example_ids(lookups: httpx.Client) -> None:
    response = lookups.post(GET_BY_IDS, json=OLD_DOCS_IDS_REQUEST)

    assert_error(response, 400, "Request_BadRequest", "Invalid object identifier '84b80893874940a3-97b7-68513b600544'.")


def test_unknown_ids_are_left_out_and_each_object_comes_once(lookups: httpx.Client) -> None:
    ids = [GROUP.upper(), "00000000-0000-4000-8000-000000000001", TREVOR["id"], GROUP, GRAPH_SP["id"]]

    value = lookups.post(GET_BY_IDS, json={"ids": ids}).json()["value"]

    assert [o["id"] for o in value] == [GROUP, TREVOR["id"], GRAPH_SP["id"]]
    assert value[0] == TEAM and value[2] == GRAPH_SP


@pytest.mark.parametrize(
    ("types", "found"),
    [
        (["group"], [GROUP]),
        (["USER", "servicePrincipal"], [TREVOR["id"], GRAPH_SP["id"]]),
        (["directoryObject"], [TREVOR["id"], GROUP, GRAPH_SP["id"]]),
        (["device"], []),
        ([], []),
    ],
)
def test_types_filter_by_type_ignoring_case(lookups: httpx.Client, types: list[str], found: list[str]) -> None:
    body = {"ids": [TREVOR["id"], GROUP, GRAPH_SP["id"]], "types": types}

    value = lookups.post(GET_BY_IDS, json=body).json()["value"]

    assert [o["id"] for o in value] == found


def test_no_ids_is_an_empty_list(lookups: httpx.Client) -> None:
    assert lookups.post(GET_BY_IDS, json={"ids": []}).json()["value"] == []


def test_1000_ids_are_taken_and_1001_refused(lookups: httpx.Client) -> None:
    ids = [f"00000000-0000-4000-8000-{n:012x}" for n in range(1000)]

    assert lookups.post(GET_BY_IDS, json={"ids": [*ids[:999], GROUP]}).json()["value"] == [TEAM]
    response = lookups.post(GET_BY_IDS, json={"ids": [*ids, GROUP]})
    assert_error(response, 400, "Request_BadRequest", "Too many ids: 1001; the limit is 1000.")


@pytest.mark.parametrize(
    "body",
    [
        {"types": ["user"]},
        {"ids": None},
        {"ids": GROUP},
        {"ids": [GROUP, 7]},
        {"ids": [GROUP], "types": ["user", "mailbox"]},
        {"ids": [GROUP], "types": ["microsoft.graph.user"]},
        {"ids": [GROUP], "types": "user"},
        {"ids": [GROUP], "Types": ["user"]},
        {"ids": [GROUP], "select": ["displayName"]},
        [GROUP],
    ],
)
def test_get_by_ids_refuses_a_malformed_body(lookups: httpx.Client, body: Any) -> None:
    assert_error(lookups.post(GET_BY_IDS, json=body), 400, "Request_BadRequest")


def test_get_by_ids_needs_a_json_body(lookups: httpx.Client) -> None:
    response = lookups.post(GET_BY_IDS, content=json.dumps({"ids": [GROUP]}), headers={"Content-Type": "text/plain"})

    assert_error(response, 400, "Request_BadRequest")
    assert_error(lookups.post(GET_BY_IDS), 400, "Request_BadRequest")


@pytest.mark.parametrize(
    "roles",
    [
        ("Directory.ReadWrite.All",),
        ("User.ReadBasic.All", "User.Read.All", "Group.Read.All", "Application.Read.All", INFO),
        ("Policy.ReadWrite.CrossTenantAccess",),
    ],
)
def test_get_by_ids_needs_directory_read_all(emu: Emulator, roles: tuple[str, ...]) -> None:
    with client_for(emu, emu.mint_token(roles=roles)) as c:
        assert_error(c.post(GET_BY_IDS, json={"ids": [GROUP]}), 403, "Authorization_RequestDenied")
    with client_for(emu, emu.mint_token(roles=None, scp="Directory.Read.All")) as c:
        assert c.post(GET_BY_IDS, json={"ids": [GROUP]}).status_code == 200


def test_get_by_ids_takes_no_write_from_the_quota() -> None:
    with Emulator(EmulatorConfig(write_quota=1)) as emu, client_for(emu, emu.mint_token(roles=LOOKUP_ROLES)) as c:
        for _ in range(3):
            assert c.post(GET_BY_IDS, json={"ids": [GROUP]}).status_code == 200


def test_a_removed_object_is_left_out(emu: Emulator, lookups: httpx.Client) -> None:
    emu.remove_directory_object(GROUP.upper())

    assert lookups.post(GET_BY_IDS, json={"ids": [GROUP]}).json()["value"] == []
    assert GROUP not in emu.directory_objects()
    with pytest.raises(KeyError):
        emu.remove_directory_object(GROUP)


# -- servicePrincipals(appId='…') ------------------------------------------------------------


def test_service_principal_by_app_id(emu: Emulator, lookups: httpx.Client) -> None:
    response = lookups.get(f"/servicePrincipals(appId='{GRAPH_APP}')")

    assert response.status_code == 200
    body = response.json()
    assert body.pop("@odata.context") == f"{emu.base_url}/$metadata#servicePrincipals/$entity"
    assert body == {k: v for k, v in GRAPH_SP.items() if k != "@odata.type"}
    assert lookups.get(f"/servicePrincipals(appId=%27{GRAPH_APP.upper()}%27)").json()["id"] == GRAPH_SP["id"]


def test_an_unknown_app_id_is_404_and_a_malformed_one_400(lookups: httpx.Client) -> None:
    missing = "00000000-0000-4000-8000-0000000000ff"

    assert_error(lookups.get(f"/servicePrincipals(appId='{missing}')"), 404, "Request_ResourceNotFound")
    assert_error(lookups.get(f"/servicePrincipals(appId='{TREVOR['id']}')"), 404, "Request_ResourceNotFound")  # a user
    assert_error(lookups.get("/servicePrincipals(appId='graph')"), 400, "Request_BadRequest")
    assert_error(lookups.get(f"/servicePrincipals(appId={GRAPH_APP})"), 400, "Request_BadRequest")


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        (("Application.Read.All",), 200),
        (("Application.ReadWrite.OwnedBy",), 200),
        (("Application.ReadWrite.All",), 200),
        (("Directory.Read.All",), 200),
        ((INFO, "Policy.Read.All", "User.Read.All"), 403),
    ],
)
def test_service_principal_permissions(emu: Emulator, roles: tuple[str, ...], status: int) -> None:
    emu.put_directory_object(GRAPH_SP)
    with client_for(emu, emu.mint_token(roles=roles)) as c:
        assert c.get(f"/servicePrincipals(appId='{GRAPH_APP}')").status_code == status


# -- $batch, the request log, planting -------------------------------------------------------


def test_every_lookup_works_inside_a_batch(emu: Emulator, lookups: httpx.Client) -> None:
    answers = batch(
        lookups,
        {"id": "1", "method": "GET", "url": path_of(DOCS_TENANT_REQUEST)},
        {
            "id": "2",
            "method": "GET",
            "url": "tenantRelationships/findTenantInformationByDomainName(domainName='x.example')",
        },
        {"id": "3", "method": "POST", "url": GET_BY_IDS, "headers": JSON, "body": DOCS_IDS_REQUEST},
        {"id": "4", "method": "GET", "url": f"/servicePrincipals(appId='{GRAPH_APP}')"},
    )

    assert answers["1"]["status"] == 200 and answers["1"]["body"] == local(DOCS_TENANT_RESPONSE, emu)
    assert answers["2"]["status"] == 404 and answers["2"]["body"]["error"]["code"] == "Directory_ObjectNotFound"
    assert answers["3"]["status"] == 200 and answers["3"]["body"]["value"] == [TREVOR, BILLY]
    assert answers["4"]["status"] == 200 and answers["4"]["body"]["appId"] == GRAPH_APP
    logged = {r.batch_id: (r.method, r.status, r.body) for r in emu.requests if r.batch_id is not None}
    assert logged["3"] == ("POST", 200, DOCS_IDS_REQUEST)
    assert logged["2"][:2] == ("GET", 404)


def test_a_batch_item_without_the_permission_is_403(emu: Emulator, client: httpx.Client) -> None:
    answers = batch(client, {"id": "1", "method": "POST", "url": GET_BY_IDS, "headers": JSON, "body": {"ids": []}})

    assert answers["1"]["status"] == 403


def test_lookups_are_in_the_request_log(emu: Emulator, lookups: httpx.Client) -> None:
    emu.clear_requests()
    lookups.get(path_of(DOCS_TENANT_REQUEST))
    lookups.post(GET_BY_IDS, json={"ids": [GROUP]})

    assert [(r.method, r.path, r.status) for r in emu.requests] == [
        ("GET", f"/v1.0{path_of(DOCS_TENANT_REQUEST)}", 200),
        ("POST", f"/v1.0{GET_BY_IDS}", 200),
    ]
    assert emu.requests[1].body == {"ids": [GROUP]}


@pytest.mark.parametrize(
    "raw",
    [
        {"id": GROUP, "displayName": "no type"},
        {"@odata.type": "#microsoft.graph.device", "id": GROUP},
        {"@odata.type": "#microsoft.graph.group", "id": "not-a-guid"},
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": GROUP},  # no appId
    ],
)
def test_planting_refuses_what_cannot_be_looked_up(emu: Emulator, raw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        emu.put_directory_object(raw)


def test_a_directory_file_is_loaded_at_start(tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    entry = {k: v for k, v in TEAM.items() if k != "@odata.type"}
    path.write_text(json.dumps({"groups": [entry], "tenants": [CONTOSO]}), encoding="utf-8")

    with Emulator(EmulatorConfig(directory_file=path)) as emu, client_for(emu, emu.mint_token(roles=LOOKUP_ROLES)) as c:
        assert c.post(GET_BY_IDS, json={"ids": [GROUP]}).json()["value"] == [TEAM]
        assert c.get(path_of(DOCS_DOMAIN_REQUEST)).json() == local(DOCS_TENANT_RESPONSE, emu)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "directory.json:1:2: not a directory file"),
        ("[]", "not a directory file: expected"),
        ('{"people": []}', "unknown key 'people'"),
        ('{"users": [{"id": "x"}]}', "a directory object needs a GUID id"),
        ('{"groups": [{"@odata.type": "#microsoft.graph.user", "id": "' + GROUP + '"}]}', "has @odata.type"),
        ('{"tenants": [{"tenantId": "contoso"}]}', "a known tenant needs a GUID tenantId"),
    ],
)
def test_a_bad_directory_file_stops_the_start(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "directory.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(StartError, match=message):
        Emulator(EmulatorConfig(directory_file=path))


def test_a_bad_entry_plants_nothing(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.load_directory({"groups": [TEAM], "tenants": [{"tenantId": "x"}]})

    assert emu.directory_objects() == {} and emu.known_tenants() == {}


def test_the_documented_directory_file_loads(emu: Emulator) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
    example = docs.split("## Name lookups", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]

    emu.load_directory(json.loads(example))

    assert len(emu.directory_objects()) == 3 and len(emu.known_tenants()) == 1
