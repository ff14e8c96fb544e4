"""`xtap apply`: plan now, show the plan, confirm, write, and read back what was written. A
saved plan is applied only if it is exactly the plan made now, and the guardrails of `xtap
check` must pass first."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.commands import tenants
from reconciler.commands.check import findings
from reconciler.commands.planning import Planned, has_errors, plan_with
from reconciler.commands.run import (
    EXIT_ERROR,
    EXIT_OK,
    Options,
    connect,
    on_graph,
    on_graph_of,
    run_graph,
    say,
    say_problems,
    use_color,
)
from reconciler.core.desired import Desired
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.plan import file as planfile
from reconciler.plan.model import Plan
from reconciler.policies.load import Layout, PolicyError
from reconciler.render import outcome as outcomes
from reconciler.render import plan as render
from reconciler.render import progress
from reconciler.render.check import describe

if TYPE_CHECKING:
    from reconciler.graph.client import Graph

SHOWN_ITEMS = 3  # of the ids or files a missing permission stops, named in its error: the plan shows them all
# Requests out before `_sdk_loaded` imports: for a tenant read page by page, the default, the
# first page and the second, which is asked for once the first is in.
SECOND_PAGE_ASKED = 3
WATCH_S = 0.01  # how often `_sdk_loaded` looks at the requests sent


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
        code = on_graph(
            options, lambda graph, layout: _apply_saved(graph, layout, saved, plan_file, checks, options.cloud)
        )
        return EXIT_ERROR if code is None else code
    if auto_approve:
        # Nothing to ask, so the writes go over the client that read the plan: no second
        # sign-in check, client or connections between the plan shown and its first write.
        code = on_graph(options, lambda graph, layout: _plan_and_apply(graph, layout, options, checks))
        return EXIT_ERROR if code is None else code
    made = on_graph(options, lambda graph, layout: _plan_and_permissions(graph, layout, options.cloud))
    if made is None:
        return EXIT_ERROR
    planned, held = made
    stop = _shown_and_checked(planned, held, options.policies, checks)
    if stop is not None:
        return stop
    # Asked outside the Graph work, where Ctrl-C simply stops xtap: nothing has been written yet.
    if not _confirmed():
        say("Apply cancelled; nothing was changed.")
        return EXIT_ERROR
    code = run_graph(_apply_planned(options, planned))
    return EXIT_ERROR if code is None else code


async def _plan_and_apply(graph: Graph, layout: Layout, options: Options, checks: bool) -> int:
    """`apply --auto-approve` in one go: plan, show, check, write, read back. What the first
    write needs is imported while the tenant's pages are read (`_sdk_loaded`)."""
    sdk = asyncio.ensure_future(_sdk_loaded(graph))
    try:
        planned, held = await _plan_and_permissions(graph, layout, options.cloud)
    finally:
        sdk.cancel()  # a tenant read in fewer requests: the first write imports it
        await asyncio.gather(sdk, return_exceptions=True)
    stop = _shown_and_checked(planned, held, options.policies, checks)
    return stop if stop is not None else await _apply_changes(graph, planned)


async def _sdk_loaded(graph: Graph) -> None:
    """The SDK the writes go through (`batch.load_sdk`, a fifth of a second of CPU), imported in
    a thread once the tenant's second page is asked for: from then on the process mostly waits
    on Graph, and neither the first request nor the first page waits for the import."""
    from reconciler.graph.batch import load_sdk

    while graph.request_count < SECOND_PAGE_ASKED:
        await asyncio.sleep(WATCH_S)
    await asyncio.to_thread(load_sdk)


def _shown_and_checked(planned: Planned, held: frozenset[str] | None, policies: Path, checks: bool) -> int | None:
    """The plan shown, then the exit code if it must not be applied (plan errors, a failing
    guardrail, a missing permission, nothing to do); None when it may be."""
    fresh = planned.plan
    print(render.render_text(fresh, use_color(sys.stdout)), end="", flush=True)
    if has_errors(fresh) or (checks and not _guarded(planned.desired, policies)):
        return EXIT_ERROR
    if not _permitted(planned, held):
        return EXIT_ERROR
    if not fresh.has_changes:
        say("Nothing to apply.")
        return EXIT_OK
    return None


async def _plan_and_permissions(graph: Graph, layout: Layout, cloud: str) -> tuple[Planned, frozenset[str] | None]:
    """The plan made now, and what the token says it may do (read while the client is open:
    with azure-identity the token is the one the reads just used)."""
    planned = await plan_with(graph, layout, cloud=cloud)
    return planned, await graph.permissions()


def _permitted(planned: Planned, held: frozenset[str] | None) -> bool:
    """Whether the token may make every write the plan needs, as far as it says (`held`: its
    `roles` or `scp`; None when it says nothing readable, and then Graph decides). A write
    refused halfway leaves half a change in the tenant (a partner created, its capabilities
    refused), so a permission the plan needs and the token lacks stops apply before anything
    is sent; each missing permission is said, with what needs it."""
    if held is None:
        return True
    refusals = missing_permissions(planned, held)
    for refusal in refusals:
        say(f"Error: {refusal}")
    if refusals:
        say("The access token lacks a permission the plan needs; nothing was written.")
    return not refusals


def missing_permissions(planned: Planned, held: frozenset[str]) -> list[str]:
    """For each write permission the plan needs that `held` lacks: what needs it, and what to do
    instead. A type's writes need its registry entry's `write_permission`; the plan needs it
    for each change of the type, and for a type the token may not even read (`unread`) that the
    files declare: the plan leaves those out, and applying the rest would write half of what
    the files say (a partner without its capabilities)."""
    changed: dict[str, dict[str, list[str]]] = {}  # permission -> type -> the ids it changes
    for change in planned.plan.changes:
        permission = REGISTRY_BY_NAME[change.resource].write_permission
        if permission not in held:
            changed.setdefault(permission, {}).setdefault(change.resource, []).append(change.id)
    unread: dict[str, dict[str, list[str]]] = {}  # permission -> type -> the files declaring it
    for name in planned.unread:
        rtype, desired = REGISTRY_BY_NAME[name], planned.desired
        declared = [*desired.holders(name), *desired.of(name)]
        files = sorted({desired.instances[address].file for address in declared})
        if files and rtype.write_permission not in held:
            unread.setdefault(rtype.write_permission, {})[name] = files
    holds = ", ".join(sorted(held)) or "no permission"
    refusals = []
    for permission in dict.fromkeys([*changed, *unread]):
        by_type = changed.get(permission, {})
        reasons = [f"the plan changes {_counted(by_type)}"] if by_type else []
        reasons += [
            f"{_shown(files)} declare {REGISTRY_BY_NAME[name].nested_key or name}, which the token may not even "
            "read (so the plan leaves them out)"
            for name, files in unread.get(permission, {}).items()
        ]
        left_out = [
            rtype.nested_key
            for rtype in (REGISTRY_BY_NAME[name] for name in [*by_type, *unread.get(permission, {})])
            if rtype.nested_key is not None and rtype.absent_block_unmanaged
        ]
        instead = f" or leave {', '.join(dict.fromkeys(left_out))} out of the files" if left_out else ""
        refusals.append(
            f"{' and '.join(reasons)}, whose writes need {permission}, which the token lacks (it holds: {holds}); "
            f"grant it (docs/github.md){instead}"
        )
    return refusals


def _counted(by_type: dict[str, list[str]]) -> str:
    """`3 m365Capability(s) (id, id, id)`, type by type."""
    return " and ".join(f"{len(ids)} {name}(s) ({_shown(ids)})" for name, ids in by_type.items())


def _shown(items: list[str]) -> str:
    """The first few of `items`: the plan above shows them all."""
    more = f" and {len(items) - SHOWN_ITEMS} more" if len(items) > SHOWN_ITEMS else ""
    return ", ".join(items[:SHOWN_ITEMS]) + more


def _read_plan_file(plan_file: Path) -> Plan:
    """A saved plan, bounded in size before it is read (it is input like a policy file)."""
    size = plan_file.stat().st_size
    if size > planfile.MAX_BYTES:
        raise planfile.PlanFileError(f"{plan_file}: {size} bytes; a plan file is at most {planfile.MAX_BYTES}")
    return planfile.loads(plan_file.read_text(encoding="utf-8"), str(plan_file))


def apply_many(
    options: Options, patterns: Sequence[str], out_dir: Path, checks: bool = True, parallel: int = tenants.PARALLEL
) -> int:
    """The saved plan of each folder the patterns name, `out_dir/<name>/plan.json` as `xtap plan
    --tenants --out-dir` wrote it, applied as `xtap apply PLAN --auto-approve` applies one,
    `parallel` at once, each with the token of the tenant its xtap.yaml binds. What each wrote
    goes to `out_dir/<name>/apply.txt`, and on stdout one line per tenant. A tenant without a
    saved plan, or whose plan is refused, gets no write; the others go on."""
    named = tenants.named(patterns)
    if named is None:
        return EXIT_ERROR

    async def one(tenant: tenants.Tenant, into: Path) -> tenants.Outcome:
        plan_file = into / "plan.json"
        try:
            saved = _read_plan_file(plan_file)
        except (planfile.PlanFileError, OSError, UnicodeDecodeError) as exc:
            say(f"Error: no saved plan to apply ({exc}); plan it with xtap plan --tenants --out-dir {out_dir}")
            return tenants.Outcome(tenant, None, "error", EXIT_ERROR)
        lines: list[str] = []
        ours = replace(options, policies=tenant.policies)
        try:
            bound, code = await on_graph_of(
                ours, lambda graph, layout: _apply_saved(graph, layout, saved, plan_file, checks, options.cloud, lines)
            )
        finally:  # also when interrupted: what was written is on record
            (into / "apply.txt").write_text("".join(lines), encoding="utf-8")
        if code != EXIT_OK:
            return tenants.Outcome(tenant, bound, "error", EXIT_ERROR)
        return tenants.Outcome(tenant, bound, "applied" if saved.has_changes else "no-changes", EXIT_OK)

    outcomes, code = tenants.work_on(named, parallel, out_dir, one, "applied", detailed_exitcode=False)
    print(tenants.SUMMARIES["text"](outcomes), end="")
    return code


async def _apply_saved(
    graph: Graph,
    layout: Layout,
    saved: Plan,
    plan_file: Path,
    checks: bool,
    cloud: str,
    lines: list[str] | None = None,
) -> int:
    """A saved plan is untrusted input: anyone who can edit the file could retarget a write, add
    one, change a body or repeat one. So xtap plans again, from the same policies/ and the live
    tenant, and applies only if the saved plan is exactly that plan; what it sends are the
    requests it has just computed itself, never bytes from the file."""
    policies = layout.root
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
    fresh = await plan_with(graph, layout, cloud=cloud)
    if has_errors(fresh.plan):
        return EXIT_ERROR
    refusal = _saved_plan_refusal(saved, fresh.plan, policies)
    if refusal is not None:
        say(f"Error: {plan_file} {refusal}. Nothing was written; run xtap plan again and review the new plan.")
        return EXIT_ERROR
    if checks and not _guarded(fresh.desired, policies):
        return EXIT_ERROR
    if not _permitted(fresh, await graph.permissions()):
        return EXIT_ERROR
    return await _apply_changes(graph, fresh, lines)


def _guarded(desired: Desired, policies: Path) -> bool:
    """Whether the offline guardrails let apply go on: no rule of severity error fails on the
    desired state (waivers in force count, as in `xtap check`). Apply is where a failing check
    must stop, not only the pull request's status: a merge does not wait for a red check unless
    branch protection says so. Otherwise each failing finding is said, and nothing is written."""
    try:
        checked = findings(desired)
    except PolicyError as exc:  # a rule of your own that could not be judged
        say_problems(exc, policies, "nothing was written")
        return False
    if not checked.failed:
        return True
    failing = [located for located in checked.found if located.finding.fails]
    for located in failing:
        say(f"Error: {describe(located)}")
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
    async with connect(options, planned.plan.tenant) as graph:
        return await _apply_changes(graph, planned)


async def _apply_changes(graph: Graph, planned: Planned, lines: list[str] | None = None) -> int:
    """The plan's writes, each outcome on stdout as it comes, or, for one tenant of many, kept
    in `lines` (uncoloured) for its own file; then the read-back that verifies them."""
    from reconciler.apply.verify import read_back
    from reconciler.apply.writes import Outcome, apply_plan
    from reconciler.graph.errors import GraphError

    plan = planned.plan
    if not plan.has_changes:
        say("Nothing to apply.")
        return EXIT_OK
    color = lines is None and use_color(sys.stdout)

    def out(text: str) -> None:
        if lines is None:
            print(text, end="", flush=True)
        else:
            lines.append(text)

    with progress.applying(len(plan.changes)) as advance:

        def reported(outcome: Outcome) -> None:
            out(outcomes.render_outcome(outcome, color) + "\n")
            advance(1)

        report = await apply_plan(graph, plan, reported)
    out(outcomes.render_apply_summary(report, color))
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
