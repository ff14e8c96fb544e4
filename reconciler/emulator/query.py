"""OData query options the emulator honours: `$select`, `$expand` and the opaque `$skiptoken`.

Graph ignores `$top` on partners (https://github.com/microsoftgraph/msgraph-sdk-go/issues/694),
and so does the emulator; other options are ignored too. The skip token is base64 of a JSON
cursor: clients must treat the whole `@odata.nextLink` as opaque, and the emulator does not
promise the token's shape.
"""

from __future__ import annotations

import base64
import binascii
import json

from .errors import bad_request
from .schema import EntitySchema


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def parse_select(raw: str | None, entity: EntitySchema) -> list[str] | None:
    if raw is None:
        return None
    names = _names(raw)
    for name in names:
        if name not in entity.type.members:
            raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{entity.type.name}'.")
    return names


def parse_expand(raw: str | None, entity: EntitySchema) -> list[str]:
    names = _names(raw or "")
    for name in names:
        if name not in entity.navigation:
            raise bad_request(
                f"Could not find a navigation property named '{name}' on type 'microsoft.graph.{entity.type.name}'."
            )
    return names


def encode_skiptoken(cursor: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": cursor}).encode()).decode().rstrip("=")


def decode_skiptoken(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["after"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise bad_request("The $skiptoken value is invalid.") from None
    if not isinstance(cursor, str):
        raise bad_request("The $skiptoken value is invalid.")
    return cursor
