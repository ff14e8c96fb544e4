"""The plan file: the stable, versioned JSON form of a plan (`plan --out`, `--format json`).

The format is documented in the README ("Plan JSON"). Within a version fields are only added
(consumers ignore fields they do not know); any other change bumps FORMAT_VERSION, and
`loads` refuses versions it does not know rather than guessing.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.models import is_guid
from reconciler.plan import (
    MTO_PARTNER_TEMPLATE,
    MTO_PARTNER_TEMPLATE_URL,
    PARTNER,
    PARTNERS_URL,
    Change,
    DiffEntry,
    Plan,
    Request,
    Unmanaged,
)

FORMAT_VERSION = 1


class PlanFileError(ValueError):
    """The file is not a plan this version of xtap can apply."""


def to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "formatVersion": FORMAT_VERSION,
        "summary": plan.summary,
        "liveDigest": plan.live_digest,
        "scope": list(plan.scope),
        "graphUrl": plan.graph_url,
        "changes": [
            {
                "resource": change.resource,
                "id": change.id,
                "action": change.action,
                "source": change.source,
                "diff": [{"path": d.path, "before": d.before, "after": d.after} for d in change.diff],
                "requests": [{"method": r.method, "url": r.url, "body": r.body} for r in change.requests],
            }
            for change in plan.changes
        ],
        "unmanaged": [{"resource": u.resource, "id": u.id} for u in plan.unmanaged],
    }


def dumps(plan: Plan) -> str:
    return json.dumps(to_dict(plan), indent=2) + "\n"


def loads(text: str, name: str = "plan") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{name}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
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
                    requests=tuple(Request(r["method"], r["url"], r.get("body")) for r in c["requests"]),
                )
                for c in data["changes"]
            ),
            unmanaged=tuple(Unmanaged(u["resource"], u["id"]) for u in data.get("unmanaged", [])),
            live_digest=data["liveDigest"],
            scope=tuple(data["scope"]),
            graph_url=data["graphUrl"],
        )
    except (KeyError, TypeError) as exc:
        raise PlanFileError(f"{name}: malformed plan: missing or wrong field {exc}") from None
    for change in plan.changes:
        _check(change, name)
    return plan


def _check(change: Change, name: str) -> None:
    """A saved plan is input like any other: apply sends only the requests this version's
    planner makes (an edited plan cannot smuggle in a DELETE or another URL)."""
    if change.resource == PARTNER and not is_guid(change.id):
        raise PlanFileError(f"{name}: partner id {change.id!r} is not a tenant id")
    expected = {
        (PARTNER, "create"): ("POST", PARTNERS_URL),
        (PARTNER, "update"): ("PATCH", f"{PARTNERS_URL}/{change.id}"),
        (MTO_PARTNER_TEMPLATE, "update"): ("PATCH", MTO_PARTNER_TEMPLATE_URL),
    }.get((change.resource, change.action))
    if expected is None:
        raise PlanFileError(f"{name}: this version of xtap does not apply {change.action!r} of {change.resource!r}")
    for request in change.requests:
        if (request.method, request.url) != expected or not isinstance(request.body, dict):
            raise PlanFileError(
                f"{name}: {change.resource} {change.id}: request {request.method} {request.url} is not one "
                f"xtap plans for a {change.action}; make the plan again with xtap plan --out"
            )
