"""`GraphError`: a failed Graph call, with what a person needs to act on it and never the token;
and the clipping of outside text in its message.
"""

from __future__ import annotations

from azure.core.exceptions import ClientAuthenticationError

READ_PERMISSION = "Policy.Read.All"
WRITE_PERMISSION = "Policy.ReadWrite.CrossTenantAccess"
SHOWN_CHARS = 120  # of a reply or a Graph message in an error: enough to recognise it


class GraphError(Exception):
    """A failed Graph call, with everything needed to act on it (and never the token)."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
        needs: str | None = None,
    ) -> None:
        self.status, self.code, self.request_id = status, code, request_id
        self.method, self.url, self.detail = method, url, message
        self.retry_after = retry_after  # seconds Graph asked to wait before trying again
        # The permission the write takes, named by whoever knows what it writes (apply, from the
        # registry): Graph's 403 does not say, and the URL is not the place to guess it from.
        self.needs = needs
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.url}: " if self.method else ""
        status = f"{self.status} {self.code or ''}".strip() + ": " if self.status else ""
        text = f"{where}{status}{self.detail}"
        if self.request_id:
            text += f" (request-id {self.request_id})"
        if self.status == 403:
            needed = READ_PERMISSION if self.method == "GET" else self.needs or WRITE_PERMISSION
            text += f". The identity needs the {needed} permission (application or delegated)."
        if self.status == 401:
            text += ". The access token was refused: check XTAP_ACCESS_TOKEN or the Azure login."
        return text


class ConnectionLost(GraphError):
    """The connection failed or dropped before Graph's reply came: unlike a timeout (reported,
    never multiplied: the --timeout contract), worth sending again, though a write may already
    have been carried out by the attempt whose reply was lost."""


def no_token(exc: ClientAuthenticationError, method: str = "", url: str = "") -> GraphError:
    return GraphError(
        f"cannot get a token from azure-identity: {exc.message}. Set XTAP_ACCESS_TOKEN, or sign "
        "in (az login, azure/login in GitHub Actions, managed or workload identity).",
        method=method,
        url=url,
    )


def clipped(text: str, limit: int = SHOWN_CHARS) -> str:
    """At most `limit` characters of outside text: an error line, not a dump of a reply."""
    return text if len(text) <= limit else text[:limit] + "…"
