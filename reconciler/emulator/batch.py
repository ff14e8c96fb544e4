"""Graph's JSON `$batch` envelope (https://learn.microsoft.com/graph/json-batching): what makes a
batch malformed, and the order its items run in.

Kept apart from the routing in app.py, which runs each item exactly as a top-level request, so
the batch adds rules of its own and no second copy of Graph's request pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import GraphError

MAX_ITEMS = 20  # "JSON batch requests are currently limited to 20 individual requests."
# Graph's gateway, not the directory service, refuses a malformed batch, hence its own code.
_BATCH_ERROR = "BadRequest"
_INVALID = "Invalid batch payload format."


@dataclass(frozen=True)
class Item:
    id: str
    method: str
    url: str
    headers: dict[str, str]  # names lowercased, as the pipeline expects
    body: Any  # None when the item has none
    has_body: bool  # a JSON null body is still a body that needs its Content-Type
    depends_on: tuple[str, ...]  # lowercased ids: Graph's ids are not case-sensitive

    @property
    def key(self) -> str:
        return self.id.lower()


def malformed(message: str = _INVALID) -> GraphError:
    """The 400 that fails the whole batch, before any item runs."""
    return GraphError(400, _BATCH_ERROR, message)


def parse(body: Any) -> list[Item]:
    """The batch's items, or the 400 Graph answers for the whole batch: not `{"requests": [...]}`,
    more than 20 items, a repeated id, a body without its Content-Type, a `dependsOn` that does
    not name an earlier item."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise malformed()
    if len(requests) > MAX_ITEMS:
        raise malformed(f"The number of requests in a batch exceeds the limit of {MAX_ITEMS}.")
    items: list[Item] = []
    earlier: set[str] = set()
    for raw in requests:
        item = _item(raw)
        if item.key in earlier:
            raise malformed(f"Duplicate request id: {item.id}.")
        if not earlier.issuperset(item.depends_on):
            raise malformed(f"Invalid dependency for request Id {item.id}.")
        items.append(item)
        earlier.add(item.key)
    return items


def _item(raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise malformed()
    ident, method, url = raw.get("id"), raw.get("method"), raw.get("url")
    headers, depends_on = raw.get("headers", {}), raw.get("dependsOn", [])
    if not (isinstance(ident, str) and isinstance(method, str) and isinstance(url, str)):
        raise malformed()
    if not (ident and method and url and _strings(headers, depends_on)):
        raise malformed()
    lowered = {name.lower(): value for name, value in headers.items()}
    if "body" in raw and "content-type" not in lowered:
        raise malformed(f"Write request id : {ident} does not contain Content-Type header or body.")
    return Item(
        ident, method.upper(), url, lowered, raw.get("body"), "body" in raw, tuple(d.lower() for d in depends_on)
    )


def _strings(headers: Any, depends_on: Any) -> bool:
    """Headers an object of strings and dependsOn a list of strings, as the format requires."""
    return (
        isinstance(headers, Mapping)
        and all(isinstance(v, str) for v in headers.values())
        and isinstance(depends_on, list)
        and all(isinstance(d, str) for d in depends_on)
    )


def run_order(items: list[Item]) -> list[Item]:
    """The order the emulator runs `items` in: the last listed item whose dependencies have
    all run, again and again. Independent items thus run in reverse, as Graph is free to run
    them in any order, so a client that forgets a `dependsOn` fails in tests, not in production."""
    done: set[str] = set()
    order: list[Item] = []
    waiting = list(items)
    while waiting:
        at = next(i for i in reversed(range(len(waiting))) if done.issuperset(waiting[i].depends_on))
        ready = waiting.pop(at)
        done.add(ready.key)
        order.append(ready)
    return order
