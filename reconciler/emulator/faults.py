"""Injected faults (docs/emulator.md): Graph's 429, 503, lost replies, slow answers and an admin
editing in the portal, on demand and the same on every run with the same seed.

Graph decides on each request, batched or not, on its own
(https://learn.microsoft.com/graph/throttling#throttling-and-batching), so the emulator does too; a
client's retry and recovery paths then run in tests rather than first in production.
Each knob draws from its own generator, so turning one on never shifts another's draws.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

from .config import EmulatorConfig
from .errors import GraphError

# Graph's own wording for a throttled request: https://learn.microsoft.com/graph/throttling
_THROTTLED = "Please retry again later."
# The actor of out-of-band edits: a user, not an app, as an admin in the Entra portal is.
PORTAL_ADMIN: dict[str, Any] = {
    "user": {
        "id": "4f6c2b1e-8a3d-4e5f-9b7c-0d1e2f3a4b5c",
        "displayName": "Portal Admin",
        "userPrincipalName": "admin@contoso.onmicrosoft.com",
        "ipAddress": "203.0.113.10",
    },
    "app": None,
}


def knob_random(seed: int, knob: str) -> random.Random:
    """The generator of one knob: a string seed is hashed the same way in every process."""
    return random.Random(f"{seed}/{knob}")


class Trigger:
    """Says which requests a fault hits: every Nth, and each with a seeded chance. One lock, so
    concurrent requests each get their own place in the count and their own draw."""

    def __init__(self, every: int, probability: float, rng: random.Random) -> None:
        self._every = every
        self._probability = probability
        self._random = rng
        self._count = 0
        self._lock = threading.Lock()

    def hit(self) -> bool:
        with self._lock:
            self._count += 1
            every = self._every > 0 and self._count % self._every == 0
            drawn = self._probability > 0 and self._random.random() < self._probability
        return every or drawn


class WriteQuota:
    """Graph's identity write quota as a token bucket per app: `limit` tokens, refilled
    continuously at `limit` per `window_s`. A write takes one; a refused one takes none.
    https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits"""

    def __init__(self, limit: int, window_s: float, tenant_id: str) -> None:
        self._limit = limit
        self._rate = limit / window_s
        # How full the bucket must be before a throttled client is told to come back: a Retry-After
        # for a single token would invite one write per wake-up, a storm of tiny retries.
        self._resume = max(1.0, limit / 100)
        self._tenant_id = tenant_id
        self._buckets: dict[str, tuple[float, float]] = {}  # app id -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, app_id: str) -> None:
        """Take a token for one write of `app_id`, or raise the 429 Graph answers on an empty bucket."""
        with self._lock:
            now = time.monotonic()
            tokens, then = self._buckets.get(app_id, (float(self._limit), now))
            tokens = min(float(self._limit), tokens + (now - then) * self._rate)
            if tokens >= 1:
                self._buckets[app_id] = (tokens - 1, now)
                return
            self._buckets[app_id] = (tokens, now)
        # Graph's Retry-After is fractional ("2.128"); rounded up so that waiting it out suffices.
        wait = math.ceil((self._resume - tokens) / self._rate * 1000) / 1000
        headers = {
            "Retry-After": f"{wait:.3f}",
            "x-ms-throttle-information": "WriteLimitExceeded",
            "x-ms-throttle-scope": f"Tenant_Application/ReadWrite/{app_id}/{self._tenant_id}",
        }
        raise GraphError(429, "TooManyRequests", _THROTTLED, headers)


class Faults:
    """Every injected fault of one emulator, as its config asks."""

    def __init__(self, config: EmulatorConfig) -> None:
        seed = config.seed
        self._throttle = Trigger(config.throttle_every, config.throttle_probability, knob_random(seed, "throttle"))
        self._retry_after = f"{config.retry_after_s:g}"
        self._unavailable = Trigger(
            config.unavailable_every, config.unavailable_probability, knob_random(seed, "unavailable")
        )
        self._drop = Trigger(config.drop_every, config.drop_probability, knob_random(seed, "drop"))
        self._out_of_band = Trigger(config.out_of_band_every, 0.0, knob_random(seed, "out of band"))
        self._pick = knob_random(seed, "out of band pick")
        self._quota_limit = config.write_quota
        self._quota_window_s = config.write_quota_window_s
        self._quotas: dict[str, WriteQuota] = {}  # tenant id -> its bucket, made on its first write
        self._latency_s = config.latency_s
        self._jitter_s = config.latency_jitter_s
        self._jitter = knob_random(seed, "latency jitter")
        self._lock = threading.Lock()  # for the draws that are not a Trigger's, and `_quotas`

    def check(self, method: str, app_id: str, tenant_id: str) -> None:
        """Raise the fault, if any, that a request passing the token and permission checks meets:
        an injected 429, then a 503, then the write quota of the app in `tenant_id`. Every trigger
        counts every request, whatever its tenant, so one knob's count never depends on another's."""
        throttled, unavailable = self._throttle.hit(), self._unavailable.hit()
        if throttled:
            raise GraphError(429, "TooManyRequests", _THROTTLED, {"Retry-After": self._retry_after})
        if unavailable:
            # Graph's error reference names this code serviceNotAvailable; answers seen in the field
            # say ServiceUnavailable. A client should go by the status, which both agree on.
            raise GraphError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry later.")
        if self._quota_limit and method != "GET":
            self._quota(tenant_id).take(app_id)

    def _quota(self, tenant_id: str) -> WriteQuota:
        """The tenant's write quota: Graph's is per app and tenant, so each tenant has its own."""
        with self._lock:
            quota = self._quotas.get(tenant_id)
            if quota is None:
                quota = self._quotas[tenant_id] = WriteQuota(self._quota_limit, self._quota_window_s, tenant_id)
            return quota

    def out_of_band(self) -> bool:
        """Whether the portal admin edits a partner before this request."""
        return self._out_of_band.hit()

    def pick(self, keys: Sequence[str]) -> str:
        """The partner the portal admin edits, drawn from the seeded generator."""
        with self._lock:
            return self._pick.choice(keys)

    def drop(self) -> bool:
        """Whether this handled, successful top-level request loses its reply."""
        return self._drop.hit()

    def latency(self) -> float:
        """Seconds to wait before answering this request."""
        if not self._jitter_s:
            return self._latency_s
        with self._lock:
            return self._latency_s + self._jitter.uniform(0, self._jitter_s)
