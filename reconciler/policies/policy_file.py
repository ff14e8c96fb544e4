"""One policy file checked against its resource type's model: the instances it declares (a
partner and its nested identity sync share one file), or its problems, each where it is
written.

Files are independent of one another, so this is the unit the worker processes share out
(`workers`); what depends on the folder as a whole (a duplicate, the folder's own tenant, the
waivers against xtap.yaml's rules) is judged once every file is back (`load`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from reconciler.core.address import Address
from reconciler.core.clouds import CLOUDS, GLOBAL, METADATA
from reconciler.core.desired import DesiredInstance
from reconciler.core.models import GraphModel
from reconciler.core.registry import REGISTRY_BY_NAME, ResourceType
from reconciler.core.rules import ToolKey
from reconciler.policies.problems import Problem, described
from reconciler.policies.reader import EMPTY, Doc, every_position, parse

# The one reserved key for tool-only data; never sent to Graph.
TOOL_KEY = "xtap"
TOOL_KEYS = frozenset(ToolKey.model_fields)


@dataclass(frozen=True)
class Loaded:
    """One policy file's outcome: its problems, or the instances it declares, each with where its
    key stands (a duplicate is reported there); and its warnings, which stop nothing."""

    file: str
    problems: list[Problem]
    declared: list[tuple[Address, DesiredInstance, tuple[int, int]]]
    warnings: list[Problem] = field(default_factory=list)


def load_file(path: str, rtype: ResourceType, cloud: str = GLOBAL) -> Loaded:
    """The file as a policy of `rtype` for a tenant in `cloud`: what that cloud's Graph has no
    API for is a problem, what its published metadata lacks a warning (`_cloud_problems`)."""
    if rtype.global_only and cloud != GLOBAL:  # the whole file is moot: nothing in it is read
        return Loaded(path, [Problem.whole(path, _global_only(rtype, cloud, "this file"))], [])
    problems: list[Problem] = []
    # A singleton's file with only comments declares its unconfigured state (`reset_action`).
    doc = parse(path, problems, empty_means={} if rtype.singleton_id is not None else None, empty=_empty(rtype))
    valid = None if doc is None else _validate(doc, rtype.model, problems)
    if doc is None or valid is None:
        return Loaded(path, problems, [])
    warnings: list[Problem] = []
    _cloud_problems(rtype, doc, cloud, problems, warnings)
    model, tool = valid
    declared = [
        (address, instance, doc.position((REGISTRY_BY_NAME[address.resource].key or "",)))
        for address, instance in _instances(rtype, model.wire(), doc, tool)
    ]
    return Loaded(path, problems, declared, warnings)


def _empty(rtype: ResourceType) -> str:
    """What an empty file of `rtype` is told: the least it must hold, its key."""
    if rtype.key is None:
        return EMPTY
    return f"empty: a {rtype.name} file needs at least {rtype.key}: {rtype.key_kind.placeholder}"


def _cloud_problems(
    rtype: ResourceType, doc: Doc, cloud: str, problems: list[Problem], warnings: list[Problem]
) -> None:
    """What the file writes that `cloud`'s Graph lacks, at its key, all from the registry: the
    block of a nested type whose API exists only in the global cloud is a problem (Graph there
    has no such URL, so nothing of it could be read or written), and a property the cloud's
    published v1.0 metadata lacks (`clouds_lacking`) a warning, since those files are known to
    be incomplete: Graph may well take it."""
    if cloud == GLOBAL:
        return
    for child in map(REGISTRY_BY_NAME.__getitem__, rtype.children):
        if child.global_only and child.nested_key in doc.data:
            key = child.nested_key or ""
            problems.append(doc.at((key,), f"{key}: {_global_only(child, cloud, f'the {key} block')}", on_key=True))
    for name, clouds in rtype.clouds_lacking.items():
        if cloud in clouds and name in doc.data:
            warnings.append(doc.at((name,), _not_in_metadata(name, cloud), on_key=True))


def _global_only(rtype: ResourceType, cloud: str, what: str) -> str:
    """Why a global-only type cannot be in a folder for `cloud`, and what to do instead."""
    return (
        f"Graph offers {rtype.title} only in the global cloud; Graph in the {cloud} cloud has no such API "
        f"({rtype.availability} lists national cloud availability); remove {what} for --cloud {cloud}: "
        f"a tenant in the {cloud} cloud has none to manage"
    )


def _not_in_metadata(name: str, cloud: str) -> str:
    return (
        f"{name}: not in the {cloud} cloud's published Graph v1.0 metadata ({CLOUDS[cloud].metadata} in "
        f"{METADATA}), though Microsoft Learn documents it; that metadata is known to be incomplete, so this "
        f"is only a warning: should Graph in {cloud} refuse it, apply fails with Graph's 400, and then remove "
        "it from this file"
    )


def _validate(doc: Doc, model: type[GraphModel], problems: list[Problem]) -> tuple[Any, ToolKey] | None:
    data = dict(doc.data)
    tool = data.pop(TOOL_KEY, None)
    try:
        instance, errors = model.model_validate(data), []
    except ValidationError as exc:
        instance, errors = None, exc.errors()
    tool_key, tool_errors = _tool_key(tool)
    if errors or tool_errors or any(_tool_key_problems(doc, tool)):
        marked = every_position(doc)  # a problem may sit at any depth: point at it exactly
        found = [*_tool_key_problems(marked, tool)] or [marked.at(*described(error)) for error in tool_errors]
        problems.extend([*found, *(marked.at(*described(error)) for error in errors)])
        return None
    return instance, tool_key


# The `xtap:` keys read so far, by what the file writes (its repr: the values a file holds, str,
# int, float, bool, None and lists and mappings of them, differ in repr as they differ in type),
# each validated once: most files write the same one (`trusted: true`). A ToolKey is only read,
# so equal ones may be one object, which is also sent once from a worker (`workers`). Bounded, for
# a process that reads many folders.
_TOOLS_READ: dict[str, ToolKey] = {}
_TOOLS_KEPT = 1024
_NO_TOOL = ToolKey()


def _tool_key(tool: Any) -> tuple[ToolKey, list[Any]]:
    """The `xtap:` key's values, or pydantic's errors located from the file's top."""
    if not isinstance(tool, dict):
        return _NO_TOOL, []
    written = repr(tool)
    known = _TOOLS_READ.get(written)
    if known is not None:
        return known, []
    try:
        valid = ToolKey.model_validate(tool)
    except ValidationError as exc:
        return _NO_TOOL, [{**error, "loc": (TOOL_KEY, *error["loc"])} for error in exc.errors()]
    if len(_TOOLS_READ) < _TOOLS_KEPT:
        _TOOLS_READ[written] = valid
    return valid, []


def _tool_key_problems(doc: Doc, tool: Any) -> Iterator[Problem]:
    """The shape of the `xtap:` key, said in its own words before its values are checked."""
    if tool is None:
        return
    if not isinstance(tool, dict):
        yield doc.at((TOOL_KEY,), f"'{TOOL_KEY}' holds tool-only settings and must be a mapping")
        return
    for key in tool:
        if key not in TOOL_KEYS:
            allowed = ", ".join(sorted(TOOL_KEYS))
            yield doc.at((TOOL_KEY, key), f"unknown key {key!r} under '{TOOL_KEY}' (allowed: {allowed})", True)


def _instances(
    rtype: ResourceType, written: dict[str, Any], doc: Doc, tool: ToolKey
) -> Iterator[tuple[Address, DesiredInstance]]:
    """The instance a file declares, then the nested ones it holds (a partner's identity sync),
    which share the file's `xtap:` key."""
    nested = {
        REGISTRY_BY_NAME[child]: written.pop(REGISTRY_BY_NAME[child].nested_key or "", None) for child in rtype.children
    }
    resource_id = rtype.singleton_id or str(written[rtype.key or ""]).lower()
    holds = {child.name: doc.source(child.nested_key) for child, body in nested.items() if body is not None}
    yield Address(rtype.name, resource_id), DesiredInstance(written, doc.source(rtype.key), tool, holds)
    for child, body in nested.items():
        # The block's instances, as the child's key kind splits it (the model has checked its shape).
        for child_id, item in (child.key_kind.instances(resource_id, body) or {}).items():
            yield Address(child.name, child_id), DesiredInstance(item, doc.source(child.nested_key), tool)
