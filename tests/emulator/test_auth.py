"""The emulator's bearer tokens (reconciler/emulator/auth.py), over real HTTP (httpx): a missing,
foreign, expired or malformed token is 401 before anything else, and the permissions gate reads and
writes (403)."""

from __future__ import annotations

import time

import httpx
from support.emulator_http import PARTNERS, TEMPLATE, TID, assert_error
from support.xtap import client_for

from reconciler.emulator import Emulator


def test_missing_foreign_expired_or_malformed_token_is_401(emu: Emulator) -> None:
    with Emulator() as other:
        foreign = other.mint_token()
    for headers in (
        {},
        {"Authorization": f"Bearer {foreign}"},
        {"Authorization": f"Bearer {emu.mint_token(lifetime_s=-60)}"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Basic {emu.mint_token()}"},
    ):
        response = httpx.get(f"{emu.base_url}{PARTNERS}", headers=headers)
        assert_error(response, 401, "InvalidAuthenticationToken")
        assert "WWW-Authenticate" in response.headers
    # The 401 comes before routing: even an unknown path answers 401 without a token.
    assert httpx.get(f"{emu.base_url}/nowhere").status_code == 401


def test_a_token_that_was_good_is_refused_once_it_expires(emu: Emulator) -> None:
    """The emulator remembers a verified token (a batch's items share it); its lifetime is
    still judged on every request."""
    headers = {"Authorization": f"Bearer {emu.mint_token(lifetime_s=2)}"}  # whole seconds: good for 1 s at least
    assert httpx.get(f"{emu.base_url}{PARTNERS}", headers=headers).status_code == 200
    time.sleep(2.1)
    response = httpx.get(f"{emu.base_url}{PARTNERS}", headers=headers)
    assert_error(response, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")


def test_permissions_gate_reads_and_writes(emu: Emulator) -> None:
    insufficient = "Insufficient privileges to complete the operation."
    with client_for(emu, emu.mint_token(roles=("Policy.Read.All",))) as reader:
        assert reader.get(PARTNERS).status_code == 200
        assert reader.get(TEMPLATE).status_code == 200
        assert_error(reader.post(PARTNERS, json={"tenantId": TID}), 403, "Authorization_RequestDenied", insufficient)
        assert_error(reader.post(f"{TEMPLATE}/resetToDefaultSettings"), 403, "Authorization_RequestDenied")
    with client_for(emu, emu.mint_token(roles=("User.Read.All",))) as stranger:
        assert_error(stranger.get(PARTNERS), 403, "Authorization_RequestDenied", insufficient)
    delegated = emu.mint_token(roles=None, scp="User.Read Policy.ReadWrite.CrossTenantAccess")
    with client_for(emu, delegated) as admin:
        assert admin.post(PARTNERS, json={"tenantId": TID}).status_code == 201
    assert list(emu.partners()) == [TID]
