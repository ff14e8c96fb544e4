"""Graph's error responses: one exception type and the `{"error": {...}}` body it becomes.

Every failure inside the emulator raises `GraphError`; only the HTTP layer turns it into a
response, so the body shape (code, message, innerError with date and request ids) is built
in exactly one place, the way clients such as kiota's `ODataError` parse it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

BAD_REQUEST = "Request_BadRequest"
NOT_FOUND = "Request_ResourceNotFound"


class GraphError(Exception):
    """A Graph failure: HTTP status, Graph error code and human message, plus extra headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> GraphError:
    """The 400 Graph answers for anything wrong with a request body, path or query."""
    return GraphError(400, BAD_REQUEST, message)


def not_found(message: str) -> GraphError:
    return GraphError(404, NOT_FOUND, message)


def error_body(error: GraphError, request_id: str, client_request_id: str | None) -> dict[str, Any]:
    """Graph's error envelope; `innerError` carries the ids a support ticket would quote."""
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id or request_id,
            },
        }
    }
