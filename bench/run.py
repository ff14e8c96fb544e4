"""xtap's validate, plan and apply at N partners, side by side with their references, in one run.

For each size it seeds an in-process emulator (with per-request latency) with N varied
partners, a quarter of them with identity sync, writes a policies/ tree of N files of which a
fraction differs from live, and runs each command as its own process, so that its CPU and peak
RSS are its own (os.wait4):

- validate: `xtap validate` next to a plain libyaml load of the same files (bench/libyaml_load.py);
- plan: `xtap plan --format json` next to its floor, the list pages read one after another,
  and its compare alone (bench/compare.py: the same load and read, then only the compare timed);
- apply: `xtap apply --auto-approve` next to the per-resource baseline (bench/baseline.py: one
  GET and one full write per declared resource, one at a time) and that baseline's floor,
  2 requests x resources x latency. Every apply starts from a freshly seeded tenant.

It prints the table and writes it as markdown to --out, under a summary of the scale goals
(`GOALS`), each judged at the size it is stated for. Absolute times on shared machines are noisy;
read the ratios.

    python bench/run.py [--sizes 100,1000,10000] [--latency 0.03] [--changed 0.1] [--page-size 100]
                        [--repeat 3] [--baseline-repeat 1] [--out bench/RESULTS.md]
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

BATCH_SIZE = 20  # Graph's limit of requests in one $batch: https://learn.microsoft.com/graph/json-batching
SINGLETONS = 1  # the tenant default, which partners inherit from; the templates are not declared
WRITE_ROLE = "Policy.ReadWrite.CrossTenantAccess"
# What the name lookups take (docs/names.md): a plan with them names what it changes.
NAMES_ROLES = (WRITE_ROLE, "CrossTenantInformation.ReadBasic.All", "Directory.Read.All")
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
    if any(trust(n).values()):  # reviewed, as apply's guardrails require (inbound-trust-only-trusted)
        body["xtap"] = {"trusted": True}
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
    """A started emulator holding the N partners, the changed ones with MFA trust and sync flipped,
    and the names of the partners and of the groups their files name."""
    emulator = Emulator(EmulatorConfig(latency_s=args.latency, page_size=args.page_size)).start()
    for n in range(count):
        live = {k: v for k, v in declared(n).items() if k != "identitySynchronization"}
        drifted = is_changed(n, args.changed)
        if drifted:
            live["inboundTrust"] = {**trust(n), "isMfaAccepted": n % 2 != 0}
        emulator.put_partner(live)
        # Its name and its groups', for the name lookups (as a real tenant knows them).
        emulator.put_known_tenant({"tenantId": tenant(n), "displayName": f"Partner {n}"})
        emulator.put_directory_object(
            {"@odata.type": "#microsoft.graph.group", "id": group(n), "displayName": f"Group {n}"}
        )
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


def against(
    emulator: Emulator | None, argv: Sequence[str], timeout: float, roles: tuple[str, ...] = (WRITE_ROLE,)
) -> Measured:
    """`argv` pointed at `emulator` with a fresh token for `roles` (or offline), with its requests counted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_"))}
    env.update(CI="1", NO_COLOR="1", PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    if emulator is None:
        return child(argv, env, timeout)
    env["XTAP_ACCESS_TOKEN"] = emulator.mint_token(roles=roles, name="xtap bench")
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
    changed: int  # partners whose live state differs from their file
    pages: int  # of the partner list
    resources: int  # declared partners and identity syncs: what the baseline reads and writes
    writes: int  # in xtap's plan
    validate: Measured
    libyaml: Measured
    plan: Measured
    named: Measured  # the same plan with the name lookups' permissions
    compare: Measured  # the compare alone: its own wall and CPU, not its process's
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
        named = repeated(args.repeat, lambda: against(emulator, plan_argv, timeout, NAMES_ROLES))
        compare_argv = [sys.executable, str(BENCH / "compare.py"), "{graph}", files]
        compare = repeated(args.repeat, lambda: compare_alone(against(emulator, compare_argv, timeout)))
    changes = json.loads(plan.stdout)["changes"]
    if json.loads(compare.stdout)["changes"] != len(changes):
        raise SystemExit(f"bench/compare.py planned {compare.stdout.strip()}, xtap plan {len(changes)} changes")
    apply_argv = xtap("apply", "--auto-approve", "--policies", files, "--graph-url", "{graph}")
    baseline_argv = [sys.executable, str(BENCH / "baseline.py"), "{graph}", files]
    return Size(
        count=count,
        changed=sum(1 for n in range(count) if is_changed(n, args.changed)),
        pages=max(1, math.ceil(count / args.page_size)),
        resources=count + sum(1 for n in range(count) if has_sync(n)),
        writes=sum(len(change["requests"]) for change in changes),
        validate=validate,
        libyaml=libyaml,
        plan=plan,
        named=named,
        compare=compare,
        apply=repeated(args.repeat, lambda: fresh(count, args, apply_argv)),
        baseline=repeated(args.baseline_repeat, lambda: fresh(count, args, baseline_argv)),
    )


def compare_alone(run: Measured) -> Measured:
    """bench/compare.py's run as the compare's own figures, which it prints: its process also
    loaded and read, so the process's wall, CPU and RSS are not the compare's."""
    figures = json.loads(run.stdout)
    return Measured(figures["wall"], figures["cpu"], 0, 0, run.stdout)


def fresh(count: int, args: argparse.Namespace, argv: list[str]) -> Measured:
    """`argv` against a newly seeded tenant, so every apply starts from the same state."""
    with tenant_of(count, args) as emulator:
        return against(emulator, argv, args.timeout)


# -- the report -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    measurement: str
    requests: int
    wall: float
    ratio: str
    cpu: float | None = None  # None for a computed floor
    rss_mb: float | None = None  # None for a floor, and for the compare, which is not a whole process


def measured(measurement: str, run: Measured, requests: int, ratio: str) -> Row:
    return Row(measurement, requests, run.wall, ratio, run.cpu, run.rss_mb)


def floors(size: Size, latency: float) -> tuple[float, float]:
    """The plan's floor, its list pages one after another, and the per-resource apply's, a GET
    and a write per declared resource, one at a time."""
    return size.pages * latency, 2 * size.resources * latency


def rows(size: Size, latency: float) -> list[Row]:
    validate, libyaml, plan, compare = size.validate, size.libyaml, size.plan, size.compare
    apply, baseline = size.apply, size.baseline
    plan_floor, apply_floor = floors(size, latency)
    return [
        measured("validate: xtap", validate, 0, against_libyaml(size)),
        measured("validate: libyaml load", libyaml, 0, "reference"),
        measured("plan: xtap", plan, plan.requests, f"{plan.wall / plan_floor:.2f}x floor" if latency else ""),
        Row(
            "plan: compare (canonical + diff, in memory)",
            0,
            compare.wall,
            f"{compare.cpu / plan.cpu:.0%} of the plan's CPU",
            compare.cpu,
        ),
        measured(
            f"plan: xtap, naming what it changes ({size.changed} partners)",
            size.named,
            size.named.requests,
            f"+{size.named.requests - plan.requests} requests; "
            f"{math.ceil(size.changed / BATCH_SIZE)} $batches name {size.changed} partners",
        ),
        Row("plan: floor (list pages x latency)", size.pages, plan_floor, "reference"),
        measured(
            f"apply: xtap ({size.writes} writes)",
            apply,
            apply.requests,
            f"{baseline.requests / apply.requests:.1f}x fewer requests, {baseline.wall / apply.wall:.1f}x faster"
            + (f"; {apply_floor / apply.wall:.1f}x faster than the floor" if latency else ""),
        ),
        measured("apply: per-resource baseline", baseline, baseline.requests, "reference"),
        Row(f"apply: per-resource floor (2 x {size.resources} x latency)", 2 * size.resources, apply_floor, ""),
    ]


# Each goal's check: its figure at one size, and whether the figure meets the goal.


def plan_requests(size: Size, latency: float) -> tuple[str, bool]:
    reads = size.pages + SINGLETONS
    return f"plan requests {size.plan.requests}, goal list pages + singletons = {reads}", size.plan.requests <= reads


def apply_speed(size: Size, latency: float) -> tuple[str, bool]:
    speedup = floors(size, latency)[1] / size.apply.wall
    return f"apply {speedup:.1f}x faster than the floor, goal >= 25x", speedup >= 25


def apply_requests(size: Size, latency: float) -> tuple[str, bool]:
    bound = math.ceil(size.writes / BATCH_SIZE) + 2 * (size.pages + SINGLETONS)
    figure = (
        f"apply requests {size.apply.requests}, goal <= ceil({size.writes} writes / {BATCH_SIZE}) + plan reads"
        f" + re-read = {bound}"
    )
    return figure, size.apply.requests <= bound


def validate_speed(size: Size, latency: float) -> tuple[str, bool]:
    return f"validate {against_libyaml(size)}, goal <= 0.6x", size.validate.wall <= 0.6 * size.libyaml.wall


def compare_cpu(size: Size, latency: float) -> tuple[str, bool]:
    return f"compare {size.compare.cpu:.2f} s CPU, goal <= 1 s", size.compare.cpu <= 1


def plan_wall(size: Size, latency: float) -> tuple[str, bool]:
    floor, plan, compare = floors(size, latency)[0], size.plan, size.compare
    bound = 1.3 * floor + compare.cpu
    figure = (
        f"plan wall {plan.wall:.2f} s ({plan.wall / floor:.2f}x its floor), goal <= 1.3 x {floor:.2f} s floor"
        f" + {compare.cpu:.2f} s compare = {bound:.2f} s"
    )
    return figure, plan.wall <= bound


def peak_rss(size: Size, latency: float) -> tuple[str, bool]:
    peak = max(size.plan.rss_mb, size.apply.rss_mb)
    return f"peak RSS of plan and apply {peak:.0f} MB, goal <= 300 MB", peak <= 300


@dataclasses.dataclass(frozen=True)
class Goal:
    """One scale goal and the size it is stated for, in partners or in changed
    partners; neither when it must hold at every size. At any other size its figure is shown
    for scale, not judged: 100 files say little about a goal set for 10,000. A goal against
    a latency floor cannot be judged when the bench runs without latency."""

    name: str
    check: Callable[[Size, float], tuple[str, bool]]
    partners: int | None = None
    changed: int | None = None
    against_latency: bool = False

    @property
    def every_size(self) -> bool:
        return self.partners is None and self.changed is None

    def stated_for(self, size: Size) -> bool:
        return self.partners in (None, size.count) and self.changed in (None, size.changed)

    def scale(self) -> str:
        return f"{self.changed:,} changed partners" if self.changed else f"{self.partners or 0:,} partners"


GOALS = (  # the scale goals, then the rule on plan requests
    Goal("apply >= 25x faster than the per-resource floor", apply_speed, changed=1_000, against_latency=True),
    Goal("apply requests <= ceil(writes / 20) + plan reads + re-read", apply_requests),
    Goal("validate <= 0.6x a libyaml load", validate_speed, partners=10_000),
    Goal("plan compare <= 1 s CPU", compare_cpu, partners=10_000),
    Goal("plan wall <= 1.3x the page floor + the compare", plan_wall, partners=10_000, against_latency=True),
    Goal("peak RSS of plan and apply <= 300 MB", peak_rss, partners=10_000),
    Goal("plan requests = list pages + singletons", plan_requests),
)


def judged(goal: Goal, size: Size, latency: float) -> str:
    """The goal's figure at `size`, met or not at the size the goal is stated for, else for scale."""
    figure, met = goal.check(size, latency)
    if goal.stated_for(size):
        return f"{figure}: {'met' if met else 'not met'}"
    return f"{figure} (the goal is stated for {goal.scale()}; shown for scale)"


def goals(size: Size, latency: float) -> list[str]:
    return [judged(goal, size, latency) for goal in GOALS if latency or not goal.against_latency]


def summary(sizes: list[Size], latency: float) -> list[str]:
    """Each goal's verdict at the size it is stated for, or at every size run."""
    ran = ", ".join(f"{size.count:,}" for size in sizes)
    lines = ["## Goals", ""]
    for goal in GOALS:
        if goal.against_latency and not latency:
            lines.append(f"- {goal.name}: not measured (it needs a --latency above 0)")
        elif goal.every_size:
            missed = [size for size in sizes if not goal.check(size, latency)[1]]
            lines.append(
                f"- at {missed[0].count:,} partners (of {ran}): {judged(goal, missed[0], latency)}"
                if missed
                else f"- {goal.name}: met at every size ({ran} partners)"
            )
        elif at := [size for size in sizes if goal.stated_for(size)]:
            changed = f", {at[0].changed:,} changed" if goal.changed else ""
            lines.append(f"- at {at[0].count:,} partners{changed}: {judged(goal, at[0], latency)}")
        else:
            lines.append(f"- {goal.name}: not measured (stated for {goal.scale()}; this run: {ran} partners)")
    return [*lines, ""]


def against_libyaml(size: Size) -> str:
    """Wall and CPU both: on a loaded machine the wall ratio drifts, the CPU one much less."""
    validate, libyaml = size.validate, size.libyaml
    return f"{validate.wall / libyaml.wall:.2f}x libyaml (CPU {validate.cpu / libyaml.cpu:.2f}x)"


def table(measured: list[Row]) -> list[str]:
    lines = [
        "| measurement | requests | wall s | CPU s | peak RSS MB | ratio |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in measured:
        cpu = "" if row.cpu is None else f"{row.cpu:.2f}"
        rss = "" if row.rss_mb is None else f"{row.rss_mb:.0f}"
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
        f" {args.changed:.0%} of partners changed; each figure the median-wall run of {args.repeat}"
        f" (the per-resource baseline's of {args.baseline_repeat})",
        "",
    ]


def section(size: Size, args: argparse.Namespace) -> list[str]:
    syncs = size.resources - size.count
    title = f"## {size.count:,} partners ({syncs:,} with identity sync, {size.changed:,} changed)"
    return [title, "", *table(rows(size, args.latency)), "", *(f"- {goal}" for goal in goals(size, args.latency)), ""]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="partner counts, comma-separated")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds the emulator adds per request")
    parser.add_argument("--changed", type=float, default=0.1, help="fraction of partners that differ from live")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is kept")
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        default=1,
        help="runs of the per-resource baseline (its requests one after another: 14 minutes at 10,000 partners)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one measured process may take")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be whole numbers separated by commas, got {args.sizes!r}")
    if min(args.sizes) < 1 or min(args.repeat, args.baseline_repeat) < 1 or not 0 <= args.changed <= 1:
        parser.error("sizes, --repeat and --baseline-repeat must be 1 or more, --changed 0 to 1")
    return args


def main() -> None:
    argv = sys.argv[1:]
    args = parse(argv)
    sizes: list[Size] = []
    sections: list[str] = []
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as workdir:
            sizes.append(measure(count, args, write_policies(Path(workdir) / "policies", count)))
        lines = section(sizes[-1], args)
        print("\n".join(lines), flush=True)
        sections += lines
    print("\n".join(summary(sizes, args.latency)))
    args.out.write_text("\n".join([*header(args, argv), *summary(sizes, args.latency), *sections]))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
