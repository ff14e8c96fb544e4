"""Desired + live → Plan. Pure: no I/O, so every rule here is tested without a tenant.

Both sides are put in canonical form (`canonical`), compared with deepdiff, and each changed
resource becomes one Change: a POST holding exactly the file's properties for a new partner,
or one PATCH holding only the changed top-level properties, each with its whole desired value
(nested PATCH semantics are undocumented, GRAPH_FACTS §3.4; a whole value is right either way).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from deepdiff import DeepDiff

from reconciler.canonical import absent_value, canonical, canonical_property, is_compared_member
from reconciler.desired import Desired, DesiredPartner, DesiredTemplate
from reconciler.live import Live
from reconciler.models import PARTNER_CREATE_ONLY, PARTNER_SETTINGS, TEMPLATE_SETTINGS
from reconciler.plan import (
    MTO_PARTNER_TEMPLATE,
    MTO_PARTNER_TEMPLATE_ID,
    MTO_PARTNER_TEMPLATE_URL,
    PARTNER,
    PARTNERS_URL,
    Change,
    DiffEntry,
    Plan,
    Request,
    Unmanaged,
)


class PlanningError(Exception):
    """The desired state cannot be reached by xtap's writes; each message says why and where."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


def make_plan(desired: Desired, live: Live) -> Plan:
    errors: list[str] = []
    changes: list[Change] = []
    forms = _live_forms(live)  # canonical once: for the comparison and for the digest
    for tenant_id in sorted(desired.partners):
        wire = live.partners.get(tenant_id)
        before = forms["partners"].get(tenant_id)
        change = _partner_change(tenant_id, desired.partners[tenant_id], wire, before, errors)
        if change is not None:
            changes.append(change)
    if desired.mto_partner_template is not None:
        template = live.mto_partner_template or {}
        before = forms["mtoPartnerTemplate"] or canonical(template, TEMPLATE_SETTINGS)
        change = _template_change(desired.mto_partner_template, template, before)
        if change is not None:
            changes.append(change)
    if errors:
        raise PlanningError(errors)
    unmanaged = tuple(Unmanaged(PARTNER, tid) for tid in sorted(live.partners) if tid not in desired.partners)
    scope = (PARTNER, MTO_PARTNER_TEMPLATE) if live.mto_partner_template is not None else (PARTNER,)
    return Plan(changes=tuple(changes), unmanaged=unmanaged, live_digest=_digest(forms), scope=scope)


def _live_forms(live: Live) -> dict[str, Any]:
    template = live.mto_partner_template
    return {
        "partners": {tid: canonical(wire, PARTNER_SETTINGS) for tid, wire in live.partners.items()},
        "mtoPartnerTemplate": canonical(template, TEMPLATE_SETTINGS) if template is not None else None,
    }


def _digest(forms: dict[str, Any]) -> str:
    """A fingerprint of the live state as compared (canonical), so a reordered `targets` list is
    not "someone changed the tenant", but any real change makes a saved plan stale."""
    return "sha256:" + hashlib.sha256(json.dumps(forms, sort_keys=True).encode()).hexdigest()


def _partner_change(
    tenant_id: str,
    desired: DesiredPartner,
    live: dict[str, Any] | None,
    before: dict[str, Any] | None,
    errors: list[str],
) -> Change | None:
    written = desired.model.wire()
    if live is None or before is None:  # both or neither: `before` is `live` in canonical form
        body = {"tenantId": desired.model.tenantId, **{k: v for k, v in written.items() if k != "tenantId"}}
        diff = tuple(DiffEntry(name, None, value) for name, value in body.items() if name != "tenantId")
        return Change(PARTNER, tenant_id, "create", desired.source, diff, (Request("POST", PARTNERS_URL, body),))
    diff, changed = _compare(written, before, PARTNER_SETTINGS)
    for entry in diff:
        if entry.path not in PARTNER_CREATE_ONLY:
            continue
        name, was, wants = entry.path, json.dumps(entry.before), json.dumps(entry.after)
        errors.append(
            f"{desired.source}: partner {tenant_id}: {name} is {was} in the tenant but {wants} in the file. "
            f"Graph sets {name} only when a partner is created, and xtap never deletes and re-creates a "
            "partner silently: change the file back, or delete the partner in the admin center and let "
            "xtap create it again."
        )
    if not changed:
        return None
    body = _patch_body(written, live, PARTNER_SETTINGS, changed)
    return Change(
        PARTNER, tenant_id, "update", desired.source, diff, (Request("PATCH", f"{PARTNERS_URL}/{tenant_id}", body),)
    )


def _template_change(desired: DesiredTemplate, live: dict[str, Any], before: dict[str, Any]) -> Change | None:
    written = desired.model.wire()
    diff, changed = _compare(written, before, TEMPLATE_SETTINGS)
    if not changed:
        return None
    body = _patch_body(written, live, TEMPLATE_SETTINGS, changed)
    return Change(
        MTO_PARTNER_TEMPLATE,
        MTO_PARTNER_TEMPLATE_ID,
        "update",
        desired.source,
        diff,
        (Request("PATCH", MTO_PARTNER_TEMPLATE_URL, body),),
    )


def _patch_body(
    written: dict[str, Any], live: dict[str, Any], properties: tuple[str, ...], changed: set[str]
) -> dict[str, Any]:
    """Each changed property with its whole desired value, as the author wrote it.

    Where the tenant holds a nested member the file leaves out, the member is sent as an
    explicit null: under OData merge semantics an absent member would be kept, and the diff
    would never go away. Members the tenant does not hold are not added, so the seed bodies
    go out exactly as the Graph docs show them."""
    return {
        name: _clearing(name, written[name], live.get(name)) if name in written else absent_value(name)
        for name in properties
        if name in changed
    }


def _clearing(name: str, desired: Any, live: Any) -> Any:
    if not (isinstance(desired, dict) and isinstance(live, dict)):
        return desired
    cleared = {
        key: None
        for key, value in live.items()
        if key not in desired and is_compared_member(name, key) and canonical_property(key, value) is not None
    }
    return {**{key: _clearing(key, value, live.get(key)) for key, value in desired.items()}, **cleared}


def _compare(
    written: dict[str, Any], before: dict[str, Any], properties: tuple[str, ...]
) -> tuple[tuple[DiffEntry, ...], set[str]]:
    """The property-level diff against the live canonical form `before`, and the set of changed
    top-level properties.

    deepdiff reports leaves; a change inside `targets` is reported as the whole target set,
    since a set has no stable index to point at."""
    after = canonical(written, properties)
    changed = {name for name in properties if before[name] != after[name]}
    paths: dict[tuple[str, ...], None] = {}
    for name in changed:  # deepdiff only what differs: most of a partner is usually equal
        for level in _levels(DeepDiff(before[name], after[name], view="tree")):
            path = (name, *(str(step) for step in level.path(output_format="list")))
            if "targets" in path:
                path = path[: path.index("targets") + 1]
            paths[path] = None
    diff = tuple(DiffEntry(".".join(path), _get(before, path), _get(after, path)) for path in sorted(paths))
    return diff, changed


def _levels(report: DeepDiff) -> list[Any]:
    return [level for levels in report.values() for level in levels]


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value
