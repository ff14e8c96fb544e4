"""Showing drift: text for a terminal or a CI log, markdown for a GitHub issue, JSON for programs.

Pure functions from `Drift` to `str`, built from `render`'s pieces (value layout, escaping,
code spans, diff rows), so a drift report reads like a plan and escapes outside text the same
way (`escape.visible`, and `escape.markdown_text` in markdown). Each entry reads declared →
live: the change someone made.

The markdown report must fit a GitHub issue or comment (65,536 characters) whatever the
tenant: one summary line per resource always stays, and when the report is too long the
largest details go first, so one giant partner cannot crowd out the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.core.escape import markdown_text, visible
from reconciler.plan.drift import KINDS, Drift, Drifted, Kind, LastChange
from reconciler.plan.model import Action
from reconciler.render.markdown import MARKDOWN_LIMIT, Block, count_table, fit
from reconciler.render.names import Named, md_table, named_in, tenant_name, text_lines
from reconciler.render.plan import md_diff_row, md_id, text_entry
from reconciler.render.terminal import BOLD, quantity

FORMAT_VERSION = 1
_SYMBOLS: dict[Kind, str] = {"changed": "~", "missing": "-", "unmanaged": "+"}
_SGR: dict[Kind, str] = {"changed": "33", "missing": "31", "unmanaged": "36"}
# How a diff entry is drawn: a missing resource's values are gone (drawn as a delete), a nested
# resource no file declares appeared (drawn as a create); the rest changed.
_STYLE: dict[Action | None, Action] = {"create": "delete", "delete": "create", "update": "update", "reset": "update"}
_WHAT: dict[Kind, str] = {
    "changed": "differs from its policy file",
    "missing": "declared, absent from the tenant",
    "unmanaged": "in the tenant, no policy file",
}
_NO_DRIFT = "No drift. The tenant matches policies/."
_ARTIFACT = "the full report is in the JSON artifact (`xtap drift --format json`)"
_NOTHING: Mapping[str, Any] = {}


def _inherited(drift: Drift, item: Drifted) -> Mapping[str, Any]:
    return drift.inherited.get(item.resource, _NOTHING)


def _actor(change: LastChange, text: Callable[[str], str] = visible) -> str:
    """Who made the last change, and what and when, escaped by `text` for the format at hand:
    Graph's audit log holds the name as someone typed it."""
    kind = "service-made" if change.actor.kind == "service" else change.actor.kind
    return f'{text(change.actor.name)} ({kind}), "{text(change.activity)}" at {text(change.at)}'


def _named(drift: Drift, item: Drifted) -> Named:
    """The looked-up ids the item's diff shows, with their labels."""
    return named_in(item.resource, item.id, ([entry.before, entry.after] for entry in item.diff), drift.names)


def _attribution_line(drift: Drift) -> str | None:
    if drift.attribution in ("not requested", "done"):
        return None
    return f"Attribution was not possible: {drift.attribution}"


# --- text --------------------------------------------------------------------------------------


def render_drift_text(drift: Drift, color: bool) -> str:
    def paint(text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if color else text

    blocks = []
    for item in drift.items:
        header = f"{_SYMBOLS[item.kind]} {visible(item.resource)} {visible(item.id)}"
        if tenant := tenant_name(item.resource, item.id, drift.names):
            header += f"  {visible(tenant)}"
        header += f": {_WHAT[item.kind]}"
        if item.source:
            header += f"  ({visible(item.source)})"
        lines = [paint(header, f"{BOLD};{_SGR[item.kind]}")]
        for entry in item.diff:
            lines += text_entry(_STYLE[item.remedy], entry, paint, _inherited(drift, item))
        lines += text_lines(_named(drift, item), "    ")
        if item.note:
            lines.append(f"    {visible(item.note)}")
        if item.last_change:
            lines.append(f"    last changed by {_actor(item.last_change)}")
        elif drift.attribution == "done":
            lines.append("    no audit entry for it in the audit log's window")
        blocks.append("\n".join(lines))
    if note := _attribution_line(drift):
        blocks.append(visible(note))
    blocks.append(paint(_summary_sentence(drift), BOLD) if drift.has_drift else paint(_NO_DRIFT, "32"))
    return "\n\n".join(blocks) + "\n"


def _summary_sentence(drift: Drift) -> str:
    return "Drift: " + ", ".join(f"{n} {kind}" for kind, n in drift.summary.items()) + "."


# --- json --------------------------------------------------------------------------------------


def render_drift_json(drift: Drift) -> str:
    document = {
        "formatVersion": FORMAT_VERSION,
        "summary": drift.summary,
        "attribution": drift.attribution,
        "scope": list(drift.scope),
        "drift": [_json_item(item, drift.names) for item in drift.items],
        "names": dict(drift.names),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_item(item: Drifted, names: Mapping[str, str]) -> dict[str, Any]:
    last = item.last_change
    return {
        "kind": item.kind,
        "resource": item.resource,
        "id": item.id,
        "name": tenant_name(item.resource, item.id, names),
        "source": item.source,
        "remedy": item.remedy,
        "note": item.note,
        "properties": [{"path": e.path, "declared": e.before, "live": e.after} for e in item.diff],
        "lastChange": None
        if last is None
        else {
            "activity": last.activity,
            "at": last.at,
            "actor": {"kind": last.actor.kind, "name": last.actor.name, "id": last.actor.id},
        },
    }


# --- markdown ----------------------------------------------------------------------------------


def render_drift_markdown(drift: Drift, limit: int = MARKDOWN_LIMIT) -> str:
    """A report for a GitHub issue, at most `limit` characters: a summary table, then one
    `<details>` element per resource, trimmed largest details first (`markdown.fit`)."""
    blocks = [_md_block(drift, item) for item in drift.items]
    return fit(_md_head(drift), blocks, limit, "resource", _ARTIFACT)


def _md_head(drift: Drift) -> str:
    parts = ["### xtap drift"]
    if drift.has_drift:
        parts.append(count_table("drift", [(f"{_SYMBOLS[kind]} {kind}", drift.summary[kind]) for kind in KINDS]))
    else:
        parts.append(_NO_DRIFT)
    if note := _attribution_line(drift):
        parts.append(f"_{markdown_text(note)}_")
    return "\n\n".join(parts)


def _md_block(drift: Drift, item: Drifted) -> Block:
    title = _md_title(item, drift.names)
    parts = [f"<details>\n<summary>{title}</summary>"]
    facts = [f"{_WHAT[item.kind]}"]
    if item.source:
        facts.append(f"file {markdown_text(item.source)}")
    if item.last_change:
        facts.append(f"last changed by {_actor(item.last_change, markdown_text)}")
    sentence = "; ".join(facts)
    parts.append(sentence[:1].upper() + sentence[1:] + ".")
    if item.note:
        parts.append(markdown_text(item.note))
    if item.diff:
        rows = [md_diff_row(_STYLE[item.remedy], entry, _inherited(drift, item)) for entry in item.diff]
        parts.append("\n".join(["| path | declared | live |", "|---|---|---|", *rows]))
    if (table := md_table(_named(drift, item))) is not None:
        parts.append(table)
    parts.append("</details>")
    return Block(_md_line(item, drift.names), "\n\n".join(parts))


def _md_title(item: Drifted, names: Mapping[str, str]) -> str:
    """The `<summary>` of a resource: HTML, since GitHub renders no markdown there."""
    title = f"<code>{_SYMBOLS[item.kind]}</code> <b>{item.kind}</b> {markdown_text(item.resource)}"
    return f"{title} <code>{markdown_text(item.id)}</code>{_md_tenant(item, names)}{_tail(item)}"


def _md_line(item: Drifted, names: Mapping[str, str]) -> str:
    """The same summary as a markdown list item, kept short: a report trimmed to its summary
    lines must still list 1,000 resources within the limit."""
    line = f"- **{item.kind}** {markdown_text(item.resource)} {md_id(item.id)}"
    return line + _md_tenant(item, names) + _tail(item)


def _md_tenant(item: Drifted, names: Mapping[str, str]) -> str:
    """The partner's name after its id, escaped: Graph returns whatever its admins typed."""
    tenant = tenant_name(item.resource, item.id, names)
    return f" {markdown_text(tenant)}" if tenant else ""


def _tail(item: Drifted) -> str:
    """How many properties differ and who changed it last, for a summary line."""
    tail = f": {quantity(len(item.diff), 'property', 'properties')}" if item.diff else ""
    if item.last_change:
        actor = item.last_change.actor
        tail += f", by {markdown_text(actor.name)} ({actor.kind})"
    return tail
