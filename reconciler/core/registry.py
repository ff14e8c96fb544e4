"""Every resource type xtap manages, described once, as data (docs/architecture.md).

Like a provider schema in Terraform: the loader, planner, plan file, applier and renderers read
what varies by type from here (its plan name, model, policy file, URL, what an absent property
means, which properties are create-only or left alone when absent, how it is created, reset
and read) instead of carrying a code path per type. Adding a resource type is one entry here,
one model in `models.py`, and one route in the emulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, get_args

from reconciler.core.models import (
    TEMPLATE_DEFAULT_LEVEL,
    DefaultSettings,
    GraphModel,
    IdentitySync,
    MtoIdentitySyncTemplate,
    MtoPartnerTemplate,
    Partner,
)


@dataclass(frozen=True)
class Fallback:
    """Send `method` with the whole desired body when Graph answers one of `statuses`: for the
    verbs Microsoft's sources disagree on (see `IDENTITY_SYNC` below)."""

    statuses: frozenset[int]
    method: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per type
class ResourceType:
    name: str  # the plan name (docs/plan-json.md)
    model: type[GraphModel]
    # The instance's URL relative to the Graph base URL; `{id}` stands for a keyed type's id.
    path: str
    # A singleton's fixed id; None for a type keyed by tenantId.
    singleton_id: str | None = None
    # Where its policy lives: a folder of one file per instance (a keyed type), a singleton's own
    # file, or a key inside its parent's file (`parent`, `nested_key`).
    folder: str | None = None
    file: str | None = None
    parent: str | None = None
    nested_key: str | None = None
    key: str | None = None  # the key property (tenantId), part of the address, not a setting
    # Properties Graph computes: in the model only to be refused with a reason.
    read_only: frozenset[str] = frozenset()
    # What an absent (or null) property means, where that is not simply null.
    absent_means: Mapping[str, Any] = field(default_factory=dict)
    # Properties an absent one leaves alone instead of setting to what absent means.
    unmanaged_when_absent: frozenset[str] = frozenset()
    create_only: frozenset[str] = frozenset()
    # How a missing instance is made: "POST" to the collection (the path without `/{id}`) or
    # "PUT" to its path; None for singletons, which always exist.
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
    # Nested resources in the same file (a partner's identitySynchronization): not settings.
    children: tuple[str, ...] = field(default=())
    # The directory audit activities that change it, for `drift --attribute`:
    # https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities
    audit_activities: frozenset[str] = frozenset()
    # A read-only boolean Graph sets true while the instance is in its reset state: then the
    # values of its `unmanaged_when_absent` properties are the system's, not anyone's choice.
    reset_flag: str | None = None
    # Its API exists only in the global cloud (its pages' national cloud tables), so other clouds
    # never read it.
    global_only: bool = False

    @cached_property
    def settings(self) -> tuple[str, ...]:
        """The properties xtap compares and writes: the model's fields less the key, the
        read-only ones (declared only to be refused) and nested resources."""
        skip = self.read_only | {self.key} | {REGISTRY_BY_NAME[child].nested_key for child in self.children}
        return tuple(name for name in self.model.model_fields if name not in skip)

    @cached_property
    def nested_members(self) -> Mapping[str, frozenset[str]]:
        """For each object-valued setting (at any depth), the member names its type has.
        Members Graph adds tomorrow are not in it, so they are never compared nor cleared."""
        members: dict[str, set[str]] = {}
        stack: list[type[GraphModel]] = [self.model]
        while stack:
            for name, info in stack.pop().model_fields.items():
                for nested in models_in(info.annotation):
                    if name not in members:
                        stack.append(nested)
                    members.setdefault(name, set()).update(nested.model_fields)
        return MappingProxyType({name: frozenset(names) for name, names in members.items()})

    def url(self, resource_id: str) -> str:
        return self.path.replace("{id}", resource_id)

    @property
    def collection_url(self) -> str:
        return self.path.removesuffix("/{id}")


def models_in(annotation: Any) -> list[type[GraphModel]]:
    """The Graph models a field's type annotation names (`B2BSetting | None` names B2BSetting)."""
    if isinstance(annotation, type) and issubclass(annotation, GraphModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in models_in(arg)]


POLICY = "/policies/crossTenantAccessPolicy"
TEMPLATE_LEVEL = MappingProxyType({"templateApplicationLevel": TEMPLATE_DEFAULT_LEVEL})


def _everyone(access: str) -> dict[str, Any]:
    """A B2B setting for all users and all applications, as the system default has them."""
    users = {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]}
    apps = {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]}
    return {"usersAndGroups": users, "applications": apps}


PARTNER = ResourceType(
    name="partner",
    model=Partner,
    path=f"{POLICY}/partners/{{id}}",
    folder="partners",
    key="tenantId",
    read_only=frozenset({"isInMultiTenantOrganization"}),
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
    children=("identitySynchronization",),
    audit_activities=frozenset(
        {
            "Add a partner to cross-tenant access setting",
            "Update a partner cross-tenant access setting",
            "Delete partner specific cross-tenant access setting",
            "Migrated partner cross-tenant access settings to the scalable model",
        }
    ),
)

IDENTITY_SYNC = ResourceType(
    name="identitySynchronization",
    model=IdentitySync,
    path=f"{POLICY}/partners/{{id}}/identitySynchronization",
    parent="partner",
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
)

DEFAULT = ResourceType(
    name="default",
    model=DefaultSettings,
    path=f"{POLICY}/default",
    singleton_id="default",
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
)


def _mto_template(name: str, model: type[GraphModel], segment: str, file: str, what: str) -> ResourceType:
    """Both MTO templates: singletons under …/templates, read-only `id`, an absent
    `templateApplicationLevel` meaning Graph's default, reset to their unconfigured state.
    Graph documents no audit activity names for them; these are the ones the emulator records."""
    return ResourceType(
        name=name,
        model=model,
        path=f"{POLICY}/templates/{segment}",
        singleton_id=segment,
        file=file,
        read_only=frozenset({"id"}),
        absent_means=TEMPLATE_LEVEL,
        reset_action="resetToDefaultSettings",
        global_only=True,
        audit_activities=frozenset(
            {
                f"Update the multi-tenant organization {what} template",
                f"Reset the multi-tenant organization {what} template",
            }
        ),
    )


MTO_PARTNER_TEMPLATE = _mto_template(
    "mtoPartnerTemplate",
    MtoPartnerTemplate,
    "multiTenantOrganizationPartnerConfiguration",
    "mto-partner-template.yaml",
    "partner configuration",
)
MTO_IDENTITY_SYNC_TEMPLATE = _mto_template(
    "mtoIdentitySyncTemplate",
    MtoIdentitySyncTemplate,
    "multiTenantOrganizationIdentitySynchronization",
    "mto-identity-sync-template.yaml",
    "identity synchronization",
)

# In planning and apply order: a parent before its children.
REGISTRY: tuple[ResourceType, ...] = (PARTNER, IDENTITY_SYNC, DEFAULT, MTO_PARTNER_TEMPLATE, MTO_IDENTITY_SYNC_TEMPLATE)
REGISTRY_BY_NAME: Mapping[str, ResourceType] = MappingProxyType({rtype.name: rtype for rtype in REGISTRY})
SINGLETON_FILES: Mapping[str, ResourceType] = MappingProxyType(
    {rtype.file: rtype for rtype in REGISTRY if rtype.file is not None}
)


def resource_type(name: str) -> ResourceType:
    return REGISTRY_BY_NAME[name]
