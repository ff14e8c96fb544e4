"""What a GUID in a policy names, as data: whose object each target slot names (this tenant's
or the partner's), Microsoft's first-party application ids and the reserved keywords, and
`Names`, what the lookups found, turned into the labels every view shows beside a GUID.

Which slot names whose objects is Entra's rule ("Inbound settings control external account
access to your internal apps. Outbound settings control internal account access to external
apps. Tenant restrictions control external account access to external apps.":
https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2); each type's slots are
data on its registry entry (`target_sides`). docs/names.md has the research, with sources.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Whose objects a slot names.
TENANT = "tenant"  # this tenant's: looked up, and a missing one is a finding
PARTNER_SIDE = "partner"  # the partner's: this tenant cannot read another's directory
EITHER = "either"  # undocumented (appServiceConnectInbound): named if known, never a finding
# The kinds of target that name a directory object getByIds finds (an application target holds
# an appId, looked up apart).
OBJECT_KINDS = frozenset({"user", "group"})

# Application targets hold an appId, the same in every tenant, so Microsoft's own apps are named
# wherever they stand. From "Application IDs of commonly used Microsoft applications":
# https://learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in
# (and Microsoft Enterprise Skills Initiative from the tenant restrictions v2 page).
FIRST_PARTY_APPS: Mapping[str, str] = MappingProxyType(
    {
        "00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
        "00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
        "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
        "00000002-0000-0000-c000-000000000000": "Windows Azure Active Directory",
        "00000004-0000-0ff1-ce00-000000000000": "Skype for Business Online",
        "00000005-0000-0ff1-ce00-000000000000": "Viva Engage (formerly Yammer)",
        "00000006-0000-0ff1-ce00-000000000000": "Microsoft Office 365 Portal",
        "00000007-0000-0ff1-ce00-000000000000": "Microsoft Exchange Online Protection",
        "00000007-0000-0000-c000-000000000000": "Dataverse",
        "00000009-0000-0000-c000-000000000000": "Power BI Service",
        "0000000c-0000-0000-c000-000000000000": "Microsoft App Access Panel",
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264": "Microsoft Teams",
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe": "Microsoft Teams Services",
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346": "Microsoft Teams Web Client",
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "Azure Portal",
        "80ccca67-54bd-44ab-8625-4b79c4dc7775": "Microsoft 365 Security and Compliance Center",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013": "Windows Azure Service Management API",
        "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft Office",
        "4765445b-32c6-49b0-83e6-1d93765276ca": "OfficeHome",
        "4b233688-031c-404b-9a80-a4f3f2351f90": "Office.com",
        "00b41c95-dab0-4487-9791-b9d2c32c80f2": "Office 365 Management",
        "5d661950-3475-41cd-a2c3-d671a3162bc1": "Microsoft Outlook",
        "27922004-5251-4030-b22d-91ecd9a37ea4": "Outlook Mobile",
        "ab9b8c07-8f02-4f72-87fa-80105867a763": "OneDrive SyncEngine",
        "2d4d3d8e-2be3-4bef-9f87-7875a61c29de": "OneNote",
        "c9a559d2-7aab-4f13-a6ed-e7e9c52aec87": "Microsoft Forms",
        "871c010f-5e61-4fb1-83ac-98610a7e9110": "Microsoft Power BI",
        "497effe9-df71-4043-a8bb-14cf78c4b63b": "Exchange Admin Center",
        "fb78d390-0c51-40cd-8e17-fdbfab77341b": "Microsoft Exchange REST API Based Powershell",
        "47629505-c2b6-4a80-adb1-9b3a3d233b7b": "Microsoft Exchange Web Services",
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
        "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
        "29d9ed98-a469-4536-ade2-f981bc1d605e": "Microsoft Authentication Broker",
        "18fbca16-2224-45f6-85b0-f7bf2b39b3f3": "Microsoft Docs",
        "95de633a-083e-42f5-b444-a4295d8e9314": "Microsoft Whiteboard Services",
        "905fcf26-4eb7-48a0-9ff0-8dcc7194b5ba": "Sway",
        "de8bc8b5-d9f9-48b1-a8ad-b748da725064": "Graph Explorer (Microsoft tenant-owned)",
        "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph Command Line Tools (Microsoft tenant-owned)",
        "195e7f27-02f9-4045-9a91-cd2fa1c2af2f": "Microsoft Enterprise Skills Initiative",
    }
)
# The reserved targets: https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicytarget
KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "AllUsers": "all users",
        "AllApplications": "all applications",
        "AllMicrosoftApps": "every Microsoft cloud application",
        "Office365": "the Office 365 suite",
        "All": "all of them",  # a capability scope's resourceId
    }
)
# Entra names the consumer accounts tenant itself; what Graph's tenant lookup says of it is
# undocumented: https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2
MICROSOFT_ACCOUNTS = ("9188040d-6c67-4c5b-b112-36a304b66dad", "Microsoft Accounts (consumer)")
# What the tenant lookups need (https://learn.microsoft.com/graph/api/tenantrelationship-findtenantinformationbytenantid).
TENANT_PERMISSION = "CrossTenantInformation.ReadBasic.All"
# A name written into a file: as long as a person reads on one comment line.
MAX_NAME = 100
# What a name written into a file loses: controls and format characters (a newline would end
# the comment and start YAML of Graph's choosing; a bidi override would hide what follows),
# line and paragraph separators (YAML 1.1 and some editors break lines there), surrogates,
# private-use and unassigned code points (ruamel's reader refuses some), and path separators
# (the name also becomes a file name).
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_PATH_SEPARATORS = frozenset("/\\")


def written_name(text: str | None) -> str:
    """A name from Graph (outside text: a tenant's displayName or domain) made fit for a YAML
    comment and a file name: what could break a line, act on a terminal or name another
    folder becomes a space, runs of spaces become one, and it is cut at `MAX_NAME`. Empty
    when nothing is left: the caller falls back to the GUID."""
    kept = (
        " " if unicodedata.category(char) in _DROPPED_CATEGORIES or char in _PATH_SEPARATORS else char
        for char in text or ""
    )
    return " ".join("".join(kept).split())[:MAX_NAME].rstrip()


@dataclass(frozen=True)
class Names:
    """What the lookups found: partner tenants (id → name, domain), this tenant's users and
    groups (id → name, kind), applications (appId → name), the ids of this tenant's users and
    groups that were looked up and are gone, and what could not be looked up (kind → why)."""

    tenants: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    objects: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    apps: Mapping[str, str] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def tenant(self, tenant_id: str) -> str | None:
        """ "Contoso Ltd (contoso.com)", or None when unknown."""
        if tenant_id == MICROSOFT_ACCOUNTS[0]:
            return MICROSOFT_ACCOUNTS[1]
        found = self.tenants.get(tenant_id)
        if found is None:
            return None
        name, domain = found
        return f"{name} ({domain})" if domain else name

    def written_tenant(self, tenant_id: str) -> str | None:
        """`tenant`'s label, "Contoso Ltd (contoso.com)", made fit for a file (`written_name`);
        None when unknown, or when nothing of the name is left."""
        if tenant_id == MICROSOFT_ACCOUNTS[0]:
            return MICROSOFT_ACCOUNTS[1]
        name, domain = self.tenants.get(tenant_id, (None, None))
        shown, shown_domain = written_name(name), written_name(domain)
        if not shown:
            return None
        return f"{shown} ({shown_domain})" if shown_domain else shown

    def target(self, value: str, kind: str, side: str) -> str | None:
        """What a target (`value`, a GUID or a keyword, of `kind` user/group/application) in a
        slot of `side` names, or None when nothing is known of it."""
        if value in KEYWORDS:
            return KEYWORDS[value]
        key = value.lower()
        if kind == "application":
            name = self.apps.get(key) or FIRST_PARTY_APPS.get(key)
            if name is not None:
                return name
        elif side != PARTNER_SIDE and key in self.objects:
            name, found_kind = self.objects[key]
            return f"{name} ({found_kind})"
        if side == PARTNER_SIDE:
            return f"the partner's {'app' if kind == 'application' else kind}"
        if key in self.missing:
            return f"no such {kind} in this tenant"
        return None

    def merged(self, other: Names) -> Names:
        """Both lookups' findings; an id one found is not missing for the other."""
        objects = {**self.objects, **other.objects}
        return Names(
            {**self.tenants, **other.tenants},
            objects,
            {**self.apps, **other.apps},
            frozenset((self.missing | other.missing) - objects.keys()),
            {**self.unavailable, **other.unavailable},
        )
