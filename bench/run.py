"""xtap's validate, plan and apply at N partners, side by side with their references, in one run.

For each size it seeds an in-process emulator (with per-request latency) with N varied
partners, a quarter of them with identity sync, writes a policies/ tree of N files of which a
fraction differs from live, and runs each command as its own process, so that its CPU and peak
RSS are its own (os.wait4):

- validate: `xtap validate` next to a plain libyaml load of the same files (bench/libyaml_load.py);
- plan: `xtap plan --format json` next to its floor, the list pages read one after another;
- apply: `xtap apply --auto-approve` next to the per-resource baseline (bench/baseline.py: one
  GET and one full write per declared resource, one at a time) and that baseline's floor,
  2 requests x resources x latency. Every apply starts from a freshly seeded tenant.

It prints the table and writes it as markdown to --out. Absolute times on shared machines are
noisy; read the ratios.

    python bench/run.py [--sizes 100,1000,10000] [--latency 0.03] [--changed 0.1] [--page-size 100]
                        [--repeat 3] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reconciler.emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"

BATCH_SIZE = 20  # Graph's limit of requests in one $batch (GRAPH_FACTS §4)
SINGLETONS = 1  # the tenant default, which partners inherit from; the templates are not declared
WRITE_ROLE = "Policy.ReadWrite.CrossTenantAccess"
_DUMP = YAML(typ="safe", pure=False)
_DUMP.default_flow_style = False


# -- the tenant -------------------------------------------------------------------------------


def tenant(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n * 7919:012x}"


def group(n: int) -> str:
    return f"{n * 31:08x}-dddd-4eee-8fff-{n:012x}"


def trust(n: int) -> dict[str, bool]:
    return {
        "isMfaAccepted": n % 2 == 0,
        "isCompliantDeviceAccepted": n % 3 == 0,
        "isHybridAzureADJoinedDeviceAccepted": n % 4 == 0,
    }


def access(n: int) -> dict[str, Any]:
    """Allowed or blocked for two or three groups, to all applications."""
    users = [{"target": group(n + i), "targetType": "group"} for i in range(2 + n % 2)]
    return {
        "usersAndGroups": {"accessType": "allowed" if n % 2 else "blocked", "targets": users},
        "applications": {
            "accessType": "allowed",
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        },
    }


def has_sync(n: int) -> bool:
    """A quarter of the partners, and so half of the changed ones at the default 10%."""
    return n % 4 == 0


def sync(n: int, allowed: bool = True) -> dict[str, Any]:
    return {"displayName": f"partner {n}", "userSyncInbound": {"isSyncAllowed": allowed}}


def declared(n: int) -> dict[str, Any]:
    """Partner `n`'s file: which settings it declares varies with `n`, as in a real estate."""
    body: dict[str, Any] = {"tenantId": tenant(n), "inboundTrust": trust(n)}
    if n % 2:
        body["b2bCollaborationInbound"] = access(n)
    if n % 3 == 1:
        body["b2bDirectConnectOutbound"] = access(n + 1)
    if n % 4 == 2:
        body["automaticUserConsentSettings"] = {"inboundAllowed": True, "outboundAllowed": n % 8 == 2}
    if n % 9 == 4:
        every = {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}
        apps = {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]}
        body["tenantRestrictions"] = {"usersAndGroups": every, "applications": apps}
    if has_sync(n):
        body["identitySynchronization"] = sync(n)
    return body


def is_changed(n: int, changed: float) -> bool:
    """Whether live differs from partner `n`'s file: every round(1/changed)-th partner."""
    return changed > 0 and n % max(1, round(1 / changed)) == 0


def write_policies(root: Path, count: int) -> Path:
    """One file per partner, block YAML or one-line JSON in turn, each with a comment."""
    (root / "partners").mkdir(parents=True)
    for n in range(count):
        with (root / "partners" / f"p{n:05}.yaml").open("w") as file:
            file.write(f"# partner {n}\n")
            if n % 2:
                _DUMP.dump(declared(n), file)
            else:
                file.write(json.dumps(declared(n)) + "\n")
    return root


def seeded(count: int, args: argparse.Namespace) -> Emulator:
    """A started emulator holding the N partners, the changed ones with MFA trust and sync flipped."""
    emulator = Emulator(EmulatorConfig(latency_s=args.latency, page_size=args.page_size)).start()
    for n in range(count):
        live = {k: v for k, v in declared(n).items() if k != "identitySynchronization"}
        drifted = is_changed(n, args.changed)
        if drifted:
            live["inboundTrust"] = {**trust(n), "isMfaAccepted": n % 2 != 0}
        emulator.put_partner(live)
        if has_sync(n):
            emulator.put_identity_sync(tenant(n), {"tenantId": tenant(n), **sync(n, allowed=not drifted)})
    return emulator


# -- measuring a child process ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Measured:
    """One child process: wall and CPU seconds, peak RSS in MB, and the HTTP requests it sent."""

    wall: float
    cpu: float
    rss_mb: float
    requests: int
    stdout: str = dataclasses.field(repr=False, default="")


def child(argv: Sequence[str], env: dict[str, str], timeout: float) -> Measured:
    """Run `argv` and take its own rusage from os.wait4: a resource.getrusage(RUSAGE_CHILDREN)
    would add up every child this script has waited for. A non-zero exit stops the bench."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(argv[1:3])} exited {process.returncode} (timeout {timeout:g} s):\n{tail}")
        out.seek(0)
        rss_unit = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        peak = usage.ru_maxrss * rss_unit / 2**20
        return Measured(wall, usage.ru_utime + usage.ru_stime, peak, 0, out.read().decode())


def http_requests(emulator: Emulator) -> int:
    """Requests on the wire: a `$batch` counts once, not once per item."""
    return sum(1 for request in emulator.requests if request.batch_id is None)


def against(emulator: Emulator | None, argv: Sequence[str], timeout: float) -> Measured:
    """`argv` pointed at `emulator` with a fresh write token (or offline), with its requests counted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_"))}
    env.update(CI="1", NO_COLOR="1", PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    if emulator is None:
        return child(argv, env, timeout)
    env["XTAP_ACCESS_TOKEN"] = emulator.mint_token(roles=(WRITE_ROLE,), name="xtap bench")
    emulator.clear_requests()
    run = child([part.replace("{graph}", emulator.base_url) for part in argv], env, timeout)
    return dataclasses.replace(run, requests=http_requests(emulator))


def median_run(runs: list[Measured]) -> Measured:
    """The run of median wall time, whole: its CPU and RSS belong to the same run."""
    return sorted(runs, key=lambda run: run.wall)[len(runs) // 2]


def repeated(repeat: int, once: Callable[[], Measured]) -> Measured:
    return median_run([once() for _ in range(repeat)])


@contextmanager
def tenant_of(count: int, args: argparse.Namespace) -> Iterator[Emulator]:
    emulator = seeded(count, args)
    try:
        yield emulator
    finally:
        emulator.stop()


def xtap(*argv: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *argv]


# -- one size ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Size:
    """Everything measured at one size, and the counts its floors and goals are computed from."""

    count: int
    pages: int  # of the partner list
    resources: int  # declared partners and identity syncs: what the baseline reads and writes
    writes: int  # in xtap's plan
    validate: Measured
    libyaml: Measured
    plan: Measured
    apply: Measured
    baseline: Measured


def measure(count: int, args: argparse.Namespace, policies: Path) -> Size:
    files, timeout = str(policies), args.timeout
    validate = repeated(args.repeat, lambda: against(None, xtap("validate", "--policies", files), timeout))
    libyaml_argv = [sys.executable, str(BENCH / "libyaml_load.py"), files]
    libyaml = repeated(args.repeat, lambda: against(None, libyaml_argv, timeout))
    with tenant_of(count, args) as emulator:
        plan_argv = xtap("plan", "--format", "json", "--policies", files, "--graph-url", "{graph}")
        plan = repeated(args.repeat, lambda: against(emulator, plan_argv, timeout))
    apply_argv = xtap("apply", "--auto-approve", "--policies", files, "--graph-url", "{graph}")
    baseline_argv = [sys.executable, str(BENCH / "baseline.py"), "{graph}", files]
    return Size(
        count=count,
        pages=max(1, math.ceil(count / args.page_size)),
        resources=count + sum(1 for n in range(count) if has_sync(n)),
        writes=sum(len(change["requests"]) for change in json.loads(plan.stdout)["changes"]),
        validate=validate,
        libyaml=libyaml,
        plan=plan,
        apply=repeated(args.repeat, lambda: fresh(count, args, apply_argv)),
        baseline=repeated(args.repeat, lambda: fresh(count, args, baseline_argv)),
    )


def fresh(count: int, args: argparse.Namespace, argv: list[str]) -> Measured:
    """`argv` against a newly seeded tenant, so every apply starts from the same state."""
    with tenant_of(count, args) as emulator:
        return against(emulator, argv, args.timeout)


# -- the report -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    measurement: str
    run: Measured | None  # None for a computed floor
    requests: int
    wall: float
    ratio: str


def rows(size: Size, latency: float) -> list[Row]:
    validate, libyaml, plan, apply, baseline = size.validate, size.libyaml, size.plan, size.apply, size.baseline
    plan_floor, apply_floor = size.pages * latency, 2 * size.resources * latency
    return [
        Row("validate: xtap", validate, 0, validate.wall, against_libyaml(size)),
        Row("validate: libyaml load", libyaml, 0, libyaml.wall, "reference"),
        Row("plan: xtap", plan, plan.requests, plan.wall, f"{plan.wall / plan_floor:.2f}x floor" if latency else ""),
        Row("plan: floor (list pages x latency)", None, size.pages, plan_floor, "reference"),
        Row(
            f"apply: xtap ({size.writes} writes)",
            apply,
            apply.requests,
            apply.wall,
            f"{baseline.requests / apply.requests:.1f}x fewer requests, {baseline.wall / apply.wall:.1f}x faster"
            + (f"; {apply_floor / apply.wall:.1f}x faster than the floor" if latency else ""),
        ),
        Row("apply: per-resource baseline", baseline, baseline.requests, baseline.wall, "reference"),
        Row(f"apply: per-resource floor (2 x {size.resources} x latency)", None, 2 * size.resources, apply_floor, ""),
    ]


def goals(size: Size, latency: float) -> list[str]:
    """The issue 12 goals, each with its figure: met or not, except the plan's, whose allowance
    for the compare this bench cannot separate from the rest of the process."""
    plan, apply = size.plan, size.apply
    reads = size.pages + SINGLETONS
    bound = math.ceil(size.writes / BATCH_SIZE) + 2 * reads
    peak = max(plan.rss_mb, apply.rss_mb)
    found = [
        verdict(f"plan requests {plan.requests}, goal list pages + singletons = {reads}", plan.requests <= reads),
        verdict(
            f"apply requests {apply.requests}, goal <= ceil({size.writes} writes / {BATCH_SIZE}) + plan reads"
            f" + re-read = {bound}",
            apply.requests <= bound,
        ),
        verdict(
            f"validate {against_libyaml(size)}, goal <= 0.6x",
            size.validate.wall <= 0.6 * size.libyaml.wall,
        ),
        verdict(f"peak RSS of plan and apply {peak:.0f} MB, goal <= 300 MB", peak <= 300),
    ]
    if latency:
        plan_floor, apply_floor = size.pages * latency, 2 * size.resources * latency
        found.insert(3, f"plan {plan.wall / plan_floor:.2f}x its floor, goal <= 1.3x the floor + the compare")
        speedup = apply_floor / apply.wall
        found.insert(4, verdict(f"apply {speedup:.1f}x faster than the floor, goal >= 25x", speedup >= 25))
    return found


def against_libyaml(size: Size) -> str:
    """Wall and CPU both: on a loaded machine the wall ratio drifts, the CPU one much less."""
    validate, libyaml = size.validate, size.libyaml
    return f"{validate.wall / libyaml.wall:.2f}x libyaml (CPU {validate.cpu / libyaml.cpu:.2f}x)"


def verdict(goal: str, met: bool) -> str:
    return f"{goal}: {'met' if met else 'not met'}"


def table(measured: list[Row]) -> list[str]:
    lines = [
        "| measurement | requests | wall s | CPU s | peak RSS MB | ratio |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in measured:
        cpu, rss = (f"{row.run.cpu:.2f}", f"{row.run.rss_mb:.0f}") if row.run else ("", "")
        lines.append(f"| {row.measurement} | {row.requests:,} | {row.wall:.2f} | {cpu} | {rss} | {row.ratio} |")
    return lines


def header(args: argparse.Namespace, argv: list[str]) -> list[str]:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        "# xtap benchmark",
        "",
        "```",
        "python bench/run.py " + " ".join(argv),
        "```",
        "",
        f"- date: {today}",
        f"- python: {platform.python_version()} ({platform.python_implementation()})",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} when the"
        " report was written (other work on the machine lengthens wall times; compare ratios of one run)",
        f"- emulator: {args.latency * 1000:g} ms added per request, page size {args.page_size};"
        f" {args.changed:.0%} of partners changed; each figure the median-wall run of {args.repeat}",
        "",
    ]


def section(size: Size, args: argparse.Namespace) -> list[str]:
    syncs, changed = size.resources - size.count, sum(1 for n in range(size.count) if is_changed(n, args.changed))
    title = f"## {size.count:,} partners ({syncs:,} with identity sync, {changed:,} changed)"
    return [title, "", *table(rows(size, args.latency)), "", *(f"- {goal}" for goal in goals(size, args.latency)), ""]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="partner counts, comma-separated")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds the emulator adds per request")
    parser.add_argument("--changed", type=float, default=0.1, help="fraction of partners that differ from live")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is kept")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one measured process may take")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be whole numbers separated by commas, got {args.sizes!r}")
    if min(args.sizes) < 1 or args.repeat < 1 or not 0 <= args.changed <= 1:
        parser.error("sizes and --repeat must be 1 or more, --changed 0 to 1")
    return args


def main() -> None:
    argv = sys.argv[1:]
    args = parse(argv)
    report = header(args, argv)
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as workdir:
            size = measure(count, args, write_policies(Path(workdir) / "policies", count))
        lines = section(size, args)
        print("\n".join(lines), flush=True)
        report += lines
    args.out.write_text("\n".join(report))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
