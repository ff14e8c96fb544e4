"""Every resource type xtap manages, described once, as data (docs/architecture.md).

Like a provider schema in Terraform: the loader, planner, plan file, applier, export, drift and
renderers read what varies by type from here (its plan name, model, key kind, parents, policy
file or folder, URL, what an absent property means, which properties are create-only or left
alone when absent, how it is created, reset and read, its audit activities, what prune spares
and how export names its files) instead of carrying a code path per type. What data cannot say
is a hook on the entry, a function the steps call alike for every type (`service_made`), or a
method of its key kind (`keys.py`). Adding a resource type is one entry here, one model in
`models.py`, and one route in the emulator.

An entry names its model, which is imported when first asked for (`ResourceType.model`): what
reads the live tenant needs only the paths and the key kinds, and a plan's first request goes
out without waiting for pydantic and the models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, get_args

from reconciler.core.address import Address
from reconciler.core.keys import KeyKind, NameInParent, OnePerParent, Singleton, TenantKey
from reconciler.core.names import EITHER, PARTNER_SIDE, TENANT
from reconciler.core.wire import GRAPH_NAMESPACE, TEMPLATE_DEFAULT_LEVEL

if TYPE_CHECKING:
    from reconciler.core.models import GraphModel

# The permission every cross-tenant access write takes:
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-post-partners
CROSS_TENANT_ACCESS = "Policy.ReadWrite.CrossTenantAccess"


@dataclass(frozen=True)
class Fallback:
    """Send `method` with the whole desired body when Graph answers one of `statuses`: for the
    verbs Microsoft's sources disagree on (see `IDENTITY_SYNC` below)."""

    statuses: frozenset[int]
    method: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per type
class ResourceType:
    name: str  # the plan name (docs/plan-json.md)
    # Its model: the name of its class in `models`, imported when first asked for (`model`), or
    # the class itself.
    graph_model: str | type[GraphModel]
    # The instance's URL relative to the Graph base URL: `{key}` stands for its key
    # (`KeyKind.key_value`), `{parent}` for its parent instance's URL.
    path: str
    # How its instances are told apart, addressed and found (`keys.py`).
    key_kind: KeyKind
    # The types whose instances hold it, for a nested key kind: its block is written in their
    # files under `nested_key`, read in their pages (`$expand`), and created after them.
    parents: tuple[str, ...] = ()
    nested_key: str | None = None
    # Where a top-level type's policy lives: a folder of one file per instance, or a
    # singleton's own file.
    folder: str | None = None
    file: str | None = None
    # Properties Graph computes: in the model only to be refused with a reason.
    read_only: frozenset[str] = frozenset()
    # What an absent (or null) property means, where that is not simply null.
    absent_means: Mapping[str, Any] = field(default_factory=dict)
    # Properties an absent one leaves alone instead of setting to what absent means.
    unmanaged_when_absent: frozenset[str] = frozenset()
    create_only: frozenset[str] = frozenset()
    # How a missing instance is made: "POST" to its collection (`collection_url_of`) or "PUT"
    # to its URL; None for singletons, which always exist.
    create_method: str | None = None
    # The properties a create takes; the others follow as a PATCH in the same change.
    create_properties: frozenset[str] | None = None
    create_fallback: Fallback | None = None
    update_fallback: Fallback | None = None
    # The action that restores the unconfigured state, planned when a file declares exactly
    # that state (a file with only comments) and the tenant differs.
    reset_action: str | None = None
    # Another type whose values a null property here inherits (shown in plans and `xtap show`).
    inherits_from: str | None = None
    # The directory audit activities that change it, and their categories (what `drift
    # --attribute` asks the audit log for):
    # https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities
    audit_activities: frozenset[str] = frozenset()
    audit_categories: tuple[str, ...] = ()
    # A read-only boolean Graph sets true while the instance is in its reset state: then the
    # values of its `unmanaged_when_absent` properties are the system's, not anyone's choice.
    reset_flag: str | None = None
    # Why a live instance was made by a Microsoft service rather than a person (None: nothing
    # says so). Export marks such an instance, and prune spares it unless xtap.yaml names it.
    service_made: Callable[[Mapping[str, Any]], str | None] | None = None
    # A read-only boolean Graph sets true on an instance a service cannot do without: prune
    # never deletes one, even where xtap.yaml names it.
    never_pruned_flag: str | None = None
    # What names an exported instance's file: a property of this type or of a nested type with
    # the same id (`OnePerParent`); the file is named from its value, else from the id.
    named_by: tuple[str, str] | None = None
    # Its API exists only in the global cloud (its pages' national cloud tables), so other clouds
    # never read it, and a policy file that manages it under another cloud is refused offline
    # (`policies.policy_file`), pointing at `availability`, the Microsoft Learn page whose
    # national cloud table says so. `title` is what a person calls it, in that message.
    global_only: bool = False
    availability: str | None = None
    title: str | None = None
    # Property -> the clouds whose published Graph v1.0 metadata lacks it, although Microsoft
    # Learn documents it: the msgraph-metadata repository's schemas/v1.0-Fairfax.csdl (usgov,
    # usgovdod) and v1.0-Mooncake.csdl (china),
    # https://github.com/microsoftgraph/msgraph-metadata/tree/master/schemas. Those files are
    # known to be incomplete (Learn marks PATCH /policies/crossTenantAccessPolicy available in
    # US Gov and China and documents allowedCloudEndpoints there; Fairfax lacks it), so a file
    # that writes one under such a cloud gets a warning at the key, never an error. Read for
    # the keys of the type's own file; a nested type's block is not searched (refused below).
    clouds_lacking: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Whose objects each list of references names (`core/names.py`: this tenant's, the
    # partner's, or undocumented), by the list's path: what is looked up, labelled and checked.
    target_sides: Mapping[str, str] = field(default_factory=dict)
    # A nested type read in its parents' pages (`$expand`); False: listed with one GET per parent
    # instance that manages it, in `$batch`es, where Graph documents no `$expand`.
    expanded: bool = True
    # A parent's file without `nested_key` leaves its instances alone (not read, not written);
    # with it, even empty, the block is the whole truth. False: an absent block declares none,
    # so what is live is deleted.
    absent_block_unmanaged: bool = False
    # The parent types under which Graph has no delete for it, and what a file writes instead.
    no_delete_under: Mapping[str, str] = field(default_factory=dict)
    # The Graph permission its writes need (apply names it when a token lacks it).
    write_permission: str = CROSS_TENANT_ACCESS
    # Single-valued navigations a Microsoft service writes on an instance: never written, never
    # compared, only shown (`xtap show`, one GET each, where a 404 means it has none). Only the
    # global cloud's metadata has them.
    service_managed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.key_kind.nested != bool(self.parents) or self.key_kind.nested != (self.nested_key is not None):
            raise ValueError(f"{self.name}: a nested key kind, and only one, has parents and a nested_key")
        if self.parents and self.clouds_lacking:
            raise ValueError(f"{self.name}: clouds_lacking is read in a file's own keys, not in a nested block")
        if self.global_only and not (self.availability and self.title):
            raise ValueError(f"{self.name}: a global-only type names its availability page and its title")

    @cached_property
    def model(self) -> type[GraphModel]:
        if not isinstance(self.graph_model, str):
            return self.graph_model
        from reconciler.core import models

        named: type[GraphModel] = getattr(models, self.graph_model)
        return named

    @property
    def key(self) -> str | None:
        """The key property (tenantId), part of the address, not a setting."""
        return self.key_kind.key_property

    @property
    def singleton_id(self) -> str | None:
        return self.key_kind.fixed_id

    @cached_property
    def children(self) -> tuple[str, ...]:
        """The nested types its instances hold, in registry order."""
        return tuple(rtype.name for rtype in REGISTRY if self.name in rtype.parents)

    @cached_property
    def settings(self) -> tuple[str, ...]:
        """The properties xtap compares and writes: the model's fields less the key, the
        read-only ones (declared only to be refused) and nested resources."""
        skip = self.read_only | {self.key} | self._nested_keys
        return tuple(name for name in self.model.model_fields if name not in skip)

    @cached_property
    def _nested_keys(self) -> frozenset[str | None]:
        """The members holding its nested types' blocks: their own resources, not its values."""
        return frozenset(REGISTRY_BY_NAME[child].nested_key for child in self.children)

    @cached_property
    def nested_members(self) -> Mapping[str, frozenset[str]]:
        """For each object-valued setting (at any depth), the member names its type has.
        Members Graph adds tomorrow are not in it, so they are never compared nor cleared."""
        members: dict[str, set[str]] = {}
        stack: list[type[GraphModel]] = [self.model]
        while stack:
            for name, info in stack.pop().model_fields.items():
                if name in self._nested_keys:
                    continue
                for nested in models_in(info.annotation):
                    if name not in members:
                        stack.append(nested)
                    members.setdefault(name, set()).update(nested.model_fields)
        return MappingProxyType({name: frozenset(names) for name, names in members.items()})

    @cached_property
    def spellings(self) -> Mapping[str, Callable[[str], str]]:
        """The canonical spelling of each member so declared by a model it reaches
        (`GraphModel.spellings`), wherever the member stands."""
        found: dict[str, Callable[[str], str]] = {}
        for model in self._models:
            for name, spell in model.spellings.items():
                if found.setdefault(name, spell) is not spell:
                    raise ValueError(f"{self.name}: {name} has two canonical spellings")
        return MappingProxyType(found)

    @cached_property
    def set_members(self) -> frozenset[str]:
        """The members that hold a set in a model it reaches (`GraphModel.set_members`)."""
        return frozenset(name for model in self._models for name in model.set_members)

    @cached_property
    def references(self) -> frozenset[tuple[str, str]]:
        """The (id member, kind member) pairs of the objects in it that name a user, group or
        application (`GraphModel.reference`)."""
        return frozenset(model.reference for model in self._models if model.reference is not None)

    @cached_property
    def _models(self) -> tuple[type[GraphModel], ...]:
        found: dict[type[GraphModel], None] = {self.model: None}
        stack = [self.model]
        while stack:
            for name, info in stack.pop().model_fields.items():
                if name in self._nested_keys:
                    continue
                for nested in models_in(info.annotation):
                    if nested not in found:
                        found[nested] = None
                        stack.append(nested)
        return tuple(found)

    def parent_address(self, resource_id: str) -> Address | None:
        """The instance that holds a nested one: of the parent type whose key kind can own its
        parent id (a partner's GUID, the default's name)."""
        parent_id = self.key_kind.parent_id(resource_id)
        if parent_id is None:
            return None
        owners = [
            name for name in self.parents if len(self.parents) == 1 or REGISTRY_BY_NAME[name].key_kind.owns(parent_id)
        ]
        if not owners:
            raise ValueError(f"{self.name} {resource_id}: no {' or '.join(self.parents)} is {parent_id}")
        return Address(owners[0], parent_id)

    def tenant_of(self, resource_id: str) -> str | None:
        """The partner tenant an instance is about: its own key where that is a tenant id, else
        its parent's (a partner's identity sync and capabilities); None for a singleton's."""
        if isinstance(self.key_kind, TenantKey):
            return resource_id
        parent = self.parent_address(resource_id)
        return None if parent is None else REGISTRY_BY_NAME[parent.resource].tenant_of(parent.id)

    def url(self, resource_id: str) -> str:
        parent = self.parent_address(resource_id)
        within = "" if parent is None else REGISTRY_BY_NAME[parent.resource].url(parent.id)
        return self.path.format(parent=within, key=self.key_kind.key_value(resource_id))

    def collection_url_of(self, resource_id: str) -> str:
        """Where a new instance is POSTed: its URL less its own key."""
        return self.url(resource_id).removesuffix(f"/{self.key_kind.key_value(resource_id)}")

    @property
    def collection_url(self) -> str:
        """A top-level keyed type's collection, read page by page."""
        return self.path.removesuffix("/{key}")

    def audit_instance(self, targets: Any) -> str | None:
        """The instance a directory audit entry about this type names in its `targetResources`;
        a nested type's, within the parent instance the entry names."""
        parents = (REGISTRY_BY_NAME[name].audit_instance(targets) for name in self.parents)
        return self.key_kind.audit_id(targets, next((found for found in parents if found), None))


def models_in(annotation: Any) -> list[type[GraphModel]]:
    """The Graph models a field's type annotation names (`B2BSetting | None` names B2BSetting)."""
    from reconciler.core.models import GraphModel

    if isinstance(annotation, type) and issubclass(annotation, GraphModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in models_in(arg)]


POLICY = "/policies/crossTenantAccessPolicy"
# The audit categories of cross-tenant access changes (the audit activities page above).
ACCESS_AUDIT = "CrossTenantAccessSettings"
SYNC_AUDIT = "CrossTenantIdentitySyncSettings"
TEMPLATE_LEVEL = MappingProxyType({"templateApplicationLevel": TEMPLATE_DEFAULT_LEVEL})


def _everyone(access: str) -> dict[str, Any]:
    """A B2B setting for all users and all applications, as the system default has them."""
    users = {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]}
    apps = {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]}
    return {"usersAndGroups": users, "applications": apps}


# The clouds by the msgraph-metadata file that publishes their Graph v1.0 schema (`Cloud.metadata`
# in clouds.py names the same), for `clouds_lacking`.
FAIRFAX = frozenset({"usgov", "usgovdod"})
MOONCAKE = frozenset({"china"})
# The settings Learn documents on both the default and a partner that neither national metadata
# file has (msgraph-metadata v1.0-Fairfax.csdl and v1.0-Mooncake.csdl, 2026-08).
NATIONAL_LACKS = MappingProxyType(
    {
        name: FAIRFAX | MOONCAKE
        for name in (
            "tenantRestrictions",
            "m365CollaborationInbound",
            "m365CollaborationOutbound",
            "appServiceConnectInbound",
        )
    }
)


def _b2b_sides(direction: str) -> dict[str, str]:
    """A B2B setting's slots: inbound ones name the partner's users and this tenant's apps,
    outbound ones the reverse ("Inbound settings control external account access to your
    internal apps. Outbound settings control internal account access to external apps.":
    https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2)."""
    users, apps = (PARTNER_SIDE, TENANT) if direction == "Inbound" else (TENANT, PARTNER_SIDE)
    return {
        f"b2b{kind}{direction}.{slot}.targets": side
        for kind in ("Collaboration", "DirectConnect")
        for slot, side in (("usersAndGroups", users), ("applications", apps))
    }


B2B_SIDES = {**_b2b_sides("Inbound"), **_b2b_sides("Outbound")}
# Tenant restrictions govern "external account access to external apps" (the page above);
# Microsoft 365 collaboration inbound names "users from other organizations", outbound "users and
# groups in your organization"; whose apps app service connect names is undocumented:
# https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicym365collaborationinboundsetting
TENANT_SETTING_SIDES = MappingProxyType(
    {
        **B2B_SIDES,
        "tenantRestrictions.usersAndGroups.targets": PARTNER_SIDE,
        "tenantRestrictions.applications.targets": PARTNER_SIDE,
        "m365CollaborationInbound.users.targets": PARTNER_SIDE,
        "m365CollaborationOutbound.usersAndGroups.targets": TENANT,
        "appServiceConnectInbound.applications.targets": EITHER,
    }
)


# Partner Center creates partners for GDAP/CSP relationships (`isServiceProvider`), and joining a
# multitenant organization creates one for every member tenant (`isInMultiTenantOrganization`:
# https://learn.microsoft.com/entra/identity/multi-tenant-organizations/multi-tenant-organization-overview).
# Nobody declared them, yet deleting one breaks the service that made it.
MTO_MEMBER_FLAG = "isInMultiTenantOrganization"


def partner_service_made(partner: Mapping[str, Any]) -> str | None:
    """Why a live partner (Graph's wire form) was made by a service, or None if nothing says so:
    the one answer both export's mark and prune's sparing read."""
    if partner.get(MTO_MEMBER_FLAG) is True:
        return "a member of the tenant's multitenant organization (made when the tenant joined it)"
    if partner.get("isServiceProvider") is True:
        return "a service provider partner (made by Partner Center for a GDAP/CSP relationship)"
    return None


PARTNER = ResourceType(
    name="partner",
    graph_model="Partner",
    path=f"{POLICY}/partners/{{key}}",
    key_kind=TenantKey("tenantId"),
    folder="partners",
    read_only=frozenset({MTO_MEMBER_FLAG, "serviceProviderConstraints"}),
    # Set by Partner Center for GDAP/CSP partners, and writable only at create (the update page,
    # https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-update, does
    # not list it): managed only where a file writes it.
    unmanaged_when_absent=frozenset({"isServiceProvider"}),
    create_only=frozenset({"isServiceProvider"}),
    create_method="POST",
    # Documented on create (https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-post-partners);
    # the rest are documented on update only.
    create_properties=frozenset(
        {
            "tenantId",
            "isServiceProvider",
            "inboundTrust",
            "automaticUserConsentSettings",
            "b2bCollaborationInbound",
            "b2bCollaborationOutbound",
            "b2bDirectConnectInbound",
            "b2bDirectConnectOutbound",
        }
    ),
    inherits_from="default",
    audit_activities=frozenset(
        {
            "Add a partner to cross-tenant access setting",
            "Update a partner cross-tenant access setting",
            "Delete partner specific cross-tenant access setting",
            "Migrated partner cross-tenant access settings to the scalable model",
        }
    ),
    audit_categories=(ACCESS_AUDIT,),
    service_made=partner_service_made,
    # An MTO member is never deleted: a multitenant organization needs settings for every
    # active member (the overview above), so no file can make deleting one safe.
    never_pruned_flag=MTO_MEMBER_FLAG,
    # Graph gives a partner a name only in its identity sync.
    named_by=("identitySynchronization", "displayName"),
    target_sides=TENANT_SETTING_SIDES,
    # The read-only MTO flag is never in a file; listed as the metadata has it.
    clouds_lacking=MappingProxyType({**NATIONAL_LACKS, MTO_MEMBER_FLAG: FAIRFAX | MOONCAKE}),
    # The roles a GDAP/CSP provider or Microsoft Support may be assigned here, recorded by
    # Microsoft's EntraGDAP service when a customer consents:
    # https://learn.microsoft.com/microsoft-365/admin/support-diagnostic-information-collection
    service_managed=("serviceProviderConstraints",),
)

IDENTITY_SYNC = ResourceType(
    name="identitySynchronization",
    graph_model="IdentitySync",
    path="{parent}/identitySynchronization",
    key_kind=OnePerParent(),
    parents=("partner",),
    nested_key="identitySynchronization",
    read_only=frozenset({"tenantId"}),
    # PUT creates. Microsoft's sources disagree on updates: the update page shows PATCH
    # (https://learn.microsoft.com/graph/api/crosstenantidentitysyncpolicypartner-update), the metadata
    # says PUT (https://github.com/microsoftgraph/msgraph-metadata/issues/402), and a PUT on an
    # existing policy may answer 409, as the cross-tenant sync guide's troubleshooting reports:
    # https://learn.microsoft.com/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-configure-graph
    # So: PATCH to update, PUT after a 404/405; PUT to create, PATCH after a 409.
    create_method="PUT",
    create_fallback=Fallback(frozenset({409}), "PATCH"),
    update_fallback=Fallback(frozenset({404, 405}), "PUT"),
    audit_activities=frozenset(
        {
            "Create a partner cross-tenant identity sync setting",
            "Update a partner cross-tenant identity sync setting",
            "Delete a partner cross-tenant identity sync setting",
        }
    ),
    audit_categories=(SYNC_AUDIT,),
)

DEFAULT = ResourceType(
    name="default",
    graph_model="DefaultSettings",
    path=f"{POLICY}/default",
    key_kind=Singleton("default"),
    file="default.yaml",
    read_only=frozenset({"id", "isServiceDefault", "automaticUserConsentSettings"}),
    # The documented system values, what an absent property declares:
    # https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-get
    absent_means=MappingProxyType(
        {
            "inboundTrust": {
                "isMfaAccepted": False,
                "isCompliantDeviceAccepted": False,
                "isHybridAzureADJoinedDeviceAccepted": False,
            },
            "b2bCollaborationInbound": _everyone("allowed"),
            "b2bCollaborationOutbound": _everyone("allowed"),
            "b2bDirectConnectInbound": _everyone("blocked"),
            "b2bDirectConnectOutbound": _everyone("blocked"),
        }
    ),
    # No documented system value: absent means not managed.
    unmanaged_when_absent=frozenset(
        {
            "tenantRestrictions",
            "invitationRedemptionIdentityProviderConfiguration",
            "m365CollaborationInbound",
            "m365CollaborationOutbound",
            "appServiceConnectInbound",
        }
    ),
    reset_action="resetToSystemDefault",
    reset_flag="isServiceDefault",
    # The documented table files the update under the identity sync category; matched by name.
    audit_activities=frozenset(
        {"Update the company default cross-tenant access setting", "Reset the cross-tenant access default setting"}
    ),
    audit_categories=(SYNC_AUDIT, ACCESS_AUDIT),
    clouds_lacking=NATIONAL_LACKS,
    target_sides=TENANT_SETTING_SIDES,
)


M365_CAPABILITY = ResourceType(
    name="m365Capability",
    graph_model="M365Capability",
    path="{parent}/m365Capabilities/{key}",
    key_kind=NameInParent("name", odata_namespace=GRAPH_NAMESPACE),
    parents=("partner", "default"),
    nested_key="m365Capabilities",
    read_only=frozenset({"lastModifiedDateTime", "id"}),
    # POST with `@odata.type` and the whole inboundAccess; PATCH with the whole inboundAccess:
    # https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities
    create_method="POST",
    create_properties=frozenset({"inboundAccess"}),
    # "an inbound control: the resource tenant that owns the data decides what to expose": the
    # scopes name this tenant's users and groups (the overview above).
    target_sides=MappingProxyType(
        {"inboundAccess.resourceScopes.included": TENANT, "inboundAccess.resourceScopes.excluded": TENANT}
    ),
    global_only=True,
    availability="https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities",
    title="Microsoft 365 capabilities",
    # Graph documents listing them per policy, not `$expand`, nor a GET by name.
    expanded=False,
    # They take their own permission, and often another team (Exchange administrators).
    absent_block_unmanaged=True,
    # The default's capabilities have list, create and update, and no delete:
    # https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicyconfigurationdefault
    no_delete_under=MappingProxyType(
        {
            "default": "Graph has no delete for the default's capabilities: keep it in the list with "
            "inboundAccess.isAllowed: false to turn it off"
        }
    ),
    write_permission="Policy.ReadWrite.CrossTenantCapability",
)


def _mto_template(name: str, model: str, segment: str, file: str, what: str, page: str) -> ResourceType:
    """Both MTO templates: singletons under …/templates, read-only `id`, an absent
    `templateApplicationLevel` meaning Graph's default, reset to their unconfigured state.
    Graph documents no audit activity names for them; these are the ones the emulator records,
    in the cross-tenant access category. Global only, as the national cloud table of `page`
    (their GET on Microsoft Learn) says."""
    return ResourceType(
        name=name,
        graph_model=model,
        path=f"{POLICY}/templates/{segment}",
        key_kind=Singleton(segment),
        file=file,
        read_only=frozenset({"id"}),
        absent_means=TEMPLATE_LEVEL,
        reset_action="resetToDefaultSettings",
        target_sides=MappingProxyType(B2B_SIDES),
        global_only=True,
        availability=f"https://learn.microsoft.com/graph/api/{page}-get",
        title=f"the multitenant organization {what} template",
        audit_activities=frozenset(
            {
                f"Update the multi-tenant organization {what} template",
                f"Reset the multi-tenant organization {what} template",
            }
        ),
        audit_categories=(ACCESS_AUDIT,),
    )


MTO_PARTNER_TEMPLATE = _mto_template(
    "mtoPartnerTemplate",
    "MtoPartnerTemplate",
    "multiTenantOrganizationPartnerConfiguration",
    "mto-partner-template.yaml",
    "partner configuration",
    "multitenantorganizationpartnerconfigurationtemplate",
)
MTO_IDENTITY_SYNC_TEMPLATE = _mto_template(
    "mtoIdentitySyncTemplate",
    "MtoIdentitySyncTemplate",
    "multiTenantOrganizationIdentitySynchronization",
    "mto-identity-sync-template.yaml",
    "identity synchronization",
    "multitenantorganizationidentitysyncpolicytemplate",
)

POLICY_ROOT = ResourceType(
    name="policy",
    graph_model="CrossTenantAccessPolicy",
    path=POLICY,
    key_kind=Singleton("crossTenantAccessPolicy"),
    file="policy.yaml",
    read_only=frozenset({"id", "displayName"}),
    # Its one setting, written whole (Graph's schema: never null). A file without it leaves the
    # clouds as they are.
    unmanaged_when_absent=frozenset({"allowedCloudEndpoints"}),
    clouds_lacking=MappingProxyType({"allowedCloudEndpoints": FAIRFAX | MOONCAKE}),
)

# In planning and apply order: a parent before its children.
REGISTRY: tuple[ResourceType, ...] = (
    PARTNER,
    IDENTITY_SYNC,
    DEFAULT,
    M365_CAPABILITY,
    MTO_PARTNER_TEMPLATE,
    MTO_IDENTITY_SYNC_TEMPLATE,
    POLICY_ROOT,
)
REGISTRY_BY_NAME: Mapping[str, ResourceType] = MappingProxyType({rtype.name: rtype for rtype in REGISTRY})
SINGLETON_FILES: Mapping[str, ResourceType] = MappingProxyType(
    {rtype.file: rtype for rtype in REGISTRY if rtype.file is not None}
)


def resource_type(name: str) -> ResourceType:
    return REGISTRY_BY_NAME[name]
