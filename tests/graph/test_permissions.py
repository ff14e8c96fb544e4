"""What a token says it may do (reconciler/graph/permissions.py): `roles` and `scp` read without
the signature, and None, never an empty set, when the token says nothing readable; and the
403 hint of a write (reconciler/graph/errors.py), which names the permission its caller says
the write takes."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from reconciler.core.registry import CROSS_TENANT_ACCESS, M365_CAPABILITY
from reconciler.emulator import Emulator
from reconciler.graph.errors import READ_PERMISSION, GraphError
from reconciler.graph.permissions import held_permissions

CAPABILITY = M365_CAPABILITY.write_permission


def token(**claims: Any) -> str:
    """A JWT with `claims`, signed with a key nobody checks: xtap reads claims, Graph verifies."""
    return jwt.encode({"tid": "90e29127-71ad-49c7-9ce8-db3f41ea06f1", **claims}, "not-checked-" * 4, "HS256")


@pytest.mark.parametrize(
    ("claims", "held"),
    [
        ({"roles": [CROSS_TENANT_ACCESS, READ_PERMISSION]}, {CROSS_TENANT_ACCESS, READ_PERMISSION}),
        ({"scp": f"{READ_PERMISSION} {CAPABILITY}"}, {READ_PERMISSION, CAPABILITY}),
        ({"scp": f"  {CAPABILITY}  "}, {CAPABILITY}),
        ({"roles": [CROSS_TENANT_ACCESS], "scp": CAPABILITY}, {CROSS_TENANT_ACCESS, CAPABILITY}),
        ({"roles": []}, set()),  # says it holds nothing: not the same as saying nothing
        ({"scp": ""}, set()),
    ],
    ids=["roles", "scp", "scp-spaces", "both", "no-roles", "no-scopes"],
)
def test_roles_and_scopes_are_what_it_holds(claims: dict[str, Any], held: set[str]) -> None:
    assert held_permissions(token(**claims)) == frozenset(held)


def test_a_permission_implies_only_itself() -> None:
    """The write permission of cross-tenant access is not the capabilities', nor the reverse."""
    assert CAPABILITY not in (held_permissions(token(roles=[CROSS_TENANT_ACCESS])) or ())
    assert CROSS_TENANT_ACCESS not in (held_permissions(token(scp=CAPABILITY)) or ())


@pytest.mark.parametrize(
    "raw",
    [
        "EwBwA8l6BAAUopaque-token-from-somewhere",
        token(),
        token(roles=[CROSS_TENANT_ACCESS, 7]),
        token(roles={"a": CROSS_TENANT_ACCESS}),
        token(scp=[CAPABILITY], roles=7),
    ],
    ids=["opaque", "neither-claim", "roles-not-names", "roles-not-a-list", "both-unreadable"],
)
def test_a_token_that_says_nothing_readable_gives_none(raw: str) -> None:
    """Then Graph decides: an unreadable claim might hold what is needed."""
    assert held_permissions(raw) is None


def test_a_claim_unreadable_beside_a_readable_one_still_gives_none() -> None:
    """`scp` alone would lack the permission `roles` might hold: refusing on half a token is a guess."""
    assert held_permissions(token(scp=READ_PERMISSION, roles=7)) is None


def test_the_emulators_tokens_read_as_it_checks_them() -> None:
    with Emulator() as emu:
        assert held_permissions(emu.mint_token(roles=[CROSS_TENANT_ACCESS])) == {CROSS_TENANT_ACCESS}
        assert held_permissions(emu.mint_token(roles=None, scp=f"{READ_PERMISSION} {CAPABILITY}")) == {
            READ_PERMISSION,
            CAPABILITY,
        }
        assert held_permissions(emu.mint_token(roles=None)) is None


URL = "/policies/crossTenantAccessPolicy/default/m365Capabilities"


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_refused_write_names_the_permission_its_caller_says_it_needs(method: str) -> None:
    error = GraphError(
        "Insufficient privileges", 403, "Authorization_RequestDenied", method=method, url=URL, needs=CAPABILITY
    )
    assert f"The identity needs the {CAPABILITY} permission" in str(error)
    assert CROSS_TENANT_ACCESS not in str(error)


def test_a_refused_write_of_unknown_need_names_cross_tenant_access() -> None:
    """A write no caller described (the `$batch` envelope, say): the permission most writes take."""
    error = GraphError("Insufficient privileges", 403, method="POST", url="/$batch")
    assert f"The identity needs the {CROSS_TENANT_ACCESS} permission" in str(error)


def test_a_refused_read_names_the_read_permission_whatever_its_caller_says() -> None:
    error = GraphError("Insufficient privileges", 403, method="GET", url=URL, needs=CAPABILITY)
    assert f"The identity needs the {READ_PERMISSION} permission" in str(error)
    assert CAPABILITY not in str(error)


def test_only_a_403_gets_the_hint() -> None:
    assert "permission" not in str(GraphError("Bad request", 400, method="POST", url=URL, needs=CAPABILITY))
