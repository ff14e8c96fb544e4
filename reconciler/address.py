"""A resource instance's address: what the desired and live states, the plan and apply key by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Address:
    """A resource type's plan name and the instance's id: a partner's lowercase tenantId (its
    identity sync has the same id) or a singleton's fixed name."""

    resource: str
    id: str

    def __str__(self) -> str:
        return f"{self.resource} {self.id}"
