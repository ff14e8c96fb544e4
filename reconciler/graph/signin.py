"""azure-identity's credential chain, for a client given no token: imported only then, and
azure-core with it, so that a run with XTAP_ACCESS_TOKEN (every run against the emulator, a
CI job handed its token) does not import either before its first request, a tenth of a
second of its start. What the chain says when it gives no token becomes `SignInFailed` here,
the one place that knows azure-core's error.
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity.aio import DefaultAzureCredential

from reconciler.core.clouds import Cloud
from reconciler.graph.errors import SignInFailed, credential_reasons


class Chain:
    """DefaultAzureCredential against `cloud`'s authority, failing with `SignInFailed`."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud.name
        self._chain = DefaultAzureCredential(authority=cloud.authority)

    async def get_token(self, *scopes: str, **options: Any) -> AccessToken:
        try:
            return await self._chain.get_token(*scopes, **options)
        except ClientAuthenticationError as exc:
            raise no_token(exc, self._cloud) from None

    async def close(self) -> None:
        await self._chain.close()


def no_token(exc: ClientAuthenticationError, cloud: str) -> SignInFailed:
    """The error for azure-identity's failure to give a token, with its reasons kept short."""
    return SignInFailed(cloud, credential_reasons(str(exc.message or exc)))
