"""Showing a plan to people (text for a terminal, markdown for a pull request) and to programs (JSON).

Renderers are pure functions from `Plan` to `str`: they know nothing about Graph, files or
terminals, so the CLI decides where output goes and whether colour is wanted, and tests need no I/O.

Every string that comes from outside the program (a policy file path, a tenant id or a value read
from Graph) goes through `escape.visible` on its way into the report, so a crafted file name cannot
act on the terminal or the CI log that shows the plan (see `escape`). In markdown, file names,
messages and reasons also go through `escape.markdown_text`, so none turns into a link, an
image, a tag or a mention; ids and values go in code spans and fences, which GitHub shows as
they are.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from reconciler.core.escape import markdown_text, visible
from reconciler.core.request import Request
from reconciler.plan import file as planfile
from reconciler.plan.model import (
    ACTIONS,
    SETTINGS_SCOPE,
    Action,
    Change,
    DiffEntry,
    Plan,
    PlanError,
    PolicySetting,
    Unmanaged,
)
from reconciler.plan.risk import CLASSES, Risk, by_risk, classify
from reconciler.render.markdown import MARKDOWN_LIMIT, Block, count_table, fit
from reconciler.render.names import Named, md_table, named_in, tenant_name, text_lines
from reconciler.render.terminal import (
    BOLD,
    DIM,
    GREEN,
    RED,
    SHOW_WIDTH,
    Paint,
    clip,
    painter,
    printable_json,
    quantity,
)

SYMBOLS: dict[Action, str] = {"create": "+", "update": "~", "delete": "-", "reset": "!"}

# SGR parameters. Reset is magenta so it stands apart from update's yellow: both change a live
# resource, but a reset throws away everything set on it.
_ACTION_SGR: dict[Action, str] = {"create": "32", "update": "33", "delete": "31", "reset": "35"}

# A value whose compact JSON is longer than this is pretty-printed on the following lines.
VALUE_WIDTH = 80
# Request bodies are a reminder of what goes over the wire; the diff above them has the detail.
BODY_WIDTH = 100

_INDENT = "    "
_NULL_NOTE = "inherit default"
_NO_CHANGES = "No changes. The tenant matches policies/."
_NO_READ_CHANGES = "No changes in what was read. The tenant matches policies/ there."
_NO_OTHER_CHANGES = "No changes besides the errors above."
_UNMANAGED_TITLE = "Unmanaged (live, no policy file; never touched):"
_ERRORS_TITLE = "Errors (nothing is applied until they are fixed):"
_SKIPPED_TITLE = "Not read (the token may not read them; left out of this plan):"
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_ARTIFACT = "the full plan is in the JSON artifact (`xtap plan --out`)"
_SETTINGS_TITLE = "Settings in force (xtap.yaml and xtap: keys, where not the defaults):"
_SETTINGS_CHANGED_TITLE = "Settings changed against the base (no Graph write now; they act at every apply from now on):"
# The settings of a file's `xtap:` key listed one by one in a plan (each an exception to a
# guardrail); the others (`trusted`, labels) are counted, and listed in the JSON plan.
LISTED_PER_FILE = ("xtap.waivers",)
# The markdown head, never cut, lists at most this many settings of each kind; the JSON plan has all.
MD_SETTINGS_SHOWN = 25
# The deletes and grants a markdown plan's head names (the rest it counts), and the reasons a
# line names for each: so the head, which is never cut, stays small whatever the plan.
_HEAD_NAMED = 20
_LINE_REASONS = 4


def render_json(plan: Plan) -> str:
    """The stable plan file format, so `--format json` on stdout is what `--out` would write."""
    return planfile.dumps(plan)


# --- text ------------------------------------------------------------------------------------------


def render_text(plan: Plan, color: bool) -> str:
    """A Terraform-like plan for a terminal or a CI log: one block per change, in the planner's
    order (a partner's before its identity sync's, as apply sends them), then the risk summary
    (counts per `risk` class) and the counts per action.

    Colour is the caller's decision (a TTY, `NO_COLOR`); with `color=False` the
    result holds no escape sequence at all, so it is safe to write to files and logs.
    """

    paint = painter(color)
    blocks = [
        _text_change(change, paint, plan.inherited.get(change.resource, {}), plan.names) for change in plan.changes
    ]
    if plan.errors:
        lines = [paint(_ERRORS_TITLE, f"{BOLD};{RED}")]
        lines += [f"  {_error_line(error)}" for error in plan.errors]
        blocks.append("\n".join(lines))
    if plan.skipped:
        lines = [paint(_SKIPPED_TITLE, BOLD)]
        lines += [f"  {visible(resource)}: {visible(why)}" for resource, why in plan.skipped.items()]
        blocks.append("\n".join(lines))
    if plan.unmanaged:
        lines = [paint(_UNMANAGED_TITLE, BOLD)]
        lines += [f"  {visible(u.resource)} {visible(u.id)}{_spared(u)}" for u in plan.unmanaged]
        blocks.append("\n".join(lines))
    blocks += _text_settings(plan, paint)
    if plan.has_changes:
        counts = ", ".join(f"{plan.summary[action]} to {action}" for action in ACTIONS)
        risks = (classify(change, plan.inherited.get(change.resource, {})) for change in plan.changes)
        blocks.append(paint(f"Risk: {_risk_counts(risks)}.", BOLD) + "\n" + paint(f"Plan: {counts}.", BOLD))
    elif plan.errors:
        blocks.append(paint(_NO_OTHER_CHANGES, BOLD))
    else:
        blocks.append(paint(_NO_READ_CHANGES if plan.skipped else _NO_CHANGES, GREEN))
    return "\n\n".join(blocks) + "\n"


def _text_settings(plan: Plan, paint: Paint) -> list[str]:
    """The settings changed against the base branch, then those in force: never sent to Graph,
    yet what prune deletes and the guardrails let through."""
    blocks = []
    if plan.settings_changes:
        lines = [paint(_SETTINGS_CHANGED_TITLE, BOLD)]
        for change in plan.settings_changes:
            where = f"  ({visible(change.source)})" if change.source else ""
            before, after = _setting_value(change.before), _setting_value(change.after)
            lines.append(f"  ~ {visible(change.scope)} {visible(change.name)}: {before} → {after}{where}")
            lines.append(f"      {visible(change.effect)}")
        blocks.append("\n".join(lines))
    listed, counted = _in_force(plan)
    if listed or counted:
        lines = [paint(_SETTINGS_TITLE, BOLD)]
        for setting in listed:
            where = f"  ({visible(setting.source)})" if setting.source else ""
            lines.append(f"  {visible(setting.scope)} {visible(setting.name)} = {_setting_value(setting.value)}{where}")
        lines += [f"  {_marked(name, count)}" for name, count in counted.items()]
        blocks.append("\n".join(lines))
    return blocks


def _in_force(plan: Plan) -> tuple[list[PolicySetting], dict[str, int]]:
    """The settings in force a reviewer reads one by one (xtap.yaml's, and waivers: each an
    exception to a guardrail), and how many files set each of the others (`trusted`, labels),
    which every file shows where it is written and the JSON plan lists."""
    listed = [s for s in plan.settings if s.scope == SETTINGS_SCOPE or s.name in LISTED_PER_FILE]
    counted = Counter(s.name for s in plan.settings if s.scope != SETTINGS_SCOPE and s.name not in LISTED_PER_FILE)
    return listed, dict(counted)


def _marked(name: str, count: int) -> str:
    return f"{name} set in {quantity(count, 'file')} (each listed in the JSON plan)"


def _setting_value(value: Any) -> str:
    return "default" if value is None else clip(printable_json(value), SHOW_WIDTH)


def _text_change(change: Change, paint: Paint, inherited: Mapping[str, Any], names: Mapping[str, str]) -> str:
    header = f"{SYMBOLS[change.action]} {visible(change.resource)} {visible(change.id)}"
    tenant = _tenant_name(change, names)
    if tenant:
        header += f"  {visible(tenant)}"
    if change.source:
        header += f"  ({visible(change.source)})"
    lines = [paint(header, f"{BOLD};{_ACTION_SGR[change.action]}")]
    if change.depends_on:
        lines.append(_INDENT + paint(f"after {', '.join(visible(str(a)) for a in change.depends_on)}", DIM))
    for entry in change.diff:
        lines += text_entry(change.action, entry, paint, inherited)
    lines += text_lines(_named_in(change, names), _INDENT)
    lines += [_INDENT + paint(_text_request(request), DIM) for request in change.requests]
    return "\n".join(lines)


def _tenant_name(change: Change, names: Mapping[str, str]) -> str | None:
    """The name of the partner tenant a change is about, if it was looked up."""
    return tenant_name(change.resource, change.id, names)


def _named_in(change: Change, names: Mapping[str, str]) -> Named:
    """Each looked-up id the change's values name (its own tenant aside: the header names it)."""
    return named_in(change.resource, change.id, ([entry.before, entry.after] for entry in change.diff), names)


def text_entry(action: Action, entry: DiffEntry, paint: Paint, inherited: Mapping[str, Any]) -> list[str]:
    """One diff entry. A create has no `before` and a delete no `after` worth showing, so those
    print the one side that exists, like Terraform's `+ name = value`."""
    path = visible(entry.path)
    if action == "create":
        return _labelled(f"{_INDENT}{paint('+', GREEN)} {path} =", _value_lines(entry.after), GREEN, paint)
    if action == "delete":
        return _labelled(f"{_INDENT}{paint('-', RED)} {path} =", _value_lines(entry.before), RED, paint)
    before, after = _value_lines(entry.before, entry.path, inherited), _value_lines(entry.after, entry.path, inherited)
    if len(before) == len(after) == 1:
        return [f"{_INDENT}{path}: {paint(before[0], RED)} → {paint(after[0], GREEN)}"]
    return [
        f"{_INDENT}{path}:",
        *_labelled(f"{_INDENT}  before:", before, RED, paint),
        *_labelled(f"{_INDENT}  after:", after, GREEN, paint),
    ]


def _null(path: str, inherited: Mapping[str, Any]) -> str:
    """`null`, and what it means where it inherits: a partner's top-level setting takes the
    tenant default's value, which the plan carries. Elsewhere (a template, the default itself,
    a member inside an object) null is just unset."""
    return f"null ({_NULL_NOTE}: {printable_json(inherited[path])})" if path in inherited else "null"


_Quote = Callable[[str], str]


def _error_line(error: PlanError, text: _Quote = visible, ident: _Quote = visible) -> str:
    """An error names its resource, or its type alone when it is about many (a refused prune).
    `text` escapes what it says and where, `ident` the id, for the format at hand."""
    where = f" ({text(error.source)})" if error.source else ""
    parts = [text(error.resource)] if error.resource else []
    parts += [ident(error.id)] if error.id else []
    return f"{' '.join(parts)}{where}: {text(error.message)}"


def _spared(unmanaged: Unmanaged, text: _Quote = visible) -> str:
    return f"  (not pruned: {text(unmanaged.spared)})" if unmanaged.spared else ""


def _labelled(label: str, value_lines: list[str], sgr: str, paint: Paint) -> list[str]:
    """`label first-line`, then the rest of a pretty-printed value indented beneath the label."""
    first, *rest = value_lines
    return [f"{label} {paint(first, sgr)}", *(f"{_INDENT}    {paint(line, sgr)}" for line in rest)]


def _value_lines(value: Any, path: str = "", inherited: Mapping[str, Any] = _NOTHING) -> list[str]:
    if value is None:
        return [_null(path, inherited)]
    compact = printable_json(value)
    return [compact] if len(compact) <= VALUE_WIDTH else printable_json(value, indent=2).split("\n")


def _text_request(request: Request) -> str:
    line = f"{visible(request.method)} {visible(request.url)}"
    if request.body is not None:
        line += f"  {clip(printable_json(request.body), BODY_WIDTH)}"
    if request.fallback is not None:
        statuses = "/".join(map(str, request.fallback_statuses))
        line += f"  (if Graph answers {statuses}: {visible(request.fallback.method)} the whole body)"
    return line


# --- markdown --------------------------------------------------------------------------------------


def render_markdown(plan: Plan, limit: int = MARKDOWN_LIMIT) -> str:
    """A report for a pull request comment, at most `limit` characters long. The head is never
    cut: the risk summary (counts per risk class, and the deletes and grants named with their
    reasons), the summary table, the errors and the settings. Then one `<details>` element per
    change, most dangerous first (deletes, grants, other updates and resets, creates: `risk`),
    and the unmanaged list. When too long, details give way to their one-line summary, the least risky
    first and the largest first within a class, so one giant partner cannot flatten the rest;
    then the last lines go, creates first (`markdown.fit`)."""
    ranked = by_risk(plan.changes, plan.inherited)
    blocks = [
        Block(
            _md_change_line(change, risk, plan.names),
            _md_change_details(change, risk, plan.inherited.get(change.resource, {}), plan.names),
            risk.rank,
        )
        for change, risk in ranked
    ]
    if plan.unmanaged:
        listing = "\n".join(_md_unmanaged(u) for u in plan.unmanaged)
        line = f"- {quantity(len(plan.unmanaged), 'unmanaged resource')} (never touched; listed in the JSON artifact)"
        blocks.append(Block(line, f"**{_UNMANAGED_TITLE}**\n\n{listing}", len(CLASSES)))
    return fit(_md_head(plan, ranked), blocks, limit, "item", _ARTIFACT)


def _md_head(plan: Plan, ranked: list[tuple[Change, Risk]]) -> str:
    head = ["### xtap plan"]
    if plan.has_changes:
        head.append(_md_risk(ranked, plan.names))
        counts = [(f"{SYMBOLS[action]} {action}", plan.summary[action]) for action in ACTIONS]
        head.append(count_table("action", counts))
    else:
        head.append(_NO_OTHER_CHANGES if plan.errors else _NO_READ_CHANGES if plan.skipped else _NO_CHANGES)
    if plan.errors:  # never cut: they are why the plan cannot be applied
        lines = [f"- {_error_line(e, markdown_text, md_id)}" for e in plan.errors]
        head.append(f"**{_ERRORS_TITLE}**\n\n" + "\n".join(lines))
    if plan.skipped:  # never cut: without it, "no changes" would read as "in step" for them
        lines = [f"- {markdown_text(resource)}: {markdown_text(why)}" for resource, why in plan.skipped.items()]
        head.append(f"**{_SKIPPED_TITLE}**\n\n" + "\n".join(lines))
    head += _md_settings(plan)  # never cut either: they decide what later applies do
    return "\n\n".join(head)


def _md_settings(plan: Plan) -> list[str]:
    parts = []
    if plan.settings_changes:
        rows = [
            "| "
            + " | ".join(
                (
                    f"{markdown_text(c.scope)} {_md_cell(visible(c.name))}",
                    _md_setting(c.before),
                    _md_setting(c.after),
                    markdown_text(c.effect),
                )
            )
            + " |"
            for c in plan.settings_changes[:MD_SETTINGS_SHOWN]
        ]
        table = "\n".join(["| setting | before | after | from the next apply on |", "|---|---|---|---|", *rows])
        parts.append(f"**{_SETTINGS_CHANGED_TITLE}**\n\n{table}{_md_more(len(plan.settings_changes))}")
    listed, counted = _in_force(plan)
    if listed or counted:
        items = [
            f"- {markdown_text(s.scope)} {_md_code(visible(s.name))} = {_md_setting(s.value)}"
            for s in listed[:MD_SETTINGS_SHOWN]
        ]
        items += [f"- {markdown_text(_marked(name, count))}" for name, count in counted.items()]
        parts.append(f"**{_SETTINGS_TITLE}**\n\n" + "\n".join(items) + _md_more(len(listed)))
    return parts


def _md_cell(text: str) -> str:
    """A code span inside a table cell: GitHub splits rows on every unescaped pipe, in code too."""
    return _md_code(text).replace("|", "\\|")


def _md_setting(value: Any) -> str:
    return "_default_" if value is None else _md_cell(clip(printable_json(value), SHOW_WIDTH))


def _md_more(count: int) -> str:
    more = count - MD_SETTINGS_SHOWN
    return f"\n\n_…and {more} more; {_ARTIFACT}._" if more > 0 else ""


def _md_risk(ranked: list[tuple[Change, Risk]], names: Mapping[str, str]) -> str:
    """The risk summary: counts per class, then each delete and grant with its reasons, up to
    `_HEAD_NAMED` of them and a count of the rest, so the head stays a few thousand characters
    whatever the plan."""
    summary = f"**Risk:** {_risk_counts(risk for _, risk in ranked)}"
    named = [(change, risk) for change, risk in ranked if risk.reasons]
    items = [f"- {_md_named(change, names)}: {_reasons(risk)}" for change, risk in named[:_HEAD_NAMED]]
    if len(named) > _HEAD_NAMED:
        items.append(f"- …and {len(named) - _HEAD_NAMED:,} more deletes and grants, below")
    return "\n\n".join([summary, "\n".join(items)]) if items else summary


def _md_named(change: Change, names: Mapping[str, str]) -> str:
    symbol, action = SYMBOLS[change.action], change.action
    tenant = _tenant_name(change, names)
    named = f" {markdown_text(tenant)}" if tenant else ""
    return f"`{symbol}` **{action}** {markdown_text(change.resource)} {md_id(change.id)}{named}"


def _reasons(risk: Risk) -> str:
    """A delete's or grant's reasons, the first `_LINE_REASONS` of them, escaped for markdown
    and HTML alike; the plan's diff holds them all."""
    shown = "; ".join(markdown_text(reason) for reason in risk.reasons[:_LINE_REASONS])
    if (more := len(risk.reasons) - _LINE_REASONS) > 0:
        shown += f"; and {more} more"
    return f"grants {shown}" if risk.kind == "grant" else shown


def _risk_counts(risks: Iterable[Risk]) -> str:
    """Every risk class with its count, most dangerous first: `1 delete, 1 grant, 3 updates,
    2,500 creates`."""
    counts = Counter(risk.kind for risk in risks)
    return ", ".join(f"{counts[kind]:,} {kind}{'' if counts[kind] == 1 else 's'}" for kind in CLASSES)


def _md_change_details(change: Change, risk: Risk, inherited: Mapping[str, Any], names: Mapping[str, str]) -> str:
    # A blank line after </summary> and before </details> lets GitHub render markdown inside.
    parts = [f"<details>\n<summary>{_md_change_title(change, risk, names)}</summary>"]
    if change.diff:
        rows = [md_diff_row(change.action, entry, inherited) for entry in change.diff]
        parts.append("\n".join(["| path | before | after |", "|---|---|---|", *rows]))
    if (table := md_table(_named_in(change, names))) is not None:
        parts.append(table)
    if change.requests:
        requests = [planfile.request_dict(r) for r in change.requests]
        parts.append(_md_fence(printable_json(requests, indent=2), "json"))
    parts.append("</details>")
    return "\n\n".join(parts)


def _md_change_title(change: Change, risk: Risk, names: Mapping[str, str]) -> str:
    """The `<summary>` of a change, which is all a reviewer sees of it folded: HTML, not
    markdown, where `markdown_text` escapes as well. A delete or a grant says why."""
    title = f"<code>{SYMBOLS[change.action]}</code> <b>{change.action}</b> {markdown_text(change.resource)}"
    title += f" <code>{markdown_text(change.id)}</code>"
    tenant = _tenant_name(change, names)
    if tenant:
        title += f" {markdown_text(tenant)}"
    if change.source:
        title += f" ({markdown_text(change.source)})"
    return f"{title}: <b>{_reasons(risk)}</b>" if risk.reasons else title


def _md_change_line(change: Change, risk: Risk, names: Mapping[str, str]) -> str:
    """The one line a change keeps when its details are cut: a grant still names what it grants."""
    line = f"- {_md_named(change, names)}"
    if change.source:
        line += f" ({markdown_text(change.source)})"
    properties = quantity(len(change.diff), "property", "properties")
    line += f": {properties}, {quantity(len(change.requests), 'request')}"
    return f"{line}; **{_reasons(risk)}**" if risk.reasons else line


def md_diff_row(action: Action, entry: DiffEntry, inherited: Mapping[str, Any]) -> str:
    before = "" if action == "create" else _md_value(entry.before, entry.path, inherited)
    after = "" if action == "delete" else _md_value(entry.after, entry.path, inherited)
    cells = (_md_code(visible(entry.path)), before, after)
    # GitHub splits table rows on every unescaped pipe, inside code spans too.
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _md_value(value: Any, path: str, inherited: Mapping[str, Any]) -> str:
    if value is None:
        if path not in inherited:
            return "`null`"
        return f"`null` _({_NULL_NOTE}: {_md_code(printable_json(inherited[path]))})_"
    return _md_code(printable_json(value))


def _md_unmanaged(unmanaged: Unmanaged) -> str:
    return f"- {markdown_text(unmanaged.resource)} {md_id(unmanaged.id)}{_spared(unmanaged, markdown_text)}"


def md_id(resource_id: str) -> str:
    """An id as a code span: a GUID (Graph's and the files' are checked to be) or a singleton's
    name, shown as code; a code span holds whatever it is as text."""
    return _md_code(visible(resource_id))


def _md_code(text: str) -> str:
    """An inline code span that holds `text` verbatim, whatever backticks it contains: the fence
    is one backtick longer than the longest run inside."""
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_fence(text: str, language: str) -> str:
    """A fenced code block that `text` cannot close early (a JSON string may hold ```)."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)
