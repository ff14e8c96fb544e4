"""`xtap check`'s findings as text, JSON, SARIF 2.1.0 (GitHub code scanning) and GitHub workflow
annotations. Each finding comes located (`Located`): the command has looked up the
`file:line:col` of the property at fault, so this only writes. Everything from outside (file
names, values, the messages of rules from xtap.yaml) goes through `escape.visible`, and each
format's own escapes after it: SARIF's for its message strings (where `[text](uri)` is a link
and `{0}` a placeholder) and its URIs, the runner's for annotations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from reconciler.check.engine import LIVE, Finding, Off, Rule
from reconciler.core.escape import visible
from reconciler.core.registry import REGISTRY_BY_NAME

FORMAT_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
GITHUB_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


@dataclass(frozen=True)
class Located:
    """A finding and where it is written: None for a live resource no file declares."""

    finding: Finding
    at: tuple[str, int, int] | None


@dataclass(frozen=True)
class Checked:
    """What a check found, in file order (findings on the live tenant last), and the rules
    turned off: the report every format writes."""

    found: list[Located]
    off: list[Off]
    # The partners the findings are about, by name ("Contoso Ltd (contoso.com)"): looked up by
    # `check --live` only, since check without it sends Graph nothing.
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Whether a finding fails the check (`Finding.fails`): what exits 1, and stops apply."""
        return any(located.finding.fails for located in self.found)


def _name(finding: Finding, names: Mapping[str, str]) -> str | None:
    """The name of the partner a finding is about, if it was looked up."""
    address = finding.subject.address
    tenant = REGISTRY_BY_NAME[address.resource].tenant_of(address.id)
    return None if tenant is None else names.get(tenant)


def _what(finding: Finding, names: Mapping[str, str]) -> str:
    """The finding in words; the partner's name, from Graph, is escaped with the rest by each
    format's own escaping."""
    subject = finding.subject
    where = " (live tenant)" if subject.state == LIVE else ""
    name = _name(finding, names)
    named = f" ({name})" if name else ""
    return f"{subject.address}{named}{where}: {finding.violation.message}"


def _status(finding: Finding) -> str:
    if finding.waiver is not None:
        waiver = finding.waiver
        return f"waived until {waiver.expires} by {waiver.owner}: {waiver.reason}"
    if finding.expired is not None:
        return f"waiver by {finding.expired.owner} expired on {finding.expired.expires}"
    return ""


def _place(located: Located) -> str:
    return "live tenant" if located.at is None else "{}:{}:{}".format(*located.at)


def describe(located: Located, names: Mapping[str, str] = MappingProxyType({})) -> str:
    """A finding on one line: where, its level, the rule and what is wrong (escaped)."""
    finding, rule = located.finding, located.finding.rule
    level = "waived" if finding.waiver is not None else rule.severity
    return visible(f"{_place(located)}: {level} [{rule.id}] {_what(finding, names)}")


def findings_text(checked: Checked) -> str:
    lines: list[str] = []
    for located in checked.found:
        finding, rule = located.finding, located.finding.rule
        lines.append(describe(located, checked.names))
        status = _status(finding)
        lines.extend(visible(f"    {text}") for text in (status, f"why: {rule.reason} ({rule.source})") if text)
        if rule.adjusted:
            lines.append(visible(f"    severity set in xtap.yaml: {rule.adjusted}"))
    lines.extend(visible(f"off: {rule.id} ({rule.reason})") for rule in checked.off)
    lines.append(_summary(checked))
    return "\n".join(lines) + "\n"


def _summary(checked: Checked) -> str:
    counts = {level: 0 for level in (*SARIF_LEVEL, "waived")}
    for located in checked.found:
        finding = located.finding
        counts["waived" if finding.waiver is not None else finding.rule.severity] += 1
    shown = ", ".join(
        f"{count} {level}" if level == "waived" else f"{count} {level}(s)" for level, count in counts.items()
    )
    verdict = "failed" if checked.failed else "passed"
    return f"Check {verdict}: {shown}; {len(checked.off)} rule(s) off."


def findings_json(checked: Checked) -> str:
    report = {
        "formatVersion": FORMAT_VERSION,
        "passed": not checked.failed,
        "findings": [_json_finding(located, checked.names) for located in checked.found],
        "off": [{"rule": rule.id, "reason": rule.reason} for rule in checked.off],
    }
    return json.dumps(report, indent=2) + "\n"


def _json_finding(located: Located, names: Mapping[str, str]) -> dict[str, Any]:
    finding, rule = located.finding, located.finding.rule
    file, line, col = located.at or (None, None, None)
    waiver = finding.waiver or finding.expired
    return {
        "rule": rule.id,
        "severity": rule.severity,
        "title": rule.title,
        "reason": rule.reason,
        "source": rule.source,
        "resource": finding.subject.address.resource,
        "id": finding.subject.address.id,
        "name": _name(finding, names),
        "state": finding.subject.state,
        "property": ".".join(map(str, finding.violation.path)),
        "message": finding.violation.message,
        "file": file,
        "line": line,
        "col": col,
        "fails": finding.fails,
        "waiver": None if waiver is None else {**waiver.model_dump(mode="json"), "expired": finding.waiver is None},
    }


def findings_sarif(checked: Checked, version: str) -> str:
    """One run, its rules those that found something; waived findings are suppressed results,
    so code scanning shows them as dismissed, with the reason."""
    found = checked.found
    rules = list({located.finding.rule.id: located.finding.rule for located in found}.values())
    index = {rule.id: i for i, rule in enumerate(rules)}
    driver = {
        "name": "xtap",
        "version": version,
        "rules": [_sarif_rule(rule) for rule in rules],
    }
    results = [_sarif_result(located, index[located.finding.rule.id], checked.names) for located in found]
    run = {"tool": {"driver": driver}, "results": results}
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    described = {
        "id": rule.id,
        "shortDescription": {"text": _sarif_text(rule.title)},
        "fullDescription": {"text": _sarif_text(rule.reason or rule.title)},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
    }
    # A built-in rule's source is its documentation; a rule of your own comes from xtap.yaml.
    return {**described, "helpUri": rule.source} if rule.source.startswith("https://") else described


def _sarif_result(located: Located, rule_index: int, names: Mapping[str, str]) -> dict[str, Any]:
    finding = located.finding
    text = " ".join(filter(None, (_what(finding, names), _status(finding))))
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVEL[finding.rule.severity],
        "message": {"text": _sarif_text(text)},
        "locations": [_sarif_location(located)],
    }
    if finding.waiver is not None:
        result["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": finding.waiver.reason}]
    return result


# SARIF plain-text messages (2.1.0 §3.11.5, §3.11.6): `[text](target)` is an embedded link, `{n}` a
# placeholder; a literal bracket or backslash is escaped with a backslash, a literal brace doubled.
_SARIF_ESCAPES = {ord(char): f"\\{char}" for char in "\\[]"} | {ord("{"): "{{", ord("}"): "}}"}


def _sarif_text(text: str) -> str:
    """A SARIF plain-text message saying `text`: on one line, with no link or placeholder that
    outside text could make, and no HTML tag (which plain text may not hold, §3.11.3): `<` and
    `>` are written as `visible` writes what it escapes."""
    tagless = visible(text).replace("<", "\\u003c").replace(">", "\\u003e")
    return tagless.translate(_SARIF_ESCAPES)


def _sarif_location(located: Located) -> dict[str, Any]:
    address = located.finding.subject.address
    logical = [{"fullyQualifiedName": f"{address.resource}/{address.id}", "kind": "resource"}]
    if located.at is None:
        return {"logicalLocations": logical}
    file, line, col = located.at
    region = {"startLine": line, "startColumn": col}
    return {
        "physicalLocation": {"artifactLocation": {"uri": _uri(file)}, "region": region},
        "logicalLocations": logical,
    }


def _uri(file: str) -> str:
    """The file relative to the working directory (the repository root in CI), as code
    scanning matches results to files; an absolute URI where the file lies outside it."""
    path = Path(file)
    try:
        relative = path if not path.is_absolute() else path.relative_to(Path.cwd())
    except ValueError:
        return path.as_uri()
    return quote(relative.as_posix())  # a URI reference: a space, `<` or `[` is percent-encoded


def findings_github(checked: Checked) -> str:
    """Workflow annotations, the one output where xtap prints workflow commands on purpose. The
    text is escaped twice: `visible` keeps it on one line, and the runner's own escapes keep
    `%`, `:` and `,` from ending a property or the command early."""
    lines = []
    for located in checked.found:
        finding = located.finding
        if finding.waiver is not None:
            continue  # accepted in review; the text and SARIF reports still list it
        rule = finding.rule
        properties = {"title": f"{rule.id}: {rule.title}"}
        if located.at is not None:
            file, line, col = located.at
            properties = {"file": _uri(file), "line": str(line), "col": str(col), **properties}
        shown = ",".join(f"{key}={_property(value)}" for key, value in properties.items())
        message = " ".join(filter(None, (_what(finding, checked.names), _status(finding), f"Why: {rule.reason}")))
        lines.append(f"::{GITHUB_COMMAND[rule.severity]} {shown}::{_data(message)}")
    return "".join(f"{line}\n" for line in lines)


def _data(text: str) -> str:
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
