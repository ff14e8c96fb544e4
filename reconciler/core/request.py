"""`Request`: one Graph write as plain data, what the planner makes and the client sends.

Below both, so the planner need not know HTTP and the client need not know plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Request:
    """One Graph write. `url` is relative to the Graph base URL (which holds the version), so a
    plan made against one cloud or the emulator reads the same. When Graph answers one of
    `fallback_statuses`, apply sends `fallback` instead (see `registry.Fallback`)."""

    method: str
    url: str
    body: dict[str, Any] | None = None
    fallback: Request | None = None
    fallback_statuses: tuple[int, ...] = ()
