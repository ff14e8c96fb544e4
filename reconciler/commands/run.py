"""The plumbing every command shares: its options, its exit codes, its lines on stderr, the
format its report is written in, and how it loads policies/ and runs its work on Graph.

Each command is a plain function returning its exit code (docs/commands.md), in a module of its
own; `cli` only parses options and calls them, and `demo` calls them too, so the demo shows
exactly what a user sees. Reports go to stdout (pure: JSON parses, markdown is only the
report); progress, errors and prompts go to stderr. msgraph-sdk is imported only by the
commands that talk to Graph, so `xtap validate` stays fast and works offline.

A Graph command's first request waits only for the folder's layout and xtap.yaml's tenant
(`binding`): the loader (pydantic, the models, the YAML reader) is imported by what loads the
files, while that request is on its way, or before it only when xtap.yaml is there to check.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from reconciler.core import signals
from reconciler.core.clouds import DEFAULT_TIMEOUT, GLOBAL, cloud_types
from reconciler.core.escape import visible
from reconciler.core.registry import REGISTRY, REGISTRY_BY_NAME
from reconciler.core.wire import is_guid
from reconciler.policies.layout import Layout, read_layout
from reconciler.policies.problems import PolicyError, Problem

if TYPE_CHECKING:
    from reconciler.core.desired import Desired
    from reconciler.core.live import Live
    from reconciler.core.names import Names
    from reconciler.graph.client import Graph
    from reconciler.graph.errors import SignInFailed

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Options:
    """The options every Graph command shares: where the desired state is, which Graph to use,
    how long to wait for it, and the bearer token to use as is (None: azure-identity's).
    The command line reads the token from the environment; nothing below it does."""

    policies: Path
    graph_url: str | None = None
    cloud: str = GLOBAL
    timeout: float = DEFAULT_TIMEOUT
    access_token: str | None = field(default=None, repr=False)  # a secret: kept out of any repr


# Whose work a line on stderr is about when one process works on many tenants (`--tenants`):
# each tenant's task sets its name, and every line it says starts with it.
SPEAKER: ContextVar[str | None] = ContextVar("SPEAKER", default=None)


def say(message: str) -> None:
    """One line of progress or error on stderr, so stdout stays a clean report (flushed first, so
    the two interleave in order when both go to one log). Messages quote file names, keys and
    Graph's words, so the whole line is escaped (`escape.visible`): one line in, one line out."""
    speaker = SPEAKER.get()
    sys.stdout.flush()
    print(visible(message if speaker is None else f"[{speaker}] {message}"), file=sys.stderr, flush=True)


def use_color(stream: object) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


@dataclass(frozen=True)
class Formats(Generic[R]):
    """The formats one kind of report is written in (`--format`), by name, in the order `--help`
    lists them: each command declares its table once, and the option's choices and the
    rendering both read it. The `colored` ones are for people and take whether stdout is a
    terminal; the `plain` ones are for machines and comments, and are the same everywhere."""

    colored: Mapping[str, Callable[[R, bool], str]]
    plain: Mapping[str, Callable[[R], str]]

    @property
    def names(self) -> list[str]:
        return [*self.colored, *self.plain]

    def render(self, report: R, fmt: str, colored: bool | None = None) -> str:
        """`report` in `fmt`; the colored formats in color when `colored`, or, by default, when
        stdout is a terminal."""
        if fmt in self.colored:
            return self.colored[fmt](report, use_color(sys.stdout) if colored is None else colored)
        return self.plain[fmt](report)


def load(policies: Path, bodies: bool = True, cloud: str = GLOBAL) -> Desired | None:
    """policies/ loaded on its own (validate, export, check) for a tenant in `cloud`, or None
    once its problems are said; its warnings are said either way."""
    desired, problems, warnings = loaded(policies, bodies, cloud)
    say_warnings(warnings)
    if desired is None:
        say_problems(PolicyError(problems), policies, "nothing was sent to Graph")
    return desired


def loaded(
    policies: Path, bodies: bool = True, cloud: str = GLOBAL
) -> tuple[Desired | None, list[Problem], list[Problem]]:
    """policies/ loaded on its own, with its problems (none when it loaded) and its warnings, said
    by no one yet: `validate --format json` writes them in its report instead."""
    from reconciler.policies.load import load_policies, workers

    warnings: list[Problem] = []
    try:
        layout = read_layout(policies)
        with collector_paused(), workers(layout) as pool:
            return load_policies(layout, bodies, pool, cloud, warnings), [], warnings
    except PolicyError as exc:
        return None, exc.problems, warnings


def report(text: str) -> None:
    """A report on stdout. A reader that stops early (`| head`, a script that has what it needs)
    closes the pipe: the rest goes to /dev/null instead, so neither this write nor the flush at
    exit fails with "Exception ignored ... BrokenPipeError", and the exit code stays the
    command's own (Python's documented way: docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def say_warnings(warnings: list[Problem]) -> None:
    """What the loader warns of, each at its `file:line:col` as a compiler writes a warning: it
    stops nothing, so it never changes a command's exit code."""
    for warning in warnings:
        say(f"{warning.file}:{warning.line}:{warning.col}: warning: {warning.message}")


def say_problems(error: PolicyError, policies: Path, consequence: str) -> None:
    for problem in error.problems:
        say(str(problem))
    say(f"{len(error.problems)} problem(s) in {policies}; {consequence}.")


def on_graph(options: Options, work: Callable[[Graph, Layout], Coroutine[Any, Any, T]]) -> T | None:
    """`work` on Graph, bound to the tenant xtap.yaml names (the token is checked against it
    before any request), turning every expected failure into messages and `None`. The policy
    files load while `work` already reads the tenant (`planning.plan_with`): a problem in them is
    reported as `validate` reports it, and stops the command before anything is written. `work`
    is handed the folder's layout, so the command looks at the folder once."""
    bound = binding(options.policies, options.cloud)
    if bound is None:
        return None
    return run_graph(_on_bound(options, bound, work))


async def on_graph_of(
    options: Options, work: Callable[[Graph, Layout], Coroutine[Any, Any, T]]
) -> tuple[str | None, T | None]:
    """`on_graph` as a coroutine, for one tenant of many in one event loop (`tenants`), with the
    tenant the folder binds. Every expected failure is said and comes out as `None`, so it
    stops this tenant and no other. A folder that binds no tenant is refused: with many
    folders, each must say which tenant's token it takes, or two could plan one tenant."""
    bound = await asyncio.to_thread(binding, options.policies, options.cloud)
    if bound is None:
        return None, None
    tenant = bound[1]
    if tenant is None:
        say(
            f"Error: {options.policies / 'xtap.yaml'}: binds no tenant; with --tenants every folder names its "
            "tenant (tenant: <GUID>), so that each gets that tenant's token"
        )
        return None, None
    return tenant, await caught(_on_bound(options, bound, work))


async def _on_bound(
    options: Options, bound: tuple[Layout, str | None], work: Callable[[Graph, Layout], Coroutine[Any, Any, T]]
) -> T | None:
    layout, tenant = bound
    try:
        return await _bound(options, tenant, lambda graph: work(graph, layout))
    except PolicyError as exc:
        say_problems(exc, options.policies, "nothing was written to Graph")
        return None


def binding(policies: Path, cloud: str) -> tuple[Layout, str | None] | None:
    """The folder's layout, which the whole command works from, and the tenant xtap.yaml binds
    (`bound_tenant`), read before anything else. When xtap.yaml is invalid, the whole folder is
    checked, so every problem is listed at once as `validate` lists them; nothing is sent."""
    try:
        layout = read_layout(policies)
    except PolicyError as exc:  # no such folder
        say_problems(exc, policies, "nothing was sent to Graph")
        return None
    try:
        return layout, bound_tenant(layout)
    except PolicyError as exc:
        say_problems(_every_problem(layout, exc, cloud), policies, "nothing was sent to Graph")
        return None


def binding_if_there(options: Options, folder_given: bool) -> tuple[bool, str | None]:
    """For a command that reads the tenant and, of policies/, only what binds it (show, explain
    --live): whether the folder's binding could be read, and the tenant it binds. A folder that
    is not there binds nothing, unless it was named (`folder_given`): then it is an error, as for
    plan, since a mistyped folder must not skip the check."""
    if not (folder_given or options.policies.exists()):
        return True, None
    bound = binding(options.policies, options.cloud)
    return (False, None) if bound is None else (True, bound[1])


def bound_tenant(layout: Layout) -> str | None:
    """The tenant xtap.yaml binds, None if none; raises PolicyError like `load_settings`,
    which checks xtap.yaml as strictly as `validate`. A folder without xtap.yaml, and without
    a link leading out of it (which that refuses), has nothing to check: it binds no tenant,
    and the loader is not imported for it. Nor is it for the usual xtap.yaml, a tenant alone
    (`_only_a_tenant`)."""
    if not layout.links_outside:
        if layout.settings is None:
            return None
        tenant = _only_a_tenant(layout.settings)
        if tenant is not None:
            return tenant
    from reconciler.policies.settings_file import load_settings  # not the loader's front: see there

    return load_settings(layout).tenant


def _only_a_tenant(path: str) -> str | None:
    """The tenant of an xtap.yaml that holds nothing but `tenant: <GUID>` (in lower case, as
    `Settings` keeps it), else None. Such a file is valid for certain: every other setting is
    at its default, and a GUID is all `tenant` must be. So it binds its tenant without the
    settings' model, pydantic and the rules being imported before the first request; any
    other file, or one the reader finds a problem in, is checked whole by `load_settings`,
    and every file is again by `load_policies`."""
    from reconciler.policies.reader import parse

    doc = parse(path, [], empty_means={})
    if doc is None or not isinstance(doc.data, dict) or list(doc.data) != ["tenant"]:
        return None
    tenant = doc.data["tenant"]
    return tenant.lower() if isinstance(tenant, str) and is_guid(tenant) else None


def _every_problem(layout: Layout, found: PolicyError, cloud: str) -> PolicyError:
    from reconciler.policies.load import load_policies

    try:
        load_policies(layout, cloud=cloud)
    except PolicyError as exc:
        return exc
    return found  # the folder was fixed meanwhile; xtap.yaml's problem still stands


async def _bound(options: Options, tenant: str | None, work: Callable[[Graph], Coroutine[Any, Any, T]]) -> T:
    async with connect(options, tenant) as graph:
        return await work(graph)


def run_graph(work: Coroutine[Any, Any, T]) -> T | None:
    """Run a coroutine, turning every expected failure into a message and `None`. Ctrl-C comes
    out as `signals.Interrupted`, for the command line to exit with its code."""
    return signals.run(caught(work))


async def caught(work: Coroutine[Any, Any, T]) -> T | None:
    """`work`'s result, or `None` once an expected failure (sign-in, Graph, a plan file, the
    disk) is said. A plan file's error is known by its class, imported only when something
    failed: the plan file's module and the models it imports are not for a plan's first request."""
    from reconciler.graph.errors import GraphError, SignInFailed

    try:
        return await work
    except SignInFailed as exc:
        say_sign_in_failed(exc)
        return None
    except (GraphError, OSError, UnicodeDecodeError) as exc:
        say(f"Error: {exc}")
        return None
    except ValueError as exc:
        from reconciler.plan.file import PlanFileError

        if not isinstance(exc, PlanFileError):
            raise
        say(f"Error: {exc}")
        return None


def say_sign_in_failed(exc: SignInFailed) -> None:
    """No credential gave a token: what failed, then how to sign in, each its own short line
    (each escaped on its own, so none carries an escaped newline). What each credential said
    is long and mostly "not configured": its lines come only with XTAP_DEBUG; xtap doctor shows
    them too."""
    say(f"Error: {exc}")
    for line in exc.advice(detailed=debugging()):
        say(line)


def debugging() -> bool:
    """XTAP_DEBUG: tracebacks for internal errors, and the long form of what failed."""
    return bool(os.environ.get("XTAP_DEBUG"))


def connect(options: Options, tenant: str | None) -> Graph:
    """Graph for the options. `tenant` is the tenant policies/ is bound to (`Desired.tenant`):
    entering the client refuses a token for any other, before any request."""
    from reconciler.graph.client import connect as client

    return client(options.graph_url, options.cloud, options.access_token, options.timeout, tenant)


async def read_everything(options: Options, tenant: str | None) -> Live:
    """Every type the cloud's Graph has, as export writes it and `check --live` judges it."""
    async with connect(options, tenant) as graph:
        return await read_all(graph, options.cloud)


async def read_all(graph: Graph, cloud: str) -> Live:
    """Every type `cloud`'s Graph has, over a client already open: `check --live` goes on to look
    up names with it."""
    from reconciler.graph.read import read_live

    types = cloud_types(cloud)
    say(f"Reading the live tenant from {graph.base_url} ...")
    skipped = [rtype.name for rtype in REGISTRY if rtype.name not in types]
    if skipped:
        say(f"Not exported: {', '.join(skipped)}: Graph offers them only in the global cloud, not {cloud}.")
    live = await read_live(graph, types)
    say_skipped(live)
    return live


def say_unnamed(names: Names) -> None:
    """Once, which names could not be looked up and why: the reports show GUIDs there."""
    if names.unavailable:
        kinds = "; ".join(f"{kind}: {why}" for kind, why in names.unavailable.items())
        say(f"Names not shown, GUIDs instead ({kinds}). See docs/names.md for the permissions.")


def say_skipped(live: Live) -> None:
    """Once, what was not read for want of permission: it is left out of what follows."""
    for name, why in live.skipped.items():
        rtype = REGISTRY_BY_NAME[name]
        say(
            f"Skipped: {rtype.nested_key} ({name}) were not read, so they are left out: the token may not read "
            f"them ({why}). Reading them needs Policy.Read.All; writing them, {rtype.write_permission}."
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a plan's data is built (and in the load workers,
    which inherit it). Loading, reading and the compare allocate about a million objects that
    live until the plan is made, and each full collection they trigger walks every one of them
    and frees none: half a second of a plan of 10,000 partners, a quarter of its compare, a
    tenth of validate's CPU. Reference counting still frees everything that
    is not in a cycle (10 MB more peak memory at 10,000 partners, measured). Afterwards what
    was built is frozen (`gc.freeze`) before the collector resumes: its first collection would
    otherwise walk it all at once, 0.15 s, to free nothing; it is still freed when dropped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
