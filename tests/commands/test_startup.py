"""What xtap imports before it does anything (reconciler/commands/cli.py): `xtap --help` imports
click and none of the command modules, a usage error nothing of Graph, and a command its own
module, not its neighbours'. Every run starts a fresh interpreter with Python's import log
(support.import_log), so any import that creeps back to the top of cli.py fails here, named;
nothing here reads a clock.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.import_log import heavy, import_log, imported, logged_modules
from support.policy_files import write_policies
from support.xtap import Run, run_xtap

from reconciler.emulator import Emulator

# What --help must not import: the models and their validator, the YAML parser, the rules
# engine, asyncio, the emulator, and every command's module but cli's and the emulator's options.
NOT_FOR_HELP = ("pydantic", "ruamel", "cel", "deepdiff", "asyncio", "jwt", "reconciler.emulator")
# xtap's own modules --help may import: the option parsing and what its text states.
HELP_MODULES = {
    "reconciler",
    "reconciler.commands",
    "reconciler.commands.cli",
    "reconciler.commands.emulator",  # `xtap emulator`'s options, declared without the emulator
    "reconciler.core",
    "reconciler.core.bounds",  # the most --timeout takes
    "reconciler.core.clouds",  # --cloud's choices and the default timeout
}
# The other commands' modules, which `validate` has no use for.
OTHER_COMMANDS = ("apply", "plan", "planning", "drift", "show", "export", "add_partner", "doctor", "init", "demo")


def _below(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules if any(name == root or name.startswith(f"{root}.") for root in roots))


def test_help_imports_click_and_none_of_the_commands() -> None:
    modules = imported("--help")

    assert {name for name in modules if name.startswith("reconciler")} <= HELP_MODULES
    assert _below(modules, NOT_FOR_HELP) == []
    assert heavy(modules) == []
    assert "click" in modules  # the log is read: it names what --help does import


def test_a_usage_error_imports_no_graph_sdk() -> None:
    """Its message goes out the one escaping way (`run.say`), which costs the command plumbing,
    never the Graph SDK or the emulator."""
    run = import_log("plna")

    assert run.code == 1
    assert "No such command 'plna'" in run.stderr
    modules = logged_modules(run)
    assert heavy(modules) == []
    assert _below(modules, ("reconciler.emulator",)) == []


@pytest.mark.parametrize("command", ["plan", "apply", "drift", "show", "check", "doctor", "export"])
def test_a_graph_commands_help_imports_no_graph_sdk(command: str) -> None:
    """Its --format choices come from its module (`FORMATS`), imported to show them; the SDK,
    which only talking to Graph needs, is not."""
    modules = imported(command, "--help")

    assert heavy(modules) == []
    assert "reconciler.emulator" not in modules


def test_plans_module_leaves_what_only_the_answer_needs_to_after_the_first_request() -> None:
    """`xtap plan --help` imports the plan's module, and what it imports at its top a plan imports
    before its first request: not the compare, the labels, the rules' warnings, the renderers,
    the plan file or the settings' diff, which only the tenant's answer needs
    (commands/plan.py, commands/planning.py)."""
    modules = imported("plan", "--help")

    assert "reconciler.commands.planning" in modules
    assert _below(modules, ("reconciler.plan", "reconciler.render.plan", "reconciler.commands.check")) == []


def test_validate_imports_its_own_module_and_no_other_commands(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])

    modules = imported("validate", "--policies", str(policies))

    assert "reconciler.commands.validate" in modules
    assert _below(modules, tuple(f"reconciler.commands.{name}" for name in OTHER_COMMANDS)) == []
    assert _below(modules, ("reconciler.emulator", "deepdiff", "jwt")) == []
    assert heavy(modules) == []


def test_the_checks_above_can_fail(tmp_path: Path) -> None:
    """The same log of `xtap plan` names what the others must not import: the plan's modules,
    pydantic, asyncio and the Graph SDK (the plan fails on a closed port, after importing them)."""
    policies = write_policies(tmp_path / "policies", [])

    modules = logged_modules(import_log("plan", "--policies", str(policies)))

    assert {"reconciler.commands.planning", "pydantic", "asyncio", "httpx"} <= modules
    assert not {name for name in modules if name.startswith("reconciler")} <= HELP_MODULES


def test_the_sdks_adapter_is_imported_for_the_first_write_and_not_for_reads(tmp_path: Path, emulator: Emulator) -> None:
    """GETs go straight to the bounded transports (`graph.client`); msgraph, a fifth of a second
    of imports before the first request, is for the writes only."""
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])

    planned = import_log("plan", "--policies", str(policies), emulator=emulator)
    applied = import_log("apply", "--auto-approve", "--policies", str(policies), emulator=emulator)

    assert planned.code == 0 and applied.code == 0, applied.stderr[-2000:]
    assert _below(logged_modules(planned), ("msgraph", "msgraph_core", "kiota_http")) == []
    assert {"msgraph", "msgraph_core", "kiota_http"} <= logged_modules(applied)
    assert len(emulator.partners()) == 1


def test_graph_commands_import_httpx_without_its_command_line_client(tmp_path: Path) -> None:
    """httpx imports its own CLI (rich's console, pygments) when they are installed; the graph
    package keeps it out (reconciler/graph/__init__.py). Off a terminal, nothing else of xtap's
    wants rich (the progress line is drawn only on one)."""
    policies = write_policies(tmp_path / "policies", [])

    modules = logged_modules(import_log("plan", "--policies", str(policies)))

    assert "httpx" in modules
    assert _below(modules, ("rich", "pygments")) == []


def test_a_plan_reads_the_tokens_claims_without_a_cryptography_stack(tmp_path: Path, emulator: Emulator) -> None:
    """The token's tenant is checked against xtap.yaml's before any request, and its roles read
    for the lookups; neither verifies a signature (Graph does), so neither imports PyJWT and the
    cryptography it brings (graph/tenant.py)."""
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])
    (policies / "xtap.yaml").write_text(f"tenant: {emulator.tenant_id}\n")

    run = import_log("plan", "--policies", str(policies), emulator=emulator)

    assert run.code == 0, run.stderr[-2000:]
    assert emulator.requests  # it got past the tenant check and read the tenant
    assert _below(logged_modules(run), ("jwt", "cryptography")) == []


def test_the_tenants_defaults_cli_names_are_the_tenants_modules() -> None:
    from reconciler.commands import cli, tenants

    assert (cli.TENANTS_PARALLEL, cli.TENANTS_SUMMARY) == (tenants.PARALLEL, tenants.SUMMARY)


# Marks the first connection a process opens in its import log (both on stderr): what is
# imported above the mark is imported before the first request.
FIRST_CONNECTION = "xtap-test: first connection"
_MARKER = f"""
import os, sys

def _mark(event, args):
    if event == "socket.connect" and not _mark.seen:
        _mark.seen = True
        os.write(2, b"{FIRST_CONNECTION}\\n")

_mark.seen = False
sys.addaudithook(_mark)
"""
# What a plan's first request does not wait for: the models and their validator, the loader,
# the plan's own modules, and azure-core (for azure-identity's sign-in only); nor, without an
# xtap.yaml to read, the YAML parser.
NOT_BEFORE_THE_FIRST_REQUEST = (
    "pydantic",
    "reconciler.core.models",
    "reconciler.core.desired",
    "reconciler.policies.load",
    "reconciler.plan",
    "azure",
)
AFTER_THE_FIRST_REQUEST = ("ruamel", *NOT_BEFORE_THE_FIRST_REQUEST)


def _up_to_first_connection(tmp_path: Path, emulator: Emulator, policies: Path) -> tuple[set[str], Run]:
    marker = tmp_path / "marker"
    marker.mkdir()
    (marker / "sitecustomize.py").write_text(_MARKER)
    path = os.pathsep.join(filter(None, [str(marker), os.environ.get("PYTHONPATH")]))
    run = run_xtap(
        "plan",
        "--policies",
        str(policies),
        emulator=emulator,
        extra_env={"PYTHONPROFILEIMPORTTIME": "1", "PYTHONPATH": path},
        subprocess=True,
    )
    assert run.code == 0, run.stderr[-2000:]
    before, marked, _ = run.stderr.partition(FIRST_CONNECTION)
    assert marked, run.stderr[-2000:]
    return logged_modules(Run(run.code, "", before)), run


def test_a_plans_first_request_waits_for_neither_the_models_nor_the_loader(tmp_path: Path, emulator: Emulator) -> None:
    """A folder without xtap.yaml binds no tenant: the first request goes out with the layout
    and the registry's paths alone (`core.wire`), and the files load once the tenant has
    answered (commands/planning.py)."""
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])

    before, run = _up_to_first_connection(tmp_path, emulator, policies)

    assert {"httpx", "reconciler.core.registry", "reconciler.graph.read"} <= before  # the log is read
    assert _below(before, AFTER_THE_FIRST_REQUEST) == []
    assert {"pydantic", "reconciler.policies.load", "reconciler.plan.planner"} <= logged_modules(run)


def test_an_xtap_yaml_of_a_tenant_alone_binds_it_without_the_models(tmp_path: Path, emulator: Emulator) -> None:
    """The usual xtap.yaml, `tenant: <GUID>` and nothing else, is valid for certain: it binds
    its tenant with the YAML reader alone (commands/run.py `bound_tenant`)."""
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])
    (policies / "xtap.yaml").write_text(f"# this folder's tenant\ntenant: {emulator.tenant_id.upper()}\n")

    before, _ = _up_to_first_connection(tmp_path, emulator, policies)

    assert "reconciler.policies.reader" in before
    assert _below(before, NOT_BEFORE_THE_FIRST_REQUEST) == []
    assert emulator.requests  # the token was checked against the tenant, lower-cased, and let through


def test_a_bound_folders_xtap_yaml_is_checked_before_the_first_request(tmp_path: Path, emulator: Emulator) -> None:
    """Bad input sends nothing to Graph: an xtap.yaml with more than its tenant is checked
    whole (its model too) before any request; the Graph models and the policy files' loader
    still come after it (policies/settings_file.py)."""
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])
    (policies / "xtap.yaml").write_text(f"tenant: {emulator.tenant_id}\nwaiverMaxDays: 30\n")

    before, _ = _up_to_first_connection(tmp_path, emulator, policies)

    assert {"pydantic", "reconciler.core.settings"} <= before
    assert _below(before, ("reconciler.core.models", "reconciler.policies.load", "reconciler.plan", "azure")) == []
