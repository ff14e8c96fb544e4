"""Many tenants planned in one job against one job per tenant: bench/run.py's `--tenants-case`.

A partner-heavy group or a CSP keeps one folder per tenant, each binding its tenant in its
xtap.yaml (`tenant: <GUID>`). `xtap plan --tenants 'tenants/*/policies' --out-dir OUT` plans
them all in one process, with one token per tenant in the file XTAP_ACCESS_TOKEN_FILE names,
each picked by its `tid` claim; the alternative is one `xtap plan` process per folder. Both run
against one emulator serving every tenant behind one base URL, as Graph does
(`EmulatorConfig(tenants=...)`), with the bench's latency on every request.

There are `--tenants-count` tenants (1,000 unless told). The one job is timed whole,
`--repeat` times. The per-tenant jobs are timed on a sample of the folders, spread over them,
and their median multiplied by the number of tenants: 1,000 processes one after another would
take most of an hour for one figure, and each costs about the same (the same interpreter start
and import, 20 partners' files and one page).

    python bench/run.py --sizes 100 --tenants-case
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

from reconciler.emulator import Emulator, EmulatorConfig

PARTNERS = 20  # each tenant's
SAMPLE = 10  # per-tenant jobs measured, spread over the tenants


def tenant_guid(index: int) -> str:
    """The emulated tenant `index`'s id: distinct from every partner's (`run.tenant_id`)."""
    return f"{index:08x}-7e7e-4000-8000-{index:012x}"


@dataclasses.dataclass(frozen=True)
class Result:
    """The one job's runs, the sampled per-tenant jobs' runs, and how many tenants there were."""

    tenants: int
    one_job: run.Runs
    per_tenant: run.Runs

    @property
    def per_tenant_wall(self) -> run.Spread:
        """The per-tenant jobs' wall time, as if every tenant had been run: a sampled job's x tenants."""
        return self.per_tenant.wall.map(lambda wall: wall * self.tenants)

    @property
    def per_tenant_requests(self) -> int:
        return self.per_tenant.typical.requests * self.tenants

    def check(self) -> tuple[str, bool]:
        one, requests = self.one_job, self.one_job.typical.requests
        figure = (
            f"{self.tenants:,} tenants of {PARTNERS} partners in one job {one.wall.spelled(unit=' s')},"
            f" {requests:,} requests; one job per tenant {self.per_tenant_wall.spelled(1, ' s')},"
            f" {self.per_tenant_requests:,} requests ({len(self.per_tenant.runs)} jobs measured, x {self.tenants:,})"
        )
        return figure, one.wall.median < self.per_tenant_wall.median and requests <= self.per_tenant_requests

    def lines(self) -> list[str]:
        one, per = self.one_job, self.per_tenant
        rows = [
            run.measured(f"plan: xtap, {self.tenants:,} tenants in one job", one, "reference"),
            run.measured("plan: xtap, one job of one tenant (sampled)", per, f"x {self.tenants:,}: the row below"),
            run.computed(
                f"plan: xtap, one job per tenant ({self.tenants:,} jobs)",
                self.per_tenant_requests,
                self.per_tenant_wall.median,
                f"{self.per_tenant_wall.median / one.wall.median:.1f}x the one job's wall time",
            ),
        ]
        return [f"## {self.tenants:,} tenants of {PARTNERS} partners", "", *run.table(rows), ""]


def measure(args: argparse.Namespace) -> Result:
    """The case at `args.tenants_count` tenants."""
    count = args.tenants_count
    ids = [tenant_guid(index) for index in range(count)]
    config = EmulatorConfig(latency_s=args.latency, page_size=args.page_size, tenant_id=ids[0], tenants=tuple(ids[1:]))
    emulator = Emulator(config).start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            folders = [folder(Path(workdir), emulator, index, tid, args.changed) for index, tid in enumerate(ids)]
            each = [emulator.mint_token(roles=(run.WRITE_ROLE,), name="xtap bench", tenant=tid) for tid in ids]
            # A thousand tokens are more than one environment variable holds: they go in a file.
            tokens = Path(workdir) / "tokens"
            tokens.write_text("\n".join(each) + "\n")
            together = run.repeated(args.repeat, lambda: one_job(emulator, Path(workdir), tokens, count, args))
            alone = [
                run.sent(
                    emulator,
                    run.xtap("plan", "--policies", str(folders[index]), "--graph-url", "{graph}"),
                    args.timeout,
                    each[index],
                )
                for index in sorted({index * count // SAMPLE for index in range(SAMPLE)})
            ]
    finally:
        emulator.stop()
    return Result(count, together, run.Runs(tuple(alone)))


def folder(workdir: Path, emulator: Emulator, index: int, tid: str, changed: float) -> Path:
    """Tenant `index`'s partners planted in the emulator, and its folder, tenants/t<index>/policies,
    bound to it (xtap names the tenant after the folder above `policies`)."""
    first = index * PARTNERS
    run.plant(emulator.tenant(tid), range(first, first + PARTNERS), changed)
    root = run.write_policies(workdir / "tenants" / f"t{index:04}" / "policies", PARTNERS, first)
    (root / "xtap.yaml").write_text(f"tenant: {tid}\n")
    return root


def one_job(emulator: Emulator, workdir: Path, tokens: Path, count: int, args: argparse.Namespace) -> run.Measured:
    """Every folder planned by one `xtap plan --tenants` (its default parallelism), into an output
    folder of its own, checked to have read every tenant: a job that planned fewer would be faster."""
    out = workdir / f"out-{time.monotonic_ns()}"
    pattern = str(workdir / "tenants" / "*" / "policies")
    argv = run.xtap("plan", "--tenants", pattern, "--out-dir", str(out), "--graph-url", "{graph}")
    measured = run.sent(emulator, argv, args.timeout, tokens)
    read = {getattr(request, "tenant", None) for request in emulator.requests} - {None}
    if len(read) != count:
        raise SystemExit(f"xtap plan --tenants read {len(read)} of {count:,} tenants")
    return measured
