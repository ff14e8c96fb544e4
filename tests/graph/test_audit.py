"""The directory audit query `drift --attribute` sends: the categories and the time it starts
from, in one filtered listing that the client pages, not one query per category or resource."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from reconciler.graph.audit import directory_audits


class Listing:
    """Stands in for `Graph` where a listing is asked for: records the URL, answers nothing."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def request_info(self, method: str, url: str) -> str:
        return f"{method} {url}"

    async def get_all(self, info: str) -> list[dict[str, Any]]:
        self.urls.append(info)
        return []


def test_the_audit_query_asks_for_the_categories_since_a_time_in_one_paged_listing() -> None:
    graph = Listing()
    since = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    asyncio.run(directory_audits(graph, ("A", "B"), since))  # type: ignore[arg-type]
    assert graph.urls == [
        "GET /auditLogs/directoryAudits?$filter=activityDateTime%20ge%202026-01-02T03%3A04%3A05Z%20and%20"
        "%28category%20eq%20%27A%27%20or%20category%20eq%20%27B%27%29&$top=999"
    ]
