"""`xtap validate` and `xtap schema`: the offline commands about the policy files themselves,
which import nothing that talking to Graph needs (they run in editors' save hooks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, load, loaded, report, say
from reconciler.core.clouds import GLOBAL
from reconciler.core.desired import Desired
from reconciler.core.registry import REGISTRY
from reconciler.policies import schema as json_schema
from reconciler.policies.problems import Problem
from reconciler.render.terminal import printable_json

# `--format`: problems on stderr for people, or one JSON report on stdout for programs.
FORMATS = ("text", "json")


def validate(policies: Path, cloud: str = GLOBAL, fmt: str = "text") -> int:
    """Every problem of policies/ for a tenant in `cloud`, offline: what that cloud's Graph has
    no API for is one, as in plan and apply, so a pull request hears of it before any run.
    The exit code is the same in every format: 0 valid, 1 not."""
    if fmt == "json":
        desired, problems, warnings = loaded(policies, bodies=False, cloud=cloud)
        report(printable_json(_report(desired, problems, warnings), indent=2) + "\n")
        return EXIT_OK if desired is not None else EXIT_ERROR
    desired = load(policies, bodies=False, cloud=cloud)
    if desired is None:
        return EXIT_ERROR
    counts = [f"{name}: {count}" for name, count in _counts(desired).items()]
    say(f"{policies}: valid ({', '.join(counts) or 'no policies'}).")
    return EXIT_OK


def _counts(desired: Desired) -> dict[str, int]:
    """How many instances of each type the folder manages, in registry order."""
    return {rtype.name: len(desired.of(rtype.name)) for rtype in REGISTRY if desired.manages(rtype.name)}


def _report(desired: Desired | None, problems: list[Problem], warnings: list[Problem]) -> dict[str, Any]:
    """`validate --format json`'s report (docs/commands.md): what text mode says on stderr, as
    data. Messages are escaped when printed (`printable_json`), like every outside text."""

    def placed(problem: Problem) -> dict[str, Any]:
        return {"file": problem.file, "line": problem.line, "column": problem.col, "message": problem.message}

    return {
        "valid": desired is not None,
        "problems": [placed(problem) for problem in problems],
        "warnings": [placed(warning) for warning in warnings],
        "counts": {} if desired is None else _counts(desired),
    }


def schema(out: Path | None = None) -> int:
    """Every policy file type's JSON Schema: printed as one object by name, or written into
    `out` as one file each, the files a modeline or check-jsonschema points at."""
    if out is None:
        print(json_schema.dumps(json_schema.schemas()), end="")
        return EXIT_OK
    try:
        written = json_schema.write(out)
    except OSError as exc:
        say(f"Error: cannot write the schemas to {out}: {exc.strerror}")
        return EXIT_ERROR
    say(f"Wrote {', '.join(path.name for path in written)} to {out}.")
    return EXIT_OK
