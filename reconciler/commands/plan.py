"""`xtap plan`: what apply would change, read-only; with the base branch's folder, also how the
pull request changes the settings that are never sent to Graph.

Its renderers, the plan file and the settings' diff are imported when they are used, after the
tenant is read: the plan's first request to Graph does not wait for them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.commands import tenants
from reconciler.commands.planning import has_errors, plan_with
from reconciler.commands.run import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Formats, Options, on_graph, on_graph_of, say

if TYPE_CHECKING:
    from reconciler.plan.model import Plan, PolicySetting


def _text(plan: Plan, colored: bool) -> str:
    from reconciler.render.plan import render_text

    return render_text(plan, colored)


def _markdown(plan: Plan) -> str:
    from reconciler.render.plan import render_markdown

    return render_markdown(plan)


def _json(plan: Plan) -> str:
    """The plan file: `--format json` prints it, `--out` saves it, `xtap apply PLAN` reads it."""
    from reconciler.render.plan import render_json

    return render_json(plan)


FORMATS: Formats[Plan] = Formats(colored={"text": _text}, plain={"markdown": _markdown, "json": _json})


def plan(
    options: Options,
    fmt: str = "text",
    out: Path | None = None,
    detailed_exitcode: bool = False,
    base: Path | None = None,
) -> int:
    """The plan; with `base` (the same folder as the base branch has it), also how the pull
    request changes the settings that are never sent to Graph (`plan.settings`)."""
    before = None if base is None else _base_settings(base)
    planned = on_graph(options, lambda graph, layout: plan_with(graph, layout, cloud=options.cloud))
    if planned is None:
        return EXIT_ERROR
    result = _with_base(planned.plan, before)
    if out is not None:
        try:
            out.write_text(_json(result), encoding="utf-8")
        except OSError as exc:
            say(f"Error: cannot write the plan to {out}: {exc.strerror}")
            return EXIT_ERROR
        say(f"Plan saved to {out}; apply it with: xtap apply {out}")
    print(FORMATS.render(result, fmt), end="")
    if has_errors(result):
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK


def plan_many(
    options: Options,
    patterns: Sequence[str],
    out_dir: Path,
    fmt: str = "text",
    detailed_exitcode: bool = False,
    base_dir: Path | None = None,
    parallel: int = tenants.PARALLEL,
) -> int:
    """The plan of each folder the patterns name, `parallel` at once, each with the token of the
    tenant its xtap.yaml binds: `out_dir/<name>/plan.json` (as `--out` saves it) and
    `out_dir/<name>/report.<ext>` (`fmt`, without color), and on stdout one line per tenant.
    With `base_dir` (the base branch's checkout), each folder's settings are compared with the
    same path under it."""
    named = tenants.named(patterns)
    if named is None:
        return EXIT_ERROR

    async def one(tenant: tenants.Tenant, into: Path) -> tenants.Outcome:
        base = None if base_dir is None else base_dir / tenant.policies
        before = None if base is None else await asyncio.to_thread(_base_settings, base)
        ours = replace(options, policies=tenant.policies)
        bound, planned = await on_graph_of(ours, lambda graph, layout: plan_with(graph, layout, cloud=options.cloud))
        if planned is None:
            return tenants.Outcome(tenant, bound, "error", EXIT_ERROR)
        result = _with_base(planned.plan, before)
        report = FORMATS.render(result, fmt, colored=False)
        await tenants.write(into, {"plan.json": _json(result), tenants.report_name(fmt): report})
        if has_errors(result):
            return tenants.Outcome(tenant, bound, "error", EXIT_ERROR)
        if result.has_changes:
            return tenants.Outcome(tenant, bound, "changes", EXIT_CHANGES)
        return tenants.Outcome(tenant, bound, "no-changes", EXIT_OK)

    outcomes, code = tenants.work_on(named, parallel, out_dir, one, "changes", detailed_exitcode)
    print(tenants.SUMMARIES[fmt](outcomes), end="")
    return code


def _with_base(result: Plan, before: tuple[PolicySetting, ...] | None) -> Plan:
    from reconciler.plan.settings import changed

    return result if before is None else replace(result, settings_changes=changed(before, result.settings))


def _base_settings(base: Path) -> tuple[PolicySetting, ...]:
    """The settings of the base branch's folder. A folder the base does not have yet (a new
    tenant) has every setting at its default; one the base cannot load still shows the settings
    in force, with a warning that their changes cannot be shown."""
    from reconciler.plan.settings import stated
    from reconciler.policies.load import PolicyError, load_policies

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
