"""`xtap show`: each partner's settings in effect, as text and JSON. Pure.

Every name and value here came from Graph, so the text report escapes each (`escape.visible`,
through `printable_json` for values): a capability's name or a role id can hold anything."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.core.escape import visible
from reconciler.plan.effective import Held, InEffect
from reconciler.render.names import text_lines
from reconciler.render.terminal import BOLD, SHOW_WIDTH, clip, printable_json

# The origin of what a Microsoft service set on a partner: never written nor compared by xtap.
SERVICE_MANAGED = "service-managed"
# Well-known Microsoft Entra role template ids, named where a service-managed value lists them:
# https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference
ROLE_TEMPLATES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
}


def render_show(shown: list[InEffect], color: bool) -> str:
    """Each partner's settings in effect, one per line: `own` or `from default`, and the value;
    then its nested instances in effect (its Microsoft 365 capabilities, each its own or the
    default's), then what a Microsoft service set on it, read-only. A reviewer sees at once
    what a `null` in a policy file really allows, and what no file can change. The partner's
    name follows its id, and each target its settings name follows them, `<target> = <label>`,
    where the lookups found them."""
    blocks = []
    for partner in shown:
        header = f"{visible(partner.address.resource)} {visible(partner.address.id)}"
        if partner.name:
            header += f"  {visible(partner.name)}"
        rows = [(s.name, _origin(s.inherited_from), _value(s.value)) for s in partner.settings]
        for key, held in partner.held.items():
            rows.extend(_held_rows(key, held, partner.not_read.get(key)))
        for name, value in partner.service_managed.items():
            rows.append((name, SERVICE_MANAGED, "none" if value is None else _managed(value)))
        rows.extend(
            (name, "not read", clip(visible(why), SHOW_WIDTH))
            for name, why in partner.not_read.items()
            if name not in partner.held
        )
        name_width = max(len(name) for name, _, _ in rows)
        origin_width = max(len(origin) for _, origin, _ in rows)
        lines = [f"\x1b[{BOLD}m{header}\x1b[0m" if color else header]
        lines.extend(
            f"  {visible(name):<{name_width}}  {origin:<{origin_width}}  {value}" for name, origin, value in rows
        )
        lines.extend(text_lines(list(partner.labels.items()), "  "))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else "The tenant has no partners.\n"


def _origin(inherited_from: str | None) -> str:
    return f"from {inherited_from}" if inherited_from else "own"


def _value(value: Any) -> str:
    return "null" if value is None else clip(printable_json(value), SHOW_WIDTH)


def _held_rows(key: str, held: tuple[Held, ...] | None, why: str | None) -> list[tuple[str, str, str]]:
    """One row per nested instance in effect (`key.name`), or one saying there are none, or why
    they were not read."""
    if held is None:
        return [(key, "not read", clip(visible(f"the token may not read them ({why})"), SHOW_WIDTH))]
    if not held:
        return [(key, "none", "neither the partner nor the default has any")]
    return [(f"{key}.{each.key}", _origin(each.inherited_from), _value(_only(each.settings))) for each in held]


def _only(settings: Mapping[str, Any]) -> Any:
    """A nested instance's one setting alone (a capability's inboundAccess), else all of them."""
    return next(iter(settings.values())) if len(settings) == 1 else dict(settings)


def _managed(value: Mapping[str, Any]) -> str:
    """A service-managed object's own members (not `@odata.*`, `id` or its timestamps), each
    role template id with its role's name where it is a well-known one."""
    parts = []
    for name, member in value.items():
        if name.startswith("@odata.") or name == "id" or name.endswith("DateTime"):
            continue
        if isinstance(member, list):
            shown = ", ".join(_role(item) for item in member) or "none"
        else:
            shown = printable_json(member)
        parts.append(f"{visible(name)}: {shown}")
    return clip("; ".join(parts) or "set, with no members", SHOW_WIDTH)


def _role(item: Any) -> str:
    if not isinstance(item, str):
        return printable_json(item)
    name = ROLE_TEMPLATES.get(item.lower())
    return visible(item) if name is None else f"{visible(item)} ({name})"


def render_show_json(shown: list[InEffect]) -> str:
    """The same as JSON: per partner, each setting's value and where it comes from (`null` for
    the partner's own); each nested instance in effect by its key, likewise (`null` where it was
    not read, with the reason under `notRead`); each service-managed navigation's object as
    Graph returned it but for `@odata.context` (`null`: none), marked read-only; the partner's
    `name` (`null` when not looked up) and `names`, each target its settings name by its label."""
    document = [
        {
            "resource": partner.address.resource,
            "id": partner.address.id,
            "name": partner.name,
            "settings": {s.name: {"value": s.value, "inheritedFrom": s.inherited_from} for s in partner.settings},
            **{
                key: None
                if held is None
                else {each.key: {"value": each.settings, "inheritedFrom": each.inherited_from} for each in held}
                for key, held in partner.held.items()
            },
            "serviceManaged": {
                name: {"value": _without_context(value), "readOnly": True}
                for name, value in partner.service_managed.items()
            },
            "notRead": dict(partner.not_read),
            "names": dict(partner.labels),
        }
        for partner in shown
    ]
    return json.dumps(document, indent=2) + "\n"


def _without_context(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Graph's object less its `@odata.context`, which only repeats the URL it was read from."""
    return None if value is None else {name: member for name, member in value.items() if name != "@odata.context"}
