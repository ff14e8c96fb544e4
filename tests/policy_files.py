"""Writing policies/ folders for tests, as a user would: YAML files on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_policies(root: Path, partners: list[dict[str, Any]], template: dict[str, Any] | None = None) -> Path:
    """A policies/ folder with one file per partner. JSON is valid YAML, so bodies go in as is."""
    (root / "partners").mkdir(parents=True, exist_ok=True)
    for partner in partners:
        (root / "partners" / f"{partner['tenantId']}.yaml").write_text(json.dumps(partner, indent=2))
    if template is not None:
        (root / "mto-partner-template.yaml").write_text(json.dumps(template, indent=2))
    return root
