"""What the rules of your own cost at scale, where they run: the worker process of `cel_worker`.

- start-up: `cel_worker.judge` of one trivial rule on one resource (fork, first message, end);
- evaluation: N partners (the golden plan test's, scaled up, as bench/cpu.py has them) under a
  few realistic rules, in the worker and, for comparison, in this process;
- `xtap check` of N partner files, without a rule of its own (no worker) and with the rules.

The budgets of docs/security.md are set from these numbers, with a wide margin.

    python bench/rules.py [--partners 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_seconds, write_files

from reconciler.check import worker as cel_worker
from reconciler.check.engine import _variables, subjects
from reconciler.core import cel as cel_expr
from reconciler.policies.load import load_policies

# Rules as a repository writes them (docs/checks.md), each true of every partner here, so that
# `xtap check` times the rules and not the rendering of thousands of findings.
RULES = {
    "typed-targets": "!has(resource.b2bCollaborationInbound) || "
    "resource.b2bCollaborationInbound.usersAndGroups.targets.all(t, t.targetType in ['user', 'group'])",
    "named": "!has(xtap.name) || size(xtap.name) > 0",
    "trust-declared": "!has(resource.inboundTrust) || has(resource.inboundTrust.isMfaAccepted)",
    "outbound-apps-named": "!has(resource.b2bDirectConnectOutbound) || "
    "resource.b2bDirectConnectOutbound.applications.targets.all(t, t.target != '')",
    "known-labels": "xtap.labels.all(label, label in ['regulated', 'eu'])",
}


def seconds(work: Callable[[], object], repeat: int) -> float:
    """Median wall time: the worker's time is not this process's CPU."""
    return cpu_seconds(work, repeat, time.perf_counter)


def in_process(expressions: list[str], variables: list[dict[str, object]]) -> None:
    programs = [cel.compile(expression) for expression in expressions]
    for each in variables:
        context = cel.Context(variables=each)
        for program in programs:
            cel_expr.holds(program, context)


def check(root: Path, settings: str | None) -> float:
    (root / "xtap.yaml").unlink(missing_ok=True)
    if settings is not None:
        (root / "xtap.yaml").write_text(settings)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reconciler", "check", "--policies", str(root)], capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    expressions = list(RULES.values())
    for expression in expressions:
        cel_expr.compile_expression(expression)
    one = {"resource": {}, "type": "partner", "id": "x", "state": "desired", "xtap": {}}
    start_up = seconds(lambda: cel_worker.judge(["true"], [[0]], {0: one}), max(args.repeat, 20))
    with tempfile.TemporaryDirectory() as workdir:
        root = write_files(Path(workdir) / "policies", args.partners)
        variables = [_variables(subject) for subject in subjects(load_policies(root))]
        everyone = list(range(len(variables)))
        by_index = dict(enumerate(variables))
        worker = {
            count: seconds(
                lambda count=count: cel_worker.judge(expressions[:count], [everyone] * count, by_index), args.repeat
            )
            for count in (1, len(expressions))
        }
        here = seconds(lambda: in_process(expressions, variables), args.repeat)
        settings = "rules:\n" + "".join(
            f"  {name}:\n    select: {{types: [partner]}}\n    expression: {json.dumps(expression)}\n    message: x\n"
            for name, expression in RULES.items()
        )
        without = statistics.median(check(root, None) for _ in range(args.repeat))
        with_rules = statistics.median(check(root, settings) for _ in range(args.repeat))
    resources, count = len(variables), len(expressions)
    print(f"resources: {resources} ({args.partners} partner files), median of {args.repeat} runs, wall seconds")
    per_resource, per_evaluation = worker[1] / resources * 1e6, worker[count] / resources / count * 1e6
    print(f"worker start-up (1 rule, 1 resource):  {start_up * 1000:6.1f} ms")
    print(f"1 rule in the worker:                  {worker[1]:6.2f}  ({per_resource:.0f} µs a resource)")
    print(f"{count} rules in the worker:                 {worker[count]:6.2f}  ({per_evaluation:.0f} µs an evaluation)")
    print(f"{count} rules in this process:               {here:6.2f}")
    print(f"xtap check, no rule of its own:        {without:6.2f}")
    print(f"xtap check, {count} rules of its own:         {with_rules:6.2f}")


if __name__ == "__main__":
    main()
