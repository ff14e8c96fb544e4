"""The floor bench/run.py measures `xtap validate` against, run as its own process: libyaml
parsing every policy file into Python objects, nothing else (no schema, no line marks kept).

    python bench/libyaml_load.py POLICIES_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from ruamel.yaml import CSafeLoader  # type: ignore[attr-defined]

for path in sorted(Path(sys.argv[1]).rglob("*.yaml")):
    CSafeLoader(path.read_text()).get_single_data()
