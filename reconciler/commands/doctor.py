"""`xtap doctor`: whether xtap can work here, checked one thing at a time, each with its fix.

The first run of a new setup fails for one of a handful of reasons (no sign-in, the wrong tenant,
a missing permission, a proxy in the way, a typo in the files) and each of them otherwise shows
up as a different error from a different command. Doctor looks at all of them at once and says,
for each, `ok`, `FAIL` with what to do, or `warn` for what only limits xtap (names shown as
GUIDs, drift unattributed). It reads: one GET of the default settings, besides the token; it
never writes, and never prints the token.

Permissions are read from the token's claims (`graph.identity`), as apply does before writing;
a token that names none cannot be judged, and Graph decides. The activities and what each needs
are docs/commands.md's permission table, the write permissions taken from the registry for the
types the folder manages, as apply takes them.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, Formats, Options
from reconciler.core.clouds import cloud_types
from reconciler.core.desired import Desired
from reconciler.core.escape import visible
from reconciler.core.registry import CROSS_TENANT_ACCESS, M365_CAPABILITY, REGISTRY
from reconciler.policies.load import PolicyError, Problem, load_policies, load_settings, read_layout

if TYPE_CHECKING:
    from reconciler.graph.client import Graph
    from reconciler.graph.errors import SignInFailed
    from reconciler.graph.identity import Identity

Status = Literal["ok", "FAIL", "warn"]
READ_ALL = "Policy.Read.All"
CAPABILITY_WRITE = M365_CAPABILITY.write_permission
AUDIT_READ = "AuditLog.Read.All"
TENANT_INFORMATION = "CrossTenantInformation.ReadBasic.All"
DIRECTORY_READ = "Directory.Read.All"
# The cheapest read every cross-tenant access policy has: one small object, there in every tenant.
PROBE = "/policies/crossTenantAccessPolicy/default"
SHOWN_PROBLEMS = 3  # of an invalid folder's problems, in doctor's report: validate lists them all
PERMISSIONS_DOC = "docs/commands.md#permissions"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: its status, what it found (one line), and on failure the fix, with
    `details` under it (what each azure-identity credential said, the folder's first problems)."""

    status: Status
    check: str
    message: str
    fix: tuple[str, ...] = ()
    details: tuple[str, ...] = ()


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(finding.status == "FAIL" for finding in self.findings)

    def add(
        self, status: Status, check: str, message: str, fix: Iterable[str] = (), details: Iterable[str] = ()
    ) -> None:
        self.findings.append(Finding(status, check, message, tuple(fix), tuple(details)))


def doctor(options: Options, fmt: str) -> int:
    """Run every check, print the report, exit 0 when none failed (warnings allowed), else 1."""
    from reconciler.core import signals

    report = Report()
    desired, folder = _folder(options)
    signals.run(_on_graph(options, desired, _bound_tenant(options.policies, desired), report))
    report.findings.append(folder)
    print(FORMATS.render(report, fmt))
    return EXIT_ERROR if report.failed else EXIT_OK


def _folder(options: Options) -> tuple[Desired | None, Finding]:
    """The policies folder loaded offline, as `xtap validate` loads it; absent is only a warning:
    doctor also serves a setup that has no folder yet (before `xtap export`)."""
    policies = options.policies
    if not policies.exists():
        return None, Finding(
            "warn",
            "policies",
            f"no folder at {policies}: the tenant binding and apply's needs were not checked",
            ("pass --policies DIR (or XTAP_POLICIES), or create one with xtap export",),
        )
    warnings: list[Problem] = []
    try:
        desired = load_policies(read_layout(policies), cloud=options.cloud, warnings=warnings)
    except PolicyError as exc:
        shown = [str(problem) for problem in exc.problems[:SHOWN_PROBLEMS]]
        more = len(exc.problems) - len(shown)
        return None, Finding(
            "FAIL",
            "policies",
            f"{len(exc.problems)} problem(s) in {policies}",
            (f"xtap validate --policies {policies} lists each at file:line:col",),
            (*shown, *([f"... and {more} more"] if more else [])),
        )
    files = len({instance.file for instance in desired.instances.values()})
    warned = f", {len(warnings)} warning(s) (xtap validate shows them)" if warnings else ""
    return desired, Finding("ok", "policies", f"{policies} is valid: {files} file(s){warned}")


def _bound_tenant(policies: Path, desired: Desired | None) -> str | None:
    """The tenant xtap.yaml binds the folder to: from the loaded folder, or from xtap.yaml alone
    when the rest of the folder has problems (the token can still be judged against it)."""
    if desired is not None:
        return desired.tenant
    try:
        return load_settings(read_layout(policies)).tenant
    except PolicyError:
        return None


async def _on_graph(options: Options, desired: Desired | None, tenant: str | None, report: Report) -> None:
    """Sign in, then judge the token and reach Graph with it. Each failure is a finding, never an
    exception: what can still be checked after one is checked."""
    from reconciler.commands.run import connect
    from reconciler.graph.errors import GraphError, SignInFailed

    try:
        graph = connect(options, None)  # the tenant is judged here, not refused on entering
    except GraphError as exc:  # the Graph URL or the token's text
        report.add("FAIL", "sign-in", str(exc), ("fix --graph-url (XTAP_GRAPH_URL), --cloud or XTAP_ACCESS_TOKEN",))
        return
    async with graph:
        try:
            identity = await graph.identity()
        except SignInFailed as exc:
            _sign_in_failed(report, exc)
            report.add("warn", "graph", f"{graph.base_url} not tried: there is no token to send")
            return
        _signed_in(report, identity)
        _tenant(report, identity, tenant, options.policies)
        _permissions(report, identity, desired, options.cloud)
        await _reach(report, graph)


def _sign_in_failed(report: Report, exc: SignInFailed) -> None:
    from reconciler.graph.errors import SIGN_IN_WAYS

    tried = tuple(f"{name}: {reason}" for name, reason in exc.tried)
    report.add("FAIL", "sign-in", str(exc), (f"sign in one of these ways: {SIGN_IN_WAYS[0]}", *SIGN_IN_WAYS[1:]), tried)


def _who(identity: Identity) -> str:
    """The identity as a person recognises it: the user, or the application and its name."""
    if identity.user is not None:
        return f"user {identity.user}"
    if identity.app is not None:
        return f"app {identity.app}" + (f" ({identity.app_name})" if identity.app_name else "")
    return "an identity the token does not name"


def _signed_in(report: Report, identity: Identity) -> None:
    if not identity.readable:
        report.add(
            "warn",
            "sign-in",
            f"a token from {identity.source}, but not one xtap can read (not a JWT): its tenant, identity and "
            "permissions cannot be told; Graph will decide",
        )
        return
    now = datetime.datetime.now(datetime.UTC)
    expiry = "no expiry in the token"
    if identity.expires is not None:
        minutes = int((identity.expires - now).total_seconds() // 60)
        left = f"in {minutes} min" if minutes >= 0 else "expired"
        expiry = f"expires {identity.expires:%Y-%m-%d %H:%M} UTC ({left})"
    where = f"tenant {identity.tenant or '(none named)'}"
    message = f"{identity.source}: {_who(identity)}, {where}, {expiry}"
    if identity.expires is not None and identity.expires <= now:
        report.add("FAIL", "sign-in", message, (_new_token(identity),))
    else:
        report.add("ok", "sign-in", message)


def _new_token(identity: Identity) -> str:
    if identity.source == "XTAP_ACCESS_TOKEN":
        return "set XTAP_ACCESS_TOKEN to a new token, or unset it to sign in with azure-identity"
    return "sign in again (az login, or renew the credential azure-identity used)"


def _tenant(report: Report, identity: Identity, bound: str | None, policies: Path) -> None:
    """The token's tenant against the one xtap.yaml binds the folder to (`graph.tenant`), which
    plan and apply refuse to cross."""
    from reconciler.graph.tenant import tenant_refusal

    if bound is None:
        unbound = f"no tenant bound in {policies}/xtap.yaml"
        report.add(
            "ok", "tenant", f"{unbound}: nothing to compare the token's tenant {identity.tenant or '(none)'} with"
        )
        return
    refused = tenant_refusal(identity.tenant, bound)
    if refused is None:
        report.add("ok", "tenant", f"the token is for tenant {bound}, the one {policies}/xtap.yaml names")
        return
    report.add(
        "FAIL",
        "tenant",
        f"{refused}; signed in as {_who(identity)} from {identity.source}: plan and apply refuse it",
        (_sign_in_to(identity, bound),),
    )


def _sign_in_to(identity: Identity, tenant: str) -> str:
    """How to get a token of `tenant`, for the way xtap signed in."""
    if identity.source == "XTAP_ACCESS_TOKEN":
        return f"set XTAP_ACCESS_TOKEN to a token of an identity in tenant {tenant}"
    if identity.source.endswith("AzureCliCredential"):
        return f"sign in to tenant {tenant}: az login --tenant {tenant} --allow-no-subscriptions"
    return (
        f"use an identity of tenant {tenant}: AZURE_TENANT_ID={tenant} with an app registered there "
        "(or az login --tenant, or a token for it in XTAP_ACCESS_TOKEN)"
    )


@dataclass(frozen=True)
class Need:
    """What one activity needs: any of `any_of` (several permissions each allow it). `without`
    is what xtap does with none of them when it still works, with less: a warning, not a failure."""

    activity: str
    any_of: tuple[str, ...]
    why: str
    without: str | None = None


def needs(desired: Desired | None, cloud: str) -> list[Need]:
    """Each activity's permission, as docs/commands.md's table lists them; apply's writes take
    each managed type's own `write_permission` from the registry."""
    types = cloud_types(cloud)
    managed = [
        rtype
        for rtype in REGISTRY
        if rtype.name in types and desired is not None and (desired.manages(rtype.name) or desired.holders(rtype.name))
    ]
    result = [
        Need("plan", (READ_ALL, CROSS_TENANT_ACCESS), "to read the policy (plan, show, drift, export)"),
        Need("apply", (CROSS_TENANT_ACCESS,), "to write partners, their identity sync, the default and the templates"),
    ]
    for permission in dict.fromkeys(rtype.write_permission for rtype in managed):
        if permission != CROSS_TENANT_ACCESS:
            taking = [rtype for rtype in managed if rtype.write_permission == permission]
            keys = ", ".join(rtype.nested_key or rtype.name for rtype in taking)
            result.append(Need("apply", (permission,), f"to write the files' {keys} (only it may)"))
    if M365_CAPABILITY.name in types:
        declared = M365_CAPABILITY in managed
        skipped = None if declared else "plan, drift and export skip them (the files declare none)"
        result.append(
            Need("capability reads", (READ_ALL, CAPABILITY_WRITE), "to read Microsoft 365 capabilities", skipped)
        )
    return [
        *result,
        Need(
            "drift --attribute", (AUDIT_READ,), "to name who changed what, from the audit log", "drift is unattributed"
        ),
        Need("names", (TENANT_INFORMATION,), "to name partners beside their tenant ids", "partners show as GUIDs"),
        Need(
            "names",
            (DIRECTORY_READ,),
            "to name this tenant's users, groups and applications",
            "users, groups and applications show as GUIDs (Application.Read.All names applications alone)",
        ),
    ]


def _permissions(report: Report, identity: Identity, desired: Desired | None, cloud: str) -> None:
    held = identity.permissions
    if held is None:
        report.add(
            "warn",
            "permissions",
            "the token names no permissions xtap can read (no roles or scp claim): cannot tell; Graph will decide",
        )
        return
    holds = ", ".join(sorted(held)) or "no permission"
    role = " (a delegated token: the user's directory role must allow it too)" if identity.delegated else ""
    for need in needs(desired, cloud):
        have = [permission for permission in need.any_of if permission in held]
        wanted = " or ".join(need.any_of)
        if have:
            report.add("ok", need.activity, f"{have[0]}, {need.why}{role if need.activity == 'apply' else ''}")
        elif need.without is not None:
            report.add("warn", need.activity, f"no {wanted}: {need.without} (the token holds: {holds})")
        else:
            lacks = f"needs {wanted} {need.why}, which the token lacks (it holds: {holds})"
            report.add("FAIL", need.activity, lacks, (_grant(need.any_of[0], identity),))


def _grant(permission: str, identity: Identity) -> str:
    """How to get `permission`: granted to the identity that signed in, then a new token."""
    if identity.delegated:
        how = f"consent to the delegated permission {permission} for {_who(identity)}"
    else:
        how = f"grant {_who(identity)} the application permission {permission}, with admin consent"
    return f"{how}, then get a new token ({PERMISSIONS_DOC})"


async def _reach(report: Report, graph: Graph) -> None:
    """One cheap GET in the chosen cloud: whether Graph answers, how, and how fast."""
    from reconciler.graph.errors import GraphError

    url = graph.base_url + PROBE
    started = time.perf_counter()
    try:
        await graph.get(graph.request_info("GET", PROBE))
    except GraphError as exc:
        took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
        if exc.status is None:
            fix = "check --graph-url (XTAP_GRAPH_URL) or --cloud, the network, and HTTPS_PROXY if a proxy is needed"
            report.add("FAIL", "graph", f"GET {url}: no answer after {took}: {exc.detail}", (fix,))
        elif exc.status in (401, 403):
            fix = "get a token for this cloud's Graph" if exc.status == 401 else f"grant {READ_ALL} ({PERMISSIONS_DOC})"
            report.add("FAIL", "graph", f"GET {url} answered {exc.status} {exc.code or ''} in {took}".rstrip(), (fix,))
        else:
            report.add("FAIL", "graph", f"GET {url} answered {exc}, in {took}", ("retry; Graph may be unwell",))
        return
    took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    report.add("ok", "graph", f"GET {url} answered 200 in {took}")


def _text(report: Report, color: bool) -> str:
    """One line per finding, `ok`/`FAIL`/`warn` first; its fix and details indented under it.
    Each line is escaped on its own: they quote the token's claims, Graph and the files."""
    lines: list[str] = []
    for finding in report.findings:
        lines.append(visible(f"{finding.status:<5} {finding.check}: {finding.message}"))
        lines += [visible(f"      {detail}") for detail in finding.details]
        lines += [
            visible(f"      fix: {fix}" if at == 0 else f"           {fix}") for at, fix in enumerate(finding.fix)
        ]
    failed = sum(finding.status == "FAIL" for finding in report.findings)
    warned = sum(finding.status == "warn" for finding in report.findings)
    lines.append(f"{failed} failed, {warned} warning(s)" if failed or warned else "Everything xtap needs is in place.")
    return "\n".join(lines)


def _json(report: Report) -> str:
    return json.dumps(
        {
            "version": 1,
            "ok": not report.failed,
            "checks": [
                {
                    "status": finding.status,
                    "check": finding.check,
                    "message": finding.message,
                    "fix": list(finding.fix),
                    "details": list(finding.details),
                }
                for finding in report.findings
            ],
        },
        indent=2,
    )


FORMATS: Formats[Report] = Formats(colored={"text": _text}, plain={"json": _json})
