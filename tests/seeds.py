"""The request bodies of the API pages the project grew from (../shared/seeds), verbatim.

Tests check that xtap sends exactly these bodies for the matching policy files."""

SEED_000_CREATE_BODY = {
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
SEED_001_PATCH_BODIES = [
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

# The MTO template PATCH example (seed 003's resource, GRAPH_FACTS §2.9).
SEED_003_TEMPLATE_BODY = {
    "inboundTrust": {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": True,
        "isHybridAzureADJoinedDeviceAccepted": True,
    },
    "automaticUserConsentSettings": {"inboundAllowed": True, "outboundAllowed": True},
    "templateApplicationLevel": "newPartners,existingPartners",
}
