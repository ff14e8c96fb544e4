"""The registry answers for every type, and the steps ask it instead of naming a type.

Adding a resource type is one registry entry, one model and one emulator route
(docs/architecture.md). That holds only while every step reads what varies by type from the
entry, its key kind and its hooks: these tests hold the entries to their own rules, show that
a type keyed by a name within a parent is an entry like the others, and keep the step modules
from naming a type's properties, folder or file again. What each key kind answers is in
test_keys.py.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import MappingProxyType

import pytest
from support.capability import CAPABILITY, TENANT, Capability
from support.paths import PACKAGE

from reconciler.core.address import Address
from reconciler.core.canonical import canonical
from reconciler.core.keys import NameInParent, OnePerParent
from reconciler.core.models import GraphModel
from reconciler.core.registry import (
    DEFAULT,
    IDENTITY_SYNC,
    M365_CAPABILITY,
    MTO_PARTNER_TEMPLATE,
    PARTNER,
    POLICY,
    REGISTRY,
    REGISTRY_BY_NAME,
    ResourceType,
    partner_service_made,
)
from reconciler.plan import actions
from reconciler.plan.drift import AUDIT_CATEGORIES


def sample_id(rtype: ResourceType) -> str:
    if rtype.singleton_id is not None:
        return rtype.singleton_id
    return TENANT


@pytest.mark.parametrize("rtype", REGISTRY, ids=lambda rtype: rtype.name)
def test_every_type_answers_for_itself(rtype: ResourceType) -> None:
    fields = rtype.model.model_fields
    assert rtype.key_kind.nested == bool(rtype.parents) == (rtype.nested_key is not None)
    for parent in rtype.parents:  # a parent is planned, read and created first
        assert REGISTRY.index(REGISTRY_BY_NAME[parent]) < REGISTRY.index(rtype)
        assert rtype.nested_key in REGISTRY_BY_NAME[parent].model.model_fields
    if rtype.parents:
        assert rtype.folder is None and rtype.file is None
    else:  # one file per instance in a folder, or a singleton's own file
        assert (rtype.folder is None) != (rtype.file is None) and (rtype.file is None) == (rtype.singleton_id is None)
    assert rtype.key is None or (rtype.key in fields and rtype.key not in rtype.settings)
    assert bool(rtype.audit_activities) == bool(rtype.audit_categories)
    assert rtype.never_pruned_flag is None or rtype.never_pruned_flag in rtype.read_only
    if rtype.named_by is not None:
        holder, prop = rtype.named_by
        named = REGISTRY_BY_NAME[holder]
        assert named is rtype or (rtype.name in named.parents and isinstance(named.key_kind, OnePerParent))
        assert prop in named.model.model_fields
    url = rtype.url(sample_id(rtype))
    assert (url == POLICY or url.startswith(f"{POLICY}/")) and "{" not in url


def test_urls_are_templated_from_the_parent_and_the_key() -> None:
    assert PARTNER.url(TENANT) == f"{POLICY}/partners/{TENANT}"
    assert IDENTITY_SYNC.url(TENANT) == f"{POLICY}/partners/{TENANT}/identitySynchronization"
    assert PARTNER.collection_url_of(TENANT) == PARTNER.collection_url == f"{POLICY}/partners"
    assert DEFAULT.url("default") == f"{POLICY}/default"
    assert IDENTITY_SYNC.parent_address(TENANT) == Address("partner", TENANT)
    assert PARTNER.parent_address(TENANT) is None
    assert IDENTITY_SYNC.name in PARTNER.children
    assert all(rtype.name in REGISTRY_BY_NAME[parent].children for rtype in REGISTRY for parent in rtype.parents)


def test_a_name_within_a_parent_is_an_entry_not_a_branch() -> None:
    """Address ids `{parent id}/{name}`, URLs under whichever parent holds the instance, and
    the requests, all from the entry."""
    under_partner, under_default = f"{TENANT}/teams", "default/teams"
    assert CAPABILITY.url(under_partner) == f"{POLICY}/partners/{TENANT}/capabilities/teams"
    assert CAPABILITY.url(under_default) == f"{POLICY}/default/capabilities/teams"
    assert CAPABILITY.collection_url_of(under_default) == f"{POLICY}/default/capabilities"
    assert CAPABILITY.parent_address(under_partner) == Address("partner", TENANT)
    assert CAPABILITY.parent_address(under_default) == Address("default", "default")
    assert CAPABILITY.settings == ("isEnabled",)
    put = actions.create(CAPABILITY, under_partner, {"name": "teams", "isEnabled": True})
    assert [(r.method, r.url, r.body) for r in put] == [
        ("PUT", f"{POLICY}/partners/{TENANT}/capabilities/teams", {"name": "teams", "isEnabled": True})
    ]
    with pytest.raises(ValueError, match="no partner or default is elsewhere"):
        CAPABILITY.url("elsewhere/teams")


def test_the_audit_categories_asked_for_are_the_registry_s() -> None:
    assert AUDIT_CATEGORIES == ("CrossTenantAccessSettings", "CrossTenantIdentitySyncSettings")
    assert set(AUDIT_CATEGORIES) == {category for rtype in REGISTRY for category in rtype.audit_categories}


def test_service_made_is_a_hook_of_the_types_a_service_makes() -> None:
    assert PARTNER.service_made is partner_service_made
    assert [rtype.name for rtype in REGISTRY if rtype.service_made is not None] == ["partner"]


def test_canonical_form_learns_sets_and_spellings_from_the_models() -> None:
    assert PARTNER.set_members == {"targets"} and set(PARTNER.spellings) == {"target"}
    assert set(MTO_PARTNER_TEMPLATE.spellings) == {"target", "templateApplicationLevel"}
    assert IDENTITY_SYNC.set_members == frozenset() and not IDENTITY_SYNC.spellings
    assert M365_CAPABILITY.set_members == {"included", "excluded"} and set(M365_CAPABILITY.spellings) == {"resourceId"}
    guid = "A0B0C0D0-1111-4222-8333-944455556666"
    users = {"accessType": "allowed", "targets": [{"target": guid, "targetType": "user"}] * 2}
    form = canonical(PARTNER, {"b2bCollaborationInbound": {"usersAndGroups": users}})
    assert form["b2bCollaborationInbound"]["usersAndGroups"]["targets"] == [
        {"target": guid.lower(), "targetType": "user"}
    ]


def test_a_member_spelled_two_ways_in_one_type_is_refused() -> None:
    class Upper(GraphModel):
        spellings = MappingProxyType({"code": str.upper})
        code: str | None = None

    class Lower(GraphModel):
        spellings = MappingProxyType({"code": str.lower})
        code: str | None = None

    class Both(GraphModel):
        upper: Upper | None = None
        lower: Lower | None = None

    both = ResourceType(
        name="both", graph_model=Both, path=f"{POLICY}/both", key_kind=DEFAULT.key_kind, file="both.yaml"
    )
    with pytest.raises(ValueError, match="code has two canonical spellings"):
        _ = both.spellings


def test_a_nested_kind_without_parents_is_refused() -> None:
    with pytest.raises(ValueError, match="a nested key kind, and only one, has parents"):
        ResourceType(name="orphan", graph_model=Capability, path="{parent}/x/{key}", key_kind=NameInParent())


# The modules that carry out a step for every type. `risk.py` is not among them: its grant
# rules are about what Graph's target configurations mean, wherever a type holds one.
STEPS = (
    "core/canonical.py",
    "graph/read.py",
    "plan/actions.py",
    "plan/ahead.py",
    "plan/drift.py",
    "plan/effective.py",
    "plan/file.py",
    "plan/planner.py",
    "plan/settings.py",
    "policies/export.py",
    "apply/writes.py",
    "apply/verify.py",
)
# Words that are also the members of what a step reads besides a type: the plan file's own
# (`id`, a setting's `name`), an audit entry's actor's (`displayName`, `id`).
ALSO_OTHERS = {"plan/drift.py": {"displayName", "id"}, "plan/file.py": {"id", "name"}}


def registry_words(rtype: ResourceType) -> set[str]:
    """What a step would have to name to special-case a type: its name, file or folder, key,
    nested block, flags, actions, and its model's properties."""
    words = {rtype.name, rtype.folder, rtype.file, rtype.nested_key, rtype.singleton_id, rtype.key}
    words |= {rtype.never_pruned_flag, rtype.reset_flag, rtype.reset_action, *(rtype.named_by or ())}
    words |= set(rtype.model.model_fields) | set(rtype.spellings) | rtype.set_members
    return {word for word in words if word is not None}


def string_constants(path: Path) -> set[str]:
    """The strings a module's code holds, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


@pytest.mark.parametrize("module", STEPS)
def test_no_step_module_names_a_type_its_properties_or_its_folder(module: str) -> None:
    words = set().union(*(registry_words(rtype) for rtype in REGISTRY)) - ALSO_OTHERS.get(module, set())
    assert sorted(string_constants(PACKAGE / module) & words) == []


def test_the_schema_takes_folders_files_and_key_rules_from_the_registry() -> None:
    """schema.py mirrors the models' validators by property name, by design; where files go
    and what a key must be come from the registry."""
    structural = {word for rtype in REGISTRY for word in (rtype.name, rtype.folder, rtype.file) if word}
    assert sorted(string_constants(PACKAGE / "policies/schema.py") & structural) == []
