"""The settings that shape a plan, and how a pull request changes them.

xtap.yaml (prune and its guards, the tenant binding, guardrail rules) and each file's `xtap:`
key (a partner marked trusted, its waivers and labels) are never sent to Graph, yet they decide
what apply deletes and what the guardrails let through. A pull request that only turns prune
on plans "no changes" and still deletes, at the next apply, the partner an admin adds in the
portal. So these settings are reviewed like changes: every plan states the ones that are not
the defaults (`stated`), and, given the base branch's folder, each one the pull request
changes, before and after, with what it will do later (`changed`).

Pure: built from `Desired` alone; the plan carries the result as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.core.desired import Desired
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.core.settings import WAIVER_MAX_DAYS
from reconciler.plan.model import SETTINGS_SCOPE, PolicySetting, SettingChange

# Per file, the `xtap:` keys that shape a plan or a guardrail; `name` and `notes` only describe.
TOOL_SETTINGS = ("trusted", "labels", "waivers")


def stated(desired: Desired) -> tuple[PolicySetting, ...]:
    """Every setting of `desired` that is not its default: xtap.yaml's, then each file's."""
    return (*_folder_settings(desired), *_tool_settings(desired))


def _folder_settings(desired: Desired) -> Iterator[PolicySetting]:
    settings = desired.settings
    for name, value in settings.model_dump(exclude_defaults=True, exclude={"rules"}).items():
        shown = sorted(value) if isinstance(value, list) else value
        yield PolicySetting(SETTINGS_SCOPE, name, shown, desired.setting_sources.get(name))
    for rule_id, rule in sorted(settings.rules.items()):
        source = desired.setting_sources.get("rules")
        yield PolicySetting(SETTINGS_SCOPE, f"rules.{rule_id}", rule.model_dump(exclude_defaults=True), source)


def _tool_settings(desired: Desired) -> Iterator[PolicySetting]:
    """A file's `xtap:` key once, under the resource the file declares (a nested identity sync
    shares its partner's key). Most files' keys are one object (the loader shares equal ones,
    `policies/workers.py`): each is dumped once."""
    dumped: dict[int, dict[str, Any]] = {}  # by the key's id; `instances` holds each key meanwhile
    for address, instance in sorted(desired.instances.items()):
        if REGISTRY_BY_NAME[address.resource].parents:
            continue
        tool = dumped.get(id(instance.tool))
        if tool is None:
            tool = dumped[id(instance.tool)] = instance.tool.model_dump(
                include=set(TOOL_SETTINGS), exclude_defaults=True, mode="json"
            )
        for name in TOOL_SETTINGS:
            if name in tool:
                yield PolicySetting(str(address), f"xtap.{name}", tool[name], instance.file)


def changed(base: Iterable[PolicySetting], now: Iterable[PolicySetting]) -> tuple[SettingChange, ...]:
    """Each setting whose value differs between the base branch and now, in the order of `now`
    and then of what only the base had."""
    before = {setting.key: setting for setting in base}
    after = {setting.key: setting for setting in now}
    changes = []
    for key in [*after, *(key for key in before if key not in after)]:
        was, wants = before.get(key), after.get(key)
        old, new = (None if was is None else was.value), (None if wants is None else wants.value)
        if old != new:
            source = wants.source if wants is not None else None
            changes.append(SettingChange(key[0], key[1], old, new, effect(key[1], old, new), source))
    return tuple(changes)


def effect(name: str, before: Any, after: Any) -> str:
    """What a setting's change does from the next apply on, in a reviewer's words."""
    if name == "prune":
        if after:
            return "prune on: a live partner no file declares (one added in the portal, say) is deleted by apply"
        return "prune off: live partners no file declares are left alone"
    if name == "pruneLimit":
        share = 1.0 if after is None else after
        return f"one plan may delete at most {share:.0%} of the live partners"
    if name in ("protected", "pruneServiceMade"):
        return _list_effect(name, before or [], after or [])
    if name == "tenant":
        if after is None:
            return "no tenant binding: a token for any tenant is used as it is"
        return f"bound to tenant {after}: a token for any other tenant is refused before any request"
    if name == "waiverMaxDays":
        return f"a waiver may run at most {WAIVER_MAX_DAYS if after is None else after} days"
    if name.startswith("rules."):
        return _rule_effect(name.removeprefix("rules."), before, after)
    if name == "xtap.trusted":
        if after:
            return "marked trusted: inbound trust for it passes the inbound-trust-only-trusted guardrail"
        return "no longer trusted: inbound trust for it fails the inbound-trust-only-trusted guardrail"
    if name == "xtap.waivers":
        return _waiver_effect(before or [], after or [])
    return "rules that select by label select it differently"


def _list_effect(name: str, before: list[str], after: list[str]) -> str:
    added = [tenant for tenant in after if tenant not in before]
    removed = [tenant for tenant in before if tenant not in after]
    if name == "protected":
        parts = ["never deleted by prune: " + ", ".join(added)] if added else []
        parts += ["prune may delete again (if no file declares it): " + ", ".join(removed)] if removed else []
    else:
        parts = ["prune may delete these service-made partners: " + ", ".join(added)] if added else []
        parts += ["prune spares again: " + ", ".join(removed)] if removed else []
    return "; ".join(parts)


def _rule_effect(rule_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if after is None:
        built_in = before is not None and "expression" not in before
        return f"rule {rule_id} as built in again" if built_in else f"rule {rule_id} removed"
    if after.get("enabled") is False:
        return f"rule {rule_id} off: its findings no longer fail the check nor block apply"
    if "expression" in after:
        return f"rule of your own {rule_id}: {after.get('severity', 'error')} when its expression is false"
    return f"rule {rule_id} now has severity {after.get('severity', 'as built in')}"


def _waiver_effect(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    added = [waiver for waiver in after if waiver not in before]
    removed = [waiver for waiver in before if waiver not in after]
    parts = [
        f"waives {w['rule']} until {w['expires']} (owner {w['owner']}): its finding no longer fails" for w in added
    ]
    parts += [f"no longer waives {w['rule']}: its finding fails again" for w in removed]
    return "; ".join(parts)
