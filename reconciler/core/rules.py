"""What the repository says about `xtap check`: the `xtap:` key of a policy file (a `trusted`
mark, labels, waivers with an owner and an expiry) and xtap.yaml's `rules:` (a built-in rule
turned off or re-levelled, with a reason; a rule of your own in CEL). Validated as strictly as
the Graph properties, so a typo in a guardrail is a `file:line:col` problem, not a silent pass.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, field_validator, model_validator

from reconciler.core.registry import REGISTRY_BY_NAME
from reconciler.core.wire import NOT_A_TENANT_ID, is_guid

Severity = Literal["error", "warning", "note"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """YYYY-MM-DD only: a date a reviewer reads the same way in every locale. The loader keeps
    YAML dates out (they must be quoted), so the string is parsed here."""
    if isinstance(value, str):
        if not ISO_DATE.fullmatch(value):
            raise ValueError(f"expires {value!r} is not a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"expires {value!r}: {exc}") from None
    return value


class Waiver(BaseModel):
    """A finding accepted for one resource by a named owner until a date: after it, the finding
    fails again, so an exception cannot outlive the reason it was granted for."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    rule: Text
    reason: Text
    owner: Text
    expires: Annotated[date, BeforeValidator(_iso_date)]


class ToolKey(BaseModel):
    """The `xtap:` key of a policy file: tool-only, never sent to Graph."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    name: str | None = None
    notes: str | None = None
    # Inbound trust (MFA, device claims) is for partners someone marked as trusted, in review.
    trusted: bool = False
    labels: list[Text] = []
    waivers: list[Waiver] = []


class Selector(BaseModel):
    """Which resources a rule of your own looks at; every list given must match (each by any of
    its entries). Types are the plan names (`partner`, `default`, ...)."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    types: list[Text] = []
    tenants: list[Text] = []
    names: list[Text] = []
    labels: list[Text] = []

    @field_validator("types")
    @classmethod
    def _known_types(cls, types: list[str]) -> list[str]:
        unknown = [name for name in types if name not in REGISTRY_BY_NAME]
        if unknown:
            raise ValueError(f"unknown resource type {unknown[0]!r} (types: {', '.join(REGISTRY_BY_NAME)})")
        return types

    @field_validator("tenants")
    @classmethod
    def _tenant_ids(cls, tenants: list[str]) -> list[str]:
        bad = [tenant for tenant in tenants if not is_guid(tenant)]
        if bad:
            raise ValueError(f"{bad[0]!r} {NOT_A_TENANT_ID}")
        return [tenant.lower() for tenant in tenants]


class RuleSetting(BaseModel):
    """One entry of xtap.yaml's `rules:`. Without `expression` it adjusts the built-in rule of
    that id (off, or another severity) and must say why; with one, it is a rule of your own: a
    CEL expression that must be true for each selected resource, and the message when it is not."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    enabled: bool = True
    severity: Severity | None = None
    reason: Text | None = None
    select: Selector = Selector.model_construct()  # not validated, which would build it on import
    expression: Text | None = None
    message: Text | None = None
    # The property a finding points at, dotted (`inboundTrust.isMfaAccepted`); else the resource.
    property: Text | None = None

    @field_validator("expression")
    @classmethod
    def _compiles(cls, expression: str) -> str:
        from reconciler.core import cel as cel_expr  # the CEL runtime loads only for a folder that has rules

        cel_expr.compile_expression(expression)
        return expression

    @model_validator(mode="after")
    def _complete(self) -> RuleSetting:
        if self.expression is None:
            if self.reason is None:
                raise ValueError("turning a built-in rule off or re-levelling it needs a 'reason'")
            if self.message is not None or self.property is not None or self.select != Selector():
                raise ValueError("select, message and property belong to a rule of your own, which needs an expression")
        elif self.message is None:
            raise ValueError("a rule of your own needs a 'message', shown when its expression is false")
        return self
