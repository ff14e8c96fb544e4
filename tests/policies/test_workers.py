"""What a worker sends back is what reading the file here gives: the plain tuples that cross the
pipe lose nothing but the bodies `xtap validate` does not need. A thread pool stands in for the
forked processes (the tuples are the same); forking itself is tested end to end in
tests/commands/test_validate.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reconciler.policies import pool as pool_module
from reconciler.policies import workers as workers_module
from reconciler.policies.layout import read_layout
from reconciler.policies.pool import workers
from reconciler.policies.workers import load_files

PARTNERS = {
    "a.yaml": (
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\n"
        "identitySynchronization:\n  userSyncInbound: {isSyncAllowed: true}\n"
    ),
    "b.yaml": "tenantId: 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\nxtap: {name: Fabrikam, labels: [x]}\n",
    "c.yaml": "tenantId: nope\n",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "partners").mkdir()
    for name, text in PARTNERS.items():
        (tmp_path / "partners" / name).write_text(text)
    (tmp_path / "default.yaml").write_text("# reset\n")
    return tmp_path


def test_what_crosses_the_pipe_is_what_reading_here_gives(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = read_layout(root).files
    here = list(load_files(files, True, None))
    assert [(len(loaded.declared), len(loaded.problems)) for loaded in here] == [(1, 0), (2, 0), (1, 0), (0, 1)]
    monkeypatch.setattr(workers_module, "PARALLEL_FILES", 2)
    with ThreadPoolExecutor(2) as pool:
        assert list(load_files(files, True, pool)) == here
        names_only = list(load_files(files, False, pool))
    assert [loaded.problems for loaded in names_only] == [loaded.problems for loaded in here]
    assert [[(a, i.source, i.tool, at) for a, i, at in loaded.declared] for loaded in names_only] == [
        [(a, i.source, i.tool, at) for a, i, at in loaded.declared] for loaded in here
    ]
    assert all(i.written == {} for loaded in names_only for _, i, _ in loaded.declared)


def test_a_small_folder_is_read_without_workers(root: Path) -> None:
    with workers(root) as pool:
        assert pool is None
    with workers(read_layout(root)) as pool:
        assert pool is None


def test_worker_results_come_back_as_they_are_read_in_order_with_their_problems(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked workers (where the machine has two CPUs), their results taken a chunk at a time
    in the folder's order, each problem still at its file:line:col and each instance's
    properties whole."""
    monkeypatch.setattr(pool_module, "PARALLEL_FILES", 2)
    monkeypatch.setattr(workers_module, "PARALLEL_FILES", 2)
    files = read_layout(root).files
    with workers(root) as forked, ThreadPoolExecutor(2) as threads:
        loaded = load_files(files, True, forked or threads)
        assert not isinstance(loaded, list)  # a stream, not the whole folder at once
        streamed = list(loaded)
    assert streamed == list(load_files(files, True, None))
    assert [loaded.file for loaded in streamed] == [path for path, _ in files]
    [problem] = streamed[-1].problems
    assert (problem.file, problem.line, problem.col) == (str(root / "partners" / "c.yaml"), 1, 11)
    assert streamed[1].declared[0][1].written["tenantId"] == "90e29127-71ad-49c7-9ce8-db3f41ea06f1"


@pytest.mark.parametrize(
    ("cpus", "reserve", "forked", "read_here"),
    [(2, 0, 1, [False, True]), (2, 1, 1, [False, False]), (3, 0, 3, [False, False]), (3, 1, 2, [False, False])],
)
def test_on_two_cpus_without_a_reserve_the_caller_reads_every_other_chunk_itself(
    root: Path, monkeypatch: pytest.MonkeyPatch, cpus: int, reserve: int, forked: int, read_here: list[bool]
) -> None:
    """On two CPUs, one worker is forked and the caller reads along, a chunk in turn (a chunk a
    file here); with a CPU reserved, or more CPUs, the workers read them all. What the caller
    reads itself keeps its properties even without `bodies`: only what crosses the pipe leaves
    them behind."""
    monkeypatch.setattr(pool_module, "PARALLEL_FILES", 2)
    monkeypatch.setattr(workers_module, "PARALLEL_FILES", 2)
    monkeypatch.setattr(pool_module.os, "cpu_count", lambda: cpus)
    # Any other thread in this process (a test's emulator serves each connection in one until it
    # stops) would rule forking out; what is tested here is how many are forked, and who reads what.
    monkeypatch.setattr(pool_module.threading, "active_count", lambda: 1)
    files = read_layout(root).files
    with workers(root, reserve) as pool:
        assert isinstance(pool, pool_module.Readers) and pool.workers == forked
        loaded = list(load_files(files, False, pool))
    assert [item.problems for item in loaded] == [item.problems for item in load_files(files, False, None)]
    # On two CPUs, chunks 0 and 2 are the caller's: partners/a.yaml is chunk 1, partners/b.yaml chunk 2.
    assert [loaded[at].declared[0][1].written != {} for at in (1, 2)] == read_here
    assert [[(a, i.source, i.tool, at) for a, i, at in item.declared] for item in loaded] == [
        [(a, i.source, i.tool, at) for a, i, at in item.declared] for item in load_files(files, False, None)
    ]
