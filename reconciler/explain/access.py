"""How one setting's two halves decide whether a subject gets through, by Graph's own reading.

A B2B setting has a users-and-groups half and an applications half, each `allowed` or `blocked`
for its targets. Graph's "Interpreting the API response" table
(https://learn.microsoft.com/graph/api/resources/crosstenantaccesspolicy-overview) reads them so:
a half that allows lets in only what it names, a half that blocks keeps out what it names, and a
subject must get past each half; except when both halves block, where together they block the
users they name from the applications they name, and leave everything else open ("Block users
in group 'g1' from accessing any application": "Other users not in group 'g1' have access to
all applications"). Every row of that table is a test (tests/explain/test_access.py), and
docs/explain.md says what xtap assumes where the table is silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ALLOWED, BLOCKED = "allowed", "blocked"
ALL_USERS, ALL_APPLICATIONS = "AllUsers", "AllApplications"
APPLICATIONS = "applications"
# The application keywords that name a suite, and the keywords asked about (`--app`) each takes
# in. Which application ids belong to a suite Microsoft does not list in the API, so an id is
# never taken to be in one (docs/explain.md).
SUITES: Mapping[str, frozenset[str]] = {
    "allmicrosoftapps": frozenset({"allmicrosoftapps", "office365"}),
    "office365": frozenset({"office365"}),
}


@dataclass(frozen=True)
class Subject:
    """Who asks for what: a user (object id), the groups they are in, an application (appId or
    a keyword such as Office365). Left out, each is one that no target names by its id."""

    user: str | None = None
    groups: tuple[str, ...] = ()
    app: str | None = None


@dataclass(frozen=True)
class Half:
    """One half of a setting as it applies: `usersAndGroups` (or `users`) or `applications`."""

    name: str
    access: str
    targets: tuple[tuple[str, str], ...]  # (target, targetType), as Graph writes them

    @classmethod
    def of(cls, name: str, value: Mapping[str, Any]) -> Half:
        targets = value.get("targets") or ()
        pairs = tuple((str(t.get("target", "")), str(t.get("targetType", ""))) for t in targets if isinstance(t, dict))
        return cls(name, str(value.get("accessType", "")), pairs)


@dataclass(frozen=True)
class Matched:
    """A half judged for a subject: the target that names the subject (None when none does),
    why, and whether the subject gets past this half on its own."""

    half: Half
    target: str | None
    why: str

    @property
    def passes(self) -> bool:
        """An access type other than allowed or blocked (Graph's `unknownFutureValue`) lets no one past."""
        if self.half.access not in (ALLOWED, BLOCKED):
            return False
        return (self.half.access == ALLOWED) == (self.target is not None)


def matched(half: Half, subject: Subject) -> Matched:
    """Which of the half's targets names the subject: `AllUsers` every user; a user target the
    user; a group target a group the user is in; `AllApplications` every application; a suite
    keyword the keywords it takes in; an application target that application."""
    for target, kind in half.targets:
        why = _names(half.name == APPLICATIONS, target, kind.lower(), subject)
        if why is not None:
            return Matched(half, target, why)
    asked = ("the application" if subject.app else "an application") if half.name == APPLICATIONS else "the user"
    count = len(half.targets)
    return Matched(half, None, f"none of its {count} target(s) names {asked}" if count else "it names no target")


def _names(applications: bool, target: str, kind: str, subject: Subject) -> str | None:
    folded = target.lower()
    if applications:
        app = (subject.app or "").lower()
        if kind != "application":
            return None
        if folded == ALL_APPLICATIONS.lower():
            return f"{ALL_APPLICATIONS} names every application"
        if app and app in SUITES.get(folded, ()):
            return f"{target} takes in {subject.app}"
        return f"{target} is the application" if app and folded == app else None
    if kind == "user" and folded == ALL_USERS.lower():
        return f"{ALL_USERS} names every user"
    if kind == "user" and subject.user and folded == subject.user.lower():
        return f"{target} is the user"
    if kind == "group" and folded in {group.lower() for group in subject.groups}:
        return f"the user is in group {target}"
    return None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str  # how the halves combined, in a sentence


BOTH_BLOCK = (
    "both halves block, so together they block the users they name from the applications they "
    "name, and leave every other pair open"
)
EACH_HALF = (
    "the subject must get past each half: an allowing half lets in only what it names, a blocking "
    "half keeps out what it names"
)


def opens(halves: list[Half]) -> bool:
    """Whether the setting lets anyone at all through: each half lets someone past (an allowing
    half that names someone, a blocking half that does not name everyone); or, both blocking, they
    do not block every user from every application."""
    everyone = [(ALL_APPLICATIONS if half.name == APPLICATIONS else ALL_USERS).lower() for half in halves]
    names_all = [
        any(target.lower() == all_ for target, _ in half.targets) for half, all_ in zip(halves, everyone, strict=True)
    ]
    if len(halves) == 2 and all(half.access == BLOCKED for half in halves):
        return not all(names_all)
    return all(
        (half.access == ALLOWED and bool(half.targets)) or (half.access == BLOCKED and not named)
        for half, named in zip(halves, names_all, strict=True)
    )


def decide(halves: list[Matched]) -> Decision:
    """The verdict of a setting's halves for one subject (Graph's interpretation table)."""
    if len(halves) == 2 and all(m.half.access == BLOCKED for m in halves):
        caught = all(m.target is not None for m in halves)
        return Decision(not caught, BOTH_BLOCK)
    return Decision(all(m.passes for m in halves), EACH_HALF if len(halves) > 1 else "the one half decides")
