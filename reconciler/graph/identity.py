"""Who a bearer token speaks for, as `xtap doctor` shows it: where the token came from, its
tenant, its application or user, when it expires and which permissions it holds; never the
token itself.

The claims are read without checking the signature, as for the tenant (`tenant.py`): Graph
verifies the token; this only tells a person what it says. The claim names are Entra ID's
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference): `tid` the
tenant, `appid` (v1.0 tokens) or `azp` (v2.0) the application, `app_displayname` its name,
`upn`, `preferred_username` or `unique_name` a signed-in user, `exp` the expiry.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from reconciler.graph.permissions import held_permissions
from reconciler.graph.tenant import token_tenant, unverified_claims

_USER_CLAIMS = ("upn", "preferred_username", "unique_name")
_APP_CLAIMS = ("appid", "azp")


@dataclass(frozen=True)
class Identity:
    """What a token says of itself. `source` is where xtap got it (XTAP_ACCESS_TOKEN, or the
    azure-identity credential that gave it); every other field is None when the token does not
    say (an opaque token says nothing)."""

    source: str
    readable: bool  # a JWT whose claims could be read at all
    tenant: str | None = None
    app: str | None = None
    app_name: str | None = None
    user: str | None = None
    expires: datetime.datetime | None = None
    permissions: frozenset[str] | None = None  # `permissions.held_permissions`: None says nothing

    @property
    def delegated(self) -> bool:
        """A user's token (delegated permissions), not an application's own."""
        return self.user is not None


def identity_of(token: str, source: str) -> Identity:
    """The token's `Identity`, from its claims alone."""
    claims = unverified_claims(token)
    if claims is None:
        return Identity(source, readable=False)
    exp = claims.get("exp")
    expires = (
        datetime.datetime.fromtimestamp(exp, datetime.UTC) if isinstance(exp, int | float) and 0 < exp < 2**37 else None
    )
    return Identity(
        source,
        readable=True,
        tenant=token_tenant(token),
        app=_first(claims, _APP_CLAIMS),
        app_name=_first(claims, ("app_displayname",)),
        user=_first(claims, _USER_CLAIMS),
        expires=expires,
        permissions=held_permissions(token),
    )


def _first(claims: dict[str, object], names: tuple[str, ...]) -> str | None:
    return next((value for name in names if isinstance(value := claims.get(name), str) and value), None)
