"""A large policies folder read in forked worker processes (`pool`), a few chunks of files each, and
by the caller too where its CPU is free: files are independent, and on two cores that halves
the reading (measured: 10,000 files, 1.8 s alone, 1.0 s in two). What crosses the pipe is
plain tuples, never dataclasses or pydantic models: unpickling those was a third of `xtap
validate`'s wall time at 10,000 files. An instance's properties cross as the one packed string
`DesiredInstance` keeps (`core.live.packed`), not as dicts: nothing is unpickled into objects
only to be packed again. Each chunk's files are taken in order as soon as it is back (or the
chunk read here before it is done), while the workers read on: the folder is never held twice,
once pickled and once loaded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import astuple

from reconciler.core.address import Address
from reconciler.core.clouds import GLOBAL
from reconciler.core.desired import DesiredInstance
from reconciler.core.live import packed
from reconciler.core.registry import REGISTRY_BY_NAME, ResourceType
from reconciler.core.rules import ToolKey
from reconciler.policies.layout import PARALLEL_FILES
from reconciler.policies.policy_file import Loaded, load_file
from reconciler.policies.pool import Readers
from reconciler.policies.problems import Problem


def load_files(
    files: Sequence[tuple[str, ResourceType]], bodies: bool, pool: Executor | None, cloud: str = GLOBAL
) -> Iterable[Loaded]:
    """Each file's outcome for a tenant in `cloud`, in `files`' order: in `pool` when there is
    one and the files are many, else here, one by one as they are consumed. Without `bodies`,
    the workers send back the declarations without their properties (`xtap validate` needs none).
    A pool whose caller reads along (`Readers.along`) leaves every readers-th chunk to be read
    here, in its turn, between the workers' chunks it takes apart."""
    if pool is None or len(files) < PARALLEL_FILES:
        return (load_file(path, rtype, cloud) for path, rtype in files)
    size = -(-len(files) // (8 * (os.cpu_count() or 1)))  # a few chunks a reader: none waits long on the last
    chunks = [files[start : start + size] for start in range(0, len(files), size)]
    readers = pool.workers + 1 if isinstance(pool, Readers) and pool.along else 0
    here = range(0, len(chunks), readers) if readers else range(0)
    read = functools.partial(_declarations, bodies=bodies, cloud=cloud)
    # Names, not objects, cross the pipe: cheaper, and a ResourceType may hold what cannot be pickled.
    named = [[(path, rtype.name) for path, rtype in chunk] for at, chunk in enumerate(chunks) if at not in here]
    return _in_order(chunks, here, pool.map(read, named), cloud)


def _in_order(
    chunks: list[Sequence[tuple[str, ResourceType]]], here: range, theirs: Iterator[list[_Packed]], cloud: str
) -> Iterator[Loaded]:
    """The chunks' files in order: the chunks `here` read in this process, in their turn, the
    others taken apart as the workers send them back (`theirs`, in order)."""
    for at, chunk in enumerate(chunks):
        if at in here:
            yield from (load_file(path, rtype, cloud) for path, rtype in chunk)
        else:
            yield from map(_unpacked, next(theirs))


# A worker's outcome for one file, in plain tuples: its problems, then each declaration as
# (resource, id, packed properties, source, key line, key column, the `xtap:` key or None when
# it is empty, the nested blocks it holds). Plain data crosses the pipe five times faster than
# the dataclasses and pydantic models.
_Declared = tuple[str, str, bytes, str, int, int, ToolKey | None, Mapping[str, str]]
# The properties sent without `bodies`.
_NO_BODY = packed({})
_Packed = tuple[str, list[tuple[str, int, int, str]], list[_Declared], list[tuple[str, int, int, str]]]


def _declarations(files: list[tuple[str, str]], bodies: bool, cloud: str) -> list[_Packed]:
    """A worker's share, (path, resource type) each: each file's problems and declarations, with
    their properties if `bodies`, and its warnings. Equal `xtap:` keys are one object already
    (`policy_file` validates each once), which pickle sends once and the parent unpickles once:
    most files write the same one (`trusted: true`), 0.4 KB a partner when each had its own."""
    return [_packed(load_file(path, REGISTRY_BY_NAME[name], cloud), bodies) for path, name in files]


def _packed(loaded: Loaded, bodies: bool) -> _Packed:
    declared = [
        (
            address.resource,
            address.id,
            instance.body if bodies else _NO_BODY,
            instance.source,
            *key_at,
            instance.tool if instance.tool.model_fields_set else None,
            instance.holds,
        )
        for address, instance, key_at in loaded.declared
    ]
    warnings = [astuple(warning) for warning in loaded.warnings]
    return loaded.file, [astuple(problem) for problem in loaded.problems], declared, warnings


def _unpacked(packed: _Packed) -> Loaded:
    file, problems, declared, warnings = packed
    instances = [
        (Address(resource, id_), DesiredInstance(written, source, tool, holds), (line, col))
        for resource, id_, written, source, line, col, tool, holds in declared
    ]
    return Loaded(file, [Problem(*problem) for problem in problems], instances, [Problem(*w) for w in warnings])
