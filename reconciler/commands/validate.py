"""`xtap validate` and `xtap schema`: the offline commands about the policy files themselves,
which import nothing that talking to Graph needs (they run in editors' save hooks)."""

from __future__ import annotations

from pathlib import Path

from reconciler.commands.run import EXIT_ERROR, EXIT_OK, load, say
from reconciler.core.clouds import GLOBAL
from reconciler.core.registry import REGISTRY
from reconciler.policies import schema as json_schema


def validate(policies: Path, cloud: str = GLOBAL) -> int:
    """Every problem of policies/ for a tenant in `cloud`, offline: what that cloud's Graph has
    no API for is one, as in plan and apply, so a pull request hears of it before any run."""
    desired = load(policies, bodies=False, cloud=cloud)
    if desired is None:
        return EXIT_ERROR
    counts = [f"{rtype.name}: {len(desired.of(rtype.name))}" for rtype in REGISTRY if desired.manages(rtype.name)]
    say(f"{policies}: valid ({', '.join(counts) or 'no policies'}).")
    return EXIT_OK


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
