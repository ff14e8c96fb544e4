"""xtap.yaml: the settings of xtap itself, never sent to Graph.

Apart from the Graph models (`models`), so the two never import each other (and xtap.yaml is
checked before a Graph command's first request without them): the models are what Graph says,
these are what the repository says about its folder (the tenant binding,
prune and its guards, `xtap check`'s rules, how long a waiver may run).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from reconciler.core.rules import RuleSetting
from reconciler.core.tenant_ids import not_a_string_tenant_id
from reconciler.core.wire import NOT_A_TENANT_ID, is_guid

# How far ahead a waiver may expire unless xtap.yaml says otherwise, and the most it may say.
WAIVER_MAX_DAYS = 90
MAX_WAIVER_DAYS = 3650


def _tenant_id(value: str) -> str:
    """A tenant id as xtap.yaml names one, in lower case: the form tokens and plans use."""
    if not is_guid(value):
        raise ValueError(f"{value!r} {NOT_A_TENANT_ID}")
    return value.lower()


TenantId = Annotated[str, not_a_string_tenant_id(""), AfterValidator(_tenant_id)]


class Settings(BaseModel):
    """xtap.yaml: settings of xtap itself, never sent to Graph. Not a GraphModel, so its names
    stay out of the "did you mean" hints for Graph properties.

    `tenant` binds the folder to one tenant (docs/policies.md): a token issued for another
    tenant is refused before any request, so one repository can hold several tenants' folders.

    `prune` deletes live partners no file declares, with guards a folder cannot lose by
    accident: `protected` tenants are never deleted, service-made ones only when named in
    `pruneServiceMade`, and a plan deleting more than `pruneLimit` of the live partners (a
    share, 1.0 = all), or every one it does not spare, is refused.

    `rules` adjusts `xtap check`'s built-in rules and adds rules of your own (`core.rules`);
    `waiverMaxDays` bounds how far ahead a waiver's expiry may be, so an exception granted in
    one pull request is looked at again within that time."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    tenant: Annotated[str | None, not_a_string_tenant_id("tenant")] = None
    prune: bool = False
    protected: list[TenantId] = []
    pruneServiceMade: list[TenantId] = []
    pruneLimit: float = 1.0
    rules: dict[str, RuleSetting] = {}
    waiverMaxDays: int = WAIVER_MAX_DAYS

    @field_validator("tenant")
    @classmethod
    def _tenant_is_guid(cls, value: str | None) -> str:
        """Kept in lower case, the form Entra writes a token's `tid` in."""
        if value is None:
            raise ValueError("tenant cannot be null; leave it out to bind the folder to no tenant")
        if not is_guid(value):
            raise ValueError(f"tenant {value!r} {NOT_A_TENANT_ID}")
        return value.lower()

    @field_validator("waiverMaxDays")
    @classmethod
    def _days(cls, value: int) -> int:
        if not 1 <= value <= MAX_WAIVER_DAYS:
            raise ValueError(
                f"waiverMaxDays {value} is not a number of days from 1 to {MAX_WAIVER_DAYS} (the default, "
                f"{WAIVER_MAX_DAYS}, asks for each waiver to be looked at again within a quarter)"
            )
        return value

    @field_validator("pruneLimit")
    @classmethod
    def _a_share(cls, value: float) -> float:
        """A share, not a count: the same file guards a tenant of 10 partners and one of 10,000."""
        if not 0 < value <= 1:
            raise ValueError(
                f"pruneLimit {value:g} is not a share of the live partners: write a number above 0 and at "
                "most 1 (0.25 = at most a quarter may be deleted in one plan; prune: false deletes none)"
            )
        return value
