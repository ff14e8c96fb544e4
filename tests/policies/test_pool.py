"""Forking a Graph command's workers imports neither the loader nor pydantic: the workers build
the models themselves, and read the files as well as workers forked with the models built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh interpreter: the test process has imported the loader long since.
_FORKED = """
import sys
from reconciler.policies import pool
from reconciler.policies.layout import read_layout

pool.PARALLEL_FILES = 2
layout = read_layout(sys.argv[1])
with pool.workers(layout, reserve=int(sys.argv[2])) as forked:
    print(type(forked).__name__, sorted(m for m in ("pydantic", "reconciler.policies.load") if m in sys.modules))
    from reconciler.policies import workers
    workers.PARALLEL_FILES = 2
    loaded = list(workers.load_files(layout.files, True, forked))
print([(len(item.declared), [p.message for p in item.problems]) for item in loaded])
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers are forked only on two CPUs or more")
@pytest.mark.parametrize(("reserve", "imported"), [(1, "[]"), (0, "['pydantic']")])
def test_workers_forked_with_a_reserve_leave_the_models_to_the_workers(
    tmp_path: Path, reserve: int, imported: str
) -> None:
    _write(tmp_path)
    out = _forked(tmp_path, reserve)
    assert out[0] == f"Readers {imported}"
    assert out[1] == _forked(tmp_path, 0)[1]
    assert out[1].startswith("[(1, []), (1, []), (0, [")


def _write(root: Path) -> None:
    (root / "partners").mkdir()
    (root / "partners" / "a.yaml").write_text("tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\n")
    (root / "partners" / "b.yaml").write_text("tenantId: 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\n")
    (root / "partners" / "c.yaml").write_text("tenantId: nope\n")


def _forked(root: Path, reserve: int) -> list[str]:
    run = subprocess.run([sys.executable, "-c", _FORKED, str(root), str(reserve)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()
