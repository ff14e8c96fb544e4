"""xtap.yaml, xtap's own settings beside the policy files, and what in the files depends on it:
the ids of `rules:` and the waivers of each file's `xtap:` key, judged against the catalogue of
built-in rules (the one place the loader imports it) and `waiverMaxDays`.

xtap.yaml is as strict as a policy file: a mistyped setting is a problem at its key, since a
`tenant:` or `prune:` silently ignored would bind or delete the wrong thing; a setting a later
version reads is named as such.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.core.address import PropertyPath
from reconciler.core.desired import DesiredInstance, Prune
from reconciler.core.settings import Settings
from reconciler.policies.layout import SETTINGS_FILE, Layout, as_layout
from reconciler.policies.problems import PolicyError, Problem, described
from reconciler.policies.reader import Doc, every_position, parse, positions

# Settings a later version reads: named, so the error is clear.
LATER_SETTINGS = frozenset({"ignore"})


def read_settings(path: str | None, problems: list[Problem]) -> tuple[Settings, Prune | None, dict[str, str]]:
    """xtap.yaml, strict like every policy file, with where each of its keys stands; absent, or
    only comments, it binds nothing and prunes nothing."""
    if path is None or not os.path.isfile(path):
        return Settings(), None, {}
    doc = parse(path, problems, empty_means={})
    if doc is None:
        return Settings(), None, {}
    unknown = [key for key in doc.data if key not in Settings.model_fields]
    found = [doc.at((key,), _settings_key_message(key), on_key=True) for key in unknown]
    if not found:
        try:
            settings = Settings.model_validate(doc.data)
        except ValidationError as exc:
            marked = every_position(doc)  # a bad tenant id may sit in a list: point at it
            found = [_named_rule(marked.at(*described(error)), error["loc"]) for error in exc.errors()]
        else:
            wrong = list(_rule_id_problems(settings))
            if not wrong:
                return settings, _prune(settings, doc), {key: doc.source(key) for key in doc.data}
            marked = every_position(doc)
            found = [marked.at(("rules", rule_id), message, on_key=True) for rule_id, message in wrong]
    problems.extend(found)
    return Settings(), None, {}


def load_settings(folder: Path | str | Layout) -> Settings:
    """xtap.yaml alone: the tenant binding, which Graph commands need before their first request,
    while the policy files are still loading. Raises PolicyError like `load.load_policies`.
    Here, not in the loader's front, and without the policy files' module (whose `xtap:` key
    name only the waivers' check needs): checking xtap.yaml imports its own model, not the
    Graph models, and the first request waits for no more.

    A link that leads out of the folder is refused here too, before xtap.yaml is read: the
    files load while the tenant is read, and a file from elsewhere on the machine (a runner's
    credentials, another tenant's folder) must never get as far as a request to Graph."""
    layout = as_layout(folder)
    if layout.links_outside:
        raise PolicyError(list(layout.links_outside))
    problems: list[Problem] = []
    settings, _, _ = read_settings(layout.settings, problems)
    if problems:
        raise PolicyError(problems)
    return settings


def waiver_problems(instances: Iterable[DesiredInstance], settings: Settings) -> Iterator[Problem]:
    """Each waiver that cannot stand, said where it is written: one of a rule that does not
    exist (built in or in `rules:`) waives nothing; one that expires more than `waiverMaxDays`
    from today would let an exception granted in one pull request outlive anyone's memory of
    why."""
    from reconciler.check.builtin import BUILTIN_IDS  # see _rule_id_problems
    from reconciler.policies.policy_file import TOOL_KEY  # see load_settings

    known = {*BUILTIN_IDS, *settings.rules}
    max_days = settings.waiverMaxDays
    latest = date.today() + timedelta(days=max_days)
    files = {instance.file: instance.tool for instance in instances}
    for file, tool in files.items():
        wrong: dict[PropertyPath, str] = {}
        for i, waiver in enumerate(tool.waivers):
            if waiver.rule not in known:
                wrong[(TOOL_KEY, "waivers", i, "rule")] = f"waiver of unknown rule {waiver.rule!r}"
            if waiver.expires > latest:
                wrong[(TOOL_KEY, "waivers", i, "expires")] = (
                    f"waiver of {waiver.rule!r} expires {waiver.expires.isoformat()}, more than {max_days} days "
                    f"from today: set it to {latest.isoformat()} at the latest and renew it then "
                    f"(waiverMaxDays in {SETTINGS_FILE} sets the limit)"
                )
        for path, at in positions(file, wrong).items():
            yield Problem(file, *at, wrong[path])


def _named_rule(problem: Problem, loc: tuple[Any, ...]) -> Problem:
    """A problem with a rule's expression names the rule: it may be one of many, and the one that
    does not compile, or is over a bound of its size or shape (`core.cel.bounded`), is the one
    to fix or split."""
    if len(loc) == 3 and loc[0] == "rules" and loc[2] == "expression":
        return replace(problem, message=f"rule {loc[1]!r}: {problem.message}")
    return problem


def _rule_id_problems(settings: Settings) -> Iterator[tuple[str, str]]:
    """An entry of `rules:` adjusts a built-in rule or, with an expression, is a rule of your
    own; a typo in a built-in's id must not leave the rule silently on."""
    for rule_id, rule in settings.rules.items():
        # Imported for the first rule, not before: a Graph command reads xtap.yaml (the tenant
        # binding) before its first request, and the rules engine is not needed for that.
        from reconciler.check.builtin import BUILTIN_IDS

        if rule.expression is None and rule_id not in BUILTIN_IDS:
            known = ", ".join(sorted(BUILTIN_IDS))
            yield rule_id, f"no built-in rule {rule_id!r} (built-in: {known}); a rule of your own needs an expression"
        elif rule.expression is not None and rule_id in BUILTIN_IDS:
            yield rule_id, f"{rule_id!r} is a built-in rule; give your rule another id"


def _prune(settings: Settings, doc: Doc) -> Prune | None:
    if not settings.prune:
        return None
    return Prune(
        doc.source("prune"),
        frozenset(settings.protected),
        frozenset(settings.pruneServiceMade),
        settings.pruneLimit,
    )


def _settings_key_message(key: str) -> str:
    allowed = ", ".join(Settings.model_fields)
    if key in LATER_SETTINGS:
        return f"{key!r} is not supported yet in {SETTINGS_FILE} (supported: {allowed})"
    return f"unknown setting {key!r} in {SETTINGS_FILE} (supported: {allowed})"
