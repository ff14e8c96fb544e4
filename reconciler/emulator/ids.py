"""The random GUIDs the emulator gives what it makes on every request: each answer's `request-id`
and each audit entry's `id` and `correlationId`.

Random (version 4) GUIDs, as Graph's are, from a generator of the emulator's own, seeded by the
OS: three `uuid.uuid4()` calls an item (a system call each, then uuid's validation) were a tenth
of a `$batch` item's work. They are ids, not secrets, and nothing keys on them being unguessable.
"""

from __future__ import annotations

import random

# Its own generator, so a test that seeds `random` does not repeat ids, and the fault knobs'
# seeded draws (faults.py) are not shifted by them.
_RANDOM = random.Random()
_VERSION_4 = 0x4000 << 64  # the version nibble, 4, in the third group
_VARIANT = 0x8000 << 48  # RFC 4122's variant bits, 10, leading the fourth group
_FIXED = (0xF000 << 64) | (0xC000 << 48)


def guid() -> str:
    """A new random GUID, lowercase and hyphenated."""
    digits = f"{_RANDOM.getrandbits(128) & ~_FIXED | _VERSION_4 | _VARIANT:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
