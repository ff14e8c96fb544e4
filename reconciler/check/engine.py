"""`xtap check`: guardrail rules over the desired state (and the live tenant), as findings.

A plan says what will change; a rule says whether the result is allowed, while the change is
still in review. Subjects are made from `Desired` and `Live`, rules are data with a test
function (built-in ones in `check.builtin`, Python, run here; the repository's own in CEL, run
in a worker process under a budget by `check.worker`), and a finding names the property at
fault; where that property is written in its file is looked up only when a report is
rendered. Rules select resource types by name, so a new type needs no code here.

A rule may need more than the resource itself: a nested one (a partner's Microsoft 365
capability) is judged with the instance that holds it, and a partner with the default it
inherits from. Which instance those are is registry data (`parent_address`, `inherits_from`), so
each subject carries them, from the same state, without the engine naming a type. So does what
the name lookups found (`Names`, with `--live`): whether the users and groups a resource names
still exist is known only to Graph, and a rule reads it from the subject like anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from reconciler.core.address import Address, PropertyPath
from reconciler.core.desired import Desired
from reconciler.core.live import Live
from reconciler.core.names import Names
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.core.rules import RuleSetting, Selector, Severity, ToolKey, Waiver

if TYPE_CHECKING:  # the CEL runtime loads only for a folder with rules of its own
    from reconciler.check.worker import Budget

DESIRED, LIVE = "desired", "live"


@dataclass(frozen=True)
class Subject:
    """One resource as a rule sees it: its values (a desired one's absent properties filled in
    with what absent means, so a default.yaml without a setting is judged by the system value it
    declares), its file's `xtap:` key, and where its properties sit in that file."""

    address: Address
    state: str  # DESIRED or LIVE
    values: Mapping[str, Any]
    tool: ToolKey
    file: str | None  # the policy file that declares it; None for a live resource no file has
    prefix: PropertyPath = ()  # a nested resource's key in its parent's file
    # The instance that holds a nested one, in the same state: what a capability needs is set
    # on its partner. None for a top-level resource (or a parent the state does not have).
    parent: Subject | None = None
    # The values of the instance its type inherits a null setting from (`inherits_from`: a
    # partner's default), in the same state; desired, the default as policies/ declares it over
    # the live one, that is, as it will be after an apply. None: nothing to inherit, or unknown.
    inherited: Mapping[str, Any] | None = None
    # What Graph's name lookups found (this tenant's users and groups that are gone, among the
    # rest); None offline, where no rule may judge what only Graph knows. Shared by every
    # subject of one check, so neither compared nor shown.
    names: Names | None = field(default=None, compare=False, repr=False)

    @property
    def tenant(self) -> str | None:
        """The tenant a resource is about: a nested one's is its parent's (a capability's id is
        its partner's tenant id and its own name)."""
        if self.parent is not None:
            return self.parent.tenant
        return None if REGISTRY_BY_NAME[self.address.resource].singleton_id else self.address.id

    def setting(self, name: str) -> Any:
        """Top-level setting `name` in effect: its own value, or where that is null (or an object
        of nulls, which Graph returns for "unset"), the value it inherits."""
        own = self.values.get(name)
        if _unset(own) and self.inherited is not None:
            return self.inherited.get(name)
        return own

    @property
    def key(self) -> tuple[str, Address]:
        """Unique among the subjects of one check: a resource is judged once desired, once live."""
        return self.state, self.address


@dataclass(frozen=True)
class Violation:
    path: PropertyPath  # the property at fault, within the resource
    message: str


@dataclass(frozen=True)
class Own:
    """What makes a rule of your own: its CEL expression, which must hold for each resource the
    rule selects, the property a finding points at, and the message when it does not hold."""

    expression: str
    path: PropertyPath
    message: str

    def violations(self, held: bool | str) -> Iterator[Violation]:
        if held is not True:
            message = self.message if held is False else f"{self.message} (could not evaluate: {held})"
            yield Violation(self.path, message)


@dataclass(frozen=True)
class Mark:
    """What answers a rule's finding in the resource's own file, where the finding is about a
    decision the tenant shows someone already made: the `xtap:` member to set true, and why.
    `xtap export` writes the tenant as it is, so where the tenant already does what the rule asks
    a file to mark (trusts a partner's claims), export sets the mark with `why` beside it for
    review, instead of handing over a folder whose first check fails. Data on the rule, so
    export learns which rules a mark answers from the catalogue, not from a property name."""

    member: str  # a member of `ToolKey` (the file's `xtap:` key) that, true, answers the rule
    why: str  # the comment export writes beside the mark it sets


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    reason: str
    source: str  # where the rule comes from: a baseline or guidance URL, or xtap.yaml
    selector: Selector
    test: Callable[[Subject], Iterable[Violation]]
    # Why the repository changed its severity (xtap.yaml), shown with each finding.
    adjusted: str | None = None
    # A rule of your own: `evaluate` runs its CEL in a worker process (`check.worker`) and gives it
    # the test that reads the outcomes.
    own: Own | None = None
    # The mark in the resource's file that answers a finding (None: only a change of settings,
    # or a waiver, does).
    mark: Mark | None = None


class RuleStopped(Exception):
    """A rule of your own could not be judged at all: over its budget, or the CEL library crashed
    on it. Nothing is reported then: a check that cannot judge every rule must not pass."""

    def __init__(self, rule_id: str, message: str) -> None:
        self.rule_id = rule_id
        super().__init__(message)


@dataclass(frozen=True)
class Finding:
    rule: Rule
    subject: Subject
    violation: Violation
    waiver: Waiver | None = None  # in force: the finding is accepted
    expired: Waiver | None = None  # past its date: the finding fails again, and says so

    @property
    def fails(self) -> bool:
        return self.rule.severity == "error" and self.waiver is None

    @property
    def file_path(self) -> PropertyPath:
        """The property's path in the file, for its position."""
        return (*self.subject.prefix, *self.violation.path)


@dataclass(frozen=True)
class Off:
    """A built-in rule the repository turned off, and why: reports list it, so it stays visible."""

    id: str
    reason: str


def subjects(desired: Desired, live: Live | None = None, names: Names | None = None) -> list[Subject]:
    """Every desired resource, then every live one (with the `xtap:` key and file of the file
    that declares it, if one does), each with its parent, what it inherits and what the name
    lookups found (`names`: None when none were made)."""
    values: dict[str, Mapping[Address, Mapping[str, Any]]] = {
        DESIRED: {
            address: {**REGISTRY_BY_NAME[address.resource].absent_means, **instance.written}
            for address, instance in desired.instances.items()
        },
        LIVE: live.instances if live else {},
    }
    made: dict[tuple[str, Address], Subject] = {}

    def subject(state: str, address: Address) -> Subject:
        if (state, address) not in made:
            rtype = REGISTRY_BY_NAME[address.resource]
            declared = desired.instances.get(address)
            tool, file = (declared.tool, declared.file) if declared else (ToolKey(), None)
            above = rtype.parent_address(address.id)
            parent = subject(state, above) if above is not None and above in values[state] else None
            inherited = _inherited(rtype.inherits_from, state, values)
            made[state, address] = Subject(
                address, state, values[state][address], tool, file, _prefix(address), parent, inherited, names
            )
        return made[state, address]

    return [subject(DESIRED, address) for address in desired.instances] + [
        subject(LIVE, address) for address in sorted(values[LIVE])
    ]


def _inherited(
    source: str | None, state: str, values: Mapping[str, Mapping[Address, Mapping[str, Any]]]
) -> Mapping[str, Any] | None:
    """The values of the instance a type inherits from (always one: a singleton), in `state`;
    desired, what policies/ declares over what is live, so a property default.yaml leaves
    unmanaged is judged as the tenant has it."""
    if source is None:
        return None
    rtype = REGISTRY_BY_NAME[source]
    address = Address(rtype.name, rtype.singleton_id or "")
    layers = [values[LIVE].get(address), values[DESIRED].get(address) if state == DESIRED else None]
    found = [layer for layer in layers if layer is not None]
    return {key: value for layer in found for key, value in layer.items()} if found else None


def _unset(value: Any) -> bool:
    """Null, or an object whose members are all unset (`@odata.type` aside): Graph's way of
    saying "not configured"."""
    if isinstance(value, dict):
        return all(_unset(member) for key, member in value.items() if not key.startswith("@odata."))
    return value is None


def _prefix(address: Address) -> PropertyPath:
    nested = REGISTRY_BY_NAME[address.resource].nested_key
    return () if nested is None else (nested,)


def effective_rules(builtin: Iterable[Rule], settings: Mapping[str, RuleSetting]) -> tuple[list[Rule], list[Off]]:
    """The built-in rules as xtap.yaml adjusts them, then its own; and the ones turned off."""
    rules: list[Rule] = []
    off: list[Off] = []
    for rule in builtin:
        setting = settings.get(rule.id)
        if setting is None:
            rules.append(rule)
        elif not setting.enabled:
            off.append(Off(rule.id, setting.reason or ""))
        else:
            rules.append(replace(rule, severity=setting.severity or rule.severity, adjusted=setting.reason))
    for rule_id, setting in settings.items():
        if setting.expression is not None and setting.enabled:
            rules.append(_own(rule_id, setting))
        elif setting.expression is not None:
            off.append(Off(rule_id, setting.reason or ""))
    return rules, off


def _own(rule_id: str, setting: RuleSetting) -> Rule:
    """A rule of the repository's own: its CEL expression must be true for each resource it
    selects. The expression sees `resource` (the values), `type`, `id`, `state` and `xtap`."""
    path: PropertyPath = tuple((setting.property or "").split(".")) if setting.property else ()
    own = Own(setting.expression or "", path, setting.message or "")
    title, severity = own.message, setting.severity or "error"
    return Rule(rule_id, title, severity, setting.reason or "", "xtap.yaml", setting.select, _unjudged, own=own)


def _unjudged(subject: Subject) -> Iterator[Violation]:
    raise RuntimeError("a rule of your own is judged by `evaluate`, in a worker process")


def _variables(subject: Subject) -> dict[str, Any]:
    # An unnamed file's `xtap` has no `name` key, so `has(xtap.name)` means what it says.
    named = {} if subject.tool.name is None else {"name": subject.tool.name}
    tool = {**named, "labels": subject.tool.labels, "trusted": subject.tool.trusted}
    return {
        "resource": dict(subject.values),
        "type": subject.address.resource,
        "id": subject.address.id,
        "state": subject.state,
        "xtap": tool,
    }


def selects(selector: Selector, subject: Subject) -> bool:
    """Every list the selector gives matches (an empty one matches everything)."""
    tool = subject.tool
    return (
        (not selector.types or subject.address.resource in selector.types)
        and (not selector.tenants or subject.tenant in selector.tenants)
        and (not selector.names or tool.name in selector.names)
        and (not selector.labels or any(label in tool.labels for label in selector.labels))
    )


def evaluate(
    rules: Iterable[Rule], found: Iterable[Subject], today: date, budget: Budget | None = None
) -> list[Finding]:
    """Every violation of every rule, with the resource's waiver of that rule, if any. A live
    finding the desired state already has is left out: the file is where it gets fixed. The
    rules of your own are judged first, in a worker process under `budget` (`RuleStopped` when
    one cannot be)."""
    findings: list[Finding] = []
    seen: set[tuple[str, Address, PropertyPath]] = set()
    ordered = sorted(found, key=lambda subject: subject.state != DESIRED)  # desired first
    for rule in _judged(list(rules), ordered, budget):
        for subject in ordered:
            if not selects(rule.selector, subject):
                continue
            for violation in rule.test(subject):
                key = (rule.id, subject.address, violation.path)
                if key not in seen:
                    seen.add(key)
                    findings.append(_waived(Finding(rule, subject, violation), today))
    return findings


def _judged(rules: list[Rule], ordered: list[Subject], budget: Budget | None) -> list[Rule]:
    """The rules, each of your own with a test that reads what its CEL said of each subject, all
    judged in one worker run. Without a rule of your own no worker starts: built-in rules are
    Python, bounded, and run here."""
    own = [(rule, rule.own) for rule in rules if rule.own is not None]
    if not own:
        return rules
    from reconciler.check import worker as cel_worker

    selected = [[index for index, subject in enumerate(ordered) if selects(rule.selector, subject)] for rule, _ in own]
    variables = {index: _variables(ordered[index]) for indexes in selected for index in indexes}
    try:
        expressions = [cel.expression for _, cel in own]
        outcomes = cel_worker.judge(expressions, selected, variables, budget or cel_worker.Budget())
    except cel_worker.Stopped as exc:
        rule_id = own[exc.rule][0].id
        on = "" if exc.subject is None else f" on {_named(ordered[exc.subject])}"
        raise RuleStopped(rule_id, f"rule {rule_id!r}{on} {exc.what}; simplify it") from None
    tests = {
        rule.id: _reading(cel, {ordered[index].key: held for index, held in zip(indexes, each, strict=True)})
        for (rule, cel), indexes, each in zip(own, selected, outcomes, strict=True)
    }
    return [replace(rule, test=tests[rule.id]) if rule.id in tests else rule for rule in rules]


def _reading(own: Own, held: dict[tuple[str, Address], bool | str]) -> Callable[[Subject], Iterator[Violation]]:
    """The test of a judged rule of your own: what its CEL said of the subject."""
    return lambda subject: own.violations(held[subject.key])


def _named(subject: Subject) -> str:
    return f"{subject.address.resource} {subject.address.id} ({subject.state})"


def _waived(finding: Finding, today: date) -> Finding:
    waivers = [waiver for waiver in finding.subject.tool.waivers if waiver.rule == finding.rule.id]
    if not waivers:
        return finding
    latest = max(waivers, key=lambda waiver: waiver.expires)
    if latest.expires >= today:  # valid through its expiry day
        return replace(finding, waiver=latest)
    return replace(finding, expired=latest)
