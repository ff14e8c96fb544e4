"""Bearer tokens the way Graph checks them: signature, lifetime, audience, then permissions.

The emulator signs HS256 JWTs with a key generated at start, so a token minted by another
emulator instance (or anything else) is refused exactly like a foreign token at Graph.
Permissions come from `roles` (application tokens) or `scp` (delegated, space-separated).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from .errors import GraphError

GRAPH_AUDIENCE = "https://graph.microsoft.com"
READ_WRITE = "Policy.ReadWrite.CrossTenantAccess"
READ_PERMISSIONS = frozenset({"Policy.Read.All", READ_WRITE})
WRITE_PERMISSIONS = frozenset({READ_WRITE})
AUDIT_PERMISSIONS = frozenset({"AuditLog.Read.All"})
VERIFIED_KEPT = 1_024  # tokens remembered once verified (`TokenAuthority.caller`); then forgotten at once
# Microsoft 365 capabilities take their own write permission; Policy.ReadWrite.CrossTenantAccess
# is not listed for them (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities).
CAPABILITY = "Policy.ReadWrite.CrossTenantCapability"
CAPABILITY_READ = frozenset({"Policy.Read.All", CAPABILITY})
CAPABILITY_WRITE = frozenset({CAPABILITY})
# The name lookups take the permissions their pages list, and only those:
# https://learn.microsoft.com/graph/api/tenantrelationship-findtenantinformationbytenantid (and ...bydomainname),
TENANT_INFORMATION_READ = frozenset({"CrossTenantInformation.ReadBasic.All"})
# https://learn.microsoft.com/graph/api/directoryobject-getbyids ("Higher privileged permissions: Not available"),
DIRECTORY_READ = frozenset({"Directory.Read.All"})
# https://learn.microsoft.com/graph/api/serviceprincipal-get, least privileged first.
SERVICE_PRINCIPAL_READ = frozenset(
    {"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All"}
)
# Every permission some request of the emulator checks for: a token minted with any other name
# could do nothing here, so `xtap emulator --permissions` refuses it as a typo.
KNOWN_PERMISSIONS = frozenset().union(
    READ_PERMISSIONS,
    AUDIT_PERMISSIONS,
    CAPABILITY_READ,
    TENANT_INFORMATION_READ,
    DIRECTORY_READ,
    SERVICE_PRINCIPAL_READ,
)


def parse_permissions(text: str) -> tuple[str, ...]:
    """The permissions a comma-separated list names, each spelt as Graph spells it (matched
    ignoring case, since a token's claim must carry the exact name), in the order given, without
    repeats. ValueError naming the known ones for a name no request here checks, or an empty list."""
    by_lower = {name.lower(): name for name in KNOWN_PERMISSIONS}
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name.lower() not in by_lower]
    if unknown or not names:
        what = f"unknown permission(s) {', '.join(map(repr, unknown))}" if unknown else "no permission named"
        raise ValueError(f"{what} in {text!r}; the emulator knows: {', '.join(sorted(KNOWN_PERMISSIONS))}")
    return tuple(dict.fromkeys(by_lower[name.lower()] for name in names))


_WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}


def _unauthorized(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message, dict(_WWW_AUTHENTICATE))


def unknown_tenant(tenant_id: str) -> GraphError:
    """A verified token whose tenant this emulator does not hold. Graph never meets one (every
    tenant that can get a token exists), so this is the 401 of any token it cannot accept, as
    a token for another resource gets; the message names the tenant, for the test that sent it."""
    return _unauthorized(f"Access token validation failure. The tenant '{tenant_id}' is not served here.")


@dataclass(frozen=True)
class Caller:
    """Who a verified token speaks for: what it may do, and how the audit log names it
    (`initiatedBy`): a delegated token (`scp`) is a user, an application token an app."""

    permissions: frozenset[str]
    initiated_by: Mapping[str, Any] = field(default_factory=dict)
    app_id: str = ""  # the `appid` claim: Graph's write quota is per app and tenant
    tenant_id: str = ""  # the `tid` claim: the tenant whose state the request reads and writes


def _initiated_by(claims: Mapping[str, Any]) -> dict[str, Any]:
    if claims.get("scp"):
        user = {"id": claims.get("oid"), "displayName": claims.get("name"), "userPrincipalName": None}
        return {"user": {**user, "ipAddress": "127.0.0.1"}, "app": None}
    app = {"appId": claims.get("appid"), "displayName": claims.get("name"), "servicePrincipalId": claims.get("oid")}
    return {"user": None, "app": {**app, "servicePrincipalName": claims.get("name")}}


class TokenAuthority:
    """Mints and verifies the emulator's tokens; the key never leaves this object."""

    def __init__(self, tenant_id: str | None = None) -> None:
        self._key = secrets.token_bytes(64)
        self.tenant_id = (tenant_id or str(uuid.uuid4())).lower()
        # Tokens already verified, with their lifetimes: a `$batch` of 20 writes is authorised
        # item by item, and verifying the same signature 20 times made the emulator, not the
        # client, pace a burst of batches (real Graph checks a batch's token once). Only the
        # signature and claims are remembered; the lifetime is checked on every request.
        self._verified: dict[str, tuple[Caller, float]] = {}

    def mint(
        self,
        roles: Iterable[str] | None = (READ_WRITE,),
        scp: str | None = None,
        name: str = "xtap tests",
        lifetime_s: int = 3600,
        tenant_id: str | None = None,
    ) -> str:
        """A signed token of `tenant_id` (default: the authority's tenant); a negative
        `lifetime_s` gives an already expired one (for 401 tests)."""
        now = int(time.time())
        tid = (tenant_id or self.tenant_id).lower()
        claims: dict[str, object] = {
            "aud": GRAPH_AUDIENCE,
            "iss": f"https://sts.windows.net/{tid}/",
            "tid": tid,
            "oid": str(uuid.uuid4()),
            "appid": str(uuid.uuid4()),
            "name": name,
            "iat": now,
            "nbf": min(now, now + lifetime_s),
            "exp": now + lifetime_s,
        }
        if roles is not None:
            claims["roles"] = list(roles)
        if scp is not None:
            claims["scp"] = scp
        return jwt.encode(claims, self._key, algorithm="HS256")

    def caller(self, authorization: str | None) -> Caller:
        """The verified caller of a request's `Authorization` header, or a 401 GraphError."""
        if not authorization:
            raise _unauthorized("Access token is empty.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Access token validation failure. Invalid token format.")
        known = self._verified.get(token)
        if known is not None:
            caller, expires = known
            if time.time() >= expires:  # as PyJWT judges `exp`; a verified token's `nbf` has passed
                raise _unauthorized("Lifetime validation failed, the token is expired.")
            return caller
        caller, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = (caller, expires)
        return caller

    def _verify(self, token: str) -> tuple[Caller, float]:
        """The caller of a token checked whole (signature, audience, lifetime, claims), and when
        it expires."""
        try:
            claims = jwt.decode(
                token.strip(),
                self._key,
                algorithms=["HS256"],
                audience=GRAPH_AUDIENCE,
                options={"require": ["exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("Lifetime validation failed, the token is expired.") from None
        except jwt.InvalidAudienceError:
            raise _unauthorized("Access token validation failure. Invalid audience.") from None
        except jwt.InvalidTokenError:
            raise _unauthorized("Access token validation failure.") from None
        roles, scp = claims.get("roles", []), claims.get("scp", "")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles) or not isinstance(scp, str):
            raise _unauthorized("Access token validation failure. Invalid roles or scp claim.")
        granted = frozenset(roles) | frozenset(scp.split())
        caller = Caller(granted, _initiated_by(claims), str(claims.get("appid", "")), str(claims.get("tid", "")))
        return caller, float(claims["exp"])


def require(granted: frozenset[str], write: bool, allowed: frozenset[str] | None = None) -> None:
    """403 unless `granted` holds a permission that allows the operation: `allowed` where a path
    has its own (the audit log), else the policy read or write permissions."""
    if allowed is None:
        allowed = WRITE_PERMISSIONS if write else READ_PERMISSIONS
    if not granted & allowed:
        raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
