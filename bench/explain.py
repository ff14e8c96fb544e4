"""How fast `xtap explain` answers in a loop: 10,000 questions over a 10,000-partner folder in one
run (`--questions`, JSON Lines out), next to `xtap validate` of the same folder in the same run,
which loads the files exactly as explain does: the difference is what answering costs.

The questions cycle through every setting and direction, a partner by name or by id, with a
user, groups and an application, so every step of the chain is taken. Each run is a fresh
process, interleaved with the baseline's, so a burst of load elsewhere hits both alike.

    python bench/explain.py [--partners 10000] [--questions 10000] [--repeat 3]

bench/run.py imports `samples` to put the same numbers in its goals.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

EXPLAIN, VALIDATE, ANSWERING = "explain wall s", "validate wall s", "answering per question us"
# 10,000 questions over 10,000 partners "in seconds": at most this many, in all.
GOAL_S = 10.0
ROUTES = [
    ("b2bCollaboration", "inbound"),
    ("b2bCollaboration", "outbound"),
    ("b2bDirectConnect", "inbound"),
    ("b2bDirectConnect", "outbound"),
    ("tenantRestrictions", "outbound"),
    ("m365Collaboration", "inbound"),
    ("appServiceConnect", "inbound"),
]


def questions(path: Path, partners: int, count: int) -> Path:
    import run

    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            via, direction = ROUTES[n % len(ROUTES)]
            partner = run.tenant_id(n % partners)
            asked = {"partner": partner, "via": via, "direction": direction, "user": run.group(n), "app": "Office365"}
            out.write(json.dumps({**asked, "groups": [run.group(n % partners)]}) + "\n")
    return path


def samples(repeat: int, partners: int = 10_000, count: int = 10_000) -> dict[str, list[float]]:
    import run

    run.compiled()
    found: dict[str, list[float]] = {EXPLAIN: [], VALIDATE: [], ANSWERING: [], "partners": [partners]}
    with tempfile.TemporaryDirectory() as workdir:
        policies = run.write_policies(Path(workdir) / "policies", partners)
        asked = questions(Path(workdir) / "questions.jsonl", partners, count)
        explain = run.xtap("explain", "--questions", str(asked), "--policies", str(policies), "--format", "json")
        validate = run.xtap("validate", "--policies", str(policies))
        for _ in range(repeat):
            answered = run.against(None, explain, 600)
            loaded = run.against(None, validate, 600)
            if len(answered.stdout.splitlines()) != count:
                raise SystemExit(f"xtap explain answered {len(answered.stdout.splitlines())} of {count} questions")
            found[EXPLAIN].append(answered.wall)
            found[VALIDATE].append(loaded.wall)
            found[ANSWERING].append(max(answered.wall - loaded.wall, 0.0) / count * 1e6)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    found = samples(args.repeat, args.partners, args.questions)
    print(f"{'':28} {'min':>9} {'median':>9} {'max':>9}  ({args.repeat} runs)")
    for name, values in ((name, found[name]) for name in (EXPLAIN, VALIDATE, ANSWERING)):
        print(f"{name:28} {min(values):9.3f} {statistics.median(values):9.3f} {max(values):9.3f}")
    wall = statistics.median(found[EXPLAIN])
    print(f"\n{args.questions:,} questions over {args.partners:,} partners: {wall:.2f} s (goal <= {GOAL_S:g} s)")


if __name__ == "__main__":
    main()
