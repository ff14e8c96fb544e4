"""xtap's validate, plan and apply at N partners, side by side with their references, judged
against its performance goals (`GOALS`), all in one run.

For each size it seeds an in-process emulator (with per-request latency) with N varied
partners, a quarter of them with identity sync, writes a policies/ tree of N files of which a
fraction differs from live, and runs each command as its own process, so that its CPU and peak
RSS are its own (os.wait4):

- validate: `xtap validate` next to a plain libyaml load of the same files (bench/libyaml_load.py),
  run in turn so that a burst of load elsewhere hits both alike;
- plan: `xtap plan --format json` next to its floor, the list pages read one after another,
  and its compare alone (bench/compare.py: the same load and read, then only the compare timed);
- apply, up to 10,000 partners: `xtap apply --auto-approve` next to two per-resource baselines
  (bench/baseline.py) and their floors: one GET and one full write per declared resource
  (2 x resources x latency), and one GET per resource with a write only where it differs
  ((resources + writes) x latency); and, up to 1,000 partners, the apply of a tenant where every
  partner differs. Every apply starts from a freshly seeded tenant.

Where the time goes: the plan at the largest size, and the apply of every partner changed at
the largest size up to 1,000, run once more under cProfile, their profiles summed up at the end.

What has no size (start-up, the client's CPU per page, the write quota, `xtap explain` in a
loop) comes from the modules that measure it on their own (bench/startup.py, pages.py,
quota.py, explain.py), imported when the run reaches them; `--tenants-case` adds many tenants
planned in one job (bench/tenants.py).

Every figure is shown as median (min-max) of its runs, and each goal is judged on the median.
It prints the tables and writes them as markdown to --out, under the goals, each judged at the
size it is stated for. Wall times on a shared machine are noisy; read the ratios and spreads.

    python bench/run.py [--sizes 100,1000,10000[,100000]] [--latency 0.03] [--changed 0.1]
                        [--page-size 100] [--repeat 3] [--baseline-repeat 1] [--baseline-max 10000]
                        [--tenants-case [--tenants-count 1000]] [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import datetime
import importlib
import json
import math
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reconciler.emulator import Emulator, EmulatorConfig, RecordedRequest
from reconciler.graph.client import GRAPH_WRITE_QUOTA

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


def tenant_id(n: int) -> str:
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
    body: dict[str, Any] = {"tenantId": tenant_id(n), "inboundTrust": trust(n)}
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


def write_policies(root: Path, count: int, first: int = 0) -> Path:
    """One file per partner (partners `first` to `first + count`), block YAML or one-line JSON
    in turn, each with a comment."""
    (root / "partners").mkdir(parents=True)
    for n in range(first, first + count):
        with (root / "partners" / f"p{n:05}.yaml").open("w") as file:
            file.write(f"# partner {n}\n")
            if n % 2:
                _DUMP.dump(declared(n), file)
            else:
                file.write(json.dumps(declared(n)) + "\n")
    return root


def seeded(count: int, args: argparse.Namespace) -> Emulator:
    """A started emulator holding the N partners of `plant`."""
    emulator = Emulator(EmulatorConfig(latency_s=args.latency, page_size=args.page_size)).start()
    plant(emulator, range(count), args.changed)
    return emulator


def plant(tenant: Any, partners: range, changed: float) -> None:
    """Partners `partners` in `tenant` (an emulator, or one of the tenants it serves), the changed
    ones with MFA trust and sync flipped, and the names of the partners and of the groups their
    files name."""
    for n in partners:
        live = {k: v for k, v in declared(n).items() if k != "identitySynchronization"}
        drifted = is_changed(n, changed)
        if drifted:
            live["inboundTrust"] = {**trust(n), "isMfaAccepted": n % 2 != 0}
        tenant.put_partner(live)
        # Its name and its groups', for the name lookups (as a real tenant knows them).
        tenant.put_known_tenant({"tenantId": tenant_id(n), "displayName": f"Partner {n}"})
        tenant.put_directory_object(
            {"@odata.type": "#microsoft.graph.group", "id": group(n), "displayName": f"Group {n}"}
        )
        if has_sync(n):
            tenant.put_identity_sync(tenant_id(n), {"tenantId": tenant_id(n), **sync(n, allowed=not drifted)})


# -- measuring a child process ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Measured:
    """One child process: wall and CPU seconds, peak RSS in MB, the HTTP requests it sent, the
    writes among them, and the reads it sent after its last write (apply's verifying re-read)."""

    wall: float
    cpu: float
    rss_mb: float
    requests: int
    stdout: str = dataclasses.field(repr=False, default="")
    writes: int = 0
    reread: int = 0


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


def writes_in(request: RecordedRequest) -> int:
    """The writes one request on the wire carries: the non-GET items of a `$batch`, or itself."""
    if request.path.split("?")[0].endswith("/$batch"):
        items = request.body.get("requests", []) if isinstance(request.body, dict) else []
        return sum(1 for item in items if str(item.get("method", "GET")).upper() != "GET")
    return int(request.method.upper() != "GET")


def traffic(run: Measured, emulator: Emulator) -> Measured:
    """Requests on the wire (a `$batch` counts once, not once per item), the writes among them,
    and the requests after the last one that wrote: apply's verifying re-read (none if nothing was)."""
    wire = [request for request in emulator.requests if request.batch_id is None]
    writes = [writes_in(request) for request in wire]
    last = max((i for i, count in enumerate(writes) if count), default=len(wire) - 1)
    return dataclasses.replace(run, requests=len(wire), writes=sum(writes), reread=len(wire) - 1 - last)


def environment() -> dict[str, str]:
    """This checkout's xtap as an installed one runs, with no setting of the caller's leaking in.
    The bytecode cache stays on (`compiled`): pip writes an installed package's .pyc files, and
    without them every run compiles xtap's modules afresh, a third of a second of each start."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("XTAP_", "AZURE_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(CI="1", NO_COLOR="1", PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    return env


def against(
    emulator: Emulator | None, argv: Sequence[str], timeout: float, roles: tuple[str, ...] = (WRITE_ROLE,)
) -> Measured:
    """`argv` pointed at `emulator` with a fresh token for `roles` (or offline), with its requests counted."""
    if emulator is None:
        return child(argv, environment(), timeout)
    return sent(emulator, argv, timeout, emulator.mint_token(roles=roles, name="xtap bench"))


def compiled() -> None:
    """xtap's modules compiled to bytecode once, before anything is timed, as pip compiles an
    installed package."""
    compileall.compile_dir(str(REPO / "reconciler"), quiet=1)


def sent(emulator: Emulator, argv: Sequence[str], timeout: float, token: str | Path) -> Measured:
    """`argv` pointed at `emulator` (its `{graph}`) with `token`, or the tokens in the file
    `token` names, with its requests counted."""
    env = environment()
    if isinstance(token, Path):
        env["XTAP_ACCESS_TOKEN_FILE"] = str(token)
    else:
        env["XTAP_ACCESS_TOKEN"] = token
    emulator.clear_requests()
    run = child([part.replace("{graph}", emulator.base_url) for part in argv], env, timeout)
    return traffic(run, emulator)


@dataclasses.dataclass(frozen=True)
class Spread:
    """One figure over its runs: judged on the median, shown with the min and max beside it."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def map(self, each: Callable[[float], float]) -> Spread:
        return Spread(tuple(each(value) for value in self.values))

    def show(self, digits: int = 2, unit: str = "") -> str:
        """`median (min-max)`, or the one value when the runs agree to the digits shown."""
        low, mid, high = (f"{value:,.{digits}f}{unit}" for value in (min(self.values), self.median, max(self.values)))
        return mid if low == high else f"{mid} ({low}-{high})"

    def ratio(self, digits: int = 2) -> str:
        return self.show(digits, "x")

    def spelled(self, digits: int = 2, unit: str = "") -> str:
        """The spread in words, for a goal's line."""
        low, mid, high = (f"{value:,.{digits}f}" for value in (min(self.values), self.median, max(self.values)))
        runs = f"{len(self.values)} run{'s' * (len(self.values) != 1)}"
        spread = f"every one of {runs}" if low == high else f"min {low}, max {high} of {runs}"
        return f"{mid}{unit} (median; {spread})"


def paired(first: Spread, second: Spread, combine: Callable[[float, float], float]) -> Spread:
    """A figure of two measurements run in turn, run by run."""
    return Spread(tuple(combine(a, b) for a, b in zip(first.values, second.values, strict=True)))


@dataclasses.dataclass(frozen=True)
class Runs:
    """Every run of one measurement. Its requests and output are the median-wall run's: they do
    not vary from run to run, its times do."""

    runs: tuple[Measured, ...]

    @property
    def wall(self) -> Spread:
        return Spread(tuple(run.wall for run in self.runs))

    @property
    def cpu(self) -> Spread:
        return Spread(tuple(run.cpu for run in self.runs))

    @property
    def rss_mb(self) -> Spread:
        return Spread(tuple(run.rss_mb for run in self.runs))

    @property
    def typical(self) -> Measured:
        return sorted(self.runs, key=lambda run: run.wall)[len(self.runs) // 2]


def repeated(repeat: int, once: Callable[[], Measured]) -> Runs:
    return Runs(tuple(once() for _ in range(repeat)))


def in_turn(repeat: int, first: Callable[[], Measured], second: Callable[[], Measured]) -> tuple[Runs, Runs]:
    """Two measurements run alternately, so that their ratio, run by run, sees the same load."""
    pairs = [(first(), second()) for _ in range(repeat)]
    return Runs(tuple(a for a, _ in pairs)), Runs(tuple(b for _, b in pairs))


@contextmanager
def tenant_of(count: int, args: argparse.Namespace) -> Iterator[Emulator]:
    emulator = seeded(count, args)
    try:
        yield emulator
    finally:
        emulator.stop()


def xtap(*argv: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", *argv]


def plan_argv(files: str) -> list[str]:
    return xtap("plan", "--format", "json", "--policies", files, "--graph-url", "{graph}")


def apply_argv(files: str) -> list[str]:
    return xtap("apply", "--auto-approve", "--policies", files, "--graph-url", "{graph}")


def every_changed(args: argparse.Namespace) -> argparse.Namespace:
    """`args` for a tenant where every partner differs from its file."""
    return argparse.Namespace(**{**vars(args), "changed": 1.0})


# -- one size ---------------------------------------------------------------------------------

EVERY_CHANGED_UP_TO = 1_000  # the sizes whose apply is also run with every partner changed
# The sizes whose apply is run: its goals are stated for 1,000 and 10,000 partners, and above them
# its writes outrun Graph's write quota, which the emulator enforces (`skipped_apply`).
APPLY_UP_TO = 10_000
PLAN_REPEAT = 5  # the plan against its floor is judged on the median of at least 5 runs


@dataclasses.dataclass(frozen=True)
class Size:
    """Everything measured at one size, and the counts its floors and goals are computed from.
    A measurement not run at this size is None."""

    count: int
    changed: int  # partners whose live state differs from their file
    writes: int  # the changes `xtap plan` lists, each one write for apply
    pages: int  # of the partner list
    resources: int  # declared partners and identity syncs: what the baselines read
    validate: Runs
    libyaml: Runs
    plan: Runs
    named: Runs  # the same plan with the name lookups' permissions
    compare: Runs  # the compare alone: its own wall and CPU, not its process's
    apply: Runs | None  # not run above APPLY_UP_TO partners
    every_changed: Runs | None  # the apply of a tenant where every partner differs
    write_all: Runs | None  # per-resource: a GET and a full write of every resource
    write_differing: Runs | None  # per-resource: a GET of every resource, a write where it differs


def measure(count: int, args: argparse.Namespace, policies: Path) -> Size:
    files, timeout = str(policies), args.timeout
    libyaml_argv = [sys.executable, str(BENCH / "libyaml_load.py"), files]
    validate, libyaml = in_turn(
        args.repeat,
        lambda: against(None, xtap("validate", "--policies", files), timeout),
        lambda: against(None, libyaml_argv, timeout),
    )
    with tenant_of(count, args) as emulator:
        plan = repeated(max(args.repeat, PLAN_REPEAT), lambda: against(emulator, plan_argv(files), timeout))
        named = repeated(args.repeat, lambda: against(emulator, plan_argv(files), timeout, NAMES_ROLES))
        compare_argv = [sys.executable, str(BENCH / "compare.py"), "{graph}", files]
        compare = repeated(args.repeat, lambda: compare_alone(against(emulator, compare_argv, timeout)))
    planned = len(json.loads(plan.typical.stdout)["changes"])
    if json.loads(compare.typical.stdout)["changes"] != planned:
        raise SystemExit(f"bench/compare.py planned {compare.typical.stdout.strip()}, xtap plan {planned} changes")
    apply = repeated(args.repeat, lambda: fresh(count, args, apply_argv(files))) if count <= APPLY_UP_TO else None
    if apply is not None and apply.typical.writes != planned:
        raise SystemExit(f"xtap apply wrote {apply.typical.writes} resources, xtap plan listed {planned} changes")
    baselines = apply is not None and count <= args.baseline_max
    return Size(
        count=count,
        changed=sum(1 for n in range(count) if is_changed(n, args.changed)),
        writes=planned,
        pages=max(1, math.ceil(count / args.page_size)),
        resources=count + sum(1 for n in range(count) if has_sync(n)),
        validate=validate,
        libyaml=libyaml,
        plan=plan,
        named=named,
        compare=compare,
        apply=apply,
        every_changed=repeated(args.repeat, lambda: fresh(count, every_changed(args), apply_argv(files)))
        if count <= EVERY_CHANGED_UP_TO
        else None,
        write_all=baseline(count, args, files, planned, "write-all") if baselines else None,
        write_differing=baseline(count, args, files, planned, "write-differing") if baselines else None,
    )


def baseline(count: int, args: argparse.Namespace, files: str, writes: int, mode: str) -> Runs:
    """bench/baseline.py in `mode`, `--baseline-repeat` times; the one that writes only what
    differs must write what xtap wrote, or the two are not doing the same job."""
    argv = [sys.executable, str(BENCH / "baseline.py"), "--mode", mode, "{graph}", files]
    runs = repeated(args.baseline_repeat, lambda: fresh(count, args, argv))
    if mode == "write-differing" and runs.typical.writes != writes:
        raise SystemExit(f"bench/baseline.py wrote {runs.typical.writes} resources, xtap {writes}")
    return runs


def skipped_apply(size: Size) -> str:
    """Why apply was not run at `size`: the time Graph's write quota alone would take."""
    quota = GRAPH_WRITE_QUOTA
    minutes = max(0, size.writes - quota.writes) / quota.rate / 60
    return (
        f"Apply was not run above {APPLY_UP_TO:,} partners: its goals are stated for 1,000 and 10,000, and"
        f" its {size.writes:,} writes here, at Graph's documented write quota of {quota.writes:,} writes"
        f" per {quota.window_s:g} s (which the emulator enforces), would take at least {minutes:.0f} minutes a run"
        " (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits)."
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


# -- where the time goes: the slowest commands under cProfile ------------------------------------

PROFILE_FUNCTIONS = 8  # the functions shown for each profile, most own time first
PROFILE_PACKAGES = 6  # the packages named in its line of own time by package


@dataclasses.dataclass(frozen=True)
class Profile:
    """One command run once more under cProfile: the process as measured, and each function's
    own seconds, cumulative seconds and calls, by pstats' (file, line, name)."""

    title: str
    run: Measured
    functions: dict[tuple[str, int, str], tuple[float, float, int]]


def profiled(title: str, count: int, args: argparse.Namespace, argv: list[str]) -> Profile:
    """`argv`, an `xtap(...)` command, under `python -m cProfile` against a freshly seeded tenant."""
    with tempfile.TemporaryDirectory() as workdir, tenant_of(count, args) as emulator:
        out = Path(workdir) / "stats"
        run = against(emulator, [sys.executable, "-m", "cProfile", "-o", str(out), *argv[1:]], args.timeout)
        # Stats.stats is pstats' own table (typeshed leaves it out); get_stats_profile keys functions by name alone.
        stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    return Profile(
        title, run, {function: (own, cumulative, calls) for function, (_, calls, own, cumulative, _) in stats.items()}
    )


def profiles_at(count: int, args: argparse.Namespace, files: str) -> list[Profile]:
    """The profiles taken at this size: the plan at the largest size, and the apply of every
    partner changed at the largest size that apply is run at."""
    found = []
    if count == max(args.sizes):
        found.append(profiled(f"`xtap plan` at {count:,} partners", count, args, plan_argv(files)))
    if count == max((size for size in args.sizes if size <= EVERY_CHANGED_UP_TO), default=None):
        title = f"`xtap apply` at {count:,} partners, every one changed"
        found.append(profiled(title, count, every_changed(args), apply_argv(files)))
    return found


def where(path: str) -> str:
    """A profiled function's file, from the installed packages, the repository or the standard
    library it lives in."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if Path(path).is_relative_to(REPO):
        return Path(path).relative_to(REPO).as_posix()
    return path.split(f"/python{sys.version_info.major}.{sys.version_info.minor}/", 1)[-1]


# A built-in's name says its module: <method 'poll' of 'select.epoll' objects>, <built-in method _pickle.loads>.
BUILT_IN_MODULE = re.compile(r"'(\w+)\.[\w.]+' objects>|built-in method (\w+)\.")


def package(path: str, name: str) -> str:
    """What a profiled function belongs to: xtap's sub-package, a package, a standard module."""
    if path == "~":
        found = BUILT_IN_MODULE.search(name)
        return next(filter(None, found.groups()), "builtins") if found else "builtins"
    if path.startswith("<frozen "):  # <frozen importlib._bootstrap>
        return path.removeprefix("<frozen ").removesuffix(">").split(".")[0]
    parts = where(path).split("/")
    return "/".join(parts[:2]) if parts[0] == "reconciler" and len(parts) > 2 else parts[0].removesuffix(".py")


def label(function: tuple[str, int, str]) -> str:
    """A profiled function by its name, and its file and line unless it is a built-in."""
    path, line, name = function
    return f"`{name}`" if path == "~" else f"`{name}` ({where(path)}:{line})"


def profile_lines(profile: Profile) -> list[str]:
    total = sum(own for own, _, _ in profile.functions.values())
    packages: dict[str, float] = {}
    for (path, _, name), (own, _, _) in profile.functions.items():
        owner = package(path, name)
        packages[owner] = packages.get(owner, 0.0) + own
    heaviest = sorted(packages.items(), key=lambda item: item[1], reverse=True)[:PROFILE_PACKAGES]
    shares = ", ".join(f"`{name}` {seconds:.2f} s ({seconds / total:.0%})" for name, seconds in heaviest)
    functions = sorted(profile.functions.items(), key=lambda item: item[1][0], reverse=True)[:PROFILE_FUNCTIONS]
    return [
        f"### {profile.title}",
        "",
        f"{profile.run.wall:.2f} s wall and {profile.run.cpu:.2f} s CPU under the profiler, {profile.run.requests:,}"
        f" requests. Own time by package: {shares}.",
        "",
        "| function | own s | cumulative s | calls |",
        "|---|---:|---:|---:|",
        *(
            f"| {label(function)} | {own:.2f} | {cumulative:.2f} | {calls:,} |"
            for function, (own, cumulative, calls) in functions
        ),
        "",
    ]


def profile_section(profiles: list[Profile]) -> list[str]:
    intro = (
        "Each command below ran once more under cProfile, against a freshly seeded tenant. Its timer is"
        " the wall clock, so `select`'s own time is the wait for Graph's replies; every Python call is"
        " slower under it. Only the command's main thread is in it, not the files loaded by worker"
        " processes (2,000 files or more)."
    )
    return ["## Where the time goes", "", intro, "", *(line for profile in profiles for line in profile_lines(profile))]


# -- what has no size: the modules that measure it on their own ---------------------------------

Samples = dict[str, list[float]]
PAGES_PARTNERS = 10_000  # the page walk's tenant, or the largest size run when smaller


def module_samples(name: str, call: Callable[[ModuleType], Samples]) -> Samples | str:
    """bench/NAME.py's `samples`, or why it was not measured. Imported only now: each module is
    its own, and one missing leaves its goals unmeasured rather than the run stopped."""
    if not (BENCH / f"{name}.py").exists():
        return f"not measured (bench/{name}.py missing)"
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    module = importlib.import_module(name)
    if not hasattr(module, "samples"):
        return f"not measured (bench/{name}.py has no samples())"
    return call(module)


def pages_partners(counts: Sequence[int]) -> int:
    """The page walk's tenant: 10,000 partners, or the largest size run when it is smaller."""
    return min(max(counts), PAGES_PARTNERS)


def modules(args: argparse.Namespace) -> dict[str, Samples | str]:
    pages = pages_partners(args.sizes)
    return {
        "startup": module_samples("startup", lambda module: module.samples(args.repeat)),
        "pages": module_samples(
            "pages", lambda module: module.samples(args.repeat, partners=pages, latency=args.latency)
        ),
        "quota": module_samples("quota", lambda module: module.samples(args.repeat)),
        "explain": module_samples("explain", lambda module: module.samples(args.repeat, partners=pages, count=pages)),
    }


# The page walk's own plan timing is left out: the plan against its floor is run.py's, measured
# with the rest of its size, so that one figure has one source.
NOT_SHOWN = {"pages": ("plan wall s", "plan page floor s"), "explain": ("partners",)}


# -- the report -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    measurement: str
    requests: int
    wall: str
    ratio: str
    cpu: str = ""  # blank for a computed floor
    rss_mb: str = ""  # blank for a floor, and for the compare, which is not a whole process


def measured(measurement: str, runs: Runs, ratio: str) -> Row:
    return Row(measurement, runs.typical.requests, runs.wall.show(), ratio, runs.cpu.show(), runs.rss_mb.show(0))


def computed(measurement: str, requests: int, seconds: float, ratio: str = "") -> Row:
    return Row(measurement, requests, f"{seconds:.2f}", ratio)


@dataclasses.dataclass(frozen=True)
class Floors:
    """What no client could beat at this size and latency: requests one after another."""

    plan: float  # the list pages
    write_all: float  # a GET and a write per declared resource
    write_differing: float  # a GET per declared resource, a write per resource that differs
    every_changed: float  # the goal's: a GET and a write per partner, every partner changed


def floors(size: Size, latency: float) -> Floors:
    return Floors(
        plan=size.pages * latency,
        write_all=2 * size.resources * latency,
        write_differing=(size.resources + size.writes) * latency,
        every_changed=2 * size.count * latency,
    )


def times(floor: float, runs: Runs) -> Spread:
    """How many times faster than `floor` each run was."""
    return runs.wall.map(lambda wall: floor / wall)


def rows(size: Size, latency: float) -> list[Row]:
    floor = floors(size, latency)
    plan, compare = size.plan, size.compare
    validate_wall, validate_cpu = validate_ratios(size)
    table = [
        measured("validate: xtap", size.validate, f"{validate_wall.ratio()} libyaml wall, {validate_cpu.ratio()} CPU"),
        measured("validate: libyaml load", size.libyaml, "reference"),
        measured(
            "plan: xtap", plan, f"{plan.wall.map(lambda wall: wall / floor.plan).ratio()} floor" if latency else ""
        ),
        Row(
            "plan: compare (canonical + diff, in memory)",
            0,
            compare.wall.show(),
            f"{compare.cpu.median / plan.cpu.median:.0%} of the plan's CPU",
            compare.cpu.show(),
        ),
        measured(
            f"plan: xtap, naming what it changes ({size.changed} partners)",
            size.named,
            f"+{size.named.typical.requests - plan.typical.requests} requests; "
            f"{math.ceil(size.changed / BATCH_SIZE)} $batches name {size.changed} partners",
        ),
        computed("plan: floor (list pages x latency)", size.pages, floor.plan, "reference"),
    ]
    return table if size.apply is None else table + apply_rows(size, size.apply, floor, latency)


def apply_rows(size: Size, apply: Runs, floor: Floors, latency: float) -> list[Row]:
    apply_ratio = [f"re-read in {apply.typical.reread} requests"]
    if latency:
        apply_ratio.append(f"{times(floor.write_all, apply).ratio(1)} faster than the write-everything floor")
        apply_ratio.append(f"{times(floor.write_differing, apply).ratio(1)} than the write-what-differs floor")
    if size.write_all is not None:
        apply_ratio.append(f"{times(size.write_all.wall.median, apply).ratio(1)} faster than that baseline")
    table = [measured(f"apply: xtap ({size.writes:,} writes)", apply, "; ".join(apply_ratio))]
    if size.every_changed is not None:
        every = size.every_changed
        ratio = f"{times(floor.every_changed, every).ratio(1)} faster than 2 x partners x latency" if latency else ""
        table.append(measured(f"apply: xtap, every partner changed ({every.typical.writes:,} writes)", every, ratio))
    if size.write_all is not None and size.write_differing is not None:
        write_all, write_differing = size.write_all, size.write_differing
        table += [
            measured("apply: per-resource, write everything", write_all, of_floor(write_all, floor.write_all)),
            measured(
                f"apply: per-resource, read everything, write what differs ({write_differing.typical.writes:,} writes)",
                write_differing,
                of_floor(write_differing, floor.write_differing),
            ),
        ]
    return [
        *table,
        computed(
            f"apply: floor, write everything (2 x {size.resources:,} x latency)", 2 * size.resources, floor.write_all
        ),
        computed(
            f"apply: floor, read everything, write what differs (({size.resources:,} + {size.writes:,}) x latency)",
            size.resources + size.writes,
            floor.write_differing,
        ),
    ]


def of_floor(runs: Runs, floor: float) -> str:
    """A baseline's wall time against its floor: what its client and the machine add."""
    return f"{runs.wall.map(lambda wall: wall / floor).ratio()} its floor" if floor else "reference"


def validate_ratios(size: Size) -> tuple[Spread, Spread]:
    """Wall and CPU, run by run: on a loaded machine the wall ratio drifts, the CPU one much less."""
    divide: Callable[[float, float], float] = lambda mine, theirs: mine / theirs  # noqa: E731
    return (
        paired(size.validate.wall, size.libyaml.wall, divide),
        paired(size.validate.cpu, size.libyaml.cpu, divide),
    )


# Each goal's check: its figure at one size and whether it meets the goal, or None when the
# measurement was not run at that size.

Check = tuple[str, bool] | None


def every_changed_speed(size: Size, latency: float) -> Check:
    if size.every_changed is None:
        return None
    floor = floors(size, latency).every_changed
    speedup = times(floor, size.every_changed)
    figure = (
        f"apply of {size.every_changed.typical.writes:,} writes {size.every_changed.wall.spelled(unit=' s')},"
        f" {speedup.spelled(1, 'x')} faster than 2 x {size.count:,} x {latency * 1000:g} ms = {floor:.1f} s"
        " (the identity syncs it also writes are not in that floor)"
    )
    return figure, speedup.median >= 35


def reread_requests(size: Size, latency: float) -> Check:
    """Batched GETs of what was written when they are fewer than the pages, else the pages again."""
    if size.apply is None:
        return None
    batches = math.ceil(size.writes / BATCH_SIZE)
    reread = Spread(tuple(float(run.reread) for run in size.apply.runs))
    if batches < size.pages:
        goal, bound = f"ceil({size.writes:,} / {BATCH_SIZE}) = {batches} batches, fewer than the pages", batches
    else:
        goal, bound = f"the {size.pages:,} pages and {SINGLETONS} singleton read again", size.pages + SINGLETONS
    figure = f"the re-read in {reread.spelled(0, ' requests')} after {size.writes:,} writes; goal <= {goal}"
    return figure, reread.median <= bound


def plan_against_floor(bound: float) -> Callable[[Size, float], Check]:
    def check(size: Size, latency: float) -> Check:
        floor = floors(size, latency).plan
        ratio = size.plan.wall.map(lambda wall: wall / floor)
        figure = (
            f"plan {size.plan.wall.spelled(unit=' s')}, {ratio.spelled(2, 'x')} its floor of {size.pages:,} pages x"
            f" {latency * 1000:g} ms = {floor:.2f} s; goal <= {bound:g}x"
        )
        return figure, ratio.median <= bound

    return check


def validate_speed(size: Size, latency: float) -> Check:
    wall, cpu = validate_ratios(size)
    figure = f"validate / libyaml wall {wall.spelled(2, 'x')}, CPU {cpu.spelled(2, 'x')}; goal <= 0.5x and <= 0.6x"
    return figure, wall.median <= 0.5 and cpu.median <= 0.6


def rss_per_partner(size: Size, latency: float) -> Check:
    per_partner = size.plan.rss_mb.map(lambda mb: mb * 1024 / size.count)
    return f"plan peak RSS {per_partner.spelled(2, ' KB')} per partner; goal <= 7 KB", per_partner.median <= 7


@dataclasses.dataclass(frozen=True)
class Report:
    """One run: every size measured, what the modules measured, and the many-tenants case."""

    sizes: list[Size]
    latency: float
    modules: dict[str, Samples | str]
    tenants: Any  # bench/tenants.py's Result, or why the case was not measured

    @property
    def ran(self) -> str:
        return ", ".join(f"{size.count:,}" for size in self.sizes)


def verdict(goal: str, check: Check) -> str:
    if check is None:
        return f"- {goal}: not measured at that size"
    figure, met = check
    return f"- {goal}: {figure}: {'met' if met else 'not met'}"


@dataclasses.dataclass(frozen=True)
class SizeGoal:
    """A goal judged at the size it is stated for, in partners (and changed partners). At any
    other size its figure is shown for scale, not judged: 100 files say little about a goal set
    for 10,000. A goal against a latency floor cannot be judged when the bench runs without latency."""

    goal: str
    check: Callable[[Size, float], Check]
    partners: int
    changed: int | None = None
    against_latency: bool = False

    def stated_for(self, size: Size) -> bool:
        return size.count == self.partners and self.changed in (None, size.changed)

    def scale(self) -> str:
        changed = f", {self.changed:,} changed" if self.changed else ""
        return f"{self.partners:,} partners{changed}"

    def line(self, report: Report) -> str:
        if self.against_latency and not report.latency:
            return f"- {self.goal}: not measured (it needs a --latency above 0)"
        at = next((size for size in report.sizes if self.stated_for(size)), None)
        if at is None:
            hint = f"; add {self.partners} to --sizes" if self.partners not in (s.count for s in report.sizes) else ""
            return f"- {self.goal}: not measured (stated for {self.scale()}; this run: {report.ran} partners{hint})"
        return verdict(self.goal, self.check(at, report.latency))

    def for_scale(self, size: Size, latency: float) -> str | None:
        """The goal's figure at `size`, judged if the goal is stated for it; None if not measured."""
        if self.against_latency and not latency:
            return None
        check = self.check(size, latency)
        if check is None:
            return None
        if self.stated_for(size):
            return verdict(self.goal, check)
        return f"- {check[0]} (the goal is stated for {self.scale()}; shown for scale)"


@dataclasses.dataclass(frozen=True)
class ModuleGoal:
    """A goal judged on what one of the modules measured (`module_samples`)."""

    goal: str
    module: str
    check: Callable[[Samples], tuple[str, bool]]

    def line(self, report: Report) -> str:
        samples = report.modules[self.module]
        if isinstance(samples, str):
            return f"- {self.goal}: {samples}"
        try:
            return verdict(self.goal, self.check(samples))
        except NotStated as why:
            return f"- {self.goal}: not measured ({why})"
        except KeyError as missing:
            return f"- {self.goal}: not measured (bench/{self.module}.py gave no {missing})"


def spread(samples: Samples, key: str) -> Spread:
    return Spread(tuple(samples[key]))


def first_request(samples: Samples) -> tuple[str, bool]:
    seconds = spread(samples, "time to first request")
    return f"{seconds.spelled(3, ' s')}; goal <= 0.25 s", seconds.median <= 0.25


def help_start(samples: Samples) -> tuple[str, bool]:
    ratio = paired(spread(samples, "xtap --help"), spread(samples, "python -c pass"), lambda a, b: a / b)
    return f"`xtap --help` / `python -c pass` {ratio.spelled(1, 'x')}; goal <= 5x", ratio.median <= 5


def page_cpu(samples: Samples) -> tuple[str, bool]:
    sdk, bare = spread(samples, "sdk page walk CPU ms/page"), spread(samples, "bare httpx page walk CPU ms/page")
    extra = paired(sdk, bare, lambda a, b: a - b)
    figure = f"SDK - bare {extra.spelled(2, ' ms')} CPU a page (SDK {sdk.show()} ms, bare {bare.show()}); goal <= 1 ms"
    return figure, extra.median <= 1


def quota_pace(samples: Samples) -> tuple[str, bool]:
    ratio = paired(spread(samples, "quota run s"), spread(samples, "quota floor s"), lambda a, b: a / b)
    lost = int(sum(samples.get("lost writes", [0])))
    figure = f"{ratio.spelled(2, 'x')} its floor, {lost} writes lost; goal <= 1.05x, nothing lost"
    return figure, ratio.median <= 1.05 and lost == 0


class NotStated(Exception):
    """A module measured at another size than its goal is stated for: the line says which."""


EXPLAIN_PARTNERS = 10_000


def explain_speed(samples: Samples) -> tuple[str, bool]:
    partners = int(samples["partners"][0])
    if partners != EXPLAIN_PARTNERS:
        raise NotStated(f"stated for {EXPLAIN_PARTNERS:,} partners; this run's largest size: {partners:,}")
    wall, load = spread(samples, "explain wall s"), spread(samples, "validate wall s")
    answering = spread(samples, "answering per question us")
    figure = (
        f"{wall.spelled(2, ' s')} (loading the folder, as validate does: {load.show()} s; then "
        f"{answering.show(0)} us a question); goal <= 10 s"
    )
    return figure, wall.median <= 10


@dataclasses.dataclass(frozen=True)
class TenantsGoal:
    """The many-tenants case (bench/tenants.py), run only with --tenants-case."""

    goal: str

    tenants: int

    def line(self, report: Report) -> str:
        if isinstance(report.tenants, str):
            return f"- {self.goal}: {report.tenants}"
        if report.tenants.tenants != self.tenants:
            figure = report.tenants.check()[0]
            return f"- {self.goal}: {figure} (the goal is stated for {self.tenants:,} tenants; shown for scale)"
        return verdict(self.goal, report.tenants.check())


Goal = SizeGoal | ModuleGoal | TenantsGoal
GOALS: tuple[Goal, ...] = (
    SizeGoal(
        "apply 1,000 changes among 1,000 partners >= 35x faster than the per-resource floor (2 x 1,000 x latency)",
        every_changed_speed,
        partners=1_000,
        against_latency=True,
    ),
    SizeGoal(
        "apply's verifying re-read <= ceil(written / 20) batched GETs when that is fewer than the pages",
        reread_requests,
        partners=10_000,
        changed=1_000,
    ),
    SizeGoal(
        "plan <= 1.25x its page floor (median of 5)", plan_against_floor(1.25), partners=10_000, against_latency=True
    ),
    ModuleGoal("time to the first Graph request <= 0.25 s", "startup", first_request),
    ModuleGoal("a page through the SDK <= +1 ms CPU over a bare HTTP page walk", "pages", page_cpu),
    ModuleGoal("`xtap --help` <= 5x `python -c pass`", "startup", help_start),
    SizeGoal("validate <= 0.5x libyaml wall and <= 0.6x its CPU", validate_speed, partners=10_000),
    SizeGoal("plan peak RSS <= 7 KB per partner", rss_per_partner, partners=100_000),
    SizeGoal("plan <= 1.3x its page floor", plan_against_floor(1.3), partners=100_000, against_latency=True),
    ModuleGoal("apply under the write quota <= 1.05x its floor, nothing lost", "quota", quota_pace),
    ModuleGoal("`xtap explain`: 10,000 questions over a 10,000-partner folder in seconds", "explain", explain_speed),
    TenantsGoal(
        "1,000 tenants of 20 partners planned in one job: less wall time and no more requests than one job per tenant",
        tenants=1_000,
    ),
)


def summary(report: Report) -> list[str]:
    """Each goal's verdict at the size it is stated for, or why it was not measured."""
    return ["## Goals", "", *(goal.line(report) for goal in GOALS), ""]


def table(measured: list[Row]) -> list[str]:
    lines = [
        "| measurement | requests | wall s | CPU s | peak RSS MB | ratio |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in measured:
        lines.append(f"| {row.measurement} | {row.requests:,} | {row.wall} | {row.cpu} | {row.rss_mb} | {row.ratio} |")
    return lines


def module_table(report: Report) -> list[str]:
    """Every figure the modules gave, with its spread, and why a module gave none."""
    lines = ["## Start-up, page walk, write quota and explain", ""]
    lines += [f"- bench/{name}.py: {samples}" for name, samples in report.modules.items() if isinstance(samples, str)]
    shown = [
        f"| {key} | bench/{name}.py | {Spread(tuple(values)).show(3)} |"
        for name, samples in report.modules.items()
        if not isinstance(samples, str)
        for key, values in samples.items()
        if key not in NOT_SHOWN.get(name, ())
    ]
    if shown:
        partners = pages_partners([size.count for size in report.sizes])
        walk = (
            f"The page walk read the partner list of {partners:,} partners; explain answered as many questions"
            " over a folder of as many partners."
        )
        lines += ["", walk, "", "| measurement | from | median (min-max) |", "|---|---|---:|", *shown]
    return [*lines, ""]


def header(args: argparse.Namespace, argv: list[str]) -> list[str]:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        "# xtap benchmark",
        "",
        "Made by this command, from the repository's root (the default sizes are 100,1000,10000; add"
        " 100000 to `--sizes` for the goals stated at 100,000 partners, and `--tenants-case` for many"
        " tenants in one job):",
        "",
        "```",
        "python bench/run.py " + " ".join(argv),
        "```",
        "",
        "Every figure is the median of its runs, with the min and max beside it; each goal is judged on"
        " the median. Wall times on a shared machine are noisy (other work lengthens them): read the"
        " ratios of one run, and the spreads.",
        "",
        f"- date: {today}",
        f"- python: {platform.python_version()} ({platform.python_implementation()})",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} when the"
        " report was written",
        f"- emulator: {args.latency * 1000:g} ms added per request, page size {args.page_size};"
        f" {args.changed:.0%} of partners changed; {args.repeat} runs of each measurement"
        f" ({max(args.repeat, PLAN_REPEAT)} of the plan), {args.baseline_repeat} of each per-resource baseline"
        f" (run up to {args.baseline_max:,} partners)",
        "",
    ]


def section(size: Size, args: argparse.Namespace) -> list[str]:
    syncs = size.resources - size.count
    title = f"## {size.count:,} partners ({syncs:,} with identity sync, {size.changed:,} changed)"
    # Once each: two goals may judge one figure against two bounds (the plan against its floor).
    shown = [line for goal in GOALS if isinstance(goal, SizeGoal) if (line := goal.for_scale(size, args.latency))]
    scale = list({line.split("; goal")[0]: line for line in reversed(shown)}.values())[::-1]
    return [title, "", *table(rows(size, args.latency)), "", *not_run(size, args), *scale, ""]


def not_run(size: Size, args: argparse.Namespace) -> list[str]:
    """Why the apply, or the per-resource baselines, have no rows at this size."""
    if size.apply is None:
        return [skipped_apply(size), ""]
    if size.write_all is None:
        return [f"The per-resource baselines were not run above {args.baseline_max:,} partners (--baseline-max).", ""]
    return []


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100,1000,10000", help="partner counts, comma-separated (add 100000 for its goals)"
    )
    parser.add_argument("--latency", type=float, default=0.03, help="seconds the emulator adds per request")
    parser.add_argument("--changed", type=float, default=0.1, help="fraction of partners that differ from live")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (the plan's: at least 5)")
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        default=1,
        help="runs of each per-resource baseline (its requests one after another: 14 minutes at 10,000 partners)",
    )
    parser.add_argument(
        "--baseline-max", type=int, default=10_000, help="the largest size the per-resource baselines are run at"
    )
    parser.add_argument("--tenants-case", action="store_true", help="also plan many tenants in one job")
    parser.add_argument("--tenants-count", type=int, default=1_000, help="the tenants of --tenants-case")
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


def many_tenants(args: argparse.Namespace) -> Any:
    """bench/tenants.py's case, or why it was not measured."""
    if not args.tenants_case:
        return "not measured (run with --tenants-case)"
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("tenants").measure(args)


def main() -> None:
    argv = sys.argv[1:]
    args = parse(argv)
    compiled()
    sizes: list[Size] = []
    sections: list[str] = []
    profiles: list[Profile] = []
    for count in args.sizes:
        with tempfile.TemporaryDirectory() as workdir:
            policies = write_policies(Path(workdir) / "policies", count)
            sizes.append(measure(count, args, policies))
            profiles += profiles_at(count, args, str(policies))
        lines = section(sizes[-1], args)
        print("\n".join(lines), flush=True)
        sections += lines
    report = Report(sizes, args.latency, modules(args), many_tenants(args))
    tenants = [] if isinstance(report.tenants, str) else report.tenants.lines()
    lines = [*summary(report), *module_table(report), *tenants]
    profile = profile_section(profiles)
    print("\n".join([*lines, *profile]))
    args.out.write_text("\n".join([*header(args, argv), *lines, *sections, *profile]))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
