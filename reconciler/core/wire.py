"""Graph's words that need no model: the GUID form of its ids, a domain name as Graph's tenant
lookups take it, `@odata.type` and the namespace of its types, and the templates' default
application level.

Apart from the models (`models`), which import them, so that what reads the live tenant (the
registry's paths, the key kinds, a token's tenant) can build the first request without
importing pydantic and the models: a plan's first request goes out before them.
"""

from __future__ import annotations

import functools
import re

GUID_LENGTH = 36
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
ODATA_TYPE = "@odata.type"
GRAPH_NAMESPACE = "#microsoft.graph."
TEMPLATE_DEFAULT_LEVEL = "newPartners,existingPartners"
# How a tenant id that is not a GUID is refused, wherever a file names one.
NOT_A_TENANT_ID = "is not a tenant id (a GUID like 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a)"


def is_guid(value: str) -> bool:
    """The whole value is a GUID: `re.match` with `$` would let "<guid>\\n" (a YAML `|` block) through.
    It runs for every target and tenant id at load and compare (483k times for 10,000 partners):
    the length test turns keywords away without the regex, and the same group ids recur across
    files, so their answers are cached."""
    return len(value) == GUID_LENGTH and _guid_shaped(value)


@functools.lru_cache(maxsize=16384)
def _guid_shaped(value: str) -> bool:
    return GUID_RE.fullmatch(value) is not None


# A DNS label: letters, digits and hyphens, 1 to 63 of them, no hyphen at either end (RFC 1035,
# RFC 1123); a name of at most 253 characters. Checked before the name goes into a URL.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
MAX_DOMAIN = 253


def domain_name(given: str) -> str | None:
    """`given` as a domain name in its ASCII form, lower case, or None for anything else: only a
    name of labels (two at least, the last not all digits, so no IP address) reaches a URL."""
    name = given.lower().removesuffix(".")
    try:
        name = name.encode("idna").decode("ascii")  # münchen.de is xn--mnchen-3ya.de to Graph
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > MAX_DOMAIN or len(labels) < 2 or labels[-1].isdigit():
        return None
    return name if all(_LABEL.fullmatch(label) for label in labels) else None
