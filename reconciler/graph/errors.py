"""`GraphError`: a failed Graph call, with what a person needs to act on it and never the token;
and the clipping of outside text in its message.
"""

from __future__ import annotations

import re

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
            text += ". The access token was refused: check XTAP_ACCESS_TOKEN or the Azure login (xtap doctor)."
        return text


class ConnectionLost(GraphError):
    """The connection failed or dropped before Graph's reply came: unlike a timeout (reported,
    never multiplied: the --timeout contract), worth sending again, though a write may already
    have been carried out by the attempt whose reply was lost."""


# The ways to sign in, one line each, as the sign-in error and `xtap doctor` list them: what
# azure-identity's DefaultAzureCredential tries, in the words of the person who has to set it up
# (https://learn.microsoft.com/python/api/overview/azure/identity-readme), and the token xtap
# takes as is.
SIGN_IN_WAYS = (
    "a person: az login (Azure CLI; add --allow-no-subscriptions for a tenant without subscriptions)",
    "a service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH",
    "GitHub Actions (OIDC): azure/login with allow-no-subscriptions: true, or AZURE_TENANT_ID, AZURE_CLIENT_ID "
    "and AZURE_FEDERATED_TOKEN_FILE",
    "an Azure VM, container or function: its managed identity (AZURE_CLIENT_ID for a user-assigned one)",
    "any identity: XTAP_ACCESS_TOKEN set to a bearer token for Microsoft Graph, used as is",
)
DOCTOR_HINT = "xtap doctor checks the sign-in, the token's tenant and permissions, and Graph"
REASON_CHARS = 100  # of one credential's reason: enough to tell "not configured" from a real failure
_ATTEMPTS = "Attempted credentials:"
# Where azure-identity's reason turns into a pointer to its troubleshooting guide.
_GUIDE = re.compile(r"\s*(Visit https?://|See the troubleshooting|To mitigate this issue|Please visit https?://)")


class SignInFailed(GraphError):
    """No token: azure-identity tried every credential of its chain and none gave one. Its own
    message is a page of text over many lines; this keeps one line that says what failed (the
    error's text, used wherever a GraphError is shown) and, apart, what each credential said,
    one short line each, for whoever prints the error to show (`advice`)."""

    def __init__(self, cloud: str, tried: tuple[tuple[str, str], ...]) -> None:
        self.cloud, self.tried = cloud, tried
        super().__init__(f"xtap could not sign in to Microsoft Graph ({cloud} cloud): no credential gave a token")

    def advice(self, detailed: bool) -> list[str]:
        """The lines after the error: the ways to sign in, then what azure-identity tried, each
        credential's reason on a line of its own when `detailed` (XTAP_DEBUG), else their names."""
        lines = ["Sign in one of these ways:", *(f"  - {way}" for way in SIGN_IN_WAYS), f"Then: {DOCTOR_HINT}."]
        if detailed:
            lines += ["azure-identity tried:", *(f"  {name}: {reason}" for name, reason in self.tried)]
        elif self.tried:
            count = f"{len(self.tried)} credential(s)"
            lines.append(f"azure-identity tried {count} (XTAP_DEBUG=1 or xtap doctor says why each failed)")
        return lines


def credential_reasons(message: str) -> tuple[tuple[str, str], ...]:
    """Each credential azure-identity tried and, in at most REASON_CHARS characters on one line,
    why it gave no token: its chain lists them as tab-indented `Name: reason` lines after
    "Attempted credentials:". A message of another shape (a single credential, chosen with
    AZURE_TOKEN_CREDENTIALS) is one reason of azure-identity's own."""
    head, found, attempts = message.partition(_ATTEMPTS)
    if not found:
        return (("azure-identity", short_reason(head)),)
    reasons = []
    for line in attempts.split("\n\t"):
        name, _, reason = line.strip().partition(":")
        if name and " " not in name:
            reasons.append((name, short_reason(reason.strip().removeprefix(name).strip())))
    return tuple(reasons)


def short_reason(reason: str) -> str:
    """One credential's reason as one line: whitespace (its newlines and tabs) collapsed, the
    pointer to azure-identity's troubleshooting guide and every sentence after the first dropped,
    and clipped."""
    one_line = " ".join(reason.split())
    kept = _GUIDE.split(one_line, maxsplit=1)[0].strip().removeprefix("authentication unavailable. ")
    first = kept.split(". ", 1)[0].rstrip(".")  # the rest is how to install or set it up
    return clipped(first or "no reason given", REASON_CHARS)


def clipped(text: str, limit: int = SHOWN_CHARS) -> str:
    """At most `limit` characters of outside text: an error line, not a dump of a reply."""
    return text if len(text) <= limit else text[:limit] + "…"
