"""What is in effect for a resource (`plan/effective.py`), as `xtap show` lists it: each setting
its own where it has one, and where it is null the value of the resource it inherits from (a
partner inherits the default's), named as inherited; a type that inherits from none shows its
own values only."""

from __future__ import annotations

from reconciler.core.registry import DEFAULT, M365_CAPABILITY, PARTNER
from reconciler.plan.effective import Held, Setting, effective, effective_held

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"
MFA = {"isMfaAccepted": True}
DEFAULT_TRUST = {"isMfaAccepted": False, "isCompliantDeviceAccepted": True}


def by_name(settings: tuple[Setting, ...]) -> dict[str, Setting]:
    return {setting.name: setting for setting in settings}


def test_a_partners_null_setting_is_the_defaults() -> None:
    settings = by_name(effective(PARTNER, {"tenantId": TENANT, "inboundTrust": None}, {"inboundTrust": DEFAULT_TRUST}))
    assert settings["inboundTrust"] == Setting("inboundTrust", DEFAULT_TRUST, "default")
    assert list(settings) == list(PARTNER.settings)


def test_a_partners_own_setting_is_its_own() -> None:
    settings = by_name(effective(PARTNER, {"tenantId": TENANT, "inboundTrust": MFA}, {"inboundTrust": DEFAULT_TRUST}))
    assert settings["inboundTrust"] == Setting("inboundTrust", MFA, None)


def test_a_setting_the_default_lacks_or_no_default_read_is_not_inherited() -> None:
    own = {"tenantId": TENANT, "isServiceProvider": None}
    assert by_name(effective(PARTNER, own, {}))["isServiceProvider"] == Setting("isServiceProvider", None, None)
    unread = by_name(effective(PARTNER, {"tenantId": TENANT}, None))
    assert unread["inboundTrust"] == Setting("inboundTrust", None, None)


def test_the_default_inherits_from_nothing() -> None:
    settings = by_name(effective(DEFAULT, {"inboundTrust": MFA}, {"inboundTrust": DEFAULT_TRUST}))
    assert settings["inboundTrust"].inherited_from is None
    assert all(setting.inherited_from is None for setting in settings.values())


def capability(allowed: bool, resource_id: str = "All") -> dict[str, object]:
    scopes = {"included": [{"resourceId": resource_id, "resourceType": "group"}], "excluded": []}
    return {
        "name": "x",
        "lastModifiedDateTime": "2026-01-01T00:00:00Z",
        "inboundAccess": {"isAllowed": allowed, "resourceScopes": scopes},
    }


def test_a_partners_capabilities_are_its_own_and_the_defaults_it_has_none_of() -> None:
    group = "6F546279-4DA5-4B53-A095-09EA0CEF9971"
    own = {"crossTenantMailTipsLimited": capability(False, group)}
    default = {"crossTenantMailTipsLimited": capability(True), "crossTenantOpenProfileCard": capability(True)}
    held = effective_held(M365_CAPABILITY, PARTNER.name, own, default)
    assert [(each.key, each.inherited_from) for each in held] == [
        ("crossTenantMailTipsLimited", None),  # the partner's own wins over the default's
        ("crossTenantOpenProfileCard", "default"),
    ]
    # In canonical form, as plans compare: GUIDs lower case, empty lists as none, no read-only members.
    assert held[0] == Held(
        "crossTenantMailTipsLimited",
        {
            "inboundAccess": {
                "isAllowed": False,
                "resourceScopes": {"included": [{"resourceId": group.lower(), "resourceType": "group"}]},
            }
        },
        None,
    )


def test_the_defaults_capabilities_inherit_from_nothing() -> None:
    held = effective_held(
        M365_CAPABILITY, DEFAULT.name, {"crossTenantMigration": capability(True)}, {"x": capability(True)}
    )
    assert [(each.key, each.inherited_from) for each in held] == [("crossTenantMigration", None)]
