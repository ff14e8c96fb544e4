"""Which tenant a bearer token is for, and whether xtap may use it for a bound folder.

A folder bound to one tenant (`tenant:` in xtap.yaml) must never be planned or applied with a
token for another: in a repository holding several tenants' folders, one wrong identity
variable would otherwise apply one tenant's policy to another. The token's `tid` claim names
its tenant. The payload is decoded without checking the signature: Graph verifies the token,
xtap only routes it, and a forged `tid` gains nothing that Graph would not refuse anyway.
Nothing here prints the token.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from reconciler.core.wire import is_guid

# A JWT in compact form: header, payload and signature, each base64url, joined by dots (RFC 7519 section 3).
JWT_SEGMENTS = 3


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The token's claims, its signature unchecked (see above); None when it is not a JWT (an
    opaque token). Shared with `permissions`, which reads what the token may do. Read with the
    standard library: base64url and JSON are all an unchecked read needs, and a JWT library
    would import a cryptography stack (35-65 ms) before the first request."""
    segments = token.split(".")
    if len(segments) != JWT_SEGMENTS:
        return None
    try:
        header, claims = (json.loads(_base64url(segment)) for segment in segments[:2])
        _base64url(segments[2])  # the signature is not checked, but must be base64url like the rest
    except (ValueError, binascii.Error):  # bad base64url, bytes that are not UTF-8, not JSON
        return None
    return claims if isinstance(header, dict) and isinstance(claims, dict) else None


def _base64url(segment: str) -> bytes:
    """One segment decoded; its padding, which a JWT leaves out, restored. Any character outside
    base64url is an error (ValueError or binascii.Error), not skipped."""
    data = segment.encode("ascii")  # UnicodeEncodeError, a ValueError, for any other character
    return base64.b64decode(data + b"=" * (-len(data) % 4), altchars=b"-_", validate=True)


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
