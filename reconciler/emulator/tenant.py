"""One emulated tenant: its state (partners, default, templates, policy root, capabilities,
identity syncs), its directory and its audit log, and the methods tests plant and inspect them by.

Graph serves every tenant from one host, the token's `tid` choosing the tenant; so the emulator
holds one `Tenant` per tenant id it serves, and `Emulator` is its default tenant's, which keeps the
single-tenant API (`emulator.put_partner(...)`) as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .audit import AuditLog
from .config import EmulatorConfig
from .directory import Directory
from .policy_root import CONSTRAINTS
from .seeds import Seed
from .state import MTO_PARTNER_TEMPLATE, MTO_SYNC_TEMPLATE, POLICY_ROOT, TENANT_DEFAULT, Store


class Tenant:
    """A tenant's state, and the tests' way to it that bypasses the API."""

    def __init__(self, config: EmulatorConfig, tenant_id: str) -> None:
        self.store = Store(config)
        self.audit = AuditLog()
        self.directory = Directory()
        if config.directory_file is not None:  # every tenant looks the same names up
            self.directory.load_file(config.directory_file)
        self._tenant_id = tenant_id.lower()

    @property
    def tenant_id(self) -> str:
        """The tenant's id: the `tid` claim of the tokens that read and write its state."""
        return self._tenant_id

    # -- state, bypassing the API ------------------------------------------------------------

    def put_partner(self, raw: Mapping[str, Any]) -> None:
        """Store `raw` verbatim (no validation or normalisation), to plant Graph quirks."""
        self.store.put_partner(raw)

    def put_service_provider_constraints(self, tenant_id: str, raw: Mapping[str, Any] | None) -> None:
        """Plant a partner's `serviceProviderConstraints` verbatim (None removes them): the service
        sets them (Microsoft Support consent, GDAP), never a client."""

        def plant(partner: dict[str, Any]) -> dict[str, Any]:
            kept = {k: v for k, v in partner.items() if k != CONSTRAINTS}
            return kept if raw is None else {**kept, CONSTRAINTS: dict(raw)}

        self.store.edit_parent(tenant_id, plant)

    def partners(self) -> dict[str, dict[str, Any]]:
        """A deep copy of the stored partners, keyed by lowercase tenantId."""
        return self.store.partners()

    def put_identity_sync(self, tenant_id: str, raw: Mapping[str, Any] | None) -> None:
        """Store `raw` verbatim as the identity sync policy of partner `tenant_id` (which must
        exist), or remove the policy with None."""
        self.store.put_identity_sync(tenant_id, raw)

    def identity_sync(self, tenant_id: str) -> dict[str, Any] | None:
        """A deep copy of the partner's stored identity sync policy, None when it has none."""
        return self.store.identity_sync(tenant_id)

    def set_template(self, raw: Mapping[str, Any] | None) -> None:
        """Store the MTO partner template verbatim, or reset it to unconfigured with None."""
        self.store.set_singleton(MTO_PARTNER_TEMPLATE, raw)

    def template(self) -> dict[str, Any]:
        return self.store.singleton(MTO_PARTNER_TEMPLATE)

    def set_sync_template(self, raw: Mapping[str, Any] | None) -> None:
        """Store the MTO identity sync template verbatim, or reset it to unconfigured with None."""
        self.store.set_singleton(MTO_SYNC_TEMPLATE, raw)

    def sync_template(self) -> dict[str, Any]:
        return self.store.singleton(MTO_SYNC_TEMPLATE)

    def set_default(self, raw: Mapping[str, Any] | None) -> None:
        """Store the tenant default verbatim, or reset it to the system default with None."""
        self.store.set_singleton(TENANT_DEFAULT, raw)

    def default(self) -> dict[str, Any]:
        return self.store.singleton(TENANT_DEFAULT)

    def set_policy_root(self, raw: Mapping[str, Any] | None) -> None:
        """Store the policy itself (allowedCloudEndpoints) verbatim, or as a new tenant has it with None."""
        self.store.set_singleton(POLICY_ROOT, raw)

    def policy_root(self) -> dict[str, Any]:
        return self.store.singleton(POLICY_ROOT)

    def plant(self, seed: Seed) -> None:
        """Plant a starting tenant (`seeds.SEEDS`) as state planted by a test is: no audit entry."""
        for partner in seed.partners:
            self.put_partner(partner)
        if seed.directory:
            self.load_directory(seed.directory)

    def put_directory_object(self, raw: Mapping[str, Any]) -> None:
        """Plant a user, group or service principal of this tenant for the name lookups: its
        `@odata.type` (`#microsoft.graph.user`, `…group`, `…servicePrincipal`), a GUID `id`, a GUID
        `appId` for a service principal, and any other properties, which getByIds returns as given.
        ValueError when it lacks what a lookup needs."""
        self.directory.put_object(raw)

    def remove_directory_object(self, object_id: str) -> None:
        """Remove a planted object (KeyError when there is none), as if it were deleted."""
        self.directory.remove_object(object_id)

    def put_known_tenant(self, raw: Mapping[str, Any]) -> None:
        """Plant a tenant the tenant-information lookups find: a GUID `tenantId`, `displayName`,
        `defaultDomainName`, `federationBrandName`, and optionally `domains`, the other domain
        names it is found by."""
        self.directory.put_tenant(raw)

    def remove_known_tenant(self, tenant_id: str) -> None:
        self.directory.remove_tenant(tenant_id)

    def load_directory(self, raw: Mapping[str, Any]) -> None:
        """Plant a whole directory, in the shape of a `--directory` file: `users`, `groups`,
        `servicePrincipals` and `tenants` lists (ValueError, and nothing planted, on a bad entry)."""
        self.directory.load(raw)

    def directory_objects(self) -> dict[str, dict[str, Any]]:
        """A deep copy of the planted users, groups and service principals, keyed by lowercase id."""
        return self.directory.objects()

    def known_tenants(self) -> dict[str, dict[str, Any]]:
        """A deep copy of the planted tenants, keyed by lowercase tenantId."""
        return self.directory.tenants()

    def audit_entries(self) -> list[dict[str, Any]]:
        """Every directory audit entry recorded so far, newest first, as Graph would list them."""
        return self.audit.entries()
