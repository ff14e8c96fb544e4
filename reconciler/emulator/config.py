"""The emulator's knobs: the places where Graph's behaviour is undocumented or needs forcing in tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PatchMode = Literal["replace_top_level", "odata_merge"]

# A page past this size no longer exercises paging, only memory.
MAX_PAGE_SIZE = 1000
# Longer than any client timeout worth testing, short enough that a typo does not hang a run.
MAX_LATENCY_S = 600.0


class StartError(Exception):
    """The emulator cannot start as asked: a host that is not loopback, a port it cannot bind,
    a state file it cannot read. One type, so `xtap emulator` can word each as a usage error."""


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator behaves where Graph leaves room (GRAPH_FACTS §0.5-0.7, §3.4, §7).

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
        target anything but AllUsers (GRAPH_FACTS §0.7, an admin-center rule).
    strict_create: refuse in a partner POST the properties Graph documents on update only
        (tenantRestrictions, m365Collaboration*, appServiceConnectInbound; GRAPH_FACTS §7.1),
        so a client must PATCH them after the POST.
    sync_put_replaces: a PUT on an existing identity sync policy replaces it, instead of the
        409 the sync configuration guide reports (GRAPH_FACTS §7.3).
    sync_patch: PATCH updates an identity sync policy, as the v1.0 update page shows; False
        answers it 405, as the metadata (UpdateMethod PUT) and the SDK (no patch) suggest.
    state_file: JSON file the state is loaded from at start and atomically saved to after
        every write; None keeps the state in memory only.
    latency_s: seconds to wait before answering every request, after it has been handled and
        logged, so a test can interrupt a client while it waits on a write that has landed.
    tenant_id: the emulated tenant's id, the `tid` claim of every token the emulator mints
        (lower case); None picks a random one per emulator.
    throttle_every: answer every Nth authenticated request 429 (top-level or inside `$batch`,
        never the `$batch` envelope itself); 0 never does.
    throttle_probability: answer each such request 429 with this chance, drawn from a
        generator seeded with `seed`, so a run can be replayed exactly.
    retry_after_s: the `Retry-After` a throttled request is told to wait.
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
    throttle_every: int = 0
    throttle_probability: float = 0.0
    seed: int = 0
    retry_after_s: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be 1 to {MAX_PAGE_SIZE}, got {self.page_size}")
        if not 0 <= self.latency_s <= MAX_LATENCY_S:  # also refuses nan, which compares false
            raise ValueError(f"latency must be 0 to {MAX_LATENCY_S:g} seconds, got {self.latency_s:g}")
        if self.throttle_every < 0:
            raise ValueError(f"throttle every must be 0 (never) or more, got {self.throttle_every}")
        if not 0 <= self.throttle_probability <= 1:
            raise ValueError(f"throttle probability must be 0 to 1, got {self.throttle_probability:g}")
        if not 0 <= self.retry_after_s <= MAX_LATENCY_S:
            raise ValueError(f"retry after must be 0 to {MAX_LATENCY_S:g} seconds, got {self.retry_after_s:g}")
        if self.patch_mode not in ("replace_top_level", "odata_merge"):
            raise ValueError(f"unknown patch_mode {self.patch_mode!r}")
        if self.tenant_id is not None and not _is_guid(self.tenant_id):
            raise ValueError(f"tenant id must be a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a: {self.tenant_id!r}")


def _is_guid(text: str) -> bool:
    """In the hyphenated form only: uuid.UUID alone also takes braces, URNs and bare hex."""
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False
