"""`xtap plan`: what apply would change, read-only; with the base branch's folder, also how the
pull request changes the settings that are never sent to Graph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reconciler.commands.planning import has_errors, plan_with
from reconciler.commands.run import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Formats, Options, on_graph, say
from reconciler.plan import file as planfile
from reconciler.plan.model import Plan, PolicySetting
from reconciler.plan.settings import changed, stated
from reconciler.policies.load import PolicyError, load_policies
from reconciler.render import plan as render

FORMATS = Formats[Plan](
    colored={"text": render.render_text},
    plain={"markdown": render.render_markdown, "json": render.render_json},
)


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
    print(FORMATS.render(result, fmt), end="")
    if has_errors(result):
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
