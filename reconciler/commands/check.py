"""`xtap check`: the guardrail rules over policies/ and, with `--live`, over the tenant as it
is, judged with whether the users and groups they name still exist; the findings `xtap apply`
must pass, each located in its file; and the deleted users and groups a plan warns of."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconciler.commands.run import (
    EXIT_ERROR,
    EXIT_OK,
    Formats,
    Options,
    connect,
    load,
    read_all,
    run_graph,
    say,
    say_problems,
    say_unnamed,
)
from reconciler.core.address import Address, PropertyPath
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.names import Names
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.plan.labels import in_state
from reconciler.policies.load import SETTINGS_FILE, PolicyError, Problem, positions
from reconciler.policies.reader import parse
from reconciler.render.check import Checked, Located, findings_github, findings_json, findings_sarif, findings_text

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.check.engine import Finding
    from reconciler.explain.peers import Mismatch
    from reconciler.explain.peers import Tenant as PeerTenant


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
    try:
        checked = run_graph(_live(options, desired)) if live else findings(desired)
    except PolicyError as exc:  # a rule of your own that could not be judged
        say_problems(exc, options.policies, "the check cannot pass until it is fixed")
        return EXIT_ERROR
    if checked is None:
        return EXIT_ERROR
    print(FORMATS.render(checked, fmt), end="")
    return EXIT_ERROR if checked.failed else EXIT_OK


async def _live(options: Options, desired: Desired) -> Checked:
    """The findings over policies/ and the tenant as it is, over one connection: the live
    tenant, then whether the users and groups of this tenant that the files and the tenant name
    still exist (one getByIds per 1,000 ids; none when the token's claims lack
    Directory.Read.All, said once with the permission that would check it), then, after the
    rules, the names of the partners with findings (one tenant-information `$batch` per 20).
    Offline, check asks none of this: it sends Graph nothing at all."""
    from reconciler.graph.names import OBJECT_NAMES, look_up

    async with connect(options, desired.tenant) as graph:
        state = await read_all(graph, options.cloud)
        names = await look_up(graph, objects=in_state(desired, state).objects)
        checked = findings(desired, state, names)
        tenants = {tenant for located in checked.found if (tenant := _tenant(located.finding)) is not None}
        partners = await look_up(graph, tenants=tenants)
    kind, permissions = OBJECT_NAMES
    if kind in names.unavailable:
        say(
            f"Not checked: whether the users and groups of this tenant that the policies name still exist "
            f"({names.unavailable[kind]}); {permissions[0]} would let xtap check it (optional, docs/names.md)."
        )
    say_unnamed(partners)
    labelled = {tenant: label for tenant in sorted(tenants) if (label := partners.tenant(tenant)) is not None}
    return replace(checked, names=labelled)


def check_peers(options: Options, patterns: tuple[str, ...], fmt: str = "text") -> int:
    """Both sides of each partnership among the folders the patterns name (`explain.peers`):
    each folder is loaded as validate loads it and must bind its tenant, which is how the others
    find it. Offline: nothing is sent to Graph. Exit 1 on bad input, or when a finding fails."""
    from reconciler.commands.tenants import named
    from reconciler.explain.peers import mismatches

    folders = named(patterns, "--peers")
    if folders is None:
        return EXIT_ERROR
    tenants = []
    for folder in folders:
        desired = load(folder.policies, cloud=options.cloud)
        if desired is None:
            return EXIT_ERROR
        if desired.tenant is None:
            say(
                f"Error: {folder.policies / SETTINGS_FILE}: binds no tenant; with --peers each folder names its "
                "tenant (tenant: <GUID>), which is how the other folders find their partner"
            )
            return EXIT_ERROR
        tenants.append(_peer(desired, folder.policies))
    if len(tenants) < 2:
        say("Error: --peers needs the folders of two tenants at least; give a pattern like 'tenants/*/policies'")
        return EXIT_ERROR
    checked = Checked(locate_peers(mismatches(tenants)), [])
    print(FORMATS.render(checked, fmt), end="")
    return EXIT_ERROR if checked.failed else EXIT_OK


def _peer(desired: Desired, folder: Path) -> PeerTenant:
    """What `explain.peers` reads of one tenant's folder."""
    from reconciler.core.registry import (
        DEFAULT,
        IDENTITY_SYNC,
        MTO_IDENTITY_SYNC_TEMPLATE,
        MTO_PARTNER_TEMPLATE,
        PARTNER,
    )
    from reconciler.explain.peers import Declared, Tenant

    def declared(resource: str) -> dict[str, Declared]:
        return {a.id: Declared(i.written, i.file) for a, i in desired.of(resource).items()}

    def one(resource: str) -> Declared | None:
        return next(iter(declared(resource).values()), None)

    return Tenant(
        desired.tenant or "",
        str(folder / SETTINGS_FILE),
        declared(PARTNER.name),
        declared(IDENTITY_SYNC.name),
        one(DEFAULT.name),
        one(MTO_PARTNER_TEMPLATE.name),
        one(MTO_IDENTITY_SYNC_TEMPLATE.name),
    )


def locate_peers(found: Iterable[Mismatch]) -> list[Located]:
    """Each finding of `explain.peers` as check reports one, at its file:line:col, naming the
    other side's place where there is one."""
    from reconciler.check.engine import DESIRED, Finding, Rule, Subject, Violation
    from reconciler.core.rules import Selector, ToolKey
    from reconciler.explain.peers import RULES as PEER_RULES

    found = list(found)
    wanted: dict[str, set[PropertyPath]] = {}
    for mismatch in found:
        for at in filter(None, (mismatch.at, mismatch.other)):
            wanted.setdefault(at.file, set()).add(at.path)
    places = {file: positions(file, paths) for file, paths in wanted.items()}
    rules = {
        rule_id: Rule(rule_id, rule.title, "warning", rule.reason, rule.source, Selector(), _judged_in_pairs)
        for rule_id, rule in PEER_RULES.items()
    }
    located = []
    for mismatch in found:
        at, other = mismatch.at, mismatch.other
        message = mismatch.message
        if other is not None:
            message += " (the other side: {}:{}:{})".format(other.file, *places[other.file][other.path])
        subject = Subject(Address(at.resource, at.key), DESIRED, {}, ToolKey(), at.file)
        finding = Finding(rules[mismatch.rule], subject, Violation(at.path, message))
        located.append(Located(finding, (at.file, *places[at.file][at.path])))
    return sorted(located, key=lambda item: item.at or ("", 0, 0))


def _judged_in_pairs(subject: object) -> Iterable[Any]:
    """A peer rule's test: none, since `explain.peers` judges two tenants at once, not one
    resource at a time as the engine does."""
    return ()


def _tenant(finding: Finding) -> str | None:
    address = finding.subject.address
    return REGISTRY_BY_NAME[address.resource].tenant_of(address.id)


def findings(desired: Desired, state: Live | None = None, names: Names | None = None) -> Checked:
    """Every finding of the rules in force over `desired` (and `state`), located in its file,
    and the rules turned off: what `xtap check` reports and `xtap apply` must pass. `names`, what
    Graph's lookups found, lets a rule judge what only Graph knows (a group deleted since the
    file named it); without it such a rule finds nothing. A rule of your own that cannot be
    judged (over its budget, or the CEL library crashed on it) is a PolicyError at the rule in
    xtap.yaml, as one that does not compile is."""
    from reconciler.check.builtin import BUILTIN
    from reconciler.check.engine import RuleStopped, effective_rules, evaluate, subjects

    rules, off = effective_rules(BUILTIN, desired.rules)
    try:
        judged = evaluate(rules, subjects(desired, state, names), datetime.now(UTC).date())
    except RuleStopped as exc:
        raise PolicyError([_rule_problem(desired, exc.rule_id, str(exc))]) from None
    return Checked(locate(judged), off)


def missing_targets(desired: Desired, names: Names) -> list[Located]:
    """The users and groups of this tenant the files name that Graph says are gone, located:
    the findings of the built-in rule `target-exists` (as xtap.yaml adjusts it, waivers in force
    left out) on the desired state, so a plan warns of exactly what `xtap check --live` fails
    on. Nothing to judge, and no file read, when nothing is missing."""
    from reconciler.check.builtin import BUILTIN, TARGET_EXISTS
    from reconciler.check.engine import effective_rules, evaluate, subjects

    if not names.missing:
        return []
    rules, _ = effective_rules(BUILTIN, desired.rules)
    judged = evaluate(
        [rule for rule in rules if rule.id == TARGET_EXISTS], subjects(desired, None, names), datetime.now(UTC).date()
    )
    return locate(finding for finding in judged if finding.waiver is None)


def locate(judged: Iterable[Finding]) -> list[Located]:
    """Each finding with its position, reading each file with findings once more, in file order
    and the live tenant's (which no file declares) last."""
    judged = list(judged)
    files = {finding.subject.file for finding in judged if finding.subject.file is not None}
    blocks = {file: _listed_blocks(file, judged) for file in sorted(files)}
    in_file = {id(finding): _in_file(finding, blocks) for finding in judged}
    paths: dict[str, set[PropertyPath]] = {}
    for finding in judged:
        if finding.subject.file is not None:
            paths.setdefault(finding.subject.file, set()).add(in_file[id(finding)])
    found = {file: positions(file, wanted) for file, wanted in paths.items()}
    located = [
        Located(finding, None if (file := finding.subject.file) is None else (file, *found[file][in_file[id(finding)]]))
        for finding in judged
    ]
    return sorted(located, key=lambda item: (item.at is None, item.at or ("", 0, 0)))


def _listed_blocks(file: str, judged: list[Finding]) -> dict[str, list[Any]]:
    """The blocks of nested instances a file writes as a list (a partner's `m365Capabilities`),
    by key, for the findings about such instances; the file is read again only for them."""
    mine = [finding.subject for finding in judged if finding.subject.file == file]
    keys = {str(subject.prefix[0]) for subject in mine if subject.prefix}
    if not keys:
        return {}
    doc = parse(file, [])
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    return {key: block for key in keys if isinstance(block := data.get(key), list)}


def _in_file(finding: Finding, blocks: Mapping[str, Mapping[str, list[Any]]]) -> PropertyPath:
    """Where a finding's property is written in its file: within its own item where its instance
    is one of a list (found by its key, as the registry's key kind finds it), else at the path."""
    subject = finding.subject
    block = blocks.get(subject.file or "", {}).get(str(subject.prefix[0])) if subject.prefix else None
    if block is None:
        return finding.file_path
    rtype = REGISTRY_BY_NAME[subject.address.resource]
    try:
        item = rtype.key_kind.located(block, subject.address.id)
    except StopIteration:  # not in the file as read now: point at the block
        return finding.file_path
    index = next(index for index, each in enumerate(block) if each is item)
    # An item has no key of its own: a finding about it points at its first one, where it starts.
    path = finding.violation.path or tuple(item)[:1]
    return (*subject.prefix, index, *path)


def _rule_problem(desired: Desired, rule_id: str, message: str) -> Problem:
    """A problem at the expression of the rule `rule_id` in xtap.yaml."""
    file = desired.setting_sources.get("rules", SETTINGS_FILE).rsplit(":", 1)[0]
    line, col = positions(file, [("rules", rule_id, "expression")]).get(("rules", rule_id, "expression"), (1, 1))
    return Problem(file, line, col, message)
