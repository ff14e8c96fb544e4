"""Where Graph lives in each national cloud, which resource types its API has, and how long to
wait for it.

Plain data with no SDK behind it, so the command line can list the clouds and show the
default timeout in `--help` without importing msgraph-sdk.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

API_VERSION = "/v1.0"
# Where each cloud's published Graph schema lives (`Cloud.metadata` is a file in it).
METADATA = "https://github.com/microsoftgraph/msgraph-metadata/tree/master/schemas"
# Seconds to wait for Graph to connect or send data, per request (`--timeout`, XTAP_TIMEOUT).
DEFAULT_TIMEOUT = 30.0
# The one cloud with every API; the MTO templates' API exists only there:
# https://learn.microsoft.com/graph/api/multitenantorganizationpartnerconfigurationtemplate-get
GLOBAL = "global"


@dataclass(frozen=True)
class Cloud:
    """A national cloud: where Graph lives and where to get a token for it."""

    name: str
    graph: str
    authority: str
    # The msgraph-metadata file that publishes its Graph v1.0 schema (FAIRFAX and MOONCAKE in the
    # registry group the clouds the same way): what a `clouds_lacking` warning cites.
    metadata: str

    @property
    def base_url(self) -> str:
        return self.graph + API_VERSION

    @property
    def scope(self) -> str:
        return f"{self.graph}/.default"

    @property
    def host(self) -> str:
        return urlsplit(self.graph).hostname or ""


CLOUDS: dict[str, Cloud] = {
    cloud.name: cloud
    for cloud in (
        Cloud(GLOBAL, "https://graph.microsoft.com", "login.microsoftonline.com", "v1.0-Prod.csdl"),
        Cloud("usgov", "https://graph.microsoft.us", "login.microsoftonline.us", "v1.0-Fairfax.csdl"),
        Cloud("usgovdod", "https://dod-graph.microsoft.us", "login.microsoftonline.us", "v1.0-Fairfax.csdl"),
        Cloud("china", "https://microsoftgraph.chinacloudapi.cn", "login.chinacloudapi.cn", "v1.0-Mooncake.csdl"),
    )
}


def cloud_types(cloud: str) -> tuple[str, ...]:
    """The resource types whose API the cloud has (`ResourceType.global_only`): what export and
    `check --live` read there."""
    from reconciler.core.registry import REGISTRY  # the models behind it: not for `--help`

    return tuple(rtype.name for rtype in REGISTRY if cloud == GLOBAL or not rtype.global_only)
