"""A strict local stand-in for Microsoft Graph v1.0: the cross-tenant access policy endpoints, and the
name lookups (tenants, directory objects, service principals) that turn their GUIDs into names.

Used by `xtap demo`, the tests and the benchmarks, so that the reconciler's real msgraph-sdk
code path runs against something as strict as Graph (docs/emulator.md). It shares
no code with the reconciler, so a schema mistake on either side shows up as a failing test.
"""

from .app import RecordedRequest
from .config import EmulatorConfig, PatchMode, StartError
from .server import Emulator, run_forever

__all__ = ["Emulator", "EmulatorConfig", "PatchMode", "RecordedRequest", "StartError", "run_forever"]
