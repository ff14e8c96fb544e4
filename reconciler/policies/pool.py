"""The worker processes a large policies folder is read in (`policies.workers` reads it), kept
apart from the loader so that forking them imports neither it nor pydantic: a Graph command
forks them before its first request, and that request waits for whatever comes before it.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.core import signals
from reconciler.policies.layout import PARALLEL_FILES, Layout, as_layout

if TYPE_CHECKING:
    from pydantic import BaseModel

MAX_WORKERS = 8


@contextmanager
def workers(folder: Path | str | Layout, reserve: int = 0) -> Iterator[Executor | None]:
    """Processes to read the folder in, one per CPU but `reserve` (left to the caller's own
    work); on two CPUs without a reserve, one, and the caller reads along (`Readers.along`).
    None where they would not pay (fewer than PARALLEL_FILES policy files, one CPU) or not be
    safe. They are forked, which is cheap (they inherit what is imported), so only from a
    process with no other thread yet: a thread holding a lock at the fork would leave it held
    forever in the worker. Graph commands fork them before their first request and keep a CPU
    for reading the tenant meanwhile: each page must be turned around at once, and with every
    CPU loading, pages came 20% slower. Files behind a link that leads outside the folder are
    not in its layout, so they never count towards forking.

    The models' validators (`built`) are built here before the fork, once for every worker to
    inherit, unless a CPU is reserved: then the caller has a request to send at once, and each
    worker imports the loader and builds them itself, on its own CPU (0.3 s that the first
    request waited for when they were built here).

    On the way out, work not yet started is dropped and what runs finishes (a chunk of files).
    The pool is then shut down and waited for, workers and its manager thread alike: left to
    interpreter exit, that thread closes its wake-up pipe while exit's own hook writes to it,
    and a run now and then ended in "Exception ignored ... OSError: [Errno 9] Bad file
    descriptor" after its report. Only a load cancelled by Ctrl-C or SIGTERM does not wait: it
    ends within the running chunks, and never waits on a worker the signal has ended."""
    cpus = os.cpu_count() or 1
    along = reserve == 0 and cpus == 2
    count = min(cpus - reserve - along, MAX_WORKERS)
    forkable = threading.active_count() == 1 and "fork" in mp.get_all_start_methods()
    if cpus < 2 or count < 1 or not forkable or len(as_layout(folder).files) < PARALLEL_FILES:
        yield None
        return
    if not reserve:
        built()
    pool = Readers(count, along, build=bool(reserve))
    pool.submit(int)  # forks every worker now, while this is the only thread
    try:
        yield pool
    except (KeyboardInterrupt, signals.Interrupted):
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after the above, a no-op that returns at once


class Readers(ProcessPoolExecutor):
    """The forked workers, and whether the process that made them reads a share of the files
    itself (`along`), on the CPU no other work of its own needs: what it reads is neither
    pickled nor taken apart, and costs no worker's start-up. On two CPUs, one worker and the
    caller read 10,000 files in about the time two workers did, with less CPU in all. Only
    there: with more workers, taking their tuples apart is as much work for the caller as a
    worker's share, and reading along would make it the last to finish. Each worker builds the
    models' validators itself if `build` (`workers`)."""

    def __init__(self, count: int, along: bool, build: bool) -> None:
        started = partial(_worker_started, build)
        super().__init__(count, mp_context=mp.get_context("fork"), initializer=started)
        self.workers = count
        self.along = along


def built() -> None:
    """The validators of the models files are read with, built at once: the models defer
    building them to their first use (`models.GraphModel`), which in each worker would build
    them again, a fifth of a second of CPU apiece."""
    from reconciler.core.registry import REGISTRY_BY_NAME
    from reconciler.core.rules import ToolKey

    models: list[type[BaseModel]] = [ToolKey, *(rtype.model for rtype in REGISTRY_BY_NAME.values())]
    for model in dict.fromkeys(models):
        model.model_rebuild(force=True)


def _worker_started(build: bool) -> None:
    """A worker's first step: signals are the parent's (`signals.worker_signals`; on Ctrl-C it
    drops what the workers have not started), the models are built if the parent did not
    (`workers`), and the heap is then frozen, so the collector does not walk every imported
    model again and again."""
    signals.worker_signals()
    if build:
        built()
    gc.freeze()
