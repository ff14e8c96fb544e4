"""A tenant id as a file writes one, checked alike in the Graph models (a partner's `tenantId`)
and in xtap.yaml's settings (`tenant:`, `protected:`), which never import each other: xtap.yaml
is checked before a Graph command's first request, which does not wait for the Graph models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator

from reconciler.core.escape import written
from reconciler.core.wire import NOT_A_TENANT_ID


def not_a_string_tenant_id(name: str) -> BeforeValidator:
    """A tenant id written as a number or a boolean (`tenantId: 12345`) refused as not a tenant
    id, before strict typing would call it "not a string": the author meant an id, and needs
    to hear what one looks like. `name` is the key, "" for an item of a list."""

    def check(value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} {written(value)} {NOT_A_TENANT_ID}".lstrip())
        return value

    return BeforeValidator(check)
