"""The request bodies of the Graph API pages the project grew from, verbatim.

Tests check that xtap sends exactly these bodies for the matching policy files."""

from typing import Any

SEED_000_CREATE_BODY: dict[str, Any] = {
    "tenantId": "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a",
    "b2bDirectConnectOutbound": {
        "usersAndGroups": {
            "accessType": "blocked",
            "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
        }
    },
    "b2bDirectConnectInbound": {
        "applications": {"accessType": "allowed", "targets": [{"target": "Office365", "targetType": "application"}]}
    },
}

SEED_001_TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
SEED_001_PATCH_BODIES: list[dict[str, Any]] = [
    {
        "inboundTrust": {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": True,
            "isHybridAzureADJoinedDeviceAccepted": True,
        }
    },
    {"automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True}},
    {
        "tenantRestrictions": {
            "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {
                "accessType": "allowed",
                "targets": [{"target": "Office365", "targetType": "application"}],
            },
        }
    },
]

# The MTO template PATCH example:
# https://learn.microsoft.com/graph/api/multitenantorganizationpartnerconfigurationtemplate-update
SEED_003_TEMPLATE_BODY: dict[str, Any] = {
    "inboundTrust": {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": True,
        "isHybridAzureADJoinedDeviceAccepted": True,
    },
    "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
    "templateApplicationLevel": "newPartners,existingPartners",
}

# The tenant default's PATCH examples 1-3:
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-update
DEFAULT_PATCH_BODIES: dict[str, dict[str, Any]] = {
    "block a group's outbound B2B": {
        "b2bCollaborationOutbound": {
            "usersAndGroups": {
                "accessType": "blocked",
                "targets": [{"target": "0be493dc-cb56-4a53-936f-9cf64410b8b0", "targetType": "group"}],
            },
            "applications": {
                "accessType": "blocked",
                "targets": [{"target": "AllApplications", "targetType": "application"}],
            },
        }
    },
    **{
        f"redemption order, fallback {fallback}": {
            "invitationRedemptionIdentityProviderConfiguration": {
                "primaryIdentityProviderPrecedenceOrder": [
                    "externalFederation",
                    "azureActiveDirectory",
                    "socialIdentityProviders",
                ],
                "fallbackIdentityProvider": fallback,
            }
        }
        for fallback in ("defaultConfiguredIdp", "emailOneTimePasscode")
    },
}

# A partner's identity sync policy: the create (PUT) example and the update example:
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-put-identitysynchronization
# https://learn.microsoft.com/graph/api/crosstenantidentitysyncpolicypartner-update
SYNC_PUT_BODY: dict[str, Any] = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
SYNC_UPDATE_BODY: dict[str, Any] = {"userSyncInbound": {"isSyncAllowed": True}}

# The MTO identity sync template PATCH example:
# https://learn.microsoft.com/graph/api/multitenantorganizationidentitysyncpolicytemplate-update
SYNC_TEMPLATE_BODY: dict[str, Any] = {
    "templateApplicationLevel": "newPartners,existingPartners",
    "userSyncInbound": {"isSyncAllowed": True},
}

# Microsoft 365 capabilities: the create, update and delete examples, verbatim.
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-post-m365capabilities
CAPABILITY_PARTNER_TENANT = "af7b70b0-d161-4628-82b4-16190344c029"
CAPABILITY_PARTNER_POST_BODIES: list[dict[str, Any]] = [
    {
        "@odata.type": "#microsoft.graph.crossTenantMailTipsLimited",
        "inboundAccess": {
            "isAllowed": False,
            "resourceScopes": {
                "included": [{"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"}],
                "excluded": [],
            },
        },
    },
    {
        "@odata.type": "#microsoft.graph.crossTenantPlacesRoomBooking",
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {
                "included": [{"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"}],
                "excluded": [],
            },
        },
    },
]
# The documented 201 of the first body (its lastModifiedDateTime is the service's).
CAPABILITY_PARTNER_POST_RESPONSE: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.crossTenantMailTipsLimited",
    "name": "crossTenantMailTipsLimited",
    "lastModifiedDateTime": "2026-01-15T09:57:58.6364196Z",
    "inboundAccess": CAPABILITY_PARTNER_POST_BODIES[0]["inboundAccess"],
}
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-post-m365capabilities
CAPABILITY_DEFAULT_POST_BODIES: list[dict[str, Any]] = [
    {
        "@odata.type": "#microsoft.graph.crossTenantOpenProfileCard",
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {
                "included": [{"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"}],
                "excluded": [{"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e00", "resourceType": "group"}],
            },
        },
    },
    {
        "@odata.type": "#microsoft.graph.crossTenantMigration",
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {
                "included": [{"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"}],
                "excluded": [],
            },
        },
    },
]
# Their documented 201 bodies: the request's, plus `name` and the service's `lastModifiedDateTime`.
CAPABILITY_DEFAULT_POST_RESPONSES: list[dict[str, Any]] = [
    {
        "@odata.type": body["@odata.type"],
        "name": body["@odata.type"].removeprefix("#microsoft.graph."),
        "lastModifiedDateTime": modified,
        "inboundAccess": body["inboundAccess"],
    }
    for body, modified in zip(
        CAPABILITY_DEFAULT_POST_BODIES, ("2026-01-15T10:04:11.4531504Z", "2026-01-15T10:08:08.8321956Z"), strict=True
    )
]
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationdefault-update-m365capabilities
CAPABILITY_UPDATE_BODIES: list[dict[str, Any]] = [
    {"inboundAccess": {"isAllowed": False}},
    {
        "inboundAccess": {
            "isAllowed": True,
            "resourceScopes": {
                "included": [
                    {"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"},
                    {"resourceId": "070061d7-a98e-43d3-b708-0758d3738ac7", "resourceType": "group"},
                ],
                "excluded": [{"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e00", "resourceType": "group"}],
            },
        }
    },
]
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-update-m365capabilities
# (on partner e8c338c6-d070-466e-a3d5-ca735b9261b4, capability crossTenantOpenProfileCard)
CAPABILITY_PARTNER_UPDATE_BODY: dict[str, Any] = {
    "inboundAccess": {
        "isAllowed": False,
        "resourceScopes": {
            "included": [
                {"resourceId": "ad4fc698-74dc-4f62-9e71-ba9b591e8e74", "resourceType": "group"},
                {"resourceId": "070061d7-a98e-43d3-b708-0758d3738ac7", "resourceType": "group"},
            ],
            "excluded": [],
        },
    }
}
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-delete-m365capabilities
CAPABILITY_DELETE_TENANT = "e8c338c6-d070-466e-a3d5-ca735b9261b4"

# The policy root's update example, and its documented response body (wrapped in "value" on the page).
# https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-update
POLICY_PATCH_BODY: dict[str, Any] = {"allowedCloudEndpoints": ["microsoftonline.us"]}
POLICY_PATCH_BODY_BETA: dict[str, Any] = {"allowedCloudEndpoints": ["microsoftonline.us", "partner.microsoftonline.cn"]}
