"""The emulator's own GUIDs (reconciler/emulator/ids.py): random version-4 GUIDs in Graph's
lowercase hyphenated form, none repeated, whatever a test does to `random`."""

from __future__ import annotations

import random
import uuid

from reconciler.emulator.ids import guid


def test_guids_are_random_version_4_guids_in_graphs_form() -> None:
    made = [guid() for _ in range(2_000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_seeding_random_does_not_repeat_them() -> None:
    random.seed(7)
    first = guid()
    random.seed(7)
    assert guid() != first
