"""`graph/names.py` against the emulator over real HTTP: partner names 20 to a `$batch`, this
tenant's users and groups 1,000 ids to a getByIds, applications by their appId; what is gone
only from a 200 that leaves it out; what the token may not look up skipped without a request
and said in `Names.unavailable`; first-party apps and the Microsoft Accounts tenant never
looked up (their names are tables)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from reconciler.core.clouds import CLOUDS
from reconciler.core.names import FIRST_PARTY_APPS, MICROSOFT_ACCOUNTS, Names
from reconciler.emulator import Emulator
from reconciler.graph.client import Graph
from reconciler.graph.names import look_up

TENANT_INFO = "CrossTenantInformation.ReadBasic.All"
DIRECTORY = "Directory.Read.All"
APPLICATIONS = "Application.Read.All"
ALL_LOOKUPS = (TENANT_INFO, DIRECTORY)
TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"


def _ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=index + 1)) for index in range(count)]


def _look_up(
    emulator: Emulator,
    token: str,
    tenants: Iterable[str] = (),
    objects: Iterable[str] = (),
    apps: Iterable[str] = (),
) -> Names:
    async def run() -> Names:
        async with Graph(emulator.base_url, CLOUDS["global"], token, 30) as graph:
            found = await look_up(graph, tenants, objects, apps)
            assert graph.lookup_count == graph.request_count  # every request was a lookup's
            return found

    return asyncio.run(run())


def _served(emulator: Emulator, mark: str) -> list[str]:
    return [request.path for request in emulator.requests if mark in request.path]


def _batches(emulator: Emulator) -> int:
    return sum(request.path.endswith("/$batch") for request in emulator.requests)


def test_tenant_names_go_20_to_a_batch(emulator: Emulator) -> None:
    tenants = _ids(45)
    for index, tenant in enumerate(tenants[:40]):
        emulator.put_known_tenant({"tenantId": tenant, "displayName": f"Tenant {index}", "defaultDomainName": None})
    names = _look_up(emulator, emulator.mint_token(roles=ALL_LOOKUPS), tenants=tenants)
    assert _batches(emulator) == 3  # 20 + 20 + 5
    assert len(_served(emulator, "findTenantInformationByTenantId")) == 45
    assert names.tenant(tenants[0]) == "Tenant 0" and names.tenant(tenants[44]) is None  # unknown: the GUID
    assert names.missing == frozenset() and names.unavailable == {}


def test_get_by_ids_takes_1000_ids_a_request_and_missing_comes_only_from_a_200(emulator: Emulator) -> None:
    ids = _ids(1001)
    emulator.put_directory_object({"@odata.type": "#microsoft.graph.group", "id": ids[0], "displayName": "Liaisons"})
    emulator.put_directory_object({"@odata.type": "#microsoft.graph.user", "id": ids[1000], "displayName": "Ann"})
    names = _look_up(emulator, emulator.mint_token(roles=ALL_LOOKUPS), objects=ids)
    posts = [request for request in emulator.requests if request.path.endswith("/getByIds")]
    assert [len(request.body["ids"]) for request in posts] == [1000, 1]
    assert names.objects == {ids[0]: ("Liaisons", "group"), ids[1000]: ("Ann", "user")}
    assert names.missing == frozenset(ids[1:1000])
    assert names.target(ids[5], "group", "tenant") == "no such group in this tenant"


def test_applications_are_looked_up_by_app_id_and_first_party_ones_never(emulator: Emulator) -> None:
    payroll, unknown = _ids(2)
    emulator.put_directory_object(
        {
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": str(uuid.uuid4()),
            "appId": payroll,
            "displayName": "Payroll",
        }
    )
    names = _look_up(emulator, emulator.mint_token(roles=ALL_LOOKUPS), apps=[payroll, unknown, TEAMS])
    assert sorted(_served(emulator, "servicePrincipals(")) == sorted(
        f"/servicePrincipals(appId='{app}')" for app in (payroll, unknown)
    )
    assert names.apps == {payroll: "Payroll"}
    assert names.missing == frozenset()  # an appId without a service principal is not "gone"
    assert names.target(TEAMS, "application", "partner") == FIRST_PARTY_APPS[TEAMS]


def test_the_microsoft_accounts_tenant_is_never_looked_up(emulator: Emulator) -> None:
    names = _look_up(emulator, emulator.mint_token(roles=ALL_LOOKUPS), tenants=[MICROSOFT_ACCOUNTS[0]])
    assert emulator.requests == []
    assert names.tenant(MICROSOFT_ACCOUNTS[0]) == MICROSOFT_ACCOUNTS[1]


def test_a_token_lacking_a_permission_sends_no_request_for_that_kind(emulator: Emulator) -> None:
    tenant, group, app = _ids(3)
    everything = {"tenants": [tenant], "objects": [group], "apps": [app]}
    cases = {
        "partner names": ((DIRECTORY,), "findTenantInformation", TENANT_INFO),
        "this tenant's users and groups": ((TENANT_INFO, APPLICATIONS), "getByIds", DIRECTORY),
        "this tenant's applications": ((TENANT_INFO,), "servicePrincipals(", APPLICATIONS),
    }
    for kind, (roles, path, permission) in cases.items():
        emulator.clear_requests()
        names = _look_up(emulator, emulator.mint_token(roles=roles), **everything)
        assert _served(emulator, path) == [], kind
        assert names.unavailable[kind] == f"the token lacks {permission}"
    emulator.clear_requests()
    assert _look_up(emulator, emulator.mint_token(roles=()), **everything).unavailable.keys() == set(cases)
    assert emulator.requests == []


def test_graph_refusing_a_lookup_makes_it_unavailable_not_missing(emulator: Emulator) -> None:
    """A token whose claims say nothing readable is tried; Graph's 403 makes each kind
    unavailable, and no object is reported gone on its account."""
    tenant, group, app = _ids(3)
    token = emulator.mint_token(roles=None)  # neither `roles` nor `scp`: the claims say nothing
    names = _look_up(emulator, token, tenants=[tenant], objects=[group], apps=[app])
    assert {request.status for request in emulator.requests if not request.path.endswith("/$batch")} == {403}
    assert set(names.unavailable) == {"partner names", "this tenant's users and groups", "this tenant's applications"}
    assert all("Graph refused the lookup (403)" in why for why in names.unavailable.values())
    assert names.missing == frozenset() and names.objects == {}
