"""Graph's words that need no model: the GUID form of its ids, `@odata.type` and the namespace
of its types, and the templates' default application level.

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
