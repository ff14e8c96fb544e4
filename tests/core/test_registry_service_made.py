from reconciler.core.registry import partner_service_made as service_made

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"


def test_mto_members_and_service_providers_are_service_made() -> None:
    assert "multitenant organization" in (service_made({"tenantId": TENANT, "isInMultiTenantOrganization": True}) or "")
    assert "Partner Center" in (service_made({"tenantId": TENANT, "isServiceProvider": True}) or "")


def test_a_partner_a_person_made_is_not() -> None:
    assert service_made({"tenantId": TENANT, "isServiceProvider": False, "isInMultiTenantOrganization": None}) is None
    assert service_made({"tenantId": TENANT}) is None
