"""The plan file: the stable, versioned JSON form of a plan (`plan --out`, `--format json`).

The format is documented in the README ("Plan JSON"). Within a version fields are only added
(consumers ignore fields they do not know); any other change bumps FORMAT_VERSION, and
`loads` refuses versions it does not know rather than guessing.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan import ACTIONS, Change, DiffEntry, Plan, Request, Unmanaged

FORMAT_VERSION = 1


class PlanFileError(ValueError):
    """The file is not a plan this version of xtap can apply."""


def to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "formatVersion": FORMAT_VERSION,
        "summary": plan.summary,
        "liveDigest": plan.live_digest,
        "scope": list(plan.scope),
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
    unknown = {c.get("action") for c in data.get("changes", []) if isinstance(c, dict)} - set(ACTIONS)
    if unknown:
        raise PlanFileError(f"{name}: unknown action(s) {sorted(map(str, unknown))}; expected one of {list(ACTIONS)}")
    try:
        return Plan(
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
        )
    except (KeyError, TypeError) as exc:
        raise PlanFileError(f"{name}: malformed plan: missing or wrong field {exc}") from None
