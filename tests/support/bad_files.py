"""Policy files that are broken or hostile, each with the one problem `xtap validate` must report
for it: the CLI tests run them through xtap, and the schema tests through check-jsonschema."""

from __future__ import annotations

from reconciler.core.wire import NOT_A_TENANT_ID

TENANT = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
HEAD = f"tenantId: {TENANT}\n"
APP = "0be493dc-cb56-4a53-936f-9cf64410b8b0"
DEEP = "[" * 1000 + "]" * 1000  # 2 KB: the composer gave RecursionError
DEEPER = "[" * 50_000 + "]" * 50_000  # 100 KB: the composer segfaulted
TAGGED = "explicit YAML tags are not allowed: write the plain value"
RESERVED = "'unknownFutureValue' is reserved by Graph for values it adds later; it cannot be written"
USERS_ONLY = "usersAndGroups and users take only AllUsers or a user or group id"
APPS_ONLY = "applications takes only AllApplications, AllMicrosoftApps, Office365 or an application id"


def setting(name: str, slot: str, target: str, target_type: str, access: str = "allowed") -> str:
    target_line = f"      - {{target: {target}, targetType: {target_type}}}\n"
    return f"{name}:\n  {slot}:\n    accessType: {access}\n    targets:\n{target_line}"


# name: (partners/p.yaml's text, the one problem expected after "partners/p.yaml:")
CASES: dict[str, tuple[str, str]] = {
    "!!bool yes": (HEAD + "inboundTrust:\n  isMfaAccepted: !!bool yes\n", f"3:18: {TAGGED}"),
    "!!null nope": (HEAD + "inboundTrust:\n  isMfaAccepted: !!null nope\n", f"3:18: {TAGGED}"),
    "!!str": (f"tenantId: !!str {TENANT}\n", f"1:11: {TAGGED}"),
    "!!int": (HEAD + "xtap:\n  notes: !!int 7\n", f"3:10: {TAGGED}"),
    "!custom": (HEAD + "xtap:\n  notes: !custom x\n", f"3:10: {TAGGED}"),
    "verbatim": (HEAD + "xtap:\n  notes: !<tag:yaml.org,2002:str> x\n", f"3:10: {TAGGED}"),
    "non-specific": (HEAD + "xtap:\n  notes: ! x\n", f"3:10: {TAGGED}"),
    "tagged mapping": (HEAD + "inboundTrust: !!map {}\n", f"2:15: {TAGGED}"),
    "python object": ("tenantId: !!python/object/apply:os.system [echo pwned]\n", f"1:11: {TAGGED}"),
    "deep brackets": (
        HEAD + f"xtap:\n  notes: {DEEP}\n",
        "3:28: nested deeper than 20 levels, the limit for a policy file",
    ),
    "deeper brackets": (f"{DEEPER}\n", "1:21: nested deeper than 20 levels, the limit for a policy file"),
    "over 1 MiB": (
        HEAD + "xtap:\n  notes: " + "x" * (1 << 20) + "\n",
        "1:1: larger than 1 MiB, the limit for a policy file",
    ),
    "date": (
        HEAD + "xtap:\n  notes: 2026-11-24\n",
        "3:10: unsupported YAML value '2026-11-24': quote it to make it a string",
    ),
    "accessType unknownFutureValue": (
        HEAD + setting("b2bCollaborationInbound", "usersAndGroups", "AllUsers", "user", "unknownFutureValue"),
        f"4:17: {RESERVED}",
    ),
    "targetType unknownFutureValue": (
        HEAD + setting("b2bDirectConnectOutbound", "usersAndGroups", APP, "unknownFutureValue"),
        f"6:68: {RESERVED}",
    ),
    "tenantId with a newline": (
        f"tenantId: |\n  {TENANT}\n",
        f"1:11: tenantId '{TENANT}\\n' is not a GUID (like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)",
    ),
    "target GUID with a newline": (
        HEAD + setting("b2bCollaborationOutbound", "applications", f'"{APP}\\n"', "application"),
        f"6:9: target '{APP}\\n' is neither an object id (GUID) nor one of AllUsers, AllApplications, "
        "AllMicrosoftApps, Office365",
    ),
    "devices": (
        HEAD + "tenantRestrictions:\n  devices:\n    mode: allowed\n    rule: device.deviceAttribute2 -eq 'PAW'\n",
        "3:3: 'devices' isn't supported on the server side yet (Graph's documentation); remove it from the file",
    ),
    "another @odata.type": (
        HEAD + '"@odata.type": "#microsoft.graph.crossTenantAccessPolicyTarget"\n',
        "2:16: '@odata.type' '#microsoft.graph.crossTenantAccessPolicyTarget' is not this object's type, "
        "#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
    ),
    "inboundTrust written as true": (
        HEAD + "inboundTrust: true\n",
        "2:15: inboundTrust must be a mapping of isMfaAccepted, isCompliantDeviceAccepted, "
        "isHybridAzureADJoinedDeviceAccepted (true/false), not true",
    ),
    "tenantId written as a number": ("tenantId: 12345\n", f"1:11: tenantId 12345 {NOT_A_TENANT_ID}"),
    "yes for true": (
        HEAD + "inboundTrust:\n  isMfaAccepted: yes\n",
        "3:18: isMfaAccepted must be true or false, not 'yes' (xtap reads YAML 1.2, where yes is a string, "
        "not a boolean: write true)",
    ),
    "a string for a list": (
        HEAD + "b2bCollaborationInbound:\n  usersAndGroups:\n    accessType: allowed\n    targets: AllUsers\n",
        "5:14: targets must be a list, not 'AllUsers'",
    ),
    "a nested @odata.type": (
        HEAD + 'inboundTrust:\n  "@odata.type": microsoft.graph.inboundOutboundPolicyConfiguration\n',
        "3:18: '@odata.type' 'microsoft.graph.inboundOutboundPolicyConfiguration' is not this object's type, "
        "#microsoft.graph.crossTenantAccessPolicyInboundTrust",
    ),
}


# A target in the wrong slot: (setting, slot, target, targetType, what the slot takes)
WRONG_SLOTS = [
    ("b2bCollaborationInbound", "applications", "AllUsers", "user", APPS_ONLY),
    ("b2bDirectConnectInbound", "applications", APP, "group", APPS_ONLY),
    ("tenantRestrictions", "usersAndGroups", "Office365", "application", USERS_ONLY),
    ("m365CollaborationInbound", "users", APP, "application", USERS_ONLY),
    ("appServiceConnectInbound", "applications", APP, "user", APPS_ONLY),
]
CASES.update(
    {
        f"{target_type} target in {name}.{slot}": (
            HEAD + setting(name, slot, target, target_type),
            f"6:9: target {target!r} has targetType {target_type!r}; {takes}",
        )
        for name, slot, target, target_type, takes in WRONG_SLOTS
    }
)


IDP = "invitationRedemptionIdentityProviderConfiguration"
SYNC_HEAD = HEAD + "identitySynchronization:\n"


def redemption(order: str, fallback: str = "defaultConfiguredIdp") -> str:
    return f"{IDP}:\n  primaryIdentityProviderPrecedenceOrder: [{order}]\n  fallbackIdentityProvider: {fallback}\n"


# The new resource types' rules, each in its own file: (file, text, the one problem expected after "file:")
RESOURCE_CASES: dict[str, tuple[str, str, str]] = {
    "default isServiceDefault": (
        "default.yaml",
        "# the tenant default\nisServiceDefault: false\n",
        "2:1: 'isServiceDefault' is read-only: Graph sets it, true after resetToSystemDefault and false after "
        "any change; remove it from the file",
    ),
    "default automaticUserConsentSettings": (
        "default.yaml",
        "automaticUserConsentSettings:\n  inboundAllowed: false\n",
        "1:1: 'automaticUserConsentSettings' is read-only: its inboundAllowed and outboundAllowed are always "
        "false and can't be updated in the default configuration; remove it from the file",
    ),
    "default id": (
        "default.yaml",
        "id: 75b1889b-6f42-4cc5-8e62-e774b8db243c\n",
        "1:1: 'id' is read-only: Graph assigns the default configuration's id; remove it from the file",
    ),
    "default tenantRestrictions for a group": (
        "default.yaml",
        setting("tenantRestrictions", "usersAndGroups", APP, "group", "blocked"),
        "3:5: the default's tenantRestrictions.usersAndGroups can only target AllUsers",
    ),
    "default repeated identity provider": (
        "default.yaml",
        redemption("azureActiveDirectory, externalFederation, azureActiveDirectory"),
        "2:43: primaryIdentityProviderPrecedenceOrder repeats 'azureActiveDirectory'",
    ),
    "default identity provider unknownFutureValue": (
        "default.yaml",
        redemption("azureActiveDirectory, unknownFutureValue"),
        f"2:66: {RESERVED}",
    ),
    "default fallback unknownFutureValue": (
        "default.yaml",
        redemption("azureActiveDirectory", "unknownFutureValue"),
        f"3:29: {RESERVED}",
    ),
    "default misspelled key": (
        "default.yaml",
        "# the tenant default\ninboundTrusts: {}\n",
        "2:1: unknown property 'inboundTrusts'; did you mean 'inboundTrust'? (names are Graph's, case-sensitive)",
    ),
    "default partner-only key": (
        "default.yaml",
        "isServiceProvider: true\n",
        "1:1: 'isServiceProvider' is not a property (it belongs to another object)",
    ),
    "sync tenantId": (
        "partners/p.yaml",
        SYNC_HEAD + f"  tenantId: {TENANT}\n  displayName: Fabrikam\n",
        "3:13: 'tenantId' is read-only: it is the partner's tenantId, which the file declares at its top; "
        "remove it from the file",
    ),
    "sync misspelled key": (
        "partners/p.yaml",
        SYNC_HEAD + "  displayname: Fabrikam\n",
        "3:3: unknown property 'displayname' of 'identitySynchronization'; did you mean 'displayName'? "
        "(names are Graph's, case-sensitive)",
    ),
    "sync misspelled member": (
        "partners/p.yaml",
        SYNC_HEAD + "  userSyncInbound:\n    isSyncAllow: true\n",
        "4:5: unknown property 'isSyncAllow' of 'userSyncInbound'; did you mean 'isSyncAllowed'? "
        "(names are Graph's, case-sensitive)",
    ),
    "sync not a boolean": (
        "partners/p.yaml",
        SYNC_HEAD + "  userSyncInbound:\n    isSyncAllowed: yes\n",
        "4:20: isSyncAllowed must be true or false, not 'yes' (xtap reads YAML 1.2, where yes is a string, not a "
        "boolean: write true)",
    ),
    "sync template id": (
        "mto-identity-sync-template.yaml",
        "id: 0e7aad84-cb46-4b8e-a881-522ef25939f1\n",
        "1:1: 'id' is read-only: Graph assigns the template's id; remove it from the file",
    ),
    "sync template misspelled key": (
        "mto-identity-sync-template.yaml",
        "userSyncInbnd:\n  isSyncAllowed: true\n",
        "1:1: unknown property 'userSyncInbnd'; did you mean 'userSyncInbound'? (names are Graph's, case-sensitive)",
    ),
    "sync template null level": (
        "mto-identity-sync-template.yaml",
        "templateApplicationLevel: null\n",
        "1:27: templateApplicationLevel cannot be null; leave it out for the default",
    ),
}


# A broken partners/broken.yaml: (its text, where the problem is, a part of its message)
BROKEN = {
    "syntax": ("tenantId: [oops\n", ":2:1:", "YAML syntax error"),
    "unknown key": ("tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\ninboundTrusts: {}\n", ":2:1:", "inboundTrusts"),
    "mis-cased key": (
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nB2bCollaborationInbound: {}\n",
        ":2:1:",
        "did you mean 'b2bCollaborationInbound'",
    ),
    "bad enum": (
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nb2bCollaborationInbound:\n  usersAndGroups:\n"
        "    accessType: allow\n",
        ":4:17:",
        "'allowed' or 'blocked'",
    ),
    "bad guid": ("tenantId: 90e29127-71ad\n", ":1:11:", "not a GUID"),
    "AllUsers as group": (
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nb2bCollaborationInbound:\n  usersAndGroups:\n"
        "    accessType: allowed\n    targets:\n      - target: AllUsers\n        targetType: group\n",
        ":6:9:",
        "needs targetType 'user'",
    ),
    "read-only": (
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nisInMultiTenantOrganization: true\n",
        ":2:1:",
        "read-only",
    ),
    "service provider constraints": (
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\nserviceProviderConstraints:\n  allowedRoleTemplateIds: []\n",
        ":2:1:",
        "EntraGDAP service writes it",
    ),
    "code-running tag": (
        "tenantId: !!python/object/apply:os.system [echo pwned]\n",
        ":1:11:",
        "explicit YAML tags are not allowed: write the plain value",
    ),
    "two documents": ("tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\n---\n{}\n", ":2:1:", "single document"),
    "not a mapping": ("- tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\n", ":1:1:", "holds one mapping"),
}


# What is wrong with a partners/p.yaml as a whole, or with its bytes: (its bytes, the one problem
# expected after "partners/p.yaml:", wording of the parser's that must not show). Not JSON
# Schema cases: a schema checker sees no data in them to judge.
FILE_CASES: dict[str, tuple[bytes, str, str]] = {
    "tab indentation": (
        (HEAD + "inboundTrust:\n\tisMfaAccepted: true\n").encode(),
        "3:1: a tab at line 3 col 1: YAML indents with spaces; replace the tab with spaces",
        "cannot start any token",
    ),
    "tab after spaces": (
        (HEAD + "inboundTrust:\n  isMfaAccepted: true\n  \tisCompliantDeviceAccepted: true\n").encode(),
        "4:3: a tab at line 4 col 3: YAML indents with spaces; replace the tab with spaces",
        "violates indentation",
    ),
    "not UTF-8": (
        (HEAD + "xtap:\n  notes: caf\u00e9\n").encode("latin-1"),
        "3:13: byte 0xe9 is not UTF-8: save the file as UTF-8",
        "codec can't decode",
    ),
    "UTF-16": (
        HEAD.encode("utf-16"),
        "1:1: byte 0xff is not UTF-8: save the file as UTF-8",
        "codec can't decode",
    ),
    "empty": (b"", "1:1: empty: a partner file needs at least tenantId: <GUID>", "must be a mapping"),
    "only comments": (b"# Fabrikam\n", "1:1: empty: a partner file needs at least tenantId: <GUID>", "mapping of"),
    "a list": (
        f"- tenantId: {TENANT}\n".encode(),
        "1:1: a policy file holds one mapping (key: value lines), not a list",
        "empty",
    ),
    "a lone value": (b"Fabrikam\n", "1:1: a policy file holds one mapping (key: value lines), not 'Fabrikam'", "empty"),
}
