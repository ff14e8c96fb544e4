"""`xtap emulator`: the local Graph emulator as a command, its many knobs (faults, latency,
quotas, Graph's undocumented behaviours) only parsed here; `emulator.EmulatorConfig` owns their
limits and meaning."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.core.clouds import CLOUDS

if TYPE_CHECKING:  # the emulator is imported only when its command runs
    from reconciler.emulator import PatchMode, SessionToken

# The emulator's seeds (reconciler/emulator/seeds.py), named here so that `--help` does not
# import the emulator; a test checks the two agree.
SEED_NAMES = ("empty", "demo")

F = Callable[..., Any]


def _seed_name(value: str) -> str:
    """`--seed`'s value, a seed's name; a number is taken for the seed of random draws, which
    `--seed` was before it named the starting tenant, and pointed at its new name."""
    if value in SEED_NAMES:
        return value
    hint = " (the seed of random draws is --random-seed N)" if value.lstrip("-").isdigit() else ""
    raise click.BadParameter(f"{value!r} is not one of {', '.join(SEED_NAMES)}{hint}.")


def _rule(name: str, text: str) -> Callable[[F], F]:
    """A behaviour of Graph's, emulated unless turned off (`--no-NAME`)."""
    return click.option(f"--{name}/--no-{name}", default=True, show_default=True, help=text)


def _count(name: str, text: str) -> Callable[[F], F]:
    """A number of requests; 0 turns it off."""
    return click.option(f"--{name}", type=int, default=0, metavar="N", help=text)


def _chance(name: str, text: str) -> Callable[[F], F]:
    """A fault with a chance from 0 to 1, drawn from --random-seed."""
    return click.option(f"--{name}", type=float, default=0.0, metavar="P", help=text)


def _wait(name: str, text: str) -> Callable[[F], F]:
    """A delay in seconds, none by default."""
    return click.option(f"--{name}", type=float, default=0.0, metavar="SECONDS", help=text)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0 picks a free one)."
)
@click.option("--state", type=click.Path(path_type=Path), help="JSON file holding the tenant; kept across runs.")
@click.option(
    "--seed",
    "tenant_seed",
    metavar=f"[{'|'.join(SEED_NAMES)}]",
    callback=lambda _ctx, _param, value: _seed_name(value),
    default="empty",
    show_default=True,
    help="The tenant to start with: empty, or demo, the tenant xtap demo plans (the repository's example policies/ "
    "folder is written for it).",
)
@click.option(
    "--permissions",
    "permissions",
    multiple=True,
    metavar="P1,P2,...",
    help="Application permissions of a token to print (repeat for one token each; the first is exported). "
    "Default: every permission xtap uses.",
)
@click.option(
    "--directory",
    type=click.Path(path_type=Path),
    help="JSON file of users, groups, service principals and known tenants for the name lookups "
    "(getByIds, findTenantInformationBy*, servicePrincipals(appId=)); read at start, never written.",
)
@click.option("--page-size", default=100, show_default=True, help="Partners per page before @odata.nextLink.")
@click.option(
    "--patch-mode",
    type=click.Choice(["replace_top_level", "odata_merge"]),
    default="replace_top_level",
    show_default=True,
    help="How PATCH treats nested objects (undocumented in Graph: both are plausible).",
)
@_rule("block-all-rule", "Refuse a setting that blocks AllUsers but not AllApplications (Entra's documented rule).")
@_rule("default-all-users-rule", "Refuse default tenant restrictions that target users or groups other than AllUsers.")
@_rule("strict-create", "Refuse in a partner POST the properties Graph documents on update only.")
@click.option(
    "--sync-put-replaces", is_flag=True, help="PUT on an existing identity sync policy replaces it (default: 409)."
)
@_rule("sync-patch", "Accept PATCH on an identity sync policy (--no-sync-patch answers 405, as the metadata suggests).")
@_wait("latency", "Answer each request this long after it arrives, its handling included (tests, the bench).")
@_count("throttle-every", "Answer every Nth request 429 (0: never).")
@_chance("throttle-probability", "Answer each request 429 with this chance (0 to 1), drawn from --random-seed.")
@click.option(
    "--random-seed",
    "seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of every random draw (probabilities, jitter, edits).",
)
@click.option(
    "--retry-after", type=float, default=1.0, show_default=True, metavar="SECONDS", help="Retry-After of a 429."
)
@_wait("latency-jitter", "Add a random 0 to SECONDS to each --latency, drawn from --random-seed.")
@_count("unavailable-every", "Answer every Nth request 503 (0: never).")
@_chance("unavailable-probability", "Answer each request 503 with this chance (0 to 1), drawn from --random-seed.")
@_count("drop-every", "Handle every Nth successful request, then close the connection without a reply (0: never).")
@_chance(
    "drop-probability", "Lose the reply of each successful request with this chance (0 to 1), drawn from --random-seed."
)
@_count("write-quota", "Writes per app per --write-quota-window; more are 429 (Graph: 3000 per 150 s; 0: no quota).")
@click.option(
    "--write-quota-window",
    type=float,
    default=150.0,
    show_default=True,
    metavar="SECONDS",
    help="The window the write quota refills over.",
)
@_wait("read-lag", "For this long after a write, reads show the resource as it was before.")
@_count(
    "out-of-band-every",
    "Before every Nth request, a portal admin flips a partner's inboundTrust.isMfaAccepted (0: never).",
)
@_rule(
    "strict-cloud-endpoints",
    "Refuse (400) an allowedCloudEndpoints value other than the three Graph's update page lists as supported; "
    "Graph's own check is undocumented.",
)
@click.option(
    "--capability-upsert",
    is_flag=True,
    help="A POST of a Microsoft 365 capability the policy already has replaces it (201); default: 409, as for a "
    "second object with the same key. Undocumented.",
)
@_rule(
    "capability-migration-on-default",
    "Accept crossTenantMigration on the default, as the default's create page does (its type page says partner "
    "only: --no-capability-migration-on-default answers 400).",
)
@_rule(
    "strict-capability-resource-ids",
    "Refuse (400) a capability resourceId that is neither All nor a GUID, or a GUID with resourceType none. "
    "Undocumented.",
)
@_rule(
    "capability-get-one",
    "Serve GET of one capability by name, a route only the SDKs have (--no-capability-get-one answers 405).",
)
@click.option(
    "--default-capability-delete",
    is_flag=True,
    help="Allow DELETE of a default capability; Graph documents delete for a partner's only (default: 405).",
)
@click.option(
    "--constraints-writable",
    is_flag=True,
    help="Let PATCH and DELETE change a partner's serviceProviderConstraints, as the metadata allows; no page "
    "documents them and Microsoft's service manages the object (default: 403).",
)
@click.option(
    "--cloud",
    type=click.Choice(list(CLOUDS)),
    default="global",
    show_default=True,
    help="The cloud whose Graph is emulated: outside global, the MTO templates, m365Capabilities and "
    "serviceProviderConstraints (global service only on their pages, or absent from the cloud's metadata) are "
    "unknown segments.",
)
@_rule(
    "national-schema-strict",
    "In a national --cloud, refuse on write and leave out of reads the properties its v1.0 metadata lacks; those "
    "files are incomplete, so --no-national-schema-strict serves the global schema.",
)
@click.option(
    "--tenant-id",
    metavar="GUID",
    help="The emulated tenant's id, the tid claim of its tokens (for a policies/ bound by xtap.yaml); "
    "default: a random one.",
)
@click.option(
    "--tenants",
    "extra_tenants",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    metavar="N",
    help="Serve N more tenants, each with a random id and a state of its own, behind the same URL (a token's tid "
    "chooses the tenant, as on Graph); each starts as --seed, lives in memory only (not with --state), and gets a "
    "token of its own, holding the first --permissions.",
)
def emulator(
    host: str,
    port: int,
    state: Path | None,
    tenant_seed: str,
    permissions: tuple[str, ...],
    directory: Path | None,
    page_size: int,
    patch_mode: PatchMode,
    block_all_rule: bool,
    default_all_users_rule: bool,
    strict_create: bool,
    sync_put_replaces: bool,
    sync_patch: bool,
    latency: float,
    throttle_every: int,
    throttle_probability: float,
    seed: int,
    retry_after: float,
    latency_jitter: float,
    unavailable_every: int,
    unavailable_probability: float,
    drop_every: int,
    drop_probability: float,
    write_quota: int,
    write_quota_window: float,
    read_lag: float,
    out_of_band_every: int,
    strict_cloud_endpoints: bool,
    capability_upsert: bool,
    capability_migration_on_default: bool,
    strict_capability_resource_ids: bool,
    capability_get_one: bool,
    default_capability_delete: bool,
    constraints_writable: bool,
    cloud: str,
    national_schema_strict: bool,
    tenant_id: str | None,
    extra_tenants: int,
) -> None:
    """Run the local Graph emulator, and print the URL and a token to use with it, until Ctrl-C.
    Exit 0 when stopped, 2 on a bad option or a port it cannot listen on.

    \b
    Example:  xtap emulator --seed demo
              export XTAP_GRAPH_URL=http://127.0.0.1:8765/v1.0 XTAP_ACCESS_TOKEN=...
              xtap plan --policies policies
    """
    from reconciler.commands.run import say
    from reconciler.emulator import SEEDS, SESSION_ROLES, StartError, parse_permissions, run_forever

    try:
        chosen = [parse_permissions(text) for text in permissions] or [SESSION_ROLES]
    except ValueError as exc:
        raise click.UsageError(f"--permissions: {exc}") from None

    def ready(base_url: str, tokens: list[SessionToken]) -> None:
        for line in banner(base_url, SEEDS[tenant_seed].summary, tokens):
            say(line)

    try:
        from reconciler.emulator import EmulatorConfig

        config = EmulatorConfig(
            page_size=page_size,
            patch_mode=patch_mode,
            enforce_block_all_rule=block_all_rule,
            enforce_default_all_users_rule=default_all_users_rule,
            strict_create=strict_create,
            sync_put_replaces=sync_put_replaces,
            sync_patch=sync_patch,
            state_file=state,
            latency_s=latency,
            throttle_every=throttle_every,
            throttle_probability=throttle_probability,
            seed=seed,
            retry_after_s=retry_after,
            latency_jitter_s=latency_jitter,
            unavailable_every=unavailable_every,
            unavailable_probability=unavailable_probability,
            drop_every=drop_every,
            drop_probability=drop_probability,
            write_quota=write_quota,
            write_quota_window_s=write_quota_window,
            read_lag_s=read_lag,
            out_of_band_every=out_of_band_every,
            strict_cloud_endpoints=strict_cloud_endpoints,
            capability_upsert=capability_upsert,
            capability_migration_on_default=capability_migration_on_default,
            strict_capability_resource_ids=strict_capability_resource_ids,
            capability_get_one=capability_get_one,
            default_capability_delete=default_capability_delete,
            constraints_writable=constraints_writable,
            cloud=cloud,
            national_schema_strict=national_schema_strict,
            tenant_id=tenant_id,
            tenants=tuple(str(uuid.uuid4()) for _ in range(extra_tenants)),
            directory_file=directory,
        )
    except ValueError as exc:  # the config owns its limits; this only words them as a usage error
        raise click.UsageError(str(exc)) from None
    try:
        run_forever(config, host, port, ready, seed=tenant_seed, permissions=chosen)
    except StartError as exc:
        raise click.UsageError(str(exc)) from None


def banner(base_url: str, seed_summary: str, tokens: list[SessionToken]) -> list[str]:
    """What the emulator prints once it listens: what it serves, the line to paste into another
    shell (the first token exported with the URL), the command to try, every further token as a
    shell variable a command can take its token from, then each further tenant's token, and how
    to stop. The lines to paste hold no shell comment, which zsh does not take when interactive."""
    first = tokens[0]
    others = [token for token in tokens[1:] if token.tenant == first.tenant]
    tenants = [token for token in tokens[1:] if token.tenant != first.tenant]
    lines = [
        f"Graph emulator for tenant {first.tenant} listening on {base_url}.",
        f"It serves {seed_summary}.",
        "Use it from another shell, in the xtap repository (its policies/ folder is written for the demo tenant):",
        f"  export XTAP_GRAPH_URL={base_url} XTAP_ACCESS_TOKEN={first.token}",
        "  xtap plan --policies policies",
        f"The token holds {', '.join(first.permissions)} (valid for 7 days).",
    ]
    for number, other in enumerate(others, start=2):
        lines += [
            f"Token {number} holds {', '.join(other.permissions)}; paste this line too, then run a command with it as "
            f"XTAP_ACCESS_TOKEN=$XTAP_ACCESS_TOKEN_{number} xtap ...:",
            f"  XTAP_ACCESS_TOKEN_{number}={other.token}",
        ]
    for number, tenant in enumerate(tenants, start=2):
        lines += [
            f"Tenant {number} is {tenant.tenant}; its token holds {', '.join(tenant.permissions)}. Paste this line "
            f"too, then run a command in that tenant as XTAP_ACCESS_TOKEN=$XTAP_TENANT_{number}_TOKEN xtap ...:",
            f"  XTAP_TENANT_{number}_TOKEN={tenant.token}",
        ]
    return [*lines, "Stop the emulator with Ctrl-C."]
