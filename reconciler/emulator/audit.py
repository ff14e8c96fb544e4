"""The directory audit log: an entry for every write, and `GET /auditLogs/directoryAudits`.

Graph records each cross-tenant access change in the directory audit log
(https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities), and that
record is the only place that says who changed a setting behind git's back. The
emulator keeps one, in memory, so `xtap drift --attribute` is tested offline against the same
query it sends to Graph.

Activity names and categories are the documented ones (same page), the MTO templates' excepted:
Graph documents none for them, so these names are the emulator's own. Where Graph names the
partner in an entry is documented only for "Add a partner" (`modifiedProperties[0]` is
`tenantId` with the JSON-quoted id as `newValue`); the emulator writes it so on every partner
and identity sync entry.

`$filter` is as strict as the documentation allows: `activityDateTime` with eq/ge/le,
`activityDisplayName` with eq or `startswith`, and `category` with eq (not documented as
filterable; xtap's query uses it and says so), joined by `and`, with one level of
parenthesised `or`. Anything else is a 400, as Graph answers an unsupported filter.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import bad_request
from .ids import guid

ACCESS = "CrossTenantAccessSettings"
SYNC = "CrossTenantIdentitySyncSettings"
# Graph's largest page of directory audits; the emulator refuses more, as a strict server would.
MAX_TOP = 999


@dataclass(frozen=True)
class Activity:
    name: str
    category: str


ADD_PARTNER = Activity("Add a partner to cross-tenant access setting", ACCESS)
UPDATE_PARTNER = Activity("Update a partner cross-tenant access setting", ACCESS)
DELETE_PARTNER = Activity("Delete partner specific cross-tenant access setting", ACCESS)
CREATE_SYNC = Activity("Create a partner cross-tenant identity sync setting", SYNC)
UPDATE_SYNC = Activity("Update a partner cross-tenant identity sync setting", SYNC)
DELETE_SYNC = Activity("Delete a partner cross-tenant identity sync setting", SYNC)
# The documented table lists this one under the identity sync category (probably a table error).
UPDATE_DEFAULT = Activity("Update the company default cross-tenant access setting", SYNC)
RESET_DEFAULT = Activity("Reset the cross-tenant access default setting", ACCESS)


def template_activities(template: str) -> tuple[Activity, Activity]:
    """Update and reset of an MTO template: undocumented names, in the documented style."""
    return (
        Activity(f"Update the multi-tenant organization {template} template", ACCESS),
        Activity(f"Reset the multi-tenant organization {template} template", ACCESS),
    )


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditLog:
    """The entries, newest first, each with a sequence number the paging cursor keys on, so a
    write between two pages neither repeats nor skips an entry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[int, datetime, dict[str, Any]]] = []

    def record(
        self, activity: Activity, initiated_by: Mapping[str, Any], target: str, properties: Mapping[str, Any]
    ) -> None:
        """One entry for a successful write to `target` (a partner's tenantId or a singleton's id)
        that set `properties`, the request body's top-level members. `initiated_by` goes into
        the entry uncopied: it is a verified caller's (or the portal admin's), which nothing
        changes, and entries leave the log only as deep copies (`entries`, `page`). Copying it
        was a tenth of the emulator's work on a write."""
        now = datetime.now(UTC)
        modified = [{"displayName": "tenantId", "oldValue": None, "newValue": json.dumps(target)}]
        modified += [
            {"displayName": name, "oldValue": None, "newValue": json.dumps(value)} for name, value in properties.items()
        ]
        entry = {
            "id": guid(),
            "category": activity.category,
            "correlationId": guid(),
            "result": "success",
            "resultReason": "",
            "activityDisplayName": activity.name,
            "activityDateTime": _timestamp(now),
            "loggedByService": "Core Directory",
            "operationType": activity.name.split()[0],
            "initiatedBy": initiated_by,
            "targetResources": [{"id": target, "displayName": None, "type": "Policy", "modifiedProperties": modified}],
            "additionalDetails": [],
        }
        with self._lock:
            self._entries.insert(0, (len(self._entries), now, entry))

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(entry) for _, _, entry in self._entries]

    def page(self, raw_filter: str | None, top: int, after: int | None) -> tuple[list[dict[str, Any]], int | None]:
        """Up to `top` matching entries older than sequence `after`, newest first, and the
        cursor for the next page when more remain."""
        keep = parse_filter(raw_filter)
        with self._lock:
            matching = [
                (seq, entry) for seq, _, entry in self._entries if (after is None or seq < after) and keep(entry)
            ]
        page = matching[:top]
        cursor = page[-1][0] if len(matching) > top else None
        return [copy.deepcopy(entry) for _, entry in page], cursor


def parse_top(raw: str | None) -> int:
    if raw is None:
        return 100
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_TOP):
        raise bad_request(f"Invalid $top value '{raw}': expected an integer from 1 to {MAX_TOP}.")
    return int(raw)


Predicate = Callable[[dict[str, Any]], bool]
_STRING = r"'((?:[^']|'')*)'"
_DATETIME = r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z)"
_COMPARE = re.compile(rf"(activityDateTime)\s+(eq|ge|le)\s+{_DATETIME}|(activityDisplayName|category)\s+eq\s+{_STRING}")
_STARTSWITH = re.compile(rf"startswith\(\s*activityDisplayName\s*,\s*{_STRING}\s*\)")


def parse_filter(raw: str | None) -> Predicate:
    """The predicate of a `$filter`: terms joined by `and`, a term being a comparison or a
    parenthesised `or` of comparisons."""
    if raw is None:
        return lambda entry: True
    terms = [_term(term, raw) for term in _split(raw.strip(), "and", raw)]
    return lambda entry: all(term(entry) for term in terms)


def _term(text: str, raw: str) -> Predicate:
    if text.startswith("(") and text.endswith(")") and _closing(text, raw) == len(text) - 1:
        options = [_comparison(part, raw) for part in _split(text[1:-1].strip(), "or", raw)]
        return lambda entry: any(option(entry) for option in options)
    return _comparison(text, raw)


def _comparison(text: str, raw: str) -> Predicate:
    if match := _STARTSWITH.fullmatch(text):
        prefix = match[1].replace("''", "'")
        return lambda entry: str(entry["activityDisplayName"]).startswith(prefix)
    match = _COMPARE.fullmatch(text)
    if match is None:
        raise _invalid(raw)
    if match[1]:
        moment, operator = _parse_datetime(match[3]), match[2]
        compare: dict[str, Callable[[datetime], bool]] = {
            "eq": lambda at: at == moment,
            "ge": lambda at: at >= moment,
            "le": lambda at: at <= moment,
        }
        return lambda entry: compare[operator](_parse_datetime(entry["activityDateTime"]))
    name, value = match[4], match[5].replace("''", "'")
    return lambda entry: entry[name] == value


def _parse_datetime(text: str) -> datetime:
    whole, _, fraction = text.removesuffix("Z").partition(".")
    moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))


def _split(text: str, word: str, raw: str) -> list[str]:
    """`text` split on ` word ` outside quotes and parentheses."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    separator = f" {word} "
    while i < len(text):
        char = text[i]
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                raise _invalid(raw)
        elif not quoted and depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i].strip())
            start = i = i + len(separator)
            continue
        i += 1
    if depth or quoted:
        raise _invalid(raw)
    return [*parts, text[start:].strip()]


def _closing(text: str, raw: str) -> int:
    """The index of the parenthesis that closes the one `text` opens with."""
    depth, quoted = 0, False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
            if depth == 0:
                return i
    raise _invalid(raw)


def _invalid(raw: str) -> Exception:
    return bad_request(f"Invalid filter clause: {raw}")
