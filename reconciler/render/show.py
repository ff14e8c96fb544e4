"""`xtap show`: each partner's settings in effect, as text and JSON. Pure."""

from __future__ import annotations

import json

from reconciler.core.address import Address
from reconciler.core.escape import visible
from reconciler.plan.effective import Setting
from reconciler.render.terminal import BOLD, SHOW_WIDTH, clip, printable_json


def render_show(shown: list[tuple[Address, tuple[Setting, ...]]], color: bool) -> str:
    """Each partner's settings in effect, one per line: `own` or `inherited` (from the default),
    and the value. A reviewer sees at once what a `null` in a policy file really allows."""
    blocks = []
    for address, settings in shown:
        header = f"{visible(address.resource)} {visible(address.id)}"
        lines = [f"\x1b[{BOLD}m{header}\x1b[0m" if color else header]
        width = max(len(setting.name) for setting in settings)
        for setting in settings:
            origin = f"from {setting.inherited_from}" if setting.inherited_from else "own"
            value = "null" if setting.value is None else clip(printable_json(setting.value), SHOW_WIDTH)
            lines.append(f"  {setting.name:<{width}}  {origin:<12}  {value}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else "The tenant has no partners.\n"


def render_show_json(shown: list[tuple[Address, tuple[Setting, ...]]]) -> str:
    """The same as JSON: per partner, each setting's value and where it comes from (`null` for
    the partner's own)."""
    document = [
        {
            "resource": address.resource,
            "id": address.id,
            "settings": {s.name: {"value": s.value, "inheritedFrom": s.inherited_from} for s in settings},
        }
        for address, settings in shown
    ]
    return json.dumps(document, indent=2) + "\n"
