"""The plan file: the stable, versioned JSON form of a plan (`plan --out`, `--format json`).

The format is documented in docs/plan-json.md. Within a version fields are only added
(consumers ignore fields they do not know); any other change bumps FORMAT_VERSION, and
`loads` refuses versions it does not know rather than guessing. Each change's `risk` is
written for people and programs reading the plan; it is made from the change, so `loads`
does not read it back and the saved-plan check (`difference`) does not compare it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring_ascii as _string  # type: ignore[attr-defined]
from typing import Any

from reconciler.core.address import Address
from reconciler.core.request import Request
from reconciler.plan.model import (
    Change,
    DiffEntry,
    Plan,
    PlanError,
    PolicySetting,
    SettingChange,
    Unmanaged,
    made_for,
)
from reconciler.plan.risk import Risk, classify

FORMAT_VERSION = 1
# A plan file is read whole; 10,000 changed partners plan to about 40 MB.
MAX_BYTES = 256 * 1024 * 1024


class PlanFileError(ValueError):
    """The file is not a plan this version of xtap can apply."""


def to_dict(plan: Plan) -> dict[str, Any]:
    changes = [_entry(change, plan.inherited.get(change.resource, {})) for change in plan.changes]
    return _whole(plan, changes, [_fields(setting) for setting in plan.settings])


def _whole(plan: Plan, changes: list[Any], settings: Any) -> dict[str, Any]:
    """The plan file's object, with `changes` and `settings` as given: dicts, or texts written
    ahead (`_Text`)."""
    return {
        "formatVersion": FORMAT_VERSION,
        "summary": plan.summary,
        "liveDigest": plan.live_digest,
        "scope": list(plan.scope),
        "graphUrl": plan.graph_url,
        "tenant": plan.tenant,
        "changes": changes,
        "unmanaged": [_unmanaged_dict(u) for u in plan.unmanaged],
        "errors": [{"resource": e.resource, "id": e.id, "source": e.source, "message": e.message} for e in plan.errors],
        "inherited": {resource: dict(values) for resource, values in plan.inherited.items()},
        "settings": settings,
        "settingsChanges": [_fields(change) for change in plan.settings_changes],
        "skipped": dict(plan.skipped),
        "names": dict(plan.names),
    }


def _entry(change: Change, inherited: Mapping[str, Any]) -> dict[str, Any]:
    """A change as the plan file holds it, with its risk, judged by what its type's nulls inherit."""
    return {**_change_dict(change), "risk": _risk_dict(classify(change, inherited))}


def _fields(value: PolicySetting | SettingChange) -> dict[str, Any]:
    """A setting's fields in their order, as `dataclasses.asdict` gives them without its deep
    copy of each value, only to be written out (a plan of 10,000 partners states 6,667)."""
    return dict(vars(value))


def _change_dict(change: Change) -> dict[str, Any]:
    """A change as the plan file holds it, less its `risk`: what apply reads back."""
    return {
        "resource": change.resource,
        "id": change.id,
        "action": change.action,
        "source": change.source,
        "diff": [{"path": d.path, "before": d.before, "after": d.after} for d in change.diff],
        "requests": [request_dict(r) for r in change.requests],
        "dependsOn": [{"resource": a.resource, "id": a.id} for a in change.depends_on],
    }


def _risk_dict(risk: Risk) -> dict[str, Any]:
    return {"class": risk.kind, "reasons": list(risk.reasons)}


def _unmanaged_dict(unmanaged: Unmanaged) -> dict[str, Any]:
    """`spared` only where prune is on, so a plan without prune reads as it always did."""
    shown = {"resource": unmanaged.resource, "id": unmanaged.id}
    return shown if unmanaged.spared is None else {**shown, "spared": unmanaged.spared}


def request_dict(request: Request) -> dict[str, Any]:
    """A request as the plan file holds it, its fallback (if any) nested in it."""
    shown: dict[str, Any] = {"method": request.method, "url": request.url, "body": request.body}
    if request.fallback is not None:
        shown["fallback"] = {"onStatus": list(request.fallback_statuses), **request_dict(request.fallback)}
    return shown


def _request(data: dict[str, Any]) -> Request:
    fallback = data.get("fallback")
    if fallback is None:
        return Request(data["method"], data["url"], data.get("body"))
    return Request(data["method"], data["url"], data.get("body"), _request(fallback), tuple(fallback["onStatus"]))


def dumps(plan: Plan) -> str:
    """The plan file's text. The parts written ahead (`Plan.written`) are taken where they were
    written from the very change, or settings, and inherited values this plan holds."""
    written = plan.written if plan.written is not None and plan.written.inherited == plan.inherited else None
    ready = {} if written is None else written.changes
    changes: list[Any] = []
    for change in plan.changes:
        ahead = made_for(ready, change)
        changes.append(_entry(change, plan.inherited.get(change.resource, {})) if ahead is None else _Text(ahead))
    settings: Any = [_fields(setting) for setting in plan.settings]
    if written is not None and written.settings is not None and written.settings[0] is plan.settings:
        settings = _Text(written.settings[1])
    text = io.StringIO()
    _indented(_whole(plan, changes, settings), text.write, "\n")
    text.write("\n")
    return text.getvalue()


# Where a change is written in the file (an item of the top-level list), and where the settings
# are (a member of the top-level object): each line of the text written ahead starts so.
_CHANGE_AT = "\n    "
_SETTINGS_AT = "\n  "


def change_text(change: Change, inherited: Mapping[str, Any]) -> str:
    """A change's text in the plan file (`Written`), its risk judged by `inherited`."""
    return _text(_entry(change, inherited), _CHANGE_AT)


def settings_text(settings: tuple[PolicySetting, ...]) -> str:
    """The settings' text in the plan file (`Written`)."""
    return _text([_fields(setting) for setting in settings], _SETTINGS_AT)


def _text(value: Any, newline: str) -> str:
    text = io.StringIO()
    _indented(value, text.write, newline)
    return text.getvalue()


class _Text:
    """A part of the file written already, at its place (`dumps`)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _indented(value: Any, write: Callable[[str], object], newline: str) -> None:
    """`json.dumps(value, indent=2)`, written a piece at a time; `newline` starts each line at
    `value`'s depth. The C encoder does not indent (before Python 3.13), and Python's own passes
    each piece up through a generator per level and holds every piece until it joins them: this
    takes two thirds of its time and, into a `StringIO`, a third of its memory (15,000 changes,
    30 MB of text: 116 MB at its peak, 41 MB here). Strings and keys go through the C encoder's
    escaping; numbers, booleans and null through `json.dumps`, so every value reads exactly as
    `json.dumps` writes it."""
    if isinstance(value, str):
        write(_string(value))
    elif isinstance(value, dict):
        inner = newline + "  "
        opening = "{" + inner
        for key, member in value.items():
            write(opening)
            write(_string(key if isinstance(key, str) else json.dumps(key)))
            write(": ")
            _indented(member, write, inner)
            opening = "," + inner
        write(newline + "}" if value else "{}")
    elif isinstance(value, (list, tuple)):
        inner = newline + "  "
        opening = "[" + inner
        for item in value:
            write(opening)
            _indented(item, write, inner)
            opening = "," + inner
        write(newline + "]" if value else "[]")
    elif value is None:  # null and the booleans: most of a plan's values that are not strings
        write("null")
    elif value is True:
        write("true")
    elif value is False:
        write("false")
    elif isinstance(value, _Text):
        write(value.text)
    else:
        write(json.dumps(value))


def loads(text: str, name: str = "plan") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{name}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise PlanFileError(f"{name}: not a plan: nested too deeply") from None
    if not isinstance(data, dict) or "formatVersion" not in data:
        raise PlanFileError(f"{name}: not an xtap plan (no formatVersion)")
    if data["formatVersion"] != FORMAT_VERSION:
        raise PlanFileError(
            f"{name}: plan format version {data['formatVersion']!r}; this xtap reads version {FORMAT_VERSION}"
        )
    try:
        plan = Plan(
            changes=tuple(
                Change(
                    resource=c["resource"],
                    id=c["id"],
                    action=c["action"],
                    source=c.get("source"),
                    diff=tuple(DiffEntry(d["path"], d["before"], d["after"]) for d in c["diff"]),
                    requests=tuple(_request(r) for r in c["requests"]),
                    depends_on=tuple(Address(a["resource"], a["id"]) for a in c.get("dependsOn", [])),
                )
                for c in data["changes"]
            ),
            unmanaged=tuple(Unmanaged(u["resource"], u["id"], u.get("spared")) for u in data.get("unmanaged", [])),
            errors=tuple(PlanError(e["resource"], e["id"], e["source"], e["message"]) for e in data.get("errors", [])),
            inherited=data.get("inherited", {}),
            live_digest=data["liveDigest"],
            scope=tuple(data["scope"]),
            graph_url=data["graphUrl"],
            tenant=data.get("tenant"),
            settings=tuple(
                PolicySetting(s["scope"], s["name"], s["value"], s.get("source")) for s in data.get("settings", [])
            ),
            settings_changes=tuple(
                SettingChange(c["scope"], c["name"], c["before"], c["after"], c["effect"], c.get("source"))
                for c in data.get("settingsChanges", [])
            ),
            skipped=dict(data.get("skipped", {})),
            names=dict(data.get("names", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{name}: malformed plan: missing or wrong field {exc}") from None
    names = (
        plan.live_digest,
        plan.graph_url,
        *plan.scope,
        *(v for c in plan.changes for v in (c.resource, c.id)),
        *(v for item in plan.skipped.items() for v in item),
        *(v for item in plan.names.items() for v in item),
    )
    tenant_ok = plan.tenant is None or isinstance(plan.tenant, str)
    if not (tenant_ok and all(isinstance(value, str) for value in names)):
        raise PlanFileError(
            f"{name}: malformed plan: resources, ids, scope, skipped, names, digest, URL and tenant must be strings"
        )
    return plan


def difference(saved: Plan, fresh: Plan) -> str | None:
    """How the writes of `saved` differ from those of `fresh`, or else the settings that shape
    them (`_setting_difference`), in words; None when they are the same. Only what apply would
    send and the settings' values count: a change's `source` is where a file was found, and the
    same files found through another path (`./policies`) make the same writes."""
    theirs, ours = _writes(saved), _writes(fresh)
    if theirs == ours:
        return _setting_difference(saved, fresh)
    keys = [key for key, _ in theirs]
    for key in keys:
        if keys.count(key) > 1:
            return f"it changes {_name(key)} more than once"
    mine = dict(ours)
    for key, change in theirs:
        if key not in mine:
            return f"it changes {_name(key)}, which the plan made now leaves alone"
        if change != mine[key]:
            return f"its change to {_name(key)} differs from the one planned now"
    extra = next((key for key, _ in ours if key not in dict(theirs)), None)
    return f"the plan made now also changes {_name(extra)}" if extra else "its changes are in another order"


def _setting_difference(saved: Plan, fresh: Plan) -> str | None:
    """A setting that shapes what apply deletes or lets through (prune, a guardrail, a waiver)
    reviewed with one value and standing at another now. Where it is written does not count."""
    theirs = {setting.key: setting.value for setting in saved.settings}
    ours = {setting.key: setting.value for setting in fresh.settings}
    for key in [*ours, *(key for key in theirs if key not in ours)]:
        if theirs.get(key) != ours.get(key):
            scope, name = key
            was, now = _shown(theirs.get(key)), _shown(ours.get(key))
            return f"was planned with {name} of {scope} at {was}, but it is {now} now"
    return None


def _shown(value: Any) -> str:
    return "its default" if value is None else json.dumps(value)


def _writes(plan: Plan) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    """Each change as the plan file holds it, minus its source and its risk (neither is
    written to Graph), keyed by resource and id."""
    changes = [_change_dict(change) for change in plan.changes]
    return [((c["resource"], c["id"]), {k: v for k, v in c.items() if k != "source"}) for c in changes]


def _name(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"
