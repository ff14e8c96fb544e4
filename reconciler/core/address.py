"""A resource instance's address: what the desired and live states, the plan and apply key by."""

from __future__ import annotations

from typing import NamedTuple


class Address(NamedTuple):
    """A resource type's plan name and the instance's id: a partner's lowercase tenantId (its
    identity sync has the same id) or a singleton's fixed name. A tuple, so the millions of
    hashes and comparisons a large plan makes of addresses run in C (a frozen dataclass's
    are Python code: a tenth of the compare at 10,000 partners)."""

    resource: str
    id: str

    def __str__(self) -> str:
        return f"{self.resource} {self.id}"


# A place inside one policy file's document: the keys and list indexes from its top, as the
# loader reports a problem and `check` a finding (`("b2bCollaborationInbound", "usersAndGroups")`).
PropertyPath = tuple[str | int, ...]
