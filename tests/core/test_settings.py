"""xtap.yaml's model (`core/settings.py`), as strict as the Graph models: the tenant binding and
the tenants prune spares kept in lower case and refused when not GUIDs, `pruneLimit` a share and
`waiverMaxDays` a sane number of days, and no key or type it does not know. How xtap.yaml is read
and where its problems point is in tests/policies/test_settings_file.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.core.settings import MAX_WAIVER_DAYS, WAIVER_MAX_DAYS, Settings

TENANT = "0B4F0A2E-1111-4222-8333-944455556666"


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as raised:
        Settings.model_validate(values)
    return str(raised.value)


def test_the_defaults_bind_nothing_and_prune_nothing() -> None:
    settings = Settings()
    assert (settings.tenant, settings.prune, settings.protected, settings.pruneLimit) == (None, False, [], 1.0)
    assert settings.waiverMaxDays == WAIVER_MAX_DAYS and settings.rules == {}


def test_tenant_ids_are_kept_in_lower_case() -> None:
    settings = Settings.model_validate({"tenant": TENANT, "protected": [TENANT], "pruneServiceMade": [TENANT]})
    assert settings.tenant == settings.protected[0] == settings.pruneServiceMade[0] == TENANT.lower()


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"tenant": None}, "tenant cannot be null"),
        ({"tenant": "contoso.onmicrosoft.com"}, "tenant 'contoso.onmicrosoft.com'"),
        ({"protected": ["contoso"]}, "'contoso'"),
        ({"pruneLimit": 0.0}, "pruneLimit 0 is not a share of the live partners"),
        ({"pruneLimit": 1.5}, "pruneLimit 1.5 is not a share"),
        ({"waiverMaxDays": 0}, "waiverMaxDays 0 is not a number of days"),
        ({"waiverMaxDays": MAX_WAIVER_DAYS + 1}, f"from 1 to {MAX_WAIVER_DAYS}"),
        ({"prune": "yes"}, "Input should be a valid boolean"),
        ({"prunes": True}, "Extra inputs are not permitted"),
    ],
)
def test_what_is_not_a_setting_is_refused(values: dict[str, object], says: str) -> None:
    assert says in refusal(**values)


def test_the_limits_themselves_are_allowed() -> None:
    settings = Settings.model_validate({"pruneLimit": 1.0, "waiverMaxDays": MAX_WAIVER_DAYS})
    assert (settings.pruneLimit, settings.waiverMaxDays) == (1.0, MAX_WAIVER_DAYS)
    assert Settings.model_validate({"waiverMaxDays": 1}).waiverMaxDays == 1
