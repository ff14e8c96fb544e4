"""What each command does, as plain functions returning the exit code (docs/commands.md).

`cli` only parses options and calls these; `demo` calls them too, so the demo shows exactly
what a user sees. Reports go to stdout (pure: JSON parses, markdown is only the report);
progress, errors and prompts go to stderr. msgraph-sdk is imported only by the commands that
talk to Graph, so `xtap validate` stays fast and works offline.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.core import signals
from reconciler.core.address import Address, PropertyPath
from reconciler.core.clouds import DEFAULT_TIMEOUT, cloud_types
from reconciler.core.desired import Desired
from reconciler.core.escape import visible
from reconciler.core.live import Live
from reconciler.core.models import is_guid
from reconciler.core.registry import DEFAULT, PARTNER, REGISTRY
from reconciler.core.settings import Settings
from reconciler.plan import file as planfile
from reconciler.plan.drift import Drift
from reconciler.plan.effective import Setting, effective
from reconciler.plan.model import Plan, PolicySetting
from reconciler.plan.planner import Forms, make_plan
from reconciler.plan.settings import changed, stated
from reconciler.policies import schema as json_schema
from reconciler.policies.load import (
    SETTINGS_FILE,
    PolicyError,
    Problem,
    load_policies,
    load_settings,
    positions,
    workers,
)
from reconciler.render import drift as render_drift
from reconciler.render import plan as render
from reconciler.render import progress

if TYPE_CHECKING:
    from reconciler.check.engine import Finding
    from reconciler.graph.client import Graph
    from reconciler.render.check import Checked, Located

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """The options every Graph command shares: where the desired state is, which Graph to use,
    how long to wait for it, and the bearer token to use as is (None: azure-identity's).
    The command line reads the token from the environment; nothing below it does."""

    policies: Path
    graph_url: str | None = None
    cloud: str = "global"
    timeout: float = DEFAULT_TIMEOUT
    access_token: str | None = field(default=None, repr=False)  # a secret: kept out of any repr


def say(message: str) -> None:
    """One line of progress or error on stderr, so stdout stays a clean report (flushed first, so
    the two interleave in order when both go to one log). Messages quote file names, keys and
    Graph's words, so the whole line is escaped (`escape.visible`): one line in, one line out."""
    sys.stdout.flush()
    print(visible(message), file=sys.stderr, flush=True)


def use_color(stream: object) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def validate(policies: Path) -> int:
    desired = _load(policies, bodies=False)
    if desired is None:
        return EXIT_ERROR
    counts = [f"{rtype.name}: {len(desired.of(rtype.name))}" for rtype in REGISTRY if desired.manages(rtype.name)]
    say(f"{policies}: valid ({', '.join(counts) or 'no policies'}).")
    return EXIT_OK


def schema(out: Path | None = None) -> int:
    """Every policy file type's JSON Schema: printed as one object by name, or written into
    `out` as one file each, the files a modeline or check-jsonschema points at."""
    if out is None:
        print(json_schema.dumps(json_schema.schemas()), end="")
        return EXIT_OK
    try:
        written = json_schema.write(out)
    except OSError as exc:
        say(f"Error: cannot write the schemas to {out}: {exc.strerror}")
        return EXIT_ERROR
    say(f"Wrote {', '.join(path.name for path in written)} to {out}.")
    return EXIT_OK


def plan(
    options: Options,
    fmt: str = "text",
    out: Path | None = None,
    detailed_exitcode: bool = False,
    base: Path | None = None,
) -> int:
    """The plan; with `base` (the same folder as the base branch has it), also how the pull
    request changes the settings that are never sent to Graph (`plan_settings`)."""
    before = None if base is None else _base_settings(base)
    planned = _on_graph(options, lambda graph: _plan_with(graph, options.policies))
    if planned is None:
        return EXIT_ERROR
    result = planned.plan
    if before is not None:
        result = replace(result, settings_changes=changed(before, result.settings))
    if out is not None:
        try:
            out.write_text(planfile.dumps(result), encoding="utf-8")
        except OSError as exc:
            say(f"Error: cannot write the plan to {out}: {exc.strerror}")
            return EXIT_ERROR
        say(f"Plan saved to {out}; apply it with: xtap apply {out}")
    print(_render(result, fmt), end="")
    if _has_errors(result):
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK


def _base_settings(base: Path) -> tuple[PolicySetting, ...]:
    """The settings of the base branch's folder. A folder the base does not have yet (a new
    tenant) has every setting at its default; one the base cannot load still shows the settings
    in force, with a warning that their changes cannot be shown."""
    if not base.exists():
        return ()
    try:
        return stated(load_policies(base, bodies=False))
    except PolicyError as exc:
        say(
            f"Warning: the base folder {base} does not load ({len(exc.problems)} problem(s)); "
            "every setting in force shows as changed from its default."
        )
        return ()


def apply(options: Options, plan_file: Path | None = None, auto_approve: bool = False, checks: bool = True) -> int:
    """Plan now, show it, confirm, apply. With a saved plan, apply it only if it is exactly the
    plan made now from the same policies/ and the same tenant (see `_apply_saved`). Either way
    the tenant is read once for the plan, and once more to verify what was written. Unless
    `checks` is off, the offline guardrails (`xtap check`) must pass first (`_guarded`)."""
    if not checks:
        say(
            "Warning: --skip-checks: the guardrails of xtap check are NOT run; whatever the plan holds "
            "is applied even where a rule of severity error fails."
        )
    if plan_file is not None:
        try:
            saved = _read_plan_file(plan_file)
        except (planfile.PlanFileError, OSError, UnicodeDecodeError) as exc:
            say(f"Error: {exc}")
            return EXIT_ERROR
        code = _on_graph(options, lambda graph: _apply_saved(graph, options.policies, saved, plan_file, checks))
        return EXIT_ERROR if code is None else code
    planned = _on_graph(options, lambda graph: _plan_with(graph, options.policies))
    if planned is None:
        return EXIT_ERROR
    fresh = planned.plan
    print(render.render_text(fresh, use_color(sys.stdout)), end="")
    if _has_errors(fresh) or (checks and not _guarded(planned.desired, options.policies)):
        return EXIT_ERROR
    if not fresh.has_changes:
        say("Nothing to apply.")
        return EXIT_OK
    # Asked outside the Graph work, where Ctrl-C simply stops xtap: nothing has been written yet.
    if not auto_approve and not _confirmed():
        say("Apply cancelled; nothing was changed.")
        return EXIT_ERROR
    code = _run(_apply_planned(options, planned))
    return EXIT_ERROR if code is None else code


def show(options: Options, tenant_id: str | None = None, fmt: str = "text") -> int:
    """Each partner's settings in effect (or one partner's), its own or inherited from the
    default. Read-only, and policies/ is not read: this is the tenant as it is."""
    if tenant_id is not None and not is_guid(tenant_id):
        say(f"Error: {tenant_id!r} is not a tenant id (a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)")
        return EXIT_ERROR
    shown = _run(_effective(options, tenant_id))
    if shown is None:
        return EXIT_ERROR
    if tenant_id is not None and not shown:
        say(f"Error: the tenant has no partner {tenant_id.lower()}")
        return EXIT_ERROR
    print(render.render_show_json(shown) if fmt == "json" else render.render_show(shown, use_color(sys.stdout)), end="")
    return EXIT_OK


async def _effective(options: Options, tenant_id: str | None) -> list[tuple[Address, tuple[Setting, ...]]]:
    from reconciler.graph.read import read_live

    async with _connect(options, None) as graph:  # policies/ is not read, so no tenant is bound
        say(f"Reading the live tenant from {graph.base_url} ...")
        live = await read_live(graph, (PARTNER.name, DEFAULT.name))
    source = live.instances.get(Address(DEFAULT.name, DEFAULT.singleton_id or ""))
    return [
        (address, effective(PARTNER, wire, source))
        for address, wire in sorted(live.of(PARTNER.name).items())
        if tenant_id is None or address.id == tenant_id.lower()
    ]


def _has_errors(plan: Plan) -> bool:
    """Says so when some resource cannot be brought to its file's state. Nothing is applied
    then, not even the other changes: a half-applied policy is harder to review than none."""
    for error in plan.errors:
        say(f"Error: {error.source}: {' '.join(filter(None, (error.resource, error.id)))}: {error.message}")
    if plan.errors:
        say(f"{len(plan.errors)} error(s) in the plan; nothing can be applied until they are fixed.")
    return bool(plan.errors)


def _load(policies: Path, bodies: bool = True) -> Desired | None:
    try:
        with _collector_paused(), workers(policies) as pool:
            return load_policies(policies, bodies, pool)
    except PolicyError as exc:
        _say_problems(exc, policies, "nothing was sent to Graph")
        return None


def _say_problems(error: PolicyError, policies: Path, consequence: str) -> None:
    for problem in error.problems:
        say(str(problem))
    say(f"{len(error.problems)} problem(s) in {policies}; {consequence}.")


def _on_graph(options: Options, work: Callable[[Graph], Coroutine[Any, Any, T]]) -> T | None:
    """`work` on Graph, bound to the tenant xtap.yaml names (the token is checked against it
    before any request), turning every expected failure into messages and `None`. The policy
    files load while `work` already reads the tenant (`_plan_with`): a problem in them is
    reported as `validate` reports it, and stops the command before anything is written."""
    settings = _binding(options.policies)
    if settings is None:
        return None
    try:
        return _run(_bound(options, settings.tenant, work))
    except PolicyError as exc:
        _say_problems(exc, options.policies, "nothing was written to Graph")
        return None


def _binding(policies: Path) -> Settings | None:
    """xtap.yaml alone, read before anything else. When it is invalid, the whole folder is
    checked, so every problem is listed at once as `validate` lists them; nothing is sent."""
    try:
        return load_settings(policies)
    except PolicyError as exc:
        _say_problems(_every_problem(policies, exc), policies, "nothing was sent to Graph")
        return None


def _every_problem(policies: Path, found: PolicyError) -> PolicyError:
    try:
        load_policies(policies)
    except PolicyError as exc:
        return exc
    return found  # the folder was fixed meanwhile; xtap.yaml's problem still stands


async def _bound(options: Options, tenant: str | None, work: Callable[[Graph], Coroutine[Any, Any, T]]) -> T:
    async with _connect(options, tenant) as graph:
        return await work(graph)


def _run(work: Coroutine[Any, Any, T]) -> T | None:
    """Run a coroutine, turning every expected failure into a message and `None`. Ctrl-C comes
    out as `signals.Interrupted`, for the command line to exit with its code."""
    from reconciler.graph.client import GraphError
    from reconciler.plan.file import PlanFileError

    try:
        return signals.run(work)
    except (GraphError, PlanFileError, OSError, UnicodeDecodeError) as exc:
        say(f"Error: {exc}")
        return None


def _connect(options: Options, tenant: str | None) -> Graph:
    """Graph for the options. `tenant` is the tenant policies/ is bound to (`Desired.tenant`):
    entering the client refuses a token for any other, before any request."""
    from reconciler.graph.client import connect

    return connect(options.graph_url, options.cloud, options.access_token, options.timeout, tenant)


@dataclass(frozen=True)
class Planned:
    """A plan and the GETs it took: the verifying re-read after apply may cost as much."""

    plan: Plan
    reads: int
    desired: Desired  # what the plan was made from: apply's guardrails judge it


async def _plan_with(graph: Graph, policies: Path, prune: bool = True) -> Planned:
    """The plan of policies/ against the tenant; without its prune deletes unless `prune`
    (drift reports unmanaged partners, it does not plan deletes). The files load while the
    tenant is read (in worker processes when there are many, `load.workers`; else in a
    thread), so the slower of the two sets the pace, not their sum.
    Reads may start before a file turns out bad (then they are cancelled); a write never does."""
    from reconciler.graph.read import folder_scope, read_live, scope
    from reconciler.plan.ahead import Ahead

    before = graph.request_count
    reads = folder_scope(policies)
    ahead = Ahead()
    with _collector_paused(), workers(policies, reserve=1) as pool, progress.reading(PARTNER.name + "s") as on_page:

        def heard(found: dict[Address, dict[str, Any]]) -> None:
            on_page(sum(1 for address in found if address.resource == PARTNER.name))
            ahead.read(found)

        reading = asyncio.ensure_future(read_live(graph, reads, heard))
        try:
            desired = await asyncio.to_thread(load_policies, policies, True, pool)
        except BaseException:
            await _cancelled(reading)
            raise
        if not prune:
            desired = replace(desired, prune=None)
        # Said once the files are good, so a bad folder's output is exactly validate's.
        say(f"Reading the live tenant from {graph.base_url} ...")
        ahead.loaded(desired)
        live = await reading
        if desired.tenant != graph.tenant or scope(desired) != reads:
            raise PolicyError([Problem.whole(policies, "changed while xtap read it; run xtap again")])
        counts = ", ".join(f"{name}: {len(live.of(name))}" for name in live.read)
        say(f"Read {counts} ({graph.request_count} request(s)).")
        plan = replace(_compare(desired, live, ahead.finish()), graph_url=graph.base_url, tenant=graph.tenant)
        return Planned(plan, graph.request_count - before, desired)


async def _cancelled(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait for it to end, keeping whatever it raised: another error won, and
    this one must not resurface as "Task exception was never retrieved"."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _compare(desired: Desired, live: Live, ahead: Forms | None = None) -> Plan:
    with _collector_paused():
        return make_plan(desired, live, ahead)


@contextmanager
def _collector_paused() -> Iterator[None]:
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


def _read_plan_file(plan_file: Path) -> Plan:
    """A saved plan, bounded in size before it is read (it is input like a policy file)."""
    size = plan_file.stat().st_size
    if size > planfile.MAX_BYTES:
        raise planfile.PlanFileError(f"{plan_file}: {size} bytes; a plan file is at most {planfile.MAX_BYTES}")
    return planfile.loads(plan_file.read_text(encoding="utf-8"), str(plan_file))


async def _apply_saved(graph: Graph, policies: Path, saved: Plan, plan_file: Path, checks: bool) -> int:
    """A saved plan is untrusted input: anyone who can edit the file could retarget a write, add
    one, change a body or repeat one. So xtap plans again, from the same policies/ and the live
    tenant, and applies only if the saved plan is exactly that plan; what it sends are the
    requests it has just computed itself, never bytes from the file."""
    if saved.graph_url != graph.base_url:
        say(
            f"Error: {plan_file} was planned against {saved.graph_url}, not {graph.base_url}; "
            "apply it with the same --graph-url/--cloud, or plan again."
        )
        return EXIT_ERROR
    if saved.tenant != graph.tenant:
        say(
            f"Error: {plan_file} was planned for {_tenant(saved.tenant)}, but {policies} is bound to "
            f"{_tenant(graph.tenant)} (xtap.yaml); nothing was written. Plan again."
        )
        return EXIT_ERROR
    fresh = await _plan_with(graph, policies)
    if _has_errors(fresh.plan):
        return EXIT_ERROR
    refusal = _saved_plan_refusal(saved, fresh.plan, policies)
    if refusal is not None:
        say(f"Error: {plan_file} {refusal}. Nothing was written; run xtap plan again and review the new plan.")
        return EXIT_ERROR
    if checks and not _guarded(fresh.desired, policies):
        return EXIT_ERROR
    return await _apply_changes(graph, fresh)


def _guarded(desired: Desired, policies: Path) -> bool:
    """Whether the offline guardrails let apply go on: no rule of severity error fails on the
    desired state (waivers in force count, as in `xtap check`). Apply is where a failing check
    must stop, not only the pull request's status: a merge does not wait for a red check unless
    branch protection says so. Otherwise each failing finding is said, and nothing is written."""
    from reconciler.render import check as render_check

    try:
        checked = _findings(desired)
    except PolicyError as exc:  # a rule of your own that could not be judged
        _say_problems(exc, policies, "nothing was written")
        return False
    if not checked.failed:
        return True
    failing = [located for located in checked.found if located.finding.fails]
    for located in failing:
        say(f"Error: {render_check.describe(located)}")
    say(
        f"{len(failing)} guardrail error(s) (xtap check); nothing was written. Fix the files, waive the finding "
        "in the file's xtap: key, or, knowingly, apply with --skip-checks."
    )
    return False


def _saved_plan_refusal(saved: Plan, fresh: Plan, policies: Path) -> str | None:
    """Why `saved` must not be applied, given the plan made now; None if it is the same plan."""
    if saved.scope != fresh.scope:
        return f"covers {', '.join(saved.scope)}, but {policies} now manages {', '.join(fresh.scope)}"
    if saved.live_digest != fresh.live_digest:
        return "is stale: the tenant changed since it was planned"
    difference = planfile.difference(saved, fresh)
    return None if difference is None else f"is not the plan xtap makes from {policies} and the tenant: {difference}"


def _tenant(tenant: str | None) -> str:
    return "no tenant" if tenant is None else f"tenant {tenant}"


async def _apply_planned(options: Options, planned: Planned) -> int:
    async with _connect(options, planned.plan.tenant) as graph:
        return await _apply_changes(graph, planned)


async def _apply_changes(graph: Graph, planned: Planned) -> int:
    from reconciler.apply.verify import read_back
    from reconciler.apply.writes import Outcome, apply_plan
    from reconciler.graph.client import GraphError

    plan = planned.plan
    if not plan.has_changes:
        say("Nothing to apply.")
        return EXIT_OK
    color = use_color(sys.stdout)
    with progress.applying(len(plan.changes)) as advance:

        def reported(outcome: Outcome) -> None:
            print(render.render_outcome(outcome, color), flush=True)
            advance(1)

        report = await apply_plan(graph, plan, reported)
    print(render.render_apply_summary(report, color), end="")
    if report.interrupted:
        raise asyncio.CancelledError  # reported; now stop as the signal asked (`signals.run`)
    if report.count("applied"):
        try:
            problems = await read_back(graph, report, plan.scope, planned.reads)
        except GraphError as exc:
            say(f"Warning: could not read the tenant back to verify the apply: {exc}")
        else:
            for problem in problems:
                say(f"Warning: {problem} (Graph may still be replicating; run xtap plan to check).")
    return EXIT_OK if report.ok else EXIT_ERROR


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        say("Error: apply needs confirmation; run it in a terminal or pass --auto-approve.")
        return False
    print("\nDo you want to perform these actions? Only 'yes' will be accepted: ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip() == "yes"


def _render(result: Plan, fmt: str) -> str:
    if fmt == "json":
        return render.render_json(result)
    if fmt == "markdown":
        return render.render_markdown(result)
    return render.render_text(result, use_color(sys.stdout))


# --- drift -------------------------------------------------------------------------------------

# How far back `drift --attribute` reads the directory audit log: Entra keeps it 30 days
# (with an Entra ID P1 or P2 licence; 7 without).
AUDIT_DAYS = 30


def drift(options: Options, fmt: str = "text", attribute: bool = False) -> int:
    """What changed behind git's back: live vs policies/, read-only. Exit 2 on drift, so a
    scheduled job can open an issue on that code alone."""
    found = _on_graph(options, lambda graph: _drift(graph, options.policies, attribute))
    if found is None:
        return EXIT_ERROR
    print(_render_drift(found, fmt), end="")
    return EXIT_CHANGES if found.has_drift else EXIT_OK


async def _drift(graph: Graph, policies: Path, attribute: bool) -> Drift:
    from reconciler.plan.drift import from_plan

    found = from_plan((await _plan_with(graph, policies, prune=False)).plan)  # prune acts at apply only
    return await _attributed(graph, found) if attribute else found


async def _attributed(graph: Graph, found: Drift) -> Drift:
    """`found` with who changed each drifted resource, from one filtered, paged query of the
    directory audit log (not one per resource). Without the permission, or when Graph refuses
    the query, the drift still stands and the report says why it names no one."""
    from reconciler.graph.audit import directory_audits
    from reconciler.graph.client import GraphError
    from reconciler.plan.drift import AUDIT_CATEGORIES, attribute, not_attributed

    if not found.has_drift:
        return attribute(found, ())
    try:
        entries = await directory_audits(graph, AUDIT_CATEGORIES, datetime.now(UTC) - timedelta(days=AUDIT_DAYS))
    except GraphError as exc:
        reason = "the identity lacks AuditLog.Read.All (Graph answered 403)" if exc.status == 403 else str(exc)
        say(f"Warning: attribution was not possible: {reason}")
        return not_attributed(found, reason)
    say(f"Read {len(entries)} audit entries of the last {AUDIT_DAYS} days.")
    return attribute(found, entries)


def _render_drift(found: Drift, fmt: str) -> str:
    if fmt == "json":
        return render_drift.render_drift_json(found)
    if fmt == "markdown":
        return render_drift.render_drift_markdown(found)
    return render_drift.render_drift_text(found, use_color(sys.stdout))


# --- export ------------------------------------------------------------------------------------


def export(options: Options, out: Path | None = None) -> int:
    """The live tenant written as a policies/ folder (`out`, default --policies) that plans to
    zero changes; over an existing folder, an edit of it. The folder is validated first, since
    its files say which partner keeps which file, and again after, as `plan` will read it."""
    from reconciler.policies.export import ExportRefused, targets, write

    folder = options.policies if out is None else out
    if folder.exists() and not folder.is_dir():
        say(f"Error: {folder} is not a folder; export writes a policies/ folder")
        return EXIT_ERROR
    existing = _load(folder) if folder.is_dir() else Desired()
    if existing is None:
        return EXIT_ERROR
    live = _run(_read_everything(options, existing.tenant, cloud_types(options.cloud)))
    if live is None:
        return EXIT_ERROR
    found, stale = targets(live, existing, folder)
    try:
        outcome = write(folder, found)
    except (ExportRefused, OSError) as exc:
        say(f"Error: {exc}; nothing more was written.")
        return EXIT_ERROR
    for file, tenant in stale:
        say(f"Stale: {file} declares partner {tenant}, which the tenant no longer has; left as is.")
    say(_exported(live, folder, len(outcome.written), outcome.unchanged))
    return EXIT_OK if _load_exported(folder) else EXIT_ERROR


async def _read_everything(options: Options, tenant: str | None, types: tuple[str, ...]) -> Live:
    from reconciler.graph.read import read_live

    async with _connect(options, tenant) as graph:
        say(f"Reading the live tenant from {graph.base_url} ...")
        skipped = [rtype.name for rtype in REGISTRY if rtype.name not in types]
        if skipped:
            say(f"Not exported: {', '.join(skipped)}: Graph offers them only in the global cloud, not {options.cloud}.")
        return await read_live(graph, types)


def _exported(live: Live, folder: Path, written: int, unchanged: int) -> str:
    partners = len(live.of(PARTNER.name))
    syncs = sum(len(live.of(child)) for child in PARTNER.children)
    singletons = ", ".join(rtype.name for rtype in REGISTRY if rtype.singleton_id and rtype.name in live.read)
    return (
        f"Exported {partners} partners ({syncs} with identity sync), {singletons} to {folder}: "
        f"{written} file(s) written, {unchanged} unchanged."
    )


def _load_exported(folder: Path) -> bool:
    """Whether the folder as written validates. It fails only where Graph holds a value xtap
    refuses in a file (say `unknownFutureValue`): each problem names its file and line."""
    try:
        load_policies(folder)
    except PolicyError as exc:
        for problem in exc.problems:
            say(str(problem))
        say(f"{len(exc.problems)} problem(s) in the exported {folder}: fix them by hand before planning.")
        return False
    return True


# --- check -------------------------------------------------------------------------------------


def check(options: Options, live: bool = False, fmt: str = "text") -> int:
    """Guardrail rules over policies/ and, with `live`, over the tenant as it is (what drifted in
    out of band). Exit 1 when a rule of severity error fails, or on bad input: nothing is
    written, and without `live` nothing is sent to Graph at all."""
    desired = _load(options.policies)
    if desired is None:
        return EXIT_ERROR
    state = None
    if live:
        state = _run(_read_everything(options, desired.tenant, cloud_types(options.cloud)))
        if state is None:
            return EXIT_ERROR
    try:
        checked = _findings(desired, state)
    except PolicyError as exc:  # a rule of your own that could not be judged
        _say_problems(exc, options.policies, "the check cannot pass until it is fixed")
        return EXIT_ERROR
    print(_render_check(checked, fmt), end="")
    return EXIT_ERROR if checked.failed else EXIT_OK


def _findings(desired: Desired, state: Live | None = None) -> Checked:
    """Every finding of the rules in force over `desired` (and `state`), located in its file,
    and the rules turned off: what `xtap check` reports and `xtap apply` must pass. A rule of
    your own that cannot be judged (over its budget, or the CEL library crashed on it) is a
    PolicyError at the rule in xtap.yaml, as one that does not compile is."""
    from reconciler.check.builtin import BUILTIN
    from reconciler.check.engine import RuleStopped, effective_rules, evaluate, subjects
    from reconciler.render.check import Checked

    rules, off = effective_rules(BUILTIN, desired.rules)
    try:
        judged = evaluate(rules, subjects(desired, state), datetime.now(UTC).date())
    except RuleStopped as exc:
        raise PolicyError([_rule_problem(desired, exc.rule_id, str(exc))]) from None
    return Checked(_locate(judged), off)


def _locate(judged: Iterable[Finding]) -> list[Located]:
    """Each finding with its position, reading each file with findings once more, in file order
    and the live tenant's (which no file declares) last."""
    from reconciler.render.check import Located

    judged = list(judged)
    paths: dict[str, set[PropertyPath]] = {}
    for finding in judged:
        if finding.subject.file is not None:
            paths.setdefault(finding.subject.file, set()).add(finding.file_path)
    found = {file: positions(file, wanted) for file, wanted in paths.items()}
    located = [
        Located(finding, None if (file := finding.subject.file) is None else (file, *found[file][finding.file_path]))
        for finding in judged
    ]
    return sorted(located, key=lambda item: (item.at is None, item.at or ("", 0, 0)))


def _rule_problem(desired: Desired, rule_id: str, message: str) -> Problem:
    """A problem at the expression of the rule `rule_id` in xtap.yaml."""
    file = desired.setting_sources.get("rules", SETTINGS_FILE).rsplit(":", 1)[0]
    line, col = positions(file, [("rules", rule_id, "expression")]).get(("rules", rule_id, "expression"), (1, 1))
    return Problem(file, line, col, message)


def _render_check(checked: Checked, fmt: str) -> str:
    from importlib.metadata import version

    from reconciler.render import check as render_check

    if fmt == "json":
        return render_check.findings_json(checked)
    if fmt == "sarif":
        return render_check.findings_sarif(checked, version("xtap"))
    if fmt == "github":
        return render_check.findings_github(checked)
    return render_check.findings_text(checked)
