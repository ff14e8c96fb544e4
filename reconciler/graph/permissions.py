"""Which Graph permissions a bearer token holds, as far as the token itself says.

Apply checks a plan's writes against them before sending any (`commands/apply.py`): a partner
created and then its Microsoft 365 capabilities refused would leave half a change in the tenant,
whereas the token could have told beforehand that the capability permission is missing. An
application token lists its permissions in `roles`, a delegated one in `scp`, space-separated
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference). The
payload is read without checking the signature, as for `tid` (`tenant.py`): Graph verifies the
token and decides; this only lets xtap refuse early what Graph would refuse anyway. A token
that says nothing readable (an opaque token, or neither claim) gives None, and Graph decides.

A delegated token's scopes are only half of what Graph checks: the signed-in user's directory
role must allow the write too, which the token does not list here, so Graph's 403 still covers
that. Nothing here prints the token.
"""

from __future__ import annotations

from typing import Any

from reconciler.graph.tenant import unverified_claims

APP_CLAIM = "roles"  # application permissions: a list of names
DELEGATED_CLAIM = "scp"  # delegated permissions: one string, names separated by spaces


def held_permissions(token: str) -> frozenset[str] | None:
    """The permissions the token's `roles` and `scp` claims grant, together; None when the
    token says nothing readable about them: an opaque token, neither claim, or a claim of
    another shape than Entra's (which might hold what is needed). Saying nothing is not the same
    as holding nothing: an empty `roles` list holds nothing."""
    claims = unverified_claims(token)
    if claims is None:
        return None
    present = [claims[name] for name in (APP_CLAIM, DELEGATED_CLAIM) if name in claims]
    if not present or not all(_readable(claim) for claim in present):
        return None
    held: set[str] = set()
    for claim in present:
        held.update(claim.split() if isinstance(claim, str) else claim)
    return frozenset(held)


def _readable(claim: Any) -> bool:
    """A list of names (`roles`) or one string of them (`scp`)."""
    return isinstance(claim, str) or (isinstance(claim, list) and all(isinstance(name, str) for name in claim))
