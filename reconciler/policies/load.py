"""Load and validate policies/: YAML files → the desired state, or every problem at once.

This is the loader's front, and other packages import its names from here. It puts together
its parts, one job each: `layout` (which files are read, as what; no link out of the folder),
`reader` (a file's bytes and YAML events, bounded, with positions), `problems` (`file:line:col`
and pydantic's errors in a file author's words), `policy_file` (one file against its model),
`settings_file` (xtap.yaml, rule ids and waivers), `pool` and `workers` (a large folder in
forked processes). Here is what needs the whole folder: a partner declared twice, or for the folder's
own tenant, and the waivers against xtap.yaml's rules. The cloud the tenant is in (`--cloud`)
is handed down explicitly to each file's check: what that cloud's Graph lacks is judged there,
from the registry, offline.

A command looks at the folder once: `read_layout` lists it, and the same `Layout` goes to
`load_settings` (before the first Graph request), `graph.read.scope` (which types to read
while the files load), `workers` and `load_policies` (every problem, in `validate`'s words).
Each of them also takes the folder's path, and lays it out then. Nothing here talks to Graph:
bad input never reaches the tenant.
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

from reconciler.core.address import Address
from reconciler.core.clouds import GLOBAL
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.registry import PARTNER, REGISTRY_BY_NAME
from reconciler.policies.layout import SETTINGS_FILE, Layout, as_layout, read_layout
from reconciler.policies.policy_file import TOOL_KEY, TOOL_KEYS
from reconciler.policies.pool import workers
from reconciler.policies.problems import PolicyError, Problem
from reconciler.policies.reader import positions
from reconciler.policies.settings_file import load_settings, read_settings, waiver_problems
from reconciler.policies.workers import load_files

__all__ = [
    "SETTINGS_FILE",
    "TOOL_KEY",
    "TOOL_KEYS",
    "Layout",
    "PolicyError",
    "Problem",
    "load_policies",
    "load_settings",
    "positions",
    "read_layout",
    "workers",
]


def load_policies(
    folder: Path | str | Layout,
    bodies: bool = True,
    pool: Executor | None = None,
    cloud: str = GLOBAL,
    warnings: list[Problem] | None = None,
    declared: dict[Address, DesiredInstance] | None = None,
) -> Desired:
    """Read every policy file of `folder` for a tenant in `cloud` (`--cloud`); raise PolicyError
    listing all problems.

    `bodies=False` is `xtap validate`'s reading: every problem and every declaration, but
    instances without their properties. `pool` (from `workers`) reads the files in worker
    processes, a few chunks each. What does not stop the load, a property the cloud's published
    metadata lacks (`ResourceType.clouds_lacking`), is added to `warnings`, sorted, whether the
    folder loads or not: the caller says them, and they never change its exit code.

    `declared`, an empty dict, is filled with the instances as each file loads (the returned
    `Desired` holds it), so the caller's other thread may look them up meanwhile: a plan pairs
    each page of the tenant with what is loaded by then (`plan/ahead.py`). Until this returns,
    what it holds may yet be refused."""
    layout = as_layout(folder)
    problems = list(layout.problems)
    warned: list[Problem] = []
    instances: dict[Address, DesiredInstance] = {} if declared is None else declared
    settings, prune, sources = read_settings(layout.settings, problems)
    own = None if settings.tenant is None else Address(PARTNER.name, settings.tenant)
    for loaded in load_files(layout.files, bodies, pool, cloud):
        problems.extend(loaded.problems)
        warned.extend(loaded.warnings)
        for address, instance, key_at in loaded.declared:
            if address == own:
                problems.append(Problem(loaded.file, *key_at, _own_tenant_message(address.id)))
            else:
                _add(instances, address, instance, (loaded.file, *key_at), problems)
    problems.extend(waiver_problems(instances.values(), settings))
    if warnings is not None:
        warnings.extend(sorted(warned))
    if problems:
        raise PolicyError(problems)
    return Desired(
        instances,
        tenant=settings.tenant,
        prune=prune,
        rules=settings.rules,
        settings=settings,
        setting_sources=sources,
    )


def _own_tenant_message(tenant: str) -> str:
    """A partner configuration is about another tenant: one for the folder's own is a file
    copied from the wrong folder, or a `tenant:` naming the wrong tenant. Either way it is the
    author's mistake, so it is said offline, at the file, and nothing of it reaches Graph."""
    return (
        f"tenantId {tenant} is this folder's own tenant (tenant: in {SETTINGS_FILE}); a tenant is never "
        f"its own partner: remove this file, or correct the tenant id here or in {SETTINGS_FILE}"
    )


def _add(
    instances: dict[Address, DesiredInstance],
    address: Address,
    instance: DesiredInstance,
    key_at: tuple[str, int, int],
    problems: list[Problem],
) -> None:
    """Declare `instance`, or report a second declaration at `key_at` (file, line, column): the
    key of the file that makes it."""
    if address in instances:
        key = REGISTRY_BY_NAME[address.resource].key or ""
        where = instances[address].source
        message = f"{key} {address.id} is already declared in {where}; one file per {address.resource}"
        problems.append(Problem(*key_at, message))
        return
    instances[address] = instance
