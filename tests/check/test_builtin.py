"""The built-in rules of `check/builtin.py`: each fires on a resource that breaks it and stays
quiet once it is put right, judged in memory (no files, no I/O), and none is left without a case."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import MFA, findings_of

from reconciler.check.builtin import BUILTIN, TARGET_EXISTS
from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.core.rules import ToolKey


def everyone(access: str, users: str = "AllUsers", apps: str = "AllApplications") -> dict[str, Any]:
    return {
        "usersAndGroups": {"accessType": access, "targets": [{"target": users, "targetType": "user"}]},
        "applications": {"accessType": access, "targets": [{"target": apps, "targetType": "application"}]},
    }


BLOCKED = everyone("blocked")


OPEN = everyone("allowed")


CLOSED_DEFAULT = {"b2bCollaborationInbound": BLOCKED, "b2bDirectConnectInbound": BLOCKED, "tenantRestrictions": BLOCKED}


BLOCKED_GROUP = {
    "accessType": "blocked",
    "targets": [{"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"}],
}


# Each built-in rule: a resource it fires on, and the same resource put right.
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], ToolKey]] = {
    "default-b2b-collaboration-inbound-blocked": (
        "default",
        {**CLOSED_DEFAULT, "b2bCollaborationInbound": OPEN},
        CLOSED_DEFAULT,
        ToolKey(),
    ),
    "default-b2b-direct-connect-inbound-blocked": (
        "default",
        # blocked for one group only: everyone else is let in, to every application
        {**CLOSED_DEFAULT, "b2bDirectConnectInbound": {**OPEN, "usersAndGroups": BLOCKED_GROUP}},
        CLOSED_DEFAULT,
        ToolKey(),
    ),
    "inbound-trust-only-trusted": ("partner", MFA, MFA, ToolKey(trusted=True)),
    "no-b2b-direct-connect-inbound-to-everyone": (
        "partner",
        {"b2bDirectConnectInbound": OPEN},
        {"b2bDirectConnectInbound": everyone("allowed", apps="Office365")},
        ToolKey(),
    ),
    "default-tenant-restrictions-declared": (
        "default",
        {**CLOSED_DEFAULT, "tenantRestrictions": {"usersAndGroups": None, "applications": None}},
        CLOSED_DEFAULT,
        ToolKey(),
    ),
}


def test_every_built_in_rule_has_a_case() -> None:
    """Rules on a nested type are judged with their parent, in a file of their own
    (test_builtin_capabilities.py), and the rule on every type judges what Graph's lookups found
    (test_builtin_targets.py)."""
    nested = {rule.id for rule in BUILTIN if rule.selector.types and REGISTRY_BY_NAME[rule.selector.types[0]].parents}
    everywhere = {rule.id for rule in BUILTIN if not rule.selector.types}
    assert nested and everywhere == {TARGET_EXISTS}
    assert sorted(CASES) == sorted(rule.id for rule in BUILTIN if rule.id not in nested | everywhere)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_built_in_rule_fires(rule_id: str) -> None:
    resource, bad, _, _ = CASES[rule_id]
    assert rule_id in [finding.rule.id for finding in findings_of(resource, bad, ToolKey())]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_built_in_rule_stays_quiet(rule_id: str) -> None:
    resource, _, good, tool = CASES[rule_id]
    assert rule_id not in [finding.rule.id for finding in findings_of(resource, good, tool)]
