"""Names beside GUIDs, the same in every report that shows a change (plan, drift): the partner a
resource is about, by its name, and one `<guid> = <label>` per id its values name.

The labels come from Graph (a tenant's or a group's display name is whatever its owner typed),
so each goes through `escape.visible` in text and `escape.markdown_text` in markdown on its way
out: a name cannot move the cursor, start a workflow command, or turn into a link or a tag.
The GUIDs are matched by `GUID_IN_TEXT`, lower-case hex and dashes only, so they need neither.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.core.escape import markdown_text, visible
from reconciler.core.registry import REGISTRY_BY_NAME

# A GUID anywhere in a value's JSON text, lower case: the ids a change's values name.
GUID_IN_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Named = list[tuple[str, str]]


def tenant_name(resource: str, ident: str, names: Mapping[str, str]) -> str | None:
    """The name of the partner tenant the instance `ident` of `resource` is about, if looked up."""
    tenant = REGISTRY_BY_NAME[resource].tenant_of(ident)
    return None if tenant is None else names.get(tenant)


def named_in(resource: str, ident: str, values: Iterable[Any], names: Mapping[str, str]) -> Named:
    """Each looked-up id that `values` (a diff's before and after values) name, sorted; the
    instance's own tenant aside, since the header names it."""
    tenant = REGISTRY_BY_NAME[resource].tenant_of(ident)
    text = json.dumps(list(values), default=str).lower()
    found = {match for match in GUID_IN_TEXT.findall(text) if match != tenant and match in names}
    return [(guid, names[guid]) for guid in sorted(found)]


def text_lines(named: Named, indent: str) -> list[str]:
    """`<guid> = <label>` lines for a terminal or a log."""
    return [f"{indent}{visible(guid)} = {visible(label)}" for guid, label in named]


def md_table(named: Named) -> str | None:
    """A markdown table of the ids and their labels, or None when there are none. Each GUID is
    hex and dashes (`GUID_IN_TEXT`), safe in a code span; each label is escaped as text, which
    also keeps a `|` from splitting its row."""
    if not named:
        return None
    rows = [f"| `{guid}` | {markdown_text(label)} |" for guid, label in named]
    return "\n".join(["| id | names |", "|---|---|", *rows])
