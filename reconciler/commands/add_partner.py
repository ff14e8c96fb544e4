"""`xtap add-partner DOMAIN|TENANT_ID`: the first file of a new partner, from one lookup.

Starting a partner by hand means finding its tenant id, choosing a file name and remembering
what a file must hold; a typo in the GUID configures a stranger. So the partner is looked up in
Graph (findTenantInformationByDomainName or …ByTenantId: one GET, which needs
`CrossTenantInformation.ReadBasic.All`), and the file is named after the name Graph returns,
holding only `tenantId`: every setting inherits the default until a person adds what differs,
which the file's comments show how to do. Nothing is written that `xtap validate` would refuse:
the file is checked by the loader first, and a partner the folder already declares, the folder's
own tenant, or a file name already taken is refused with nothing written.

The name is outside text: it becomes a comment and a file name only through `written_name`
and `slug`, and reaches the terminal only through `say` (`escape.visible`).
"""

from __future__ import annotations

import datetime
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, Options, connect, load, run_graph, say
from reconciler.core.address import Address
from reconciler.core.desired import Desired
from reconciler.core.names import TENANT_PERMISSION, written_name
from reconciler.core.registry import PARTNER
from reconciler.core.wire import domain_name, is_guid
from reconciler.policies.export import FOUND_BY, MODELINE, NAME_MARK, slug, write_atomically
from reconciler.policies.load import SETTINGS_FILE
from reconciler.policies.policy_file import load_file

if TYPE_CHECKING:
    from reconciler.graph.names import TenantInformation

# The examples a new file shows, commented out: what people most often set first.
EXAMPLES = """\
#
# No settings yet: each one left out inherits the tenant's default settings (default.yaml;
# Graph's null), so this partner gets what every other tenant gets until you write what
# differs. For example (uncomment and edit; docs/policies.md lists every property):
#
# inboundTrust:                   # accept this partner's MFA, so its users are not asked again
#   isMfaAccepted: true
# xtap:
#   trusted: true                 # reviewed: xtap check asks this of any inbound trust
#
# automaticUserConsentSettings:   # no consent prompt (the partner must allow it on its side)
#   inboundAllowed: true
#   outboundAllowed: true
#
# b2bCollaborationInbound:        # which of the partner's users may be invited, to what
#   usersAndGroups:
#     accessType: allowed
#     targets:
#       - target: AllUsers
#         targetType: user
#   applications:
#     accessType: allowed
#     targets:
#       - target: AllApplications
#         targetType: application

"""


@dataclass(frozen=True)
class Lookup:
    """What the one lookup said: the tenant (None when Graph knows none), or why the token
    may not ask (`denied`)."""

    found: TenantInformation | None = None
    denied: str | None = None


def add_partner(options: Options, given: str, today: datetime.date | None = None) -> int:
    """Look the partner up and write `partners/<name>.yaml` into --policies: exit 0 written,
    1 refused or failed (with nothing written)."""
    tenant_id, domain = _parsed(given)
    if tenant_id is None and domain is None:
        say(
            f"Error: {given!r} is neither a tenant id (a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a) "
            "nor a domain name (like contoso.com); nothing was written."
        )
        return EXIT_ERROR
    folder = options.policies
    if not folder.is_dir():
        say(f"Error: {folder} is not a folder; add-partner adds a file to an existing policies/ folder.")
        return EXIT_ERROR
    existing = load(folder, cloud=options.cloud)
    if existing is None:
        return EXIT_ERROR
    if tenant_id is not None and (refused := _refusal(existing, tenant_id)) is not None:
        say(refused)  # said before any request: nothing to look up
        return EXIT_ERROR
    lookup = run_graph(_look_up(options, existing.tenant, tenant_id, domain))
    if lookup is None:
        return EXIT_ERROR
    if lookup.denied is not None and domain is not None:
        say(
            f"Error: looking up {domain} needs {TENANT_PERMISSION}, and {lookup.denied}; grant it, or "
            "give the partner's tenant id instead; nothing was written."
        )
        return EXIT_ERROR
    if lookup.denied is None and lookup.found is None:
        asked = f"domain name {domain}" if domain is not None else f"tenant id {tenant_id}"
        say(f"Error: Graph knows no tenant with the {asked}; check the spelling. Nothing was written.")
        return EXIT_ERROR
    return _write(options, existing, lookup, tenant_id, today or datetime.datetime.now(datetime.UTC).date())


def _parsed(given: str) -> tuple[str | None, str | None]:
    """(tenant id, None) for a GUID, (None, domain) for a domain name (in its ASCII form, lower
    case), (None, None) for anything else: only these two ever reach a URL."""
    if is_guid(given):
        return given.lower(), None
    return None, domain_name(given)


def _refusal(existing: Desired, tenant_id: str) -> str | None:
    """Why the folder may not gain a file for `tenant_id`, as `xtap validate` would say it."""
    if tenant_id == existing.tenant:
        return (
            f"Error: {tenant_id} is this folder's own tenant (tenant: in {SETTINGS_FILE}); a tenant is never its "
            "own partner. Nothing was written."
        )
    declared = existing.instances.get(Address(PARTNER.name, tenant_id))
    if declared is not None:
        where = declared.source.rsplit(":", 1)[0]
        return f"Error: partner {tenant_id} is already declared in {where}; nothing was written."
    return None


async def _look_up(options: Options, bound: str | None, tenant_id: str | None, domain: str | None) -> Lookup:
    """The one lookup, on a client bound to the folder's tenant (a token for another is refused)."""
    from reconciler.graph.names import LookupDenied, find_tenant

    async with connect(options, bound) as graph:
        try:
            return Lookup(found=await find_tenant(graph, tenant_id, domain))
        except LookupDenied as exc:
            return Lookup(denied=str(exc))


def _write(options: Options, existing: Desired, lookup: Lookup, tenant_id: str | None, today: datetime.date) -> int:
    found = lookup.found
    tenant = found.tenant_id if found is not None else tenant_id or ""
    if found is not None and (refused := _refusal(existing, tenant)) is not None:
        say(refused)  # a domain's tenant, known only now
        return EXIT_ERROR
    name = written_name(found.display_name) if found is not None else ""
    label = _label(found, name)
    stem = slug(name) or tenant
    partners = options.policies / (PARTNER.folder or "")
    path = partners / f"{stem}.yaml"
    if _taken(partners, path.name):
        say(
            f"Error: {path} already exists, and add-partner never writes over a file; rename that file, or "
            f"write {tenant}'s file yourself. Nothing was written."
        )
        return EXIT_ERROR
    if label is not None:
        comment = f"{NAME_MARK}{label}{FOUND_BY}{today.isoformat()}."
    else:
        comment = (
            f"{NAME_MARK}{tenant}{FOUND_BY}{today.isoformat()}: its name could not be looked up "
            f"({lookup.denied}); with {TENANT_PERMISSION}, xtap export writes it here."
        )
    text = f"{MODELINE} $schema=../../schemas/partner.schema.json\n{comment}\n{EXAMPLES}{PARTNER.key}: {tenant}\n"
    if not _valid(text, tenant, options.cloud):
        return EXIT_ERROR
    partners.mkdir(exist_ok=True)
    try:
        write_atomically(path, text, exclusive=True)
    except FileExistsError:
        say(f"Error: {path} appeared meanwhile, and add-partner never writes over a file. Nothing was written.")
        return EXIT_ERROR
    except OSError as exc:
        say(f"Error: {exc}; nothing was written.")
        return EXIT_ERROR
    who = f"{label}, tenant {tenant}" if label is not None else f"tenant {tenant}, its name not looked up"
    say(f"Wrote {path}: partner {who}; every setting inherits the default settings.")
    say(f"Next: xtap plan --policies {shlex.quote(str(options.policies))}")
    return EXIT_OK


def _label(found: TenantInformation | None, name: str) -> str | None:
    """ "Contoso Ltd (contoso.com)" fit for a comment, or None without a usable name."""
    if found is None or not name:
        return None
    domain = written_name(found.default_domain)
    return f"{name} ({domain})" if domain else name


def _taken(partners: Path, file_name: str) -> bool:
    """Whether the name is taken, whatever its case: on a case-insensitive file system (macOS,
    Windows) Contoso.yaml and contoso.yaml are one file."""
    return partners.is_dir() and any(entry.name.lower() == file_name.lower() for entry in partners.iterdir())


def _valid(text: str, tenant: str, cloud: str) -> bool:
    """The file as the loader reads it, before it is written: it must declare exactly this
    partner, with no problem. A failure here is xtap's bug, said as such."""
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / f"{tenant}.yaml"
        candidate.write_text(text, encoding="utf-8")
        loaded = load_file(str(candidate), PARTNER, cloud)
    declared = [address for address, _, _ in loaded.declared]
    if loaded.problems or declared != [Address(PARTNER.name, tenant)]:
        for problem in loaded.problems:
            say(f"{problem.message} (line {problem.line})")
        say("Error: add-partner made a file xtap validate would refuse (a bug in xtap); nothing was written.")
        return False
    return True
