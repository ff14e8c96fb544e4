"""`xtap check`: guardrail rules over the desired state (and the live tenant), as findings.

A plan says what will change; a rule says whether the result is allowed, while the change is
still in review. Pure: subjects are made from `Desired` and `Live`, rules are data with a test
function (built-in ones in `rules_builtin`, the repository's own in CEL), and a finding names
the property at fault; where that property is written in its file is looked up only when a
report is rendered. Rules select resource types by name, so a new type needs no code here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from reconciler.address import Address
from reconciler.desired import Desired
from reconciler.live import Live
from reconciler.registry import REGISTRY_BY_NAME
from reconciler.rule_settings import RuleSetting, Selector, Severity, ToolKey, Waiver

Path_ = tuple[str | int, ...]
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
    prefix: Path_ = ()  # a nested resource's key in its parent's file

    @property
    def tenant(self) -> str | None:
        return None if REGISTRY_BY_NAME[self.address.resource].singleton_id else self.address.id


@dataclass(frozen=True)
class Violation:
    path: Path_  # the property at fault, within the resource
    message: str


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
    def file_path(self) -> Path_:
        """The property's path in the file, for its position."""
        return (*self.subject.prefix, *self.violation.path)


@dataclass(frozen=True)
class Off:
    """A built-in rule the repository turned off, and why: reports list it, so it stays visible."""

    id: str
    reason: str


def subjects(desired: Desired, live: Live | None = None) -> list[Subject]:
    """Every desired resource, then every live one (with the `xtap:` key and file of the file
    that declares it, if one does)."""
    found = [
        _desired(address, instance.written, instance.tool, instance.file)
        for address, instance in desired.instances.items()
    ]
    for address, wire in sorted((live.instances if live else {}).items()):
        declared = desired.instances.get(address)
        tool, file = (declared.tool, declared.file) if declared else (ToolKey(), None)
        found.append(Subject(address, LIVE, wire, tool, file, _prefix(address)))
    return found


def _desired(address: Address, written: Mapping[str, Any], tool: ToolKey, file: str) -> Subject:
    values = {**REGISTRY_BY_NAME[address.resource].absent_means, **written}
    return Subject(address, DESIRED, values, tool, file, _prefix(address))


def _prefix(address: Address) -> Path_:
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
    from reconciler import cel_expr

    program = cel_expr.compile_expression(setting.expression or "")
    path: Path_ = tuple((setting.property or "").split(".")) if setting.property else ()
    message = setting.message or ""

    def test(subject: Subject) -> Iterator[Violation]:
        held = cel_expr.holds(program, _variables(subject))
        if held is not True:
            yield Violation(path, message if held is False else f"{message} (could not evaluate: {held})")

    return Rule(rule_id, message, setting.severity or "error", setting.reason or "", "xtap.yaml", setting.select, test)


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


def evaluate(rules: Iterable[Rule], found: Iterable[Subject], today: date) -> list[Finding]:
    """Every violation of every rule, with the resource's waiver of that rule, if any. A live
    finding the desired state already has is left out: the file is where it gets fixed."""
    findings: list[Finding] = []
    seen: set[tuple[str, Address, Path_]] = set()
    ordered = sorted(found, key=lambda subject: subject.state != DESIRED)  # desired first
    for rule in rules:
        for subject in ordered:
            if not selects(rule.selector, subject):
                continue
            for violation in rule.test(subject):
                key = (rule.id, subject.address, violation.path)
                if key not in seen:
                    seen.add(key)
                    findings.append(_waived(Finding(rule, subject, violation), today))
    return findings


def _waived(finding: Finding, today: date) -> Finding:
    waivers = [waiver for waiver in finding.subject.tool.waivers if waiver.rule == finding.rule.id]
    if not waivers:
        return finding
    latest = max(waivers, key=lambda waiver: waiver.expires)
    if latest.expires >= today:  # valid through its expiry day
        return replace(finding, waiver=latest)
    return replace(finding, expired=latest)
