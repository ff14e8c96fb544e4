"""Graph's words that need no model (reconciler/core/wire.py): the GUID form and domain names."""

from __future__ import annotations

import pytest

from reconciler.core.wire import MAX_DOMAIN, domain_name, is_guid


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("Contoso.COM", "contoso.com"),
        ("contoso.onmicrosoft.com.", "contoso.onmicrosoft.com"),  # the root's dot
        ("münchen.de", "xn--mnchen-3ya.de"),  # Graph takes the ASCII form
        ("contoso", None),  # one label
        ("10.0.0.1", None),  # an IP address
        ("-contoso.com", None),
        ("con toso.com", None),
        ("contoso.com/../x", None),  # nothing but labels reaches a URL
        ("a" * 64 + ".com", None),
        (".".join(["a" * 60] * 5), None),  # over 253 characters in all
    ],
)
def test_a_domain_name_is_labels_in_ascii_or_nothing(given: str, name: str | None) -> None:
    assert domain_name(given) == name
    assert name is None or len(name) <= MAX_DOMAIN


def test_a_guid_is_the_whole_value() -> None:
    assert is_guid("3d0f5dec-5d3d-455c-8016-e2af1ae4d31a")
    assert not is_guid("3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\n")
