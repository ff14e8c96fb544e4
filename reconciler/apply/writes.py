"""Apply a plan: send its requests in JSON `$batch`es, report each change as applied, failed,
skipped or interrupted, and check that what was applied reads back as written.

Order. A change's requests go in order (a partner's POST before its PATCH), and a change waits
for the changes in its `depends_on` (a partner's create before its identity sync's, an identity
sync's delete before its partner's). Each request is ready once its predecessors (the earlier
request of its change, or every change it depends on) have their outcome, and not before: one
partner's identity sync goes as soon as that partner's create is answered, while other
partners' writes are still in flight. Ready requests go in batches of at most 20, up to
`MAX_IN_FLIGHT` batches at a time, the changes at the head of the longest chains first (so
their dependants are ready early). Graph's batching guide says a batch should be fully
sequential or fully parallel; fully sequential (`dependsOn` chains) fails every later item with
424 when one fails, so one bad partner would take 19 others down. Fully parallel batches keep a
failure to its own change. A batch goes partly filled only when it holds every request ready:
without dependencies, retries or fallbacks, apply sends ceil(writes / 20) batches; each answer
that makes dependants ready may add one partly filled batch.

Failures. A failed request fails its change (Graph's error is reported) and its later requests
are not sent; a change that needs it is skipped. When the failure says no further write can
succeed (bad token, missing permission, Graph unreachable), nothing more is sent and every
change without an outcome is skipped. A request with a fallback (the identity sync verbs:
see `registry.Fallback`) is sent again as its fallback, at once, when Graph answers one
of its statuses. Either way the next plan shows exactly what is left.

Pacing. Graph's write quota is documented (`client.GRAPH_WRITE_QUOTA`: 3,000 writes per
2 min 30 s per app and tenant), so apply keeps its own count of it (`_Bucket`: full at the start,
refilled at the quota's rate, one token per write sent) and starts a batch only when the count
says Graph will take all its writes. A plan within the quota goes at full speed; a larger one
sends the quota's worth at once and then the rest as fast as the quota refills, instead of
running into 429s first and backing off from them (measured: 1.08-1.10x the quota's floor that
way, bench/quota.py). Graph counts a write when it arrives, after apply counted it, so the
count never runs ahead of Graph's; writes of the same app that apply does not know of (another
run) are met as 429s, below, which empty the count.

Retries. A throttled item (429) waits its Retry-After (inside a batch Graph does not retry it,
and the SDK does not either: https://learn.microsoft.com/graph/throttling#throttling-and-batching),
and every sender waits with it: the pacing
`_Gate` holds all batches until the latest Retry-After and drops to one batch in flight,
growing back by one per clean batch, so a client at Graph's write quota (3,000 writes per
2 min 30 s per app and tenant) sends about as fast as the quota refills, without a storm of
retries. A 503/504 item is retried with exponential backoff and jitter. A batch whose reply
was lost (the connection dropped) is sent again; since the lost attempt may have been carried
out, a create answered 409 or a delete answered 404 on such a resend is applied. All retries
are bounded. kiota's RetryHandler still retries a throttled `$batch` POST itself, within the
POST's deadline (--timeout); a Retry-After past it comes back here as the POST's 429 with its
Retry-After, and the gate waits it out between requests instead.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from reconciler.core.address import Address
from reconciler.core.canonical import canonical_property
from reconciler.core.live import Live
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.core.request import Request
from reconciler.graph.batch import MAX_ITEMS, BatchItem, ItemReply, item_error, send_batch
from reconciler.graph.client import LOST_ATTEMPTS, Graph, WriteQuota, backoff_delay
from reconciler.graph.errors import ConnectionLost, GraphError
from reconciler.graph.transport import retry_after_seconds
from reconciler.plan.model import Change, Plan

# "interrupted": the change's write was in flight when Ctrl-C came, so whether Graph carried it
# out is unknown (the next plan shows it either way).
Status = Literal["applied", "failed", "skipped", "interrupted"]
# Failures after which every other write would fail the same way: None = Graph unreachable.
FATAL_STATUSES = frozenset({None, 401, 403})
SKIPPED_REASON = "not attempted: an earlier failure means no write can succeed"
INTERRUPTED_SKIPPED_REASON = "not attempted: apply was interrupted"
IN_FLIGHT_REASON = "in flight when apply was interrupted: Graph may or may not have applied it"
LOST_REPLY_NOTE = "already {done} by the earlier attempt whose reply was lost"

# Batches at once. Graph documents no limit on concurrent requests for these resources; its
# limit is the write quota above, which `_Bucket` paces (a larger burst is refused before it is
# sent, not after), and a 429 still drops the gate to one batch in flight (`_Gate`). So the
# width only has to hide Graph's round trip behind the client's own work: at 4, 1,250 writes
# took 16 round trips; at 16, the client's CPU (the SDK's middleware, about 4 ms a batch) is
# what paces them, and 64 measured no faster.
MAX_IN_FLIGHT = 16
WIDEN_AFTER = 4  # clean batches in a row, after a 429, before one more batch may be in flight
THROTTLED_ATTEMPTS = 10  # an item throttled more often than this fails with Graph's 429
UNAVAILABLE_ATTEMPTS = 4  # sends of an item answered 503/504 before it fails
UNAVAILABLE_STATUSES = frozenset({503, 504})
# No honest Retry-After is longer than the write quota's window; a longer one is capped.
MAX_RETRY_AFTER_S = 150.0


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def ok(self) -> bool:
        return all(outcome.status == "applied" for outcome in self.outcomes)


async def apply_plan(graph: Graph, plan: Plan, on_outcome: Callable[[Outcome], None] | None = None) -> ApplyReport:
    """Write every change, each request once what it waits for is done, reporting each outcome
    as it is known. A cancellation (Ctrl-C, see `signals`) is caught here so the report can
    still say which writes were in flight and which were never started; the caller gets
    `interrupted=True` and decides how to exit. The report lists the outcomes in plan order."""
    applier = _Applier(graph, plan, on_outcome or (lambda outcome: None))
    try:
        await applier.run()
    except asyncio.CancelledError:
        applier.interrupt()
    applier.finish()
    return applier.report()


def dependants(changes: Sequence[Change]) -> dict[Address, list[Change]]:
    """The changes that wait for each change: those naming it in `depends_on`. A dependency not
    in the plan needs nothing."""
    planned = {change.address for change in changes}
    waiting: dict[Address, list[Change]] = {}
    for change in changes:
        for address in dict.fromkeys(change.depends_on):
            if address in planned and address != change.address:
                waiting.setdefault(address, []).append(change)
    return waiting


def chains(changes: Sequence[Change], waiting: dict[Address, list[Change]]) -> dict[Address, int]:
    """Each change's longest chain: its requests and, after them, the longest chain among the
    changes that wait for it. The plan is in apply order (what a change waits for comes before
    it), so one walk from the end finds them all."""
    longest: dict[Address, int] = {}
    for change in reversed(changes):
        after = max((longest.get(other.address, 0) for other in waiting.get(change.address, ())), default=0)
        longest[change.address] = len(change.requests) + after
    return longest


def unconfirmed(report: ApplyReport, live: Live) -> list[str]:
    """What was applied but does not read back as written, from a fresh read of the tenant.

    Pure, so the check is tested without a tenant. A mismatch means Graph accepted a write and
    kept something else (or is still replicating it): worth a warning, never silence. A reset
    is checked by the next plan, not here: what it restores is Graph's to say."""
    return [
        problem
        for outcome in report.outcomes
        if checked(outcome)
        for problem in read_back_problems(outcome, live.instances.get(outcome.change.address))
    ]


def checked(outcome: Outcome) -> bool:
    """Whether `unconfirmed` checks the outcome: an applied write, but not a reset."""
    return outcome.status == "applied" and outcome.change.action != "reset"


def read_back_problems(outcome: Outcome, current: dict[str, Any] | None) -> list[str]:
    """`unconfirmed` of one checked outcome, given its resource as read back (None: not there)."""
    change = outcome.change
    if change.action == "delete":
        return [] if current is None else [f"{change.address}: still there after its delete"]
    rtype = REGISTRY_BY_NAME[change.resource]
    written = {name: value for request in change.requests for name, value in (request.body or {}).items()}
    return [
        f"{change.address}: {name} does not read back as it was written"
        for name, value in written.items()
        if name != rtype.key
        and (
            current is None
            or canonical_property(rtype, name, current.get(name)) != canonical_property(rtype, name, value)
        )
    ]


@dataclass
class _Item:
    """One request on its way: its change, its place there, and how its attempts went."""

    change: Change
    position: int  # in change.requests
    request: Request  # the planned one, or its fallback
    throttled: int = 0
    unavailable: int = 0
    lost: int = 0  # attempts whose reply was lost: each may have been carried out
    seq: int = field(default=0, compare=False)


@dataclass
class _Gate:
    """The pacing every sender shares. After a 429 nobody sends until the latest Retry-After
    has passed, and batches go one at a time, one more after each run of `WIDEN_AFTER` clean
    batches: the quota refills at its own pace, and a burst of retries would only be throttled
    again. Widening after every clean batch measured twice the 429s at the write quota: the
    batch after a clean one usually finds the bucket nearly empty."""

    open_at: float = 0.0
    width: int = MAX_IN_FLIGHT
    clean_run: int = 0

    def throttled(self, until: float) -> None:
        self.open_at, self.width, self.clean_run = max(self.open_at, until), 1, 0

    def clean(self) -> None:
        self.clean_run += 1
        if self.clean_run >= WIDEN_AFTER:
            self.width, self.clean_run = min(MAX_IN_FLIGHT, self.width + 1), 0


@dataclass
class _Bucket:
    """Apply's count of the write quota: `tokens` writes Graph would take `at` (the loop's
    clock), up to the quota, refilled at its rate once Graph has answered a write. Graph's
    refill starts when its first write arrives, which apply learns only from the reply: a
    count that refilled from the first send would run ahead of Graph's by that first round
    trip's worth (measured: a few 429s per 5,000 writes)."""

    quota: WriteQuota
    tokens: float
    at: float
    refilling: bool = False

    def _now(self, now: float) -> float:
        if not self.refilling:
            return self.tokens
        return min(float(self.quota.writes), self.tokens + (now - self.at) * self.quota.rate)

    def answered(self, now: float) -> None:
        """A batch of writes came back: Graph's count is refilling by now."""
        if not self.refilling:
            self.at, self.refilling = now, True

    def wait(self, writes: int, now: float) -> float | None:
        """Seconds until `writes` can be sent (0: now); None: not before a reply."""
        short = writes - self._now(now)
        if short <= 0:
            return 0.0
        return short / self.quota.rate if self.refilling else None

    def take(self, writes: int, now: float) -> None:
        self.tokens, self.at = self._now(now) - writes, now

    def emptied(self, now: float) -> None:
        """Graph said 429: whatever the count said, the quota is spent."""
        self.tokens, self.at = 0.0, now


BatchResult = list[ItemReply] | GraphError


class _Applier:
    """The state of one apply: outcomes so far, the pacing gate, the batches in flight and the
    requests waiting (a heap by the time each may be sent)."""

    def __init__(self, graph: Graph, plan: Plan, on_outcome: Callable[[Outcome], None]) -> None:
        self._graph, self._on_outcome, self._changes = graph, on_outcome, plan.changes
        self._dependants = dependants(plan.changes)
        # How many of the changes each change waits for have no outcome yet.
        self._unsettled = {change.address: 0 for change in plan.changes}
        for waiting in self._dependants.values():
            for change in waiting:
                self._unsettled[change.address] += 1
        self._outcomes: dict[Address, Outcome] = {}
        self._notes: dict[Address, str] = {}
        self._stop: str | None = None  # why nothing more is sent
        self._gate = _Gate()
        self._quota = _Bucket(graph.write_quota, float(graph.write_quota.writes), asyncio.get_running_loop().time())
        self._paced_at = 0.0  # when the quota allows the batch that waits for it
        self._waiting: list[tuple[float, int, _Item]] = []
        self._in_flight: dict[asyncio.Task[BatchResult], list[_Item]] = {}
        self._seq = itertools.count()
        self._clock = asyncio.get_running_loop().time

    async def run(self) -> None:
        """Send every request as it becomes ready, until each change has an outcome (or nothing
        more may be sent)."""
        longest = chains(self._changes, self._dependants)
        ready = [change for change in self._changes if not self._unsettled[change.address]]
        for change in sorted(ready, key=lambda change: -longest[change.address]):
            self._start(change, 0)
        while self._in_flight or (self._waiting and self._stop is None):
            self._send_ready()
            await self._settle_next()

    def interrupt(self) -> None:
        """Ctrl-C: a change with a batch in flight, or a write whose reply was lost, is
        interrupted (Graph may have carried it out); the others are skipped at `finish`."""
        self._stop = INTERRUPTED_SKIPPED_REASON
        unknown = [item for items in self._in_flight.values() for item in items]
        unknown += [item for _, _, item in self._waiting if item.lost]
        for task in self._in_flight:
            task.cancel()
        for item in unknown:
            self._record(Outcome(item.change, "interrupted", IN_FLIGHT_REASON))

    def finish(self) -> None:
        for change in self._changes:
            self._record(Outcome(change, "skipped", self._stop or SKIPPED_REASON))

    def report(self) -> ApplyReport:
        ordered = tuple(self._outcomes[change.address] for change in self._changes)
        return ApplyReport(ordered, interrupted=self._stop == INTERRUPTED_SKIPPED_REASON)

    def _startable(self, change: Change, position: int) -> bool:
        """Whether a change's request may go now: its change has not failed, nothing stops
        apply, and (for its first request) what it depends on was applied."""
        if change.address in self._outcomes:
            return False
        if self._stop is not None:
            self._record(Outcome(change, "skipped", self._stop))
            return False
        blocked = next((a for a in change.depends_on if a in self._outcomes and not self._applied(a)), None)
        if position == 0 and blocked is not None:
            self._record(Outcome(change, "skipped", f"not attempted: it needs {blocked}, which was not applied"))
            return False
        return True

    def _start(self, change: Change, position: int) -> None:
        if self._startable(change, position):
            self._queue(_Item(change, position, change.requests[position]), 0.0)

    def _applied(self, address: Address) -> bool:
        return self._outcomes[address].status == "applied"

    def _queue(self, item: _Item, delay: float) -> None:
        item.seq = next(self._seq)
        heapq.heappush(self._waiting, (self._clock() + delay, item.seq, item))

    def _send_ready(self) -> None:
        """Start batches of the requests whose time has come, as far as the gate allows."""
        now = self._clock()
        if self._stop is not None or now < self._gate.open_at:
            return
        most = max(1, min(MAX_ITEMS, self._quota.quota.writes))
        while len(self._in_flight) < self._gate.width and self._waiting and self._waiting[0][0] <= now:
            ready = [heapq.heappop(self._waiting)]
            while len(ready) < most and self._waiting and self._waiting[0][0] <= now:
                ready.append(heapq.heappop(self._waiting))
            wait = self._quota.wait(len(ready), now)
            if wait != 0:  # not yet: the quota would refuse some of them
                for entry in ready:
                    heapq.heappush(self._waiting, entry)
                self._paced_at = now + (wait or 0.0)  # None: until a batch comes back
                return
            self._quota.take(len(ready), now)
            items = [item for _, _, item in ready]
            self._in_flight[asyncio.ensure_future(self._send(items))] = items

    async def _send(self, items: list[_Item]) -> BatchResult:
        try:
            return await send_batch(self._graph, [BatchItem(str(n), item.request) for n, item in enumerate(items)])
        except GraphError as exc:
            return exc

    async def _settle_next(self) -> None:
        """Wait for a batch to come back or for the next waiting request's time, whichever is
        first, and take in what came back."""
        timeout = None
        if self._waiting and self._stop is None and len(self._in_flight) < self._gate.width:
            start = max(self._gate.open_at, self._waiting[0][0], self._paced_at)
            timeout = max(0.0, start - self._clock())
        if not self._in_flight:
            await asyncio.sleep(timeout or 0.0)
            return
        done, _ = await asyncio.wait(self._in_flight, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            self._settle(self._in_flight.pop(task), task.result())

    def _settle(self, items: list[_Item], result: BatchResult) -> None:
        """Take in a batch's answer. Its items that go again share one jitter draw, so a
        batch sent again goes out together rather than in as many pieces as it had items."""
        jitter = random.random()
        self._quota.answered(self._clock())
        if isinstance(result, ConnectionLost):
            for item in items:
                item.lost += 1
                self._retry_or_fail(item, item.lost, LOST_ATTEMPTS, backoff_delay(item.lost, jitter), lambda: result)
        elif isinstance(result, GraphError):  # the POST itself, e.g. throttled past its deadline
            for item in items:
                self._answer(item, result.status, _capped(result.retry_after), jitter, lambda: result)
        else:
            for item, reply in zip(items, result, strict=True):
                needs = REGISTRY_BY_NAME[item.change.resource].write_permission
                error = partial(item_error, self._graph, item.request, reply, needs)
                self._answer(item, reply.status, _retry_after(reply), jitter, error)
            if all(reply.status != 429 for reply in result):
                self._gate.clean()

    def _answer(
        self,
        item: _Item,
        status: int | None,
        retry_after: float | None,
        jitter: float,
        error: Callable[[], GraphError],
    ) -> None:
        """Take in one request's answer: done, retried (throttled, unavailable, a fallback)
        or failed with Graph's error."""
        request = item.request
        if status is not None and (200 <= status < 300 or (item.lost and _carried_out(item, status))):
            self._done(item, status)
        elif status == 429:
            item.throttled += 1
            delay = backoff_delay(item.throttled, jitter) if retry_after is None else retry_after
            self._gate.throttled(self._clock() + delay)
            self._quota.emptied(self._clock())
            self._retry_or_fail(item, item.throttled, THROTTLED_ATTEMPTS + 1, delay, error)
        elif status in UNAVAILABLE_STATUSES:
            item.unavailable += 1
            delay = backoff_delay(item.unavailable, jitter)
            self._retry_or_fail(item, item.unavailable, UNAVAILABLE_ATTEMPTS, delay, error)
        elif request.fallback is not None and status in request.fallback_statuses:
            item.request = request.fallback
            self._queue(item, 0.0)
        else:
            self._fail(item, error())

    def _retry_or_fail(
        self, item: _Item, attempts: int, most: int, delay: float, error: Callable[[], GraphError]
    ) -> None:
        """Queue `item` again after `delay`, unless it has been tried `most` times."""
        if attempts >= most:
            self._fail(item, error())
        else:
            self._queue(item, delay)

    def _done(self, item: _Item, status: int) -> None:
        change = item.change
        if not 200 <= status < 300:
            done = "created" if item.request.method == "POST" else "deleted"
            self._notes[change.address] = LOST_REPLY_NOTE.format(done=done)
        if item.position == len(change.requests) - 1:
            self._record(Outcome(change, "applied", self._notes.get(change.address)))
        else:
            self._start(change, item.position + 1)

    def _fail(self, item: _Item, error: GraphError) -> None:
        self._record(Outcome(item.change, "failed", str(error)))
        if error.status in FATAL_STATUSES:
            self._stop = SKIPPED_REASON

    def _record(self, outcome: Outcome) -> None:
        """Keep a change's first outcome, pass it on as soon as it is known, and start each
        change that waited for nothing else (`_startable` skips it if this one was not applied)."""
        address = outcome.change.address
        if address in self._outcomes:
            return
        self._outcomes[address] = outcome
        self._on_outcome(outcome)
        for change in self._dependants.get(address, ()):
            self._unsettled[change.address] -= 1
            if not self._unsettled[change.address]:
                self._start(change, 0)


def _carried_out(item: _Item, status: int) -> bool:
    """Whether an answer to a resend says the lost attempt did the work: a create answered
    409 (the partner exists now) or a delete answered 404 (it is gone). On a first attempt
    these stay failures: then the conflict or the absence was not of xtap's making."""
    method = item.request.method
    return (method == "POST" and item.change.action == "create" and status == 409) or (
        method == "DELETE" and status == 404
    )


def _retry_after(reply: ItemReply) -> float | None:
    """The item's Retry-After in seconds (Graph's may be fractional), capped; None when
    absent or neither seconds nor a date."""
    return _capped(retry_after_seconds(reply.headers.get("retry-after")))


def _capped(seconds: float | None) -> float | None:
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER_S)
