"""Many tenants in one process (`--tenants`): the policies folders a pattern names, each worked on
as its own command would (its own binding, token and Graph client), several at once in one event
loop, each one's outcome written to a folder of its own, and one exit code for all.

A managed-service provider keeps hundreds of customer tenants in one repository; a process per
tenant pays the start-up and the imports every time, and a job per tenant runs into GitHub's
limit of 256 jobs in a matrix. Here a tenant that fails (a bad file, a refused token) is said
on stderr under its name and stops only itself.
"""

from __future__ import annotations

import asyncio
import glob
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.commands.run import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, SPEAKER, bound_tenant, say
from reconciler.core import signals
from reconciler.core.escape import markdown_text, visible
from reconciler.policies.layout import read_layout
from reconciler.policies.problems import PolicyError
from reconciler.render import progress

# How many tenants are worked on at once by default: each waits on Graph most of the time, and
# each holds its tenant's data, so more at once costs memory more than it saves time.
PARALLEL = 8
SUMMARY = "tenants.json"
_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Tenant:
    """One policies folder and the name its outcome is filed under: `tenants/<name>/policies`
    is `<name>`, a folder `policies` at the top is `default`, any other folder its own name (the
    names the GitHub workflows give the same folders)."""

    name: str
    policies: Path


@dataclass(frozen=True)
class Outcome:
    """What became of one tenant: `status` is the command's word for it ("changes", "drift", or
    "error", ...), `exit` the code the command alone would have exited with."""

    tenant: Tenant
    bound: str | None  # the tenant its xtap.yaml binds, when it was read
    status: str
    exit: int

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.tenant.name,
            "policies": self.tenant.policies.as_posix(),
            "tenant": self.bound,
            "status": self.status,
            "exit": self.exit,
        }


def named(patterns: Sequence[str], option: str = "--tenants") -> list[Tenant] | None:
    """The folders the patterns name, in order, each once; None once a pattern that names no
    folder, a name that is not a tenant's, or two folders of one name are said."""
    folders: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        found = [Path(match) for match in matches if Path(match).is_dir()]
        if not found:
            say(f"Error: {option} {pattern!r} names no folder; give a folder, or a pattern like 'tenants/*/policies'")
            return None
        folders += [folder for folder in found if folder not in folders]
    tenants: dict[str, Tenant] = {}
    for folder in folders:
        name = name_of(folder)
        if not _NAME.fullmatch(name):
            say(f"Error: {folder}: a tenant's name ({name!r}) is letters, digits, '_' or '-'; rename its folder")
            return None
        if name in tenants:
            say(f"Error: {tenants[name].policies} and {folder} are both tenant {name!r}; one name, one folder")
            return None
        tenants[name] = Tenant(name, folder)
    return list(tenants.values()) if _one_folder_a_tenant(list(tenants.values())) else None


def _one_folder_a_tenant(tenants: list[Tenant]) -> bool:
    """No two folders bind the same tenant: their plans would each delete what the other adds.
    A folder whose xtap.yaml does not load is left to its own run, which says why."""
    folder_of: dict[str, Path] = {}
    for tenant in tenants:
        try:
            bound = bound_tenant(read_layout(tenant.policies))
        except PolicyError:
            continue
        if bound is None:
            continue
        if bound in folder_of:
            say(f"Error: {folder_of[bound]} and {tenant.policies} both bind tenant {bound}: one tenant, one folder")
            return False
        folder_of[bound] = tenant.policies
    return True


def name_of(folder: Path) -> str:
    parts = folder.resolve().parts if folder.is_absolute() else folder.parts
    if parts and parts[-1] == "policies":
        return parts[-2] if len(parts) > 1 else "default"
    return folder.name


def work_on(
    tenants: list[Tenant],
    parallel: int,
    out_dir: Path,
    one: Callable[[Tenant, Path], Awaitable[Outcome]],
    changed: str,
    detailed_exitcode: bool = True,
) -> tuple[list[Outcome], int]:
    """`one` for each tenant, `parallel` at once, each handed the folder its files go to
    (`out_dir/<name>/`); the outcomes written to `out_dir/tenants.json`, and the exit code of
    them all: 1 when any failed (the others still ran), else 2 when any has `changed` status and
    `detailed_exitcode`, else 0."""
    try:
        for tenant in tenants:
            (out_dir / tenant.name).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        say(f"Error: cannot write to {out_dir}: {exc.strerror}")
        return [], EXIT_ERROR
    outcomes = signals.run(_all(tenants, parallel, out_dir, one))
    try:
        (out_dir / SUMMARY).write_text(json.dumps([outcome.as_json() for outcome in outcomes], indent=2) + "\n")
    except OSError as exc:
        say(f"Error: cannot write {out_dir / SUMMARY}: {exc.strerror}")
        return outcomes, EXIT_ERROR
    failed = sum(outcome.exit == EXIT_ERROR for outcome in outcomes)
    with_changes = sum(outcome.status == changed for outcome in outcomes)
    say(f"{len(outcomes)} tenant(s): {with_changes} with status {changed}, {failed} failed; written to {out_dir}.")
    if failed:
        return outcomes, EXIT_ERROR
    return outcomes, EXIT_CHANGES if detailed_exitcode and with_changes else EXIT_OK


async def _all(
    tenants: list[Tenant], parallel: int, out_dir: Path, one: Callable[[Tenant, Path], Awaitable[Outcome]]
) -> list[Outcome]:
    gate = asyncio.Semaphore(parallel)

    async def each(tenant: Tenant) -> Outcome:
        async with gate:
            SPEAKER.set(tenant.name)  # each task has its own context: the name stays with it
            progress.HIDDEN.set(True)
            return await one(tenant, out_dir / tenant.name)

    return list(await asyncio.gather(*(each(tenant) for tenant in tenants)))


async def write(folder: Path, files: dict[str, str]) -> None:
    """`files` (name: text) into `folder`, off the event loop the other tenants' reads run on."""

    def written() -> None:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")

    await asyncio.to_thread(written)


def report_name(fmt: str) -> str:
    """The file a tenant's report in `fmt` is written to: report.txt, report.md, report.json."""
    return f"report.{EXTENSIONS[fmt]}"


def summary_text(outcomes: list[Outcome]) -> str:
    """A line per tenant: its name, its status and its folder (escaped: a folder's name is
    anybody's text)."""
    width = max((len(outcome.tenant.name) for outcome in outcomes), default=0)
    return "".join(
        f"{outcome.tenant.name:<{width}}  {outcome.status:<10}  {visible(outcome.tenant.policies.as_posix())}\n"
        for outcome in outcomes
    )


def summary_markdown(outcomes: list[Outcome]) -> str:
    rows = [f"| {o.tenant.name} | {o.status} | {markdown_text(o.tenant.policies.as_posix())} |" for o in outcomes]
    return "\n".join(["| tenant | status | folder |", "|---|---|---|", *rows]) + "\n"


def summary_json(outcomes: list[Outcome]) -> str:
    return json.dumps([outcome.as_json() for outcome in outcomes], indent=2) + "\n"


SUMMARIES: dict[str, Callable[[list[Outcome]], str]] = {
    "text": summary_text,
    "markdown": summary_markdown,
    "json": summary_json,
}
EXTENSIONS = {"text": "txt", "markdown": "md", "json": "json"}
