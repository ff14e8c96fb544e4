"""A strict local stand-in for Microsoft Graph v1.0: the cross-tenant access policy endpoints, and the
name lookups (tenants, directory objects, service principals) that turn their GUIDs into names.

Used by `xtap demo`, the tests and the benchmarks, so that the reconciler's real msgraph-sdk
code path runs against something as strict as Graph (docs/emulator.md). It shares
no code with the reconciler, so a schema mistake on either side shows up as a failing test.
"""

from .app import RecordedRequest
from .auth import KNOWN_PERMISSIONS, parse_permissions
from .config import EmulatorConfig, PatchMode, StartError
from .seeds import SEEDS
from .server import SESSION_ROLES, Emulator, SessionToken, run_forever
from .tenant import Tenant

__all__ = [
    "KNOWN_PERMISSIONS",
    "SEEDS",
    "SESSION_ROLES",
    "Emulator",
    "EmulatorConfig",
    "PatchMode",
    "RecordedRequest",
    "SessionToken",
    "StartError",
    "Tenant",
    "parse_permissions",
    "run_forever",
]
