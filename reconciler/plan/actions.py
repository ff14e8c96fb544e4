"""The Graph requests of each action on a resource instance, from its registry entry.

The one place that knows how a create, an update, a reset or a delete goes over the wire: the
planner puts these requests in the plan, apply sends them (and their fallbacks), and later
`$batch` groups them. Pure functions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.core.registry import Fallback, ResourceType
from reconciler.core.request import Request


def create(rtype: ResourceType, resource_id: str, written: dict[str, Any]) -> tuple[Request, ...]:
    """POST the properties a create takes to the collection and PATCH the rest after it
    (https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-post-partners lists the
    former), or PUT the whole body to the instance's own URL."""
    url = rtype.url(resource_id)
    if rtype.create_method == "PUT":
        return (_fallback(Request("PUT", url, written), rtype.create_fallback, written),)
    takes = rtype.create_properties
    first = rtype.key_kind.created_with(resource_id, written)  # it leads, as in Graph's docs
    posted = first | {name: value for name, value in written.items() if takes is None or name in takes}
    rest = {name: value for name, value in written.items() if name not in posted and name != rtype.key}
    post = Request("POST", rtype.collection_url_of(resource_id), posted)
    return (post, Request("PATCH", url, rest)) if rest else (post,)


def update(rtype: ResourceType, resource_id: str, body: dict[str, Any], written: dict[str, Any]) -> tuple[Request, ...]:
    """PATCH the changed properties; where Graph may not take a PATCH, fall back to sending
    the whole desired body with the fallback verb."""
    return (_fallback(Request("PATCH", rtype.url(resource_id), body), rtype.update_fallback, written),)


def reset(rtype: ResourceType, resource_id: str) -> tuple[Request, ...]:
    return (Request("POST", f"{rtype.url(resource_id)}/{rtype.reset_action}"),)


def delete(rtype: ResourceType, resource_id: str) -> tuple[Request, ...]:
    return (Request("DELETE", rtype.url(resource_id)),)


def _fallback(request: Request, rule: Fallback | None, whole: dict[str, Any]) -> Request:
    """`request`, and what to send instead when Graph answers it with one of the rule's
    statuses: the rule's verb with the whole desired body (a PUT replaces, so it needs all)."""
    if rule is None:
        return request
    return replace(
        request, fallback=Request(rule.method, request.url, whole), fallback_statuses=tuple(sorted(rule.statuses))
    )
