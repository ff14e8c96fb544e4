"""The live tenant as Graph returned it: raw wire JSON, keyed the way the planner looks it up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Live:
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)  # key: lowercase tenantId
    # None when not read (no template file: the template is not managed, so not fetched).
    mto_partner_template: dict[str, Any] | None = None
