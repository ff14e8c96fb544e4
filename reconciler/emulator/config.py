"""The emulator's knobs: the places where Graph's behaviour is undocumented or needs forcing in tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PatchMode = Literal["replace_top_level", "odata_merge"]

# The clouds xtap knows (reconciler/core/clouds.py, named again here: the emulator shares no code).
CLOUDS = ("global", "usgov", "usgovdod", "china")
# A page past this size no longer exercises paging, only memory.
MAX_PAGE_SIZE = 1000
# Longer than any client timeout worth testing, short enough that a typo does not hang a run.
MAX_LATENCY_S = 600.0
# Graph's write quota window (3,000 writes per 2 min 30 s per app and tenant:
# https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
GRAPH_WRITE_WINDOW_S = 150.0
# A day: any longer window would only make a test wait for its refill.
MAX_WINDOW_S = 86400.0


class StartError(Exception):
    """The emulator cannot start as asked: a host that is not loopback, a port it cannot bind,
    a state file it cannot read. One type, so `xtap emulator` can word each as a usage error."""


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator behaves where Graph leaves room (undocumented, or its sources disagree).

    Each default is the strictest documented reading, so a client that passes the tests
    with the defaults works whichever reading Graph turns out to follow.

    page_size: partners per list page; smaller values force `@odata.nextLink` paging.
    patch_mode: "replace_top_level" replaces a top-level property sent in a PATCH wholesale;
        "odata_merge" merges nested complex objects member by member (OData 4.01 §11.4.3),
        collections are always replaced. Run client tests under both: real Graph is undocumented.
    enforce_block_all_rule: reject a setting that blocks all users but not all applications
        (and, for tenantRestrictions, the reverse): the admin-center rule; API enforcement
        is undocumented.
    enforce_default_all_users_rule: reject default tenant restrictions whose usersAndGroups
        target anything but AllUsers (an admin-center rule:
        https://learn.microsoft.com/entra/external-id/tenant-restrictions-v2).
    strict_create: refuse in a partner POST the properties Graph documents on update only
        (tenantRestrictions, m365Collaboration*, appServiceConnectInbound: absent from
        https://learn.microsoft.com/graph/api/crosstenantaccesspolicy-post-partners), so a client must
        PATCH them after the POST.
    sync_put_replaces: a PUT on an existing identity sync policy replaces it, instead of the
        409 the cross-tenant sync configuration guide reports (linked in state.py).
    sync_patch: PATCH updates an identity sync policy, as the v1.0 update page shows; False
        answers it 405, as the metadata (UpdateMethod PUT) and the SDK (no patch) suggest.
    state_file: JSON file the state is loaded from at start and atomically saved to after
        every write; None keeps the state in memory only.
    latency_s: seconds from a request's arrival to its answer, handling included (the answer
        waits for whatever is left once it has been handled and logged), so a test can
        interrupt a client while it waits on a write that has landed.
    tenant_id: the emulated tenant's id, the `tid` claim of every token the emulator mints
        (lower case); None picks a random one per emulator.
    tenants: the ids of further tenants served behind the same base URL, each with a state of its
        own, as Graph serves every tenant from one host: the `tid` of a request's token decides
        which tenant it reads and writes. They are held in memory only, so they cannot be
        combined with `state_file`, which keeps one tenant.
    throttle_every: answer every Nth authenticated request 429 (top-level or inside `$batch`,
        never the `$batch` envelope itself); 0 never does.
    throttle_probability: answer each such request 429 with this chance, drawn from a
        generator seeded with `seed`, so a run can be replayed exactly.
    retry_after_s: the `Retry-After` a throttled request is told to wait.
    seed: seeds every random draw below and above; each knob draws from its own generator
        (seeded with `seed` and the knob's name), so turning one knob on leaves the others' draws
        as they were, and a run replays exactly.
    latency_jitter_s: each request waits `latency_s` plus a uniform draw from 0 to this.
    unavailable_every, unavailable_probability: answer such requests 503 `ServiceUnavailable`
        without `Retry-After` (a transient outage), counted like throttling: top-level requests
        and `$batch` items that pass the token and permission checks, never the envelope.
    drop_every, drop_probability: handle every Nth (or a drawn) top-level request that succeeds
        (2xx, the `$batch` envelope included), then close the connection without a reply: the
        write has landed and the client never hears of it.
    write_quota: writes per app (token `appid`) in a token bucket that starts full and refills
        `write_quota` per `write_quota_window_s`; a write to an empty bucket is 429
        (https://learn.microsoft.com/graph/throttling). 0 is no quota.
    write_quota_window_s: the bucket's refill window; Graph's is 150 s.
    read_lag_s: for this long after a write to a partner (or its identity sync) or a singleton,
        reads show it as it was before the write (Graph's reads lag its writes: undocumented,
        reported by other tools).
    strict_cloud_endpoints: refuse (400) an `allowedCloudEndpoints` value other than the three
        the update page lists as supported (microsoftonline.com, microsoftonline.us,
        partner.microsoftonline.cn); False stores any string.
    capability_upsert: a POST of a Microsoft 365 capability whose type the policy already has
        replaces it (201) instead of the 409 `Request_MultipleObjectsWithSameKeyValue` that a
        second object with the same key (`name`) earns.
    capability_migration_on_default: accept `crossTenantMigration` on the default, as the
        default's create page does; False refuses it (400), as its type page says "Available
        only in a partner policy".
    strict_capability_resource_ids: refuse (400) a resource scope whose `resourceId` is neither
        `All` nor a GUID, or a GUID with `resourceType` none.
    capability_get_one: serve GET of one capability by name (the SDKs' route; no page
        documents it); False answers it 405.
    default_capability_delete: allow DELETE of a default capability (undocumented: only the
        partner's is); False answers it 405.
    constraints_writable: PATCH and DELETE of a partner's `serviceProviderConstraints` succeed
        (the metadata allows them; the service manages the object); False answers them 403.
    cloud: the cloud whose Graph is emulated, by xtap's names (reconciler/core/clouds.py);
        outside "global" the global-only surfaces (MTO templates, m365Capabilities,
        serviceProviderConstraints) are unknown segments.
    national_schema_strict: in a cloud other than "global", refuse on write (400) and leave out
        of reads the properties the cloud's v1.0 metadata lacks (national.py lists them). Those
        files are incomplete, so this is the strict reading; False serves the global schema.
    directory_file: a JSON file of users, groups, service principals and known tenants for the
        name lookups (directory.py), loaded at start; None starts with an empty directory.
    out_of_band_every: before every Nth request that passes the checks, a portal admin flips
        `inboundTrust.isMfaAccepted` of a partner drawn from the seeded generator; 0 never does.
    """

    page_size: int = 100
    patch_mode: PatchMode = "replace_top_level"
    enforce_block_all_rule: bool = True
    enforce_default_all_users_rule: bool = True
    strict_create: bool = True
    sync_put_replaces: bool = False
    sync_patch: bool = True
    state_file: str | Path | None = None
    latency_s: float = 0.0
    tenant_id: str | None = None
    tenants: tuple[str, ...] = ()
    throttle_every: int = 0
    throttle_probability: float = 0.0
    seed: int = 0
    retry_after_s: float = 1.0
    latency_jitter_s: float = 0.0
    unavailable_every: int = 0
    unavailable_probability: float = 0.0
    drop_every: int = 0
    drop_probability: float = 0.0
    write_quota: int = 0
    write_quota_window_s: float = GRAPH_WRITE_WINDOW_S
    read_lag_s: float = 0.0
    out_of_band_every: int = 0
    strict_cloud_endpoints: bool = True
    capability_upsert: bool = False
    capability_migration_on_default: bool = True
    strict_capability_resource_ids: bool = True
    capability_get_one: bool = True
    default_capability_delete: bool = False
    constraints_writable: bool = False
    cloud: str = "global"
    national_schema_strict: bool = True
    directory_file: str | Path | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be 1 to {MAX_PAGE_SIZE}, got {self.page_size}")
        for name, every in (
            ("throttle every", self.throttle_every),
            ("unavailable every", self.unavailable_every),
            ("drop every", self.drop_every),
            ("out of band every", self.out_of_band_every),
        ):
            if every < 0:
                raise ValueError(f"{name} must be 0 (never) or more, got {every}")
        for name, chance in (
            ("throttle probability", self.throttle_probability),
            ("unavailable probability", self.unavailable_probability),
            ("drop probability", self.drop_probability),
        ):
            if not 0 <= chance <= 1:  # also refuses nan, which compares false
                raise ValueError(f"{name} must be 0 to 1, got {chance:g}")
        for name, seconds, most in (
            ("latency", self.latency_s, MAX_LATENCY_S),
            ("latency jitter", self.latency_jitter_s, MAX_LATENCY_S),
            ("retry after", self.retry_after_s, MAX_LATENCY_S),
            ("read lag", self.read_lag_s, MAX_LATENCY_S),
        ):
            if not 0 <= seconds <= most:
                raise ValueError(f"{name} must be 0 to {most:g} seconds, got {seconds:g}")
        if self.write_quota < 0:
            raise ValueError(f"write quota must be 0 (no quota) or more, got {self.write_quota}")
        if self.seed < 0:
            raise ValueError(f"seed must be 0 or more, got {self.seed}")
        if not 0 < self.write_quota_window_s <= MAX_WINDOW_S:
            raise ValueError(
                f"write quota window must be more than 0 and at most {MAX_WINDOW_S:g} seconds, "
                f"got {self.write_quota_window_s:g}"
            )
        if self.cloud not in CLOUDS:
            raise ValueError(f"unknown cloud {self.cloud!r}: one of {', '.join(CLOUDS)}")
        if self.patch_mode not in ("replace_top_level", "odata_merge"):
            raise ValueError(f"unknown patch_mode {self.patch_mode!r}")
        if self.tenant_id is not None and not _is_guid(self.tenant_id):
            raise ValueError(f"tenant id must be a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a: {self.tenant_id!r}")
        self._check_tenants()

    def _check_tenants(self) -> None:
        """ValueError unless the extra tenants are distinct GUIDs other than `tenant_id`, held in memory."""
        wrong = next((t for t in self.tenants if not _is_guid(t)), None)
        if wrong is not None:
            raise ValueError(f"a tenant id must be a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a: {wrong!r}")
        ids = [t.lower() for t in self.tenants]
        if len(set(ids)) != len(ids) or (self.tenant_id or "").lower() in ids:
            raise ValueError("the tenant ids must differ from one another and from tenant_id")
        if ids and self.state_file is not None:
            raise ValueError(
                "a state file keeps one tenant: leave it out to serve further tenants (they live in memory only)"
            )


def _is_guid(text: str) -> bool:
    """In the hyphenated form only: uuid.UUID alone also takes braces, URNs and bare hex."""
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False
