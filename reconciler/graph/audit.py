"""The directory audit log, read for `xtap drift --attribute`: every entry of some categories
since a time, in one filtered query paged by `@odata.nextLink`, not one query per resource
(https://learn.microsoft.com/graph/api/directoryaudit-list). The paging is bounded as every
listing is (`Graph.get_all`); the entries are Graph's, untrusted, for the caller to match."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from reconciler.graph.client import Graph

AUDITS = "/auditLogs/directoryAudits"


async def directory_audits(graph: Graph, categories: Iterable[str], since: datetime) -> list[dict[str, Any]]:
    """The entries of `categories` whose activity is at `since` (a UTC time) or after."""
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    wanted = " or ".join(f"category eq '{category}'" for category in categories)
    options = {"$filter": f"activityDateTime ge {stamp} and ({wanted})", "$top": "999"}
    query = urlencode(options, safe="$", quote_via=quote)
    return await graph.get_all(graph.request_info("GET", f"{AUDITS}?{query}"))
