"""Reads that lag writes: for a while after a write, Graph may still return the old value
(undocumented, reported by other tools). The emulator keeps, per written resource, the version
reads still see and until when, so a client's verifying re-read meets the lag in tests before it
meets it in a tenant.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

Version = dict[str, Any] | None  # None: the resource did not exist


class ReadLag:
    """The stale versions of one collection of resources. Not locked itself: the store calls
    it under its own lock, together with the write or read it belongs to."""

    def __init__(self, lag_s: float) -> None:
        self._lag_s = lag_s
        self._stale: dict[str, tuple[float, Version]] = {}  # key -> (visible until, version seen)

    def wrote(self, key: str, before: Version) -> None:
        """Record a write to `key`, which held `before`. Writes in quick succession keep the
        version from before the first of them, visible until `lag_s` after the last one."""
        if not self._lag_s:
            return
        now = time.monotonic()
        pending = self._stale.get(key)
        seen = pending[1] if pending is not None and pending[0] > now else copy.deepcopy(before)
        self._stale[key] = (now + self._lag_s, seen)

    def seen(self, key: str, current: Mapping[str, dict[str, Any]]) -> Version:
        """The version of `key` a read sees, given the `current` versions."""
        self._expire()
        pending = self._stale.get(key)
        return current.get(key) if pending is None else pending[1]

    def view(self, current: Mapping[str, dict[str, Any]]) -> Mapping[str, dict[str, Any]]:
        """Every resource as a read sees it: `current` itself when nothing lags."""
        self._expire()
        if not self._stale:
            return current
        seen = dict(current)
        for key, (_, version) in self._stale.items():
            if version is None:
                seen.pop(key, None)
            else:
                seen[key] = version
        return seen

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, (until, _) in self._stale.items() if until <= now]:
            del self._stale[key]
