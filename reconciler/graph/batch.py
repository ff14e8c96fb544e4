"""Graph's JSON `$batch` (https://learn.microsoft.com/graph/json-batching), client side: up to
20 writes in one POST, each answered on its own.

xtap builds the envelope itself and sends it through the SDK's request adapter (`Graph.write`),
so authentication, the token's origin rule, the timeout and kiota's middleware stay those of
every other request. msgraph-core's `BatchRequestContent` is not used: it sends absolute item
URLs, which Graph refuses (msgraph-sdk-python#1015, msgraph-sdk-python-core#1116), serialises
`depends_on` where Graph reads `dependsOn`, which Graph ignores (msgraph-sdk-python-core PR #996),
and needs a module msgraph-core does not declare.

Only this module knows the envelope's shape; apply sees requests in and statuses out.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.request import Request
from reconciler.graph.client import Graph
from reconciler.graph.errors import GraphError
from reconciler.graph.together import all_of

MAX_ITEMS = 20  # "JSON batch requests are currently limited to 20 individual requests."
# Batches of reads at once (apply's re-read, name lookups), as many as apply's writes: Graph
# documents no limit on concurrent requests here, only its quotas, which count the items whether
# they go together or not; 4 took 19 round trips to re-read 1,500 writes, 16 takes 5.
IN_FLIGHT = 16
BATCH_URL = "/$batch"
# What `Graph.write` imports for its first write (the SDK's request adapter and its middleware).
SDK_MODULES = ("msgraph", "msgraph.generated.models.o_data_errors.o_data_error", "msgraph_core")
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class BatchItem:
    id: str  # unique within its batch; Graph compares ids case-insensitively
    request: Request


@dataclass(frozen=True)
class ItemReply:
    id: str
    status: int
    headers: dict[str, str]  # names lowercased: Graph's casing varies
    body: Any  # parsed JSON, None when the item's reply has none


async def send_batch(graph: Graph, items: Sequence[BatchItem]) -> list[ItemReply]:
    """One `$batch` POST of `items` (1 to 20, ids unique), and each item's reply in the order
    of `items`. Items without `dependsOn` run in any order (the batching guide above): the
    caller sends together only requests that do not depend on each other. A failed envelope
    (401, a lost connection, a timeout) is the GraphError of the POST; a reply that is not a
    batch reply naming each item once is `not_graph_reply`."""
    envelope = {"requests": [_entry(item) for item in items]}
    reply = await graph.write(Request("POST", BATCH_URL, envelope))
    return _replies(graph, items, reply)


async def send_all(graph: Graph, requests: Sequence[Request]) -> list[ItemReply]:
    """Each of `requests` (none depending on another), 20 to a `$batch`, `IN_FLIGHT` batches at
    a time, and each one's reply in their order: reads that would otherwise cost a request
    each."""
    chunks = [requests[start : start + MAX_ITEMS] for start in range(0, len(requests), MAX_ITEMS)]
    replies: list[ItemReply] = []
    for start in range(0, len(chunks), IN_FLIGHT):
        group = [
            [BatchItem(str(index), request) for index, request in enumerate(chunk)]
            for chunk in chunks[start : start + IN_FLIGHT]
        ]
        for answered in await all_of(send_batch(graph, items) for items in group):
            replies.extend(answered)
    return replies


def load_sdk() -> None:
    """Import what the first `$batch` POST needs: it goes through msgraph-sdk's request adapter
    (`Graph.write`), whose import costs a fifth of a second of CPU."""
    for module in SDK_MODULES:
        importlib.import_module(module)


def item_error(graph: Graph, request: Request, reply: ItemReply, needs: str | None = None) -> GraphError:
    """The error an item's reply holds, as a top-level reply's would read: Graph's code,
    message and request-id, named by the item's own method and URL, and `needs`, the permission
    the write takes (the caller knows what it writes)."""
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    error = error if isinstance(error, dict) else {}
    inner = error.get("innerError")
    request_id = inner.get("request-id") if isinstance(inner, dict) else None
    message, code = error.get("message"), error.get("code")
    return graph.error(
        message if isinstance(message, str) and message else f"HTTP {reply.status}",
        reply.status,
        code if isinstance(code, str) else None,
        request_id if isinstance(request_id, str) else None,
        request.method,
        request.url,
        needs,
    )


def _entry(item: BatchItem) -> dict[str, Any]:
    """An item as Graph takes it: its URL relative to the version root, as the registry's
    paths already are, and a Content-Type with every body (else Graph fails the batch)."""
    request = item.request
    entry: dict[str, Any] = {"id": item.id, "method": request.method, "url": request.url}
    if request.body is not None:
        entry["headers"], entry["body"] = _JSON, request.body
    return entry


def _replies(graph: Graph, items: Sequence[BatchItem], reply: dict[str, Any] | None) -> list[ItemReply]:
    responses = reply.get("responses") if reply is not None else None
    if not isinstance(responses, list):
        raise _malformed(graph, "a $batch reply without a 'responses' list")
    by_id: dict[str, ItemReply] = {}
    for raw in responses:
        parsed = _reply(raw)
        if parsed is None:
            raise _malformed(graph, "a $batch response that is not {id, status, headers, body}")
        by_id[parsed.id.lower()] = parsed
    if len(by_id) != len(responses):
        raise _malformed(graph, "the $batch reply answers a request twice")
    missing = next((item.id for item in items if item.id.lower() not in by_id), None)
    if missing is not None:
        raise _malformed(graph, f"the $batch reply leaves request {missing} unanswered")
    return [by_id[item.id.lower()] for item in items]


def _reply(raw: Any) -> ItemReply | None:
    if not isinstance(raw, dict):
        return None
    ident, status, headers = raw.get("id"), raw.get("status"), raw.get("headers", {})
    if not isinstance(ident, str) or type(status) is not int or not isinstance(headers, dict):
        return None
    if not all(isinstance(value, str) for value in headers.values()):
        return None
    return ItemReply(ident, status, {str(name).lower(): value for name, value in headers.items()}, raw.get("body"))


def _malformed(graph: Graph, what: str) -> GraphError:
    return graph.not_graph_reply(graph.request_info("POST", BATCH_URL), what)
