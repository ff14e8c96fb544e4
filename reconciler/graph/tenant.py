"""Which tenant a bearer token is for, and whether xtap may use it for a bound folder.

A folder bound to one tenant (`tenant:` in xtap.yaml) must never be planned or applied with a
token for another: in a repository holding several tenants' folders, one wrong identity
variable would otherwise apply one tenant's policy to another. The token's `tid` claim names
its tenant. The payload is decoded without checking the signature: Graph verifies the token,
xtap only routes it, and a forged `tid` gains nothing that Graph would not refuse anyway.
Nothing here prints the token.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.models import is_guid


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The token's claims, its signature unchecked (see above); None when it is not a JWT (an
    opaque token). Shared with `permissions`, which reads what the token may do."""
    import jwt  # with cryptography, 35 ms of imports that only a token read for its claims needs

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    return claims if isinstance(claims, dict) else None


def token_tenant(token: str) -> str | None:
    """The tenant id in the token's `tid` claim, in lower case; None when the token is not a JWT
    (an opaque token) or its `tid` is missing or not a GUID."""
    claims = unverified_claims(token)
    tid = None if claims is None else claims.get("tid")
    return tid.lower() if isinstance(tid, str) and is_guid(tid) else None


def refusal(token: str, bound: str) -> str | None:
    """Why the token must not be used for a folder bound to tenant `bound`; None if it may."""
    return tenant_refusal(token_tenant(token), bound)


def tenant_refusal(tid: str | None, bound: str) -> str | None:
    """Why a token for tenant `tid` (None: it names none) must not be used for a folder bound to
    tenant `bound`; None if it may. `xtap doctor` judges the tenant by the same words."""
    if tid is None:
        return (
            f"the policies are bound to tenant {bound} (xtap.yaml), but the access token names no tenant "
            "(no readable tid claim), so xtap cannot tell which tenant it is for; use an Entra ID token"
        )
    if tid != bound:
        return (
            f"the access token is for tenant {tid}, but the policies are bound to tenant {bound} (xtap.yaml); "
            "use the identity of that tenant"
        )
    return None
