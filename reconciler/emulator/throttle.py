"""Injected throttling (DESIGN §6): Graph's 429 on demand, the same requests on every run.

Graph throttles each request, batched or not, on its own (GRAPH_FACTS §4), so the emulator
decides per request too; a client's retry path then runs in tests rather than first in production.
"""

from __future__ import annotations

import random
import threading

from .config import EmulatorConfig
from .errors import GraphError

# Graph's own wording for a throttled request (GRAPH_FACTS §4).
_MESSAGE = "Please retry again later."


class Throttle:
    """Counts requests and says which to refuse. One lock, so concurrent requests each get
    their own place in the count and their own draw."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._every = config.throttle_every
        self._probability = config.throttle_probability
        self._retry_after = f"{config.retry_after_s:g}"
        self._random = random.Random(config.seed)
        self._count = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise Graph's 429 with `Retry-After` if this request is one to throttle."""
        with self._lock:
            self._count += 1
            every = self._every > 0 and self._count % self._every == 0
            drawn = self._probability > 0 and self._random.random() < self._probability
        if every or drawn:
            raise GraphError(429, "TooManyRequests", _MESSAGE, {"Retry-After": self._retry_after})
