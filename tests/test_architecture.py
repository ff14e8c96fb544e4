"""`xtap --help`, `xtap validate` and `xtap check` (without --live) stay light: they import nothing
that talking to Graph needs. And xtap's own modules import each other without a cycle.

validate runs on every pull request and in editors' save hooks; the Graph SDK, its HTTP stack and
the apply machinery cost a second of imports there and do nothing. The real CLI runs with
Python's import log (PYTHONPROFILEIMPORTTIME, one stderr line per module imported), so a new
top-level import anywhere on the path fails here, naming the module.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from support.import_log import heavy, import_log, imported, logged_modules
from support.paths import PACKAGE
from support.policy_files import write_policies


@pytest.mark.parametrize("command", ["--help", "validate", "check"])
def test_light_commands_import_nothing_graph_needs(command: str, tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", [{"tenantId": "90e29127-71ad-49c7-9ce8-db3f41ea06f1"}])
    modules = imported(command, *(["--policies", str(policies)] if command != "--help" else []))
    assert "reconciler.policies.load" in modules or command == "--help"
    assert heavy(modules) == []


def test_the_import_log_sees_graph_side_modules(tmp_path: Path) -> None:
    """The check above can fail: `xtap plan` does import the HTTP stack (it fails here on a closed
    port); msgraph itself comes with the first write (tests/commands/test_startup.py)."""
    policies = write_policies(tmp_path / "policies", [])
    run = import_log("plan", "--policies", str(policies))
    assert {"httpx", "reconciler.graph.client"} <= set(heavy(logged_modules(run)))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every xtap module `path` imports, at the top or inside a function: an import inside a
    function hides a cycle from Python until the function runs, not from this test."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, (base, node.module)))
            # `from package import module` imports that module; `from module import name`, the module.
            names = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


# Which sub-packages each sub-package may import: the data flow, one way (docs/architecture.md).
# `core` is the vocabulary every step shares; a step may import the steps before it, never after.
LAYERS: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "check": frozenset({"core"}),
    "policies": frozenset({"core", "check"}),
    "plan": frozenset({"core"}),
    "explain": frozenset({"core"}),
    "graph": frozenset({"core"}),
    "apply": frozenset({"core", "plan", "graph"}),
    "render": frozenset({"core", "check", "plan", "apply", "explain"}),
    "commands": frozenset({"core", "check", "policies", "plan", "explain", "graph", "apply", "render", "emulator"}),
    # The emulator is Graph's stand-in: it shares nothing with the client it tests.
    "emulator": frozenset(),
}


def package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_xtap_modules_import_each_other_without_a_cycle() -> None:
    graph = import_graph()
    # The walk sees imports at the top, and inside functions too.
    assert graph["reconciler.policies.load"] >= {"reconciler.core.desired", "reconciler.core.registry"}
    assert "reconciler.check.worker" in graph["reconciler.check.engine"]
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_every_module_lives_in_a_known_sub_package() -> None:
    stray = [name for name in import_graph() if package_of(name) not in {*LAYERS, "", "__main__"}]
    assert stray == []


def upward_edges(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if package_of(module) in LAYERS
        and package_of(target) != package_of(module)
        and package_of(target) not in LAYERS[package_of(module)]
    )


def test_imports_flow_one_way_between_sub_packages() -> None:
    assert upward_edges(import_graph()) == []


def test_the_layer_check_sees_an_upward_edge() -> None:
    """The rule can fail: the client importing the plan (as it once did for `Request`) is caught."""
    graph = {"reconciler.graph.client": {"reconciler.plan.model", "reconciler.core.bounds"}}
    assert upward_edges(graph) == ["reconciler.graph.client -> reconciler.plan.model"]


def test_no_module_takes_a_private_name_from_another() -> None:
    """A name with a leading underscore is its module's own business: another module that needs
    it needs it public (or the two are one concept)."""
    taken = [
        f"{module_name(path)}: {node.module}.{alias.name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert taken == []
