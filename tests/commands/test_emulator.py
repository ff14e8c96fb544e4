"""`xtap emulator` as a user starts it: a subprocess, its options checked before it listens, and
a tenant it serves that xtap, in processes of its own, can apply to."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support.emulator_cli import serving, started
from support.emulator_http import PARTNERS, TID
from support.policy_files import write_policies
from support.seeds import SEED_000_CREATE_BODY
from support.xtap import run_xtap

import reconciler.emulator
from reconciler.commands.emulator import SEED_NAMES
from reconciler.emulator import KNOWN_PERMISSIONS, SEEDS, EmulatorConfig
from reconciler.emulator.seeds import CONTOSO, DEMO_PARTNERS, FABRIKAM, WOODGROVE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "loopback only (127.0.0.0/8, ::1 or localhost), not on '0.0.0.0'"),
        (["--host", "192.0.2.1"], "not on '192.0.2.1'"),
        (["--host", "::"], "not on '::'"),
        (["--host", "example.com"], "not on 'example.com'"),
        # A host with a control character is named escaped, never printed raw.
        (["--host", "127.0.0.1\n::error::x"], r"not on '127.0.0.1\n::error::x'"),
        (["--port", "65536"], "Invalid value for '--port': 65536 is not in the range 0<=x<=65535."),
        (["--port", "-1"], "Invalid value for '--port': -1 is not in the range 0<=x<=65535."),
        (["--page-size", "0"], "page size must be 1 to 1000, got 0"),
        (["--page-size", "1001"], "page size must be 1 to 1000, got 1001"),
        (["--latency", "-1"], "latency must be 0 to 600 seconds, got -1"),
        (["--latency", "nan"], "latency must be 0 to 600 seconds, got nan"),
        (["--latency", "601"], "latency must be 0 to 600 seconds, got 601"),
        (["--latency", "inf"], "latency must be 0 to 600 seconds, got inf"),
        (["--retry-after", "nan"], "retry after must be 0 to 600 seconds, got nan"),
        (["--read-lag", "-inf"], "read lag must be 0 to 600 seconds, got -inf"),
        (["--throttle-probability", "nan"], "throttle probability must be 0 to 1, got nan"),
        (["--drop-probability", "1.5"], "drop probability must be 0 to 1, got 1.5"),
        (["--write-quota-window", "inf"], "write quota window must be more than 0 and at most 86400 seconds, got inf"),
        (["--write-quota", "-1"], "write quota must be 0 (no quota) or more, got -1"),
        (["--throttle-every", "-1"], "throttle every must be 0 (never) or more, got -1"),
        (["--random-seed", "-1"], "seed must be 0 or more, got -1"),
        (["--page-size", "nan"], "Invalid value for '--page-size': 'nan' is not a valid integer."),
        (
            ["--tenants", "1", "--state", "tenant.json"],
            "a state file keeps one tenant: leave it out to serve further tenants (they live in memory only)",
        ),
    ],
)
def test_a_bad_option_is_a_usage_error(args: list[str], message: str) -> None:
    result = run_xtap("emulator", "--port", "0", *args)

    assert result.code == 1
    assert result.stdout == ""
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: ") and last.endswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert not any(line.startswith("::") for line in result.stderr.splitlines())  # no workflow command


def test_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_xtap("emulator", "--port", str(port))

    assert result.code == 1
    assert result.stderr.splitlines()[-1] == f"Error: cannot listen on 127.0.0.1 port {port}: Address already in use"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"partners": {},\n  "template": nope}', ":2:15: not an emulator state file: Expecting value"),
        ('{"partners": 3, "template": {}}', ': not an emulator state file: expected {"partners": '),
        ('{"partners": {"x": []}, "template": {}}', ': not an emulator state file: expected {"partners": '),
        ("[]", ': not an emulator state file: expected {"partners": '),
        ("[" * 100_000, ": cannot read the emulator state file: maximum recursion depth exceeded"),
    ],
)
def test_a_state_file_it_cannot_read_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    result = run_xtap("emulator", "--port", "0", "--state", str(state))

    assert result.code == 1
    assert result.stderr.splitlines()[-1].startswith(f"Error: {state}{message}"), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("host", "netloc"), [("127.0.0.2", "127.0.0.2"), ("localhost", "localhost"), ("::1", "[::1]")])
def test_it_serves_on_any_loopback_host(host: str, netloc: str) -> None:
    with serving("--host", host) as (url, token):
        assert url.startswith(f"http://{netloc}:") and url.endswith("/v1.0")
        listed = httpx.get(f"{url}{PARTNERS}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert listed.status_code == 200
    assert listed.json()["value"] == []


# The switches to the other reading of each capability, constraint and policy-root behaviour.
OTHER_READINGS = (
    "--capability-upsert",
    "--no-capability-migration-on-default",
    "--no-strict-capability-resource-ids",
    "--no-capability-get-one",
    "--default-capability-delete",
    "--constraints-writable",
    "--no-strict-cloud-endpoints",
)


def test_the_options_make_the_emulators_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """`xtap emulator` serves the emulator its options describe; what each fault does (the
    latency before every answer, say) is the emulator's own tests' to prove (test_emulator,
    test_emulator_faults). In the test process, with the serving loop replaced: nothing listens."""
    started: list[tuple[EmulatorConfig, str, int]] = []
    monkeypatch.setattr(
        reconciler.emulator,
        "run_forever",
        lambda config, host, port, ready, seed, permissions: started.append((config, host, port)),
    )
    options = {
        "--latency": "0.5",
        "--latency-jitter": "0.25",
        "--throttle-every": "3",
        "--throttle-probability": "0.1",
        "--retry-after": "2.5",
        "--random-seed": "7",
        "--unavailable-every": "4",
        "--unavailable-probability": "0.2",
        "--drop-every": "5",
        "--drop-probability": "0.3",
        "--write-quota": "30",
        "--write-quota-window": "15",
        "--read-lag": "1.5",
        "--out-of-band-every": "6",
        "--page-size": "10",
        "--patch-mode": "odata_merge",
        "--tenant-id": TID,
    }
    switches = ("--no-strict-create", *OTHER_READINGS, "--no-national-schema-strict")
    options["--cloud"] = "usgov"
    run = run_xtap("emulator", "--host", "::1", "--port", "0", *switches, *itertools.chain(*options.items()))
    assert run.code == 0, run.stderr
    assert started == [
        (
            EmulatorConfig(
                latency_s=0.5,
                latency_jitter_s=0.25,
                throttle_every=3,
                throttle_probability=0.1,
                retry_after_s=2.5,
                seed=7,
                unavailable_every=4,
                unavailable_probability=0.2,
                drop_every=5,
                drop_probability=0.3,
                write_quota=30,
                write_quota_window_s=15,
                read_lag_s=1.5,
                out_of_band_every=6,
                page_size=10,
                patch_mode="odata_merge",
                tenant_id=TID,
                strict_create=False,
                strict_cloud_endpoints=False,
                capability_upsert=True,
                capability_migration_on_default=False,
                strict_capability_resource_ids=False,
                capability_get_one=False,
                default_capability_delete=True,
                constraints_writable=True,
                cloud="usgov",
                national_schema_strict=False,
            ),
            "::1",
            0,
        )
    ]


@pytest.mark.parametrize(
    ("args", "statuses"),
    [
        ([], {"create": 400, "put again": 409, "patch": 204, "default": 400}),
        (
            ["--no-strict-create", "--sync-put-replaces", "--no-sync-patch", "--no-default-all-users-rule"],
            {"create": 201, "put again": 204, "patch": 405, "default": 204},
        ),
    ],
)
def test_the_readings_graph_leaves_open_are_options(args: list[str], statuses: dict[str, int]) -> None:
    tid, group = "90e29127-71ad-49c7-9ce8-db3f41ea06f1", "6f546279-4da5-4b53-a095-09ea0cef9971"
    restrictions = {"usersAndGroups": {"accessType": "allowed", "targets": [{"target": group, "targetType": "group"}]}}
    sync = f"{PARTNERS}/{tid}/identitySynchronization"
    with (
        serving(*args) as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph,
    ):
        seen = {"create": graph.post(PARTNERS, json={"tenantId": tid, "tenantRestrictions": restrictions}).status_code}
        if seen["create"] != 201:
            graph.post(PARTNERS, json={"tenantId": tid})
        graph.put(sync, json={"displayName": "Fabrikam"})
        seen["put again"] = graph.put(sync, json={"displayName": "Fabrikam"}).status_code
        seen["patch"] = graph.patch(sync, json={"displayName": "Contoso"}).status_code
        seen["default"] = graph.patch(
            "/policies/crossTenantAccessPolicy/default", json={"tenantRestrictions": restrictions}
        ).status_code
    assert seen == statuses


CAPABILITIES = "/policies/crossTenantAccessPolicy/{holder}/m365Capabilities"
MIGRATION = {
    "@odata.type": "#microsoft.graph.crossTenantMigration",
    "inboundAccess": {
        "isAllowed": True,
        "resourceScopes": {"included": [{"resourceId": "All", "resourceType": "user"}]},
    },
}


@pytest.mark.parametrize(
    ("args", "statuses"),
    [
        (
            [],
            {
                "default migration": 201,
                "again": 409,
                "odd resource id": 400,
                "get one": 200,
                "default delete": 405,
                "constraints delete": 403,
                "odd cloud": 400,
            },
        ),
        (
            list(OTHER_READINGS),
            {
                "default migration": 400,
                "again": 201,
                "odd resource id": 201,
                "get one": 405,
                "default delete": 204,
                "constraints delete": 404,  # let through, to find the partner has none
                "odd cloud": 204,
            },
        ),
    ],
)
def test_the_capability_and_constraint_readings_are_options(args: list[str], statuses: dict[str, int]) -> None:
    """Each reading Graph leaves open for the capabilities, serviceProviderConstraints and the
    policy root, as `xtap emulator` serves it; the printed token writes capabilities too."""
    tid = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
    partner_caps, default_caps = CAPABILITIES.format(holder=f"partners/{tid}"), CAPABILITIES.format(holder="default")
    mail_tips = {**MIGRATION, "@odata.type": "#microsoft.graph.crossTenantMailTipsLimited"}
    odd = {
        **MIGRATION,
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {"included": [{"resourceId": "x", "resourceType": "user"}]},
        },
    }
    with (
        serving(*args) as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph,
    ):
        assert graph.post(PARTNERS, json={"tenantId": tid}).status_code == 201
        seen = {"default migration": graph.post(default_caps, json=MIGRATION).status_code}
        assert graph.post(default_caps, json=mail_tips).status_code == 201
        seen["again"] = graph.post(default_caps, json=mail_tips).status_code
        seen["odd resource id"] = graph.post(partner_caps, json=odd).status_code
        seen["get one"] = graph.get(f"{default_caps}/crossTenantMailTipsLimited").status_code
        seen["default delete"] = graph.delete(f"{default_caps}/crossTenantMailTipsLimited").status_code
        seen["constraints delete"] = graph.delete(f"{PARTNERS}/{tid}/serviceProviderConstraints").status_code
        seen["odd cloud"] = graph.patch(
            "/policies/crossTenantAccessPolicy", json={"allowedCloudEndpoints": ["example.com"]}
        ).status_code
    assert seen == statuses


@pytest.mark.parametrize(("args", "status"), [(["--cloud", "usgov"], 400), (["--cloud", "global"], 200)])
def test_the_cloud_option_takes_the_global_only_surfaces_away(args: list[str], status: int) -> None:
    with (
        serving(*args) as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph,
    ):
        assert graph.get(CAPABILITIES.format(holder="default")).status_code == status
        assert graph.get("/policies/crossTenantAccessPolicy/default").status_code == 200


@pytest.mark.parametrize(("args", "status"), [([], 400), (["--no-national-schema-strict"], 204)])
def test_a_national_cloud_refuses_what_its_metadata_lacks_unless_told_not_to(args: list[str], status: int) -> None:
    with (
        serving("--cloud", "china", *args) as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph,
    ):
        patched = graph.patch(
            "/policies/crossTenantAccessPolicy", json={"allowedCloudEndpoints": ["microsoftonline.com"]}
        )
        assert patched.status_code == status, patched.text


def test_the_emulator_command_loads_a_directory_its_token_reads(tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    group = {"id": "6f546279-4da5-4b53-a095-09ea0cef9971", "displayName": "Partner liaisons"}
    fabrikam = {"tenantId": TID, "displayName": "Fabrikam", "defaultDomainName": "fabrikam.example"}
    directory.write_text(json.dumps({"groups": [group], "tenants": [fabrikam]}), encoding="utf-8")

    with (
        serving("--directory", str(directory)) as (url, token),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph,
    ):
        found = graph.post("/directoryObjects/getByIds", json={"ids": [group["id"]]})
        tenant = graph.get("/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.example')")

    assert found.json()["value"] == [{"@odata.type": "#microsoft.graph.group", **group}]
    assert tenant.json()["tenantId"] == TID


def test_a_directory_file_it_cannot_read_is_a_usage_error(tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    directory.write_text('{"users": [{"id": "alice"}]}', encoding="utf-8")

    result = run_xtap("emulator", "--port", "0", "--directory", str(directory))

    assert result.code == 1
    assert result.stderr.splitlines()[-1].startswith(f"Error: {directory}: not a directory file: "), result.stderr


def test_the_emulator_command_serves_a_tenant_xtap_can_plan(tmp_path: Path) -> None:
    state = tmp_path / "tenant.json"
    with started("--state", str(state)) as banner:
        policies = write_policies(tmp_path / "policies", [SEED_000_CREATE_BODY])
        applied = subprocess.run(
            [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--policies", str(policies)],
            env={**os.environ, **banner.variables, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert applied.returncode == 0, applied.stderr
        assert SEED_000_CREATE_BODY["tenantId"] in state.read_text()  # kept in the state file


AUDIT = "/auditLogs/directoryAudits"


def test_seed_demo_serves_the_demos_tenant_and_names() -> None:
    """`--seed demo` is the tenant `xtap demo` plans, its names too; the default is still a new tenant."""
    with (
        started("--seed", "demo") as banner,
        httpx.Client(base_url=banner.url, headers={"Authorization": f"Bearer {banner.tokens[0]}"}, timeout=10) as graph,
    ):
        partners = graph.get(PARTNERS).json()["value"]
        contoso = graph.get(f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{CONTOSO}')")
    assert {p["tenantId"] for p in partners} == {p["tenantId"] for p in DEMO_PARTNERS} == {FABRIKAM, WOODGROVE}
    assert contoso.json()["displayName"] == "Contoso Ltd"
    assert "It serves the demo tenant: Fabrikam unconfigured, Woodgrove unmanaged, Contoso missing" in banner.text

    with serving() as (url, token):
        assert httpx.get(f"{url}{PARTNERS}", headers={"Authorization": f"Bearer {token}"}).json()["value"] == []


def test_the_default_token_holds_every_permission_xtap_uses() -> None:
    with (
        started("--seed", "demo") as banner,
        httpx.Client(base_url=banner.url, headers={"Authorization": f"Bearer {banner.tokens[0]}"}, timeout=10) as graph,
    ):
        statuses = {
            "audit": graph.get(AUDIT).status_code,
            "names": graph.post("/directoryObjects/getByIds", json={"ids": [CONTOSO]}).status_code,
            "write": graph.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": None}).status_code,
            "capability": graph.get("/policies/crossTenantAccessPolicy/default/m365Capabilities").status_code,
        }
    assert statuses == {"audit": 200, "names": 200, "write": 204, "capability": 200}
    assert len(banner.tokens) == 1
    assert (
        "The token holds Policy.ReadWrite.CrossTenantAccess, Policy.ReadWrite.CrossTenantCapability, "
        "AuditLog.Read.All, CrossTenantInformation.ReadBasic.All, Directory.Read.All (valid for 7 days)."
    ) in banner.text


def test_each_permissions_option_prints_a_token_that_reads_and_is_refused_as_chosen() -> None:
    with started(
        "--seed",
        "demo",
        "--permissions",
        "Policy.Read.All",
        "--permissions",
        "auditlog.read.all, Policy.ReadWrite.CrossTenantAccess",
    ) as banner:
        seen = []
        for token in banner.tokens:
            with httpx.Client(base_url=banner.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph:
                partners, audit = graph.get(PARTNERS).status_code, graph.get(AUDIT).status_code
                write = graph.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": None}).status_code
                seen.append((partners, audit, write))
    assert seen == [(200, 403, 403), (200, 200, 204)]
    assert "The token holds Policy.Read.All (valid for 7 days)." in banner.text
    assert "Token 2 holds AuditLog.Read.All, Policy.ReadWrite.CrossTenantAccess;" in banner.text
    assert set(banner.variables) == {"XTAP_GRAPH_URL", "XTAP_ACCESS_TOKEN", "XTAP_ACCESS_TOKEN_2"}


def test_each_further_tenant_gets_a_token_of_its_own_for_its_own_state() -> None:
    """`--tenants 2`: three tenants behind one URL, each started as --seed, each token's writes its own."""
    with started("--seed", "demo", "--tenants", "2", "--permissions", "Policy.ReadWrite.CrossTenantAccess") as banner:
        tokens = [banner.tokens[0], *(value for name, value in tenant_tokens(banner.text))]
        seen = []
        for number, token in enumerate(tokens):
            with httpx.Client(base_url=banner.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as graph:
                if number == 1:
                    assert graph.delete(f"{PARTNERS}/{WOODGROVE}").status_code == 204
                seen.append({p["tenantId"] for p in graph.get(PARTNERS).json()["value"]})
    assert seen == [{FABRIKAM, WOODGROVE}, {FABRIKAM}, {FABRIKAM, WOODGROVE}]
    assert [name for name, _ in tenant_tokens(banner.text)] == ["XTAP_TENANT_2_TOKEN", "XTAP_TENANT_3_TOKEN"]
    assert "its token holds Policy.ReadWrite.CrossTenantAccess. Paste this line too" in banner.text


def tenant_tokens(text: str) -> list[tuple[str, str]]:
    """The further tenants' token lines of a banner, as (variable, token)."""
    return re.findall(r"^  (XTAP_TENANT_\d+_TOKEN)=(\S+)$", text, re.MULTILINE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--permissions", "Policy.Read.All,Policy.ReadWrite.All"], "unknown permission(s) 'Policy.ReadWrite.All'"),
        (["--permissions", " , "], "no permission named"),
        (["--seed", "demos"], "'demos' is not one of empty, demo."),
        (["--seed", "7"], "'7' is not one of empty, demo (the seed of random draws is --random-seed N)."),
    ],
)
def test_an_unknown_permission_or_seed_is_refused_with_the_known_ones(args: list[str], message: str) -> None:
    result = run_xtap("emulator", "--port", "0", *args)

    assert result.code == 1
    assert message in result.stderr, result.stderr
    if args[0] == "--permissions":
        assert f"the emulator knows: {', '.join(sorted(KNOWN_PERMISSIONS))}" in result.stderr
        assert "Policy.Read.All, Policy.ReadWrite.CrossTenantAccess" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_seed_does_not_overwrite_a_saved_tenant(tmp_path: Path) -> None:
    state = tmp_path / "tenant.json"
    with started("--seed", "demo", "--state", str(state)):
        pass
    assert FABRIKAM in state.read_text()  # the new file holds the seeded tenant from the start

    result = run_xtap("emulator", "--port", "0", "--seed", "demo", "--state", str(state))

    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: {state} already holds a tenant, and --seed demo starts a new one: remove the file, or leave out --seed"
    )


def test_the_command_names_the_emulators_seeds() -> None:
    """`--help` lists the seeds without importing the emulator; the two lists agree."""
    assert tuple(SEEDS) == SEED_NAMES
