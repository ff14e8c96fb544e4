"""`xtap check`: the guardrail rules over policies/ and, with `--live`, over the tenant as it
is; and the findings `xtap apply` must pass, each located in its file."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from reconciler.commands.run import (
    EXIT_ERROR,
    EXIT_OK,
    Formats,
    Options,
    load,
    read_everything,
    run_graph,
    say_problems,
)
from reconciler.core.address import PropertyPath
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.policies.load import SETTINGS_FILE, PolicyError, Problem, positions
from reconciler.render.check import Checked, Located, findings_github, findings_json, findings_sarif, findings_text

if TYPE_CHECKING:
    from reconciler.check.engine import Finding


def _sarif(checked: Checked) -> str:
    """SARIF names the tool's version, read only when that format is asked for."""
    from importlib.metadata import version

    return findings_sarif(checked, version("xtap"))


FORMATS = Formats[Checked](
    colored={},
    plain={"text": findings_text, "json": findings_json, "sarif": _sarif, "github": findings_github},
)


def check(options: Options, live: bool = False, fmt: str = "text") -> int:
    """Guardrail rules over policies/ and, with `live`, over the tenant as it is (what drifted in
    out of band). Exit 1 when a rule of severity error fails, or on bad input: nothing is
    written, and without `live` nothing is sent to Graph at all."""
    desired = load(options.policies, cloud=options.cloud)
    if desired is None:
        return EXIT_ERROR
    state = None
    if live:
        state = run_graph(read_everything(options, desired.tenant))
        if state is None:
            return EXIT_ERROR
    try:
        checked = findings(desired, state)
    except PolicyError as exc:  # a rule of your own that could not be judged
        say_problems(exc, options.policies, "the check cannot pass until it is fixed")
        return EXIT_ERROR
    print(FORMATS.render(checked, fmt), end="")
    return EXIT_ERROR if checked.failed else EXIT_OK


def findings(desired: Desired, state: Live | None = None) -> Checked:
    """Every finding of the rules in force over `desired` (and `state`), located in its file,
    and the rules turned off: what `xtap check` reports and `xtap apply` must pass. A rule of
    your own that cannot be judged (over its budget, or the CEL library crashed on it) is a
    PolicyError at the rule in xtap.yaml, as one that does not compile is."""
    from reconciler.check.builtin import BUILTIN
    from reconciler.check.engine import RuleStopped, effective_rules, evaluate, subjects

    rules, off = effective_rules(BUILTIN, desired.rules)
    try:
        judged = evaluate(rules, subjects(desired, state), datetime.now(UTC).date())
    except RuleStopped as exc:
        raise PolicyError([_rule_problem(desired, exc.rule_id, str(exc))]) from None
    return Checked(locate(judged), off)


def locate(judged: Iterable[Finding]) -> list[Located]:
    """Each finding with its position, reading each file with findings once more, in file order
    and the live tenant's (which no file declares) last."""
    judged = list(judged)
    paths: dict[str, set[PropertyPath]] = {}
    for finding in judged:
        if finding.subject.file is not None:
            paths.setdefault(finding.subject.file, set()).add(finding.file_path)
    found = {file: positions(file, wanted) for file, wanted in paths.items()}
    located = [
        Located(finding, None if (file := finding.subject.file) is None else (file, *found[file][finding.file_path]))
        for finding in judged
    ]
    return sorted(located, key=lambda item: (item.at is None, item.at or ("", 0, 0)))


def _rule_problem(desired: Desired, rule_id: str, message: str) -> Problem:
    """A problem at the expression of the rule `rule_id` in xtap.yaml."""
    file = desired.setting_sources.get("rules", SETTINGS_FILE).rsplit(":", 1)[0]
    line, col = positions(file, [("rules", rule_id, "expression")]).get(("rules", rule_id, "expression"), (1, 1))
    return Problem(file, line, col, message)
