"""Writing policies/ folders for tests, as a user would: YAML files on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_policies(root: Path, partners: list[dict[str, Any]], template: dict[str, Any] | None = None) -> Path:
    """A policies/ folder with one file per partner. JSON is valid YAML, so bodies go in as is.
    A partner whose inbound trust accepts anything is marked trusted, as a repository must for
    apply's guardrails to let it through (`inbound-trust-only-trusted`)."""
    (root / "partners").mkdir(parents=True, exist_ok=True)
    for partner in partners:
        trusts = any((partner.get("inboundTrust") or {}).values())
        body = {**partner, "xtap": {"trusted": True}} if trusts and "xtap" not in partner else partner
        (root / "partners" / f"{partner['tenantId']}.yaml").write_text(json.dumps(body, indent=2))
    if template is not None:
        (root / "mto-partner-template.yaml").write_text(json.dumps(template, indent=2))
    return root
