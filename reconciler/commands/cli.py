"""The `xtap` command line: option parsing only; the work is in the command modules beside it,
and `xtap emulator`'s options in `emulator`.

Each command's module is imported by its callback, once the command is chosen and its options
parsed, never here at the top: `xtap --help` and a usage error import click and nothing of
xtap's models, YAML, rules or Graph SDK, and a command imports its own module, not the
others' (tests/commands/test_startup.py holds this; bench/startup.py times it).
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from reconciler.commands.emulator import emulator
from reconciler.core.bounds import MAX_TIMEOUT
from reconciler.core.clouds import CLOUDS, DEFAULT_TIMEOUT, GLOBAL

if TYPE_CHECKING:
    from reconciler.commands.init import Pin
    from reconciler.commands.run import Options

F = Callable[..., Any]
FC = TypeVar("FC", bound=F)
# The bearer token, used as is: read here, at the top, and handed down (`Options`).
ACCESS_TOKEN = "XTAP_ACCESS_TOKEN"
# Or the file that holds it, or many tenants' tokens: a thousand tokens are more than the 128 KiB
# Linux lets one environment variable hold (MAX_ARG_STRLEN, execve(2)).
ACCESS_TOKEN_FILE = "XTAP_ACCESS_TOKEN_FILE"
MAX_TOKEN_FILE = 64 * 2**20
# `tenants.PARALLEL` and `tenants.SUMMARY`, named here so that `--help` does not import `tenants`
# (and everything a run of many tenants needs); tests/commands/test_startup.py checks they agree.
TENANTS_PARALLEL = 8
TENANTS_SUMMARY = "tenants.json"


def _access_token() -> str | None:
    """XTAP_ACCESS_TOKEN, or what the file XTAP_ACCESS_TOKEN_FILE names holds; None for neither."""
    raw, path = os.environ.get(ACCESS_TOKEN), os.environ.get(ACCESS_TOKEN_FILE)
    if path is None:
        return raw
    if raw is not None:
        raise click.UsageError(f"set {ACCESS_TOKEN} or {ACCESS_TOKEN_FILE}, not both")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise click.UsageError(f"{ACCESS_TOKEN_FILE}: cannot read {path!r}: {exc.strerror}") from None
    if len(data) > MAX_TOKEN_FILE:
        raise click.UsageError(f"{ACCESS_TOKEN_FILE}: {path!r} is over {MAX_TOKEN_FILE // 2**20} MiB")
    text = data.decode("ascii", errors="replace")
    if not text.strip():
        raise click.UsageError(f"{ACCESS_TOKEN_FILE}: {path!r} is empty; write the token (or tokens) in it")
    return text


def _command(name: str) -> Any:
    """The module of command `name` (reconciler/commands/<name>.py), imported when first asked.
    Imported as the import statement does (importlib's own path is missing from Python's import
    log, which tests/commands/test_startup.py reads)."""
    module = f"reconciler.commands.{name}"
    __import__(module)
    return sys.modules[module]


class _Choices(click.Choice):  # unsubscripted: click before 8.4 has no Choice[T]
    """A choice among names a command's module declares (its `FORMATS`), asked of it only when
    the option is parsed, completed or its help shown: naming the formats means importing what
    renders them, which `xtap --help` and the other commands do not need."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        super().__init__(())
        self._names = names

    @property  # type: ignore[override]  # click's is a plain attribute, set once
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """click's __init__ sets it; the names always come from the module."""


def _not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """click reads an empty environment variable as unset, so `XTAP_GRAPH_URL=` would quietly
    mean the default. In CI an empty variable is a secret or setting gone missing: refuse it."""
    envvar = param.envvar if isinstance(param.envvar, str) else None
    if value == "":
        raise click.BadParameter("must not be empty")
    if (
        envvar
        and os.environ.get(envvar) == ""
        and ctx.get_parameter_source(param.name or "") == ParameterSource.DEFAULT
    ):
        raise click.BadParameter(f"{envvar} is set but empty; set it to a value or unset it")
    return value


def _policies_option(func: F) -> F:
    return click.option(
        "--policies",
        type=click.Path(path_type=Path),
        default=Path("policies"),
        show_default=True,
        envvar="XTAP_POLICIES",
        callback=_not_empty,
        help="The policies folder (partners/*.yaml, default.yaml, the MTO template files, policy.yaml, xtap.yaml) "
        "[env: XTAP_POLICIES].",
    )(func)


def _seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A timeout in seconds: more than 0 and at most MAX_TIMEOUT (NaN and infinities are not
    numbers of seconds), from the option or its environment variable, which the error names."""
    value = _not_empty(ctx, param, value)
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        given = f"{param.envvar}={value:g}" if _from_environment(ctx, param) else f"{value:g}"
        raise click.BadParameter(
            f"{given} is not a number of seconds above 0 and at most {MAX_TIMEOUT:g}: write, say, "
            f"{DEFAULT_TIMEOUT:g} (the default), or more for a slow link"
        )
    return value


def _from_environment(ctx: click.Context, param: click.Parameter) -> bool:
    return ctx.get_parameter_source(param.name or "") == ParameterSource.ENVIRONMENT


def _cloud_option(what: str) -> Callable[[FC], FC]:
    """`--cloud` (XTAP_CLOUD), the same for validate as for the Graph commands: a folder is
    valid or not for the cloud its tenant is in (a global-only type is a problem elsewhere)."""
    return click.option(
        "--cloud",
        type=click.Choice(list(CLOUDS)),
        default=GLOBAL,
        show_default=True,
        envvar="XTAP_CLOUD",
        callback=_not_empty,
        help=f"{what} [env: XTAP_CLOUD].",
    )


def _graph_options(func: F) -> F:
    """The options of a command that talks to Graph, handed to it as one `Options`, with the
    token from the environment."""

    # wraps() keeps the options declared below this one (click holds them on the function).
    @functools.wraps(func)
    def with_options(policies: Path, graph_url: str | None, cloud: str, timeout: float, **rest: Any) -> Any:
        from reconciler.commands.run import Options

        return func(Options(policies, graph_url, cloud, timeout, _access_token()), **rest)

    with_options = click.option(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        show_default=True,
        envvar="XTAP_TIMEOUT",
        metavar="SECONDS",
        callback=_seconds,
        help="Seconds one request to Graph may take in all: connecting, sending, the whole reply, and "
        f"retries with their Retry-After waits (at most {MAX_TIMEOUT:g}) [env: XTAP_TIMEOUT].",
    )(with_options)
    with_options = _cloud_option(
        "National cloud: sets the Graph host, login authority and token scope together, and what "
        "policies/ may hold (checked offline)"
    )(with_options)
    with_options = click.option(
        "--graph-url",
        envvar="XTAP_GRAPH_URL",
        metavar="URL",
        callback=_not_empty,
        help="Graph v1.0 base URL, e.g. http://127.0.0.1:8765/v1.0 for the emulator; overrides the "
        f"cloud's. A host other than the clouds' and loopback needs {ACCESS_TOKEN} [env: XTAP_GRAPH_URL].",
    )(with_options)
    return _policies_option(with_options)


def _format_option(command: str, others: str) -> Callable[[F], F]:
    """`--format`: text for people, and the others the command's report is written in (the
    names its module's `FORMATS` table holds)."""
    return click.option(
        "--format",
        "fmt",
        type=_Choices(lambda: _command(command).FORMATS.names),
        default="text",
        show_default=True,
        help=f"text for people, {others}.",
    )


def _tenants_options(func: F) -> F:
    """`--tenants` and what goes with it: many policies folders in one process, each outcome
    written under `--out-dir`, `--parallel` at once (`tenants`)."""
    func = click.option(
        "--parallel",
        type=click.IntRange(1, 64),
        default=TENANTS_PARALLEL,
        show_default=True,
        help="With --tenants: how many tenants are worked on at once.",
    )(func)
    func = click.option(
        "--out-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="With --tenants (and required by it): each tenant's files go to OUT_DIR/<name>/, and a "
        f"summary of all to OUT_DIR/{TENANTS_SUMMARY}.",
    )(func)
    return click.option(
        "--tenants",
        "patterns",
        multiple=True,
        metavar="FOLDER|GLOB",
        help="Work on many tenants in one run, each folder with the token of the tenant its xtap.yaml binds "
        "(tenant: <GUID>); repeat it, or give a pattern like 'tenants/*/policies' (quoted). A folder "
        "tenants/<name>/policies is tenant <name>. Instead of --policies.",
    )(func)


def _many(patterns: tuple[str, ...], out_dir: Path | None, single: dict[str, object]) -> Path | None:
    """The folder the outcomes go to when this run is one of many tenants (None: one folder's),
    once the options agree: --out-dir goes with --tenants, and the options of one folder's run
    (`single`, by option name) do not."""
    ctx = click.get_current_context()
    if not patterns:
        if out_dir is not None:
            raise click.UsageError("--out-dir goes with --tenants; for one folder use --policies (and --out)")
        if ctx.get_parameter_source("parallel") != ParameterSource.DEFAULT:
            raise click.UsageError("--parallel goes with --tenants: one folder is one tenant")
        return None
    if out_dir is None:
        raise click.UsageError("--tenants needs --out-dir DIR: each tenant's plan and report go to DIR/<name>/")
    given = [name for name, value in single.items() if value not in (None, False)]
    if ctx.get_parameter_source("policies") != ParameterSource.DEFAULT:
        given.append("--policies")
    if given:
        raise click.UsageError(f"{', '.join(given)} cannot go with --tenants, which names the folders itself")
    return out_dir


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="xtap")
def cli() -> None:
    """xtap: Entra cross-tenant access policy as code.

    Partners with their identity sync and Microsoft 365 capabilities, the default settings, both
    MTO templates and the policy's allowed clouds live as YAML in policies/; xtap plans the
    difference against the live tenant (Microsoft Graph) and applies it with the fewest,
    smallest writes.

    \b
    Start here:   xtap demo                      (the whole loop on a built-in emulator)
                  xtap doctor                    (sign-in, tenant, permissions, Graph: what is missing)
    Every day:    xtap validate && xtap plan     (read-only: Policy.Read.All is enough)
                  xtap check                     (guardrails: built-in baselines, your CEL rules)
                  xtap apply                     (needs Policy.ReadWrite.CrossTenantAccess;
                                                  m365Capabilities: Policy.ReadWrite.CrossTenantCapability)
    New repo:     xtap init --xtap REPO@SHA      (policies/ and GitHub workflows pinned to xtap)
    Adopting:     xtap export                    (the live tenant as a policies/ folder)
                  xtap add-partner contoso.com   (a new partner's file, named from Graph)
    Watching:     xtap drift --attribute         (who changed what behind git's back)
                  xtap show TENANT_ID            (a partner's settings in effect)
    Asking:       xtap explain contoso --app Office365   (may they reach it, and why)

    Authentication: XTAP_ACCESS_TOKEN (a bearer token, used as is; or XTAP_ACCESS_TOKEN_FILE,
    a file holding it), otherwise azure-identity's DefaultAzureCredential (az login, azure/login
    OIDC in GitHub Actions, managed identity), asked for the tenant xtap.yaml binds.
    """


@cli.command("validate")
@_policies_option
@_cloud_option("National cloud the tenant is in: what its Graph lacks is a problem or a warning")
@click.option(
    "--format",
    "fmt",
    type=_Choices(lambda: _command("validate").FORMATS),
    default="text",
    show_default=True,
    help="text: each problem as file:line:col: message on stderr; json: one report on stdout, "
    '{"valid", "problems": [{"file", "line", "column", "message"}], "warnings": [...], "counts": {type: n}}.',
)
def validate_command(policies: Path, cloud: str, fmt: str) -> None:
    """Check policies/ offline: every problem as file:line:col. Exit 0 valid, 1 invalid (in either format)."""
    from reconciler.commands import validate

    sys.exit(validate.validate(policies, cloud, fmt))


@cli.command("schema")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one NAME.schema.json per policy file type into this folder instead of printing them.",
)
def schema_command(out: Path | None) -> None:
    """Print the JSON Schema of every policy file type (partner, default, both MTO templates,
    policy.yaml, xtap.yaml), generated from the models xtap validates with. Offline. Exit 0, 1 if --out fails.

    \b
    Editors:  xtap schema --out schemas, then start a policy file with
              # yaml-language-server: $schema=../../schemas/partner.schema.json
    CI:       check-jsonschema --schemafile schemas/partner.schema.json policies/partners/*.yaml
    """
    from reconciler.commands import validate

    sys.exit(validate.schema(out))


@cli.command("plan")
@_graph_options
@click.option("--out", type=click.Path(path_type=Path), help="Also save the plan as JSON, for `xtap apply PLAN`.")
@_format_option("plan", "markdown for a PR comment, json for machines (documented, versioned)")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option(
    "--base-policies",
    type=click.Path(file_okay=False, path_type=Path),
    help="The same policies folder as the base branch has it (read offline): the plan also shows each "
    "setting of xtap.yaml and the xtap: keys that differs from it, before and after, and what it will do.",
)
@_tenants_options
@click.option(
    "--base-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --tenants: the base branch's checkout; each folder's base is the same path under it "
    "(what --base-policies is for one folder).",
)
def plan_command(
    options: Options,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    base_policies: Path | None,
    patterns: tuple[str, ...],
    out_dir: Path | None,
    parallel: int,
    base_dir: Path | None,
) -> None:
    """Show what apply would change. Read-only. Exit 0 ok, 1 error, 2 changes (--detailed-exitcode).

    Every plan also states the settings that are not the defaults (prune and its guards, rules
    turned off or re-levelled, waivers, trusted marks): they are never sent to Graph, yet they
    decide what later applies delete and let through.

    \b
    Example:  xtap plan --out plan.json --format markdown > plan.md
    In a PR:  xtap plan --base-policies base/policies --format markdown > plan.md
    Tenants:  xtap plan --tenants 'tenants/*/policies' --out-dir plans --format markdown
    """
    from reconciler.commands import plan

    if many := _many(patterns, out_dir, {"--out": out, "--base-policies": base_policies}):
        sys.exit(plan.plan_many(options, patterns, many, fmt, detailed_exitcode, base_dir, parallel))
    if base_dir is not None:
        raise click.UsageError("--base-dir goes with --tenants; for one folder use --base-policies")
    sys.exit(plan.plan(options, fmt, out, detailed_exitcode, base_policies))


@cli.command("apply")
@_graph_options
@click.argument(
    "plan_file", metavar="[PLAN]", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option(
    "--skip-checks",
    is_flag=True,
    help="Apply even where a guardrail of severity error fails (said loudly; for an emergency, not a habit).",
)
@_tenants_options
def apply_command(
    options: Options,
    plan_file: Path | None,
    auto_approve: bool,
    skip_checks: bool,
    patterns: tuple[str, ...],
    out_dir: Path | None,
    parallel: int,
) -> None:
    """Converge the tenant. Exit 0 applied, 1 error or partial failure.

    With PLAN (from `xtap plan --out`), plan again from policies/ and the tenant, and apply
    only if that is exactly the saved plan: refused, with nothing written, if the tenant, the
    files or their settings changed since. Without it, plan now, show the plan and ask
    before applying. Either way the offline guardrails of `xtap check` run first: a rule of
    severity error that fails stops apply before any write, unless --skip-checks.

    With --tenants, each folder's saved plan OUT_DIR/<name>/plan.json (from `xtap plan --tenants
    --out-dir OUT_DIR`) is applied so, with --auto-approve; what each wrote goes to
    OUT_DIR/<name>/apply.txt.
    """
    from reconciler.commands import apply

    if many := _many(patterns, out_dir, {"PLAN": plan_file}):
        if not auto_approve:
            raise click.UsageError("--tenants applies saved plans without asking: add --auto-approve")
        sys.exit(apply.apply_many(options, patterns, many, not skip_checks, parallel))
    sys.exit(apply.apply(options, plan_file, auto_approve, not skip_checks))


@cli.command("show")
@_graph_options
@click.argument("tenant_id", metavar="[TENANT_ID]", required=False)
@_format_option("show", "json for programs")
def show_command(options: Options, tenant_id: str | None, fmt: str) -> None:
    """Show the settings in effect for a partner (or every partner): each one its own, or
    inherited from the tenant default, with the value, from the tenant as it is. Read-only.

    A partner property left null in Graph means "inherit the default settings": this shows what
    that means for the partner's users today. Of --policies only xtap.yaml is read: a token for
    a tenant other than the one it binds (tenant:) is refused before any request. A folder that
    is not there binds nothing, unless --policies names it: then it is an error.
    Exit 0 ok, 1 error (or no such partner).

    \b
    Example:  xtap show 90e29127-71ad-49c7-9ce8-db3f41ea06f1
    """
    from reconciler.commands import show

    given = click.get_current_context().get_parameter_source("policies") != ParameterSource.DEFAULT
    sys.exit(show.show(options, tenant_id, fmt, folder_given=given))


@cli.command("explain")
@_graph_options
@click.argument("partner", metavar="[PARTNER]", required=False)
@click.option(
    "--via",
    type=_Choices(lambda: list(_command("explain").VIAS)),
    default="b2bCollaboration",
    show_default=True,
    help="The setting the access goes through.",
)
@click.option(
    "--direction",
    type=click.Choice(["inbound", "outbound"]),
    help="inbound: the partner's users to this tenant's applications; outbound: this tenant's users to the "
    "partner's. [default: inbound, outbound for tenantRestrictions]",
)
@click.option("--user", metavar="ID", help="The user's object id (in the partner's tenant when inbound).")
@click.option("--group", "groups", metavar="ID", multiple=True, help="A group the user is in; repeat for each.")
@click.option("--app", metavar="ID", help="The application's appId, or a keyword: Office365, AllMicrosoftApps.")
@click.option("--live", is_flag=True, help="Read the tenant as it is instead of policies/.")
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help='Many questions, one JSON object a line: {"partner": "contoso", "via": "b2bDirectConnect", '
    '"direction": "outbound", "user": ID, "groups": [ID], "app": ID}.',
)
@_format_option("explain", "json for machines (JSON Lines with --questions)")
def explain_command(
    options: Options,
    partner: str | None,
    via: str,
    direction: str | None,
    user: str | None,
    groups: tuple[str, ...],
    app: str | None,
    live: bool,
    questions: Path | None,
    fmt: str,
) -> None:
    """Explain whether a user may reach an application with a partner, and why: the verdict
    (allowed or blocked) and the chain that decided it: the partner's own setting or the
    default's, half by half, the target that matched or why none did, how the halves combine,
    and the inbound trust, automatic consent and identity sync settings that also bear on it.

    PARTNER is a tenant id, or a name: a partner file's `xtap: name:` or its file name, or with
    --live a domain name. Offline it reads policies/ (what the files will make true); --live
    reads the tenant. Without --user
    and --group the user is one no target names; without --app, so is the application.
    docs/explain.md says how Graph's settings are read. Exit 0 with a verdict, 1 on an error.

    \b
    Example:  xtap explain fabrikam --group 6f546279-4da5-4b53-a095-09ea0cef9971 --app Office365
    Many:     xtap explain --questions questions.jsonl --format json
    """
    from reconciler.commands import explain

    if (partner is None) == (questions is None):
        raise click.UsageError("give a PARTNER, or --questions FILE (not both)")
    try:
        asked = (
            explain.questions_in(questions)
            if questions is not None
            else [explain.asked_as(partner or "", via, direction, user, groups, app, "the command line")]
        )
    except explain.Refused as exc:
        raise click.UsageError(str(exc)) from None
    given = click.get_current_context().get_parameter_source("policies") != ParameterSource.DEFAULT
    sys.exit(explain.explain_command(options, asked, live, fmt, folder_given=given))


@cli.command("drift")
@_graph_options
@_format_option("drift", "markdown for a GitHub issue, json for machines (documented, versioned)")
@click.option(
    "--attribute",
    is_flag=True,
    help="Name who changed each drifted resource, from the directory audit log (needs AuditLog.Read.All).",
)
@_tenants_options
def drift_command(
    options: Options, fmt: str, attribute: bool, patterns: tuple[str, ...], out_dir: Path | None, parallel: int
) -> None:
    """Report what changed behind git's back: resources that differ from their policy file,
    declared ones missing from the tenant, and unmanaged ones. Read-only.
    Exit 0 no drift, 1 error, 2 drift.

    \b
    Example:  xtap drift --attribute --format markdown > drift.md
    Tenants:  xtap drift --tenants 'tenants/*/policies' --out-dir drift --format markdown
    """
    from reconciler.commands import drift

    if many := _many(patterns, out_dir, {}):
        sys.exit(drift.drift_many(options, patterns, many, fmt, attribute, parallel))
    sys.exit(drift.drift(options, fmt, attribute))


@cli.command("check")
@_graph_options
@click.option("--live", is_flag=True, help="Also check the live tenant, which catches what changed out of band.")
@click.option(
    "--peers",
    "peers",
    metavar="GLOB",
    multiple=True,
    help="Instead, check both sides of each partnership among these tenants' folders "
    "(e.g. 'tenants/*/policies', each binding its tenant); repeatable.",
)
@_format_option("check", "json for machines, sarif for GitHub code scanning, github for workflow annotations")
def check_command(options: Options, live: bool, peers: tuple[str, ...], fmt: str) -> None:
    """Check policies/ against guardrail rules: the built-in baselines and the rules of your own
    in xtap.yaml. Each finding names the rule, why, and the file:line:col at fault. Offline
    unless --live.

    With --peers, check instead what two tenants of one repository set for each other: B2B
    direct connect that one side allows and the other blocks, cross-tenant sync without the
    automatic consent both sides must give, an MTO identity sync template that cannot take
    effect. Each such finding is a warning, reported on both files (docs/explain.md).
    Exit 0 passed, 1 a rule of severity error fails (or bad input).

    \b
    Example:  xtap check --format sarif > check.sarif
    Peers:    xtap check --peers 'tenants/*/policies'
    """
    from reconciler.commands import check

    if peers and live:
        raise click.UsageError("--peers reads policies/ folders only; leave out --live")
    sys.exit(check.check_peers(options, peers, fmt) if peers else check.check(options, live, fmt))


@cli.command("export")
@_graph_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write (default: the --policies folder); an existing one is updated in place.",
)
def export_command(options: Options, out: Path | None) -> None:
    """Write the live tenant as a policies/ folder that plans to zero changes. Read-only in Graph.

    One file per partner in partners/ (named from its identity sync's displayName, else the
    partner's own name, else its tenant id, with its identity sync and Microsoft 365
    capabilities), default.yaml, both MTO templates and policy.yaml, holding only what differs
    from "inherit" or the default state. Each partner file gets a "# Partner: NAME (DOMAIN)"
    line (looking names up needs CrossTenantInformation.ReadBasic.All; without it, none).
    Over an existing folder, each partner keeps its file and only values that differ change:
    comments and key order stay. Exit 0 ok, 1 error.

    \b
    Example:  xtap export --out policies
    """
    from reconciler.commands import export

    sys.exit(export.export(options, out))


@cli.command("add-partner")
@_graph_options
@click.argument("partner", metavar="DOMAIN|TENANT_ID")
def add_partner_command(options: Options, partner: str) -> None:
    """Start a new partner's file: look the partner up in Graph by a domain it owns or by its
    tenant id, and write partners/<its name>.yaml into --policies. Read-only in Graph.

    The file holds only tenantId, a comment naming the partner, and commented examples: every
    setting inherits the default settings until you write what differs. Refused, with nothing
    written: a partner the folder already declares, the folder's own tenant (xtap.yaml
    tenant:), a tenant Graph does not know, a file name already taken.

    The lookup needs CrossTenantInformation.ReadBasic.All. Without it, a tenant id still
    works (the file is named by the GUID, with a comment saying so); a domain does not.
    Exit 0 written, 1 refused or failed.

    \b
    Example:  xtap add-partner contoso.com && xtap plan
              xtap add-partner 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a --policies tenants/prod
    """
    from reconciler.commands import add_partner

    sys.exit(add_partner.add_partner(options, partner))


@cli.command("doctor")
@_graph_options
@_format_option("doctor", "json for machines")
def doctor_command(options: Options, fmt: str) -> None:
    """Check that xtap can work here, and say how to fix what is missing. Read-only: one GET.

    \b
    Each check prints ok, FAIL (with the fix) or warn (xtap works, with less):
      sign-in      which credential gave the token (XTAP_ACCESS_TOKEN, or the one of
                   azure-identity's chain), its tenant, app or user, and expiry; never the token
      tenant       the token's tenant against xtap.yaml's tenant:
      permissions  the token's roles/scp against what plan, apply (with m365Capabilities:
                   Policy.ReadWrite.CrossTenantCapability), capability reads, drift --attribute
                   and names need; a token that names none cannot be judged: Graph decides
      graph        one GET of the default settings in --cloud's Graph (or --graph-url), its
                   status and how long it took
      policies     the folder, loaded offline as xtap validate loads it (warn when absent)

    Exit 0 when nothing failed (warnings allowed), 1 otherwise.

    \b
    Example:  xtap doctor --policies tenants/prod
              XTAP_DEBUG=1 xtap plan   (the long form of a sign-in failure)
    """
    from reconciler.commands import doctor

    sys.exit(doctor.doctor(options, fmt))


def _xtap_pin(ctx: click.Context, param: click.Parameter, value: str) -> Pin:
    try:
        return _command("init").parse_pin(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@cli.command("init")
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--xtap",
    "pin",
    required=True,
    metavar="OWNER/REPO@SHA",
    callback=_xtap_pin,
    help="xtap's repository and the full commit id (40 hex digits) whose reusable workflows the new "
    "workflows call and whose xtap they install. A branch or tag is refused: it can move after review.",
)
@click.option(
    "--tenant",
    metavar="TENANT_ID",
    help="The tenant id (GUID) to bind policies/xtap.yaml to; without it, bind it before the first plan.",
)
def init_command(directory: Path, pin: Pin, tenant: str | None) -> None:
    """Start a policy repository in DIR (default: here): policies/ and GitHub workflows that
    call xtap's reusable workflows at one commit, with no xtap source to fork or vendor.

    \b
    Writes:   README.md                            what to do next, step by step
              .gitignore
              policies/xtap.yaml                   bound to --tenant; prune off
              policies/default.yaml                comments only, until `xtap export`
              policies/partners/README.md          one *.yaml file per partner here
              .github/setup.sh                     tenant-apply: reviewers, main only
              .github/workflows/xtap-plan.yml      plan each PR, comment the plan
              .github/workflows/xtap-apply.yml     apply the reviewed plan on main
              .github/workflows/xtap-converge.yml  by hand: plan, approve, apply
              .github/workflows/xtap-drift.yml     daily drift, one issue a tenant

    Nothing is written over an existing file: the files in the way are listed and nothing is
    written. Then follow README.md: sign in, `xtap doctor`, `xtap export`, push, run
    .github/setup.sh, open a pull request. Exit 0 written, 1 refused.

    \b
    Example:  xtap init policy-repo --tenant 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a \\
                --xtap contoso/xtap@0123456789abcdef0123456789abcdef01234567
    """
    from reconciler.commands import init

    sys.exit(init.init(directory, pin, tenant))


cli.add_command(emulator)


@cli.command()
@_policies_option
def demo(policies: Path) -> None:
    """Run the whole loop on a built-in emulator; nothing to configure.

    validate, plan, apply, plan again (no changes), an out-of-band "portal" edit, and the
    plan that catches it, against an in-process Graph emulator seeded with a sample tenant.
    Exit 0 when every step behaves as expected, 1 otherwise.
    """
    from reconciler.commands.demo import run_demo

    sys.exit(run_demo(policies))


def say(message: str) -> None:
    """`run.say`, imported only when there is something to say."""
    from reconciler.commands.run import say as said

    said(message)


def _show_usage_error(exc: click.ClickException) -> None:
    """click's own rendering, minus the raw echo: the message quotes what was typed, and that
    goes through the one escaping path like any other outside text."""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        click.echo(exc.ctx.get_usage(), err=True)
        hint = exc.ctx.command.get_help_option(exc.ctx)
        if hint is not None:
            click.echo(f"Try '{exc.ctx.command_path} {hint.opts[0]}' for help.\n", err=True)
    say(f"Error: {exc.format_message()}")


def main() -> None:
    """Entry point. A usage error exits 1, not click's 2 (2 means "changes" with
    --detailed-exitcode); an unexpected failure is one clear line, not a traceback."""
    try:
        sys.exit(cli.main(prog_name="xtap", standalone_mode=False))
    except click.ClickException as exc:
        _show_usage_error(exc)
        sys.exit(1)
    except (click.Abort, KeyboardInterrupt):  # click turns Ctrl-C outside Graph work into Abort
        say("xtap: interrupted by SIGINT.")
        sys.exit(130)
    except Exception as exc:
        from reconciler.core.signals import Interrupted  # imported by then if this is one

        if isinstance(exc, Interrupted):  # Ctrl-C or SIGTERM during Graph work (see `signals`)
            say(f"xtap: {exc}.")
            sys.exit(exc.exit_code)
        if os.environ.get("XTAP_DEBUG"):
            raise
        say(f"xtap: internal error: {type(exc).__name__}: {exc} (set XTAP_DEBUG=1 for the traceback)")
        sys.exit(1)
