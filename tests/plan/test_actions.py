"""The Graph requests of each action (`plan/actions.py`), read off the registry entry: a partner
is created with a POST of what create takes and a PATCH of the rest, an identity sync with a PUT
that falls back to PATCH where it exists already, an update PATCHes (falling back to a PUT of the
whole body where the type says Graph may refuse a PATCH), and reset and delete are one request."""

from __future__ import annotations

from reconciler.core.registry import DEFAULT, IDENTITY_SYNC, PARTNER, POLICY
from reconciler.core.request import Request
from reconciler.plan import actions

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"
PARTNER_URL = f"{POLICY}/partners/{TENANT}"
SYNC_URL = f"{PARTNER_URL}/identitySynchronization"
TRUST = {"isMfaAccepted": True}
RESTRICTIONS = {"usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}}


def test_a_partner_is_posted_with_what_create_takes_and_patched_with_the_rest() -> None:
    written = {"tenantRestrictions": RESTRICTIONS, "inboundTrust": TRUST, "tenantId": TENANT}
    post, patch = actions.create(PARTNER, TENANT, written)
    assert post == Request("POST", f"{POLICY}/partners", {"tenantId": TENANT, "inboundTrust": TRUST})
    assert next(iter(post.body or {})) == "tenantId"  # the key leads
    assert patch == Request("PATCH", PARTNER_URL, {"tenantRestrictions": RESTRICTIONS})


def test_a_partner_create_takes_one_post_when_create_takes_it_all() -> None:
    assert actions.create(PARTNER, TENANT, {"tenantId": TENANT, "inboundTrust": TRUST}) == (
        Request("POST", f"{POLICY}/partners", {"tenantId": TENANT, "inboundTrust": TRUST}),
    )


def test_an_identity_sync_is_put_and_patched_where_it_exists() -> None:
    body = {"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}}
    [put] = actions.create(IDENTITY_SYNC, TENANT, body)
    assert (put.method, put.url, put.body) == ("PUT", SYNC_URL, body)
    assert put.fallback == Request("PATCH", SYNC_URL, body) and put.fallback_statuses == (409,)


def test_an_update_patches_the_change_and_falls_back_to_the_whole_body() -> None:
    whole = {"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}}
    [patch] = actions.update(IDENTITY_SYNC, TENANT, {"displayName": "Contoso"}, whole)
    assert (patch.method, patch.url, patch.body) == ("PATCH", SYNC_URL, {"displayName": "Contoso"})
    assert patch.fallback == Request("PUT", SYNC_URL, whole) and patch.fallback_statuses == (404, 405)
    [plain] = actions.update(PARTNER, TENANT, {"inboundTrust": TRUST}, {"tenantId": TENANT, "inboundTrust": TRUST})
    assert plain == Request("PATCH", PARTNER_URL, {"inboundTrust": TRUST})


def test_reset_and_delete_are_one_request_each() -> None:
    assert actions.reset(DEFAULT, "default") == (Request("POST", f"{POLICY}/default/resetToSystemDefault"),)
    assert actions.delete(PARTNER, TENANT) == (Request("DELETE", PARTNER_URL),)
    assert actions.delete(IDENTITY_SYNC, TENANT) == (Request("DELETE", SYNC_URL),)
