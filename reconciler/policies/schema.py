"""JSON Schema of every policy file type, generated from the models (`xtap schema`).

An editor with yaml-language-server (through the `# yaml-language-server: $schema=…` modeline)
and CI with check-jsonschema then catch a misspelled key, a bad enum or a malformed GUID as it
is typed, before xtap runs. The schemas are made from the same pydantic models the loader
validates with, so they cannot drift apart; what pydantic cannot put in a schema by itself (its
validators are code) is said again here in JSON Schema terms, from the models' own data. The
loader stays the authority: rules that span files, what is wrong in the YAML itself (tags,
aliases, dates) and the loader's bounds are beyond JSON Schema (docs/policies.md lists them).

Draft-07, the newest draft yaml-language-server supports. Nothing here imports the Graph SDK.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel

from reconciler.core.keys import NAME, KeyKind, NameInParent, TenantKey
from reconciler.core.models import (
    FALLBACK_IDENTITY_PROVIDERS,
    KEYWORD_TARGET_TYPES,
    M365_CAPABILITIES,
    MICROSOFT_ACCOUNTS_TENANT,
    PRIMARY_IDENTITY_PROVIDERS,
    WRITABLE_LEVELS,
    B2BSetting,
    DefaultTenantRestrictions,
    GraphModel,
    InvitationRedemptionIdentityProviderConfiguration,
    M365Capability,
    MtoTemplate,
    Partner,
    Target,
    TenantRestrictions,
)
from reconciler.core.registry import REGISTRY, ResourceType
from reconciler.core.settings import Settings
from reconciler.core.wire import GUID_LENGTH, GUID_RE, ODATA_TYPE
from reconciler.policies.load import SETTINGS_FILE, TOOL_KEY, TOOL_KEYS

DIALECT = "http://json-schema.org/draft-07/schema#"
SUFFIX = ".schema.json"
Schema = dict[str, Any]
Rule = Callable[[type[BaseModel], Schema], Schema]
Rules = Callable[[type[BaseModel]], list[Schema]]
ALL_USERS, ALL_APPLICATIONS = "AllUsers", "AllApplications"
# Targets that name nobody but AllUsers (`models._singles_out_users`, negated).
ALL_USERS_ONLY: Schema = {"items": {"properties": {"target": {"const": ALL_USERS}}}}

# The length bound makes the anchored pattern whole-value in every regex dialect: Python's `$`
# (check-jsonschema) also matches before a final newline, which a YAML `|` block leaves.
GUID: Schema = {"type": "string", "pattern": f"^{GUID_RE.pattern}$", "maxLength": GUID_LENGTH}
_FLAG = f"\\s*({'|'.join(level for level in WRITABLE_LEVELS if level != 'none')})\\s*"
# A comma-separated set of flags, `none` only on its own: what `MtoTemplate._flags` accepts.
TEMPLATE_LEVELS: Schema = {
    "type": "string",
    "pattern": f"^(\\s*none\\s*(,\\s*none\\s*)*|{_FLAG}(,{_FLAG})*)$",
}


def _target_type(model: type[BaseModel], generated: Schema) -> Schema:
    """The targetTypes of the slot the target stands in (`applications` takes application only)."""
    return {"enum": list(_slot_types(model))}


def _target(model: type[BaseModel], generated: Schema) -> Schema:
    """An object id, or a keyword that fits the slot (AllUsers has no place in `applications`)."""
    keywords = [keyword for keyword, kind in KEYWORD_TARGET_TYPES.items() if kind in _slot_types(model)]
    return {"anyOf": [GUID, {"enum": keywords}]}


def _slot_types(model: type[BaseModel]) -> tuple[str, ...]:
    return cast("type[Target]", model).slot_types


def _constant(schema: Schema) -> Rule:
    return lambda model, generated: schema


def _all_users_only(model: type[BaseModel], generated: Schema) -> Schema:
    """The default's tenant restrictions target AllUsers only (`DefaultTenantRestrictions`)."""
    return {"allOf": [generated, {"properties": {"targets": ALL_USERS_ONLY}}]}


# What each key kind takes as its key property, as JSON Schema.
KEY_SCHEMAS: dict[type[KeyKind], Schema] = {
    TenantKey: GUID,
    NameInParent: {"type": "string", "pattern": f"^{NAME.pattern}$"},
}

# What a model's validators check on one property, as JSON Schema, keyed by the class that
# declares the property (a subclass inherits the rule). A rule gets the model and the schema
# pydantic generated for the property, and returns the property's schema. Each type's key
# property comes first, as its key kind has it.
PROPERTY_RULES: dict[tuple[type[BaseModel], str], Rule] = {
    **{
        (rtype.model, rtype.key): _constant(KEY_SCHEMAS[type(rtype.key_kind)])
        for rtype in REGISTRY
        if rtype.key is not None
    },
    (M365Capability, "name"): _constant({"enum": list(M365_CAPABILITIES)}),
    (DefaultTenantRestrictions, "usersAndGroups"): _all_users_only,
    (Settings, "tenant"): _constant(GUID),
    (MtoTemplate, "templateApplicationLevel"): _constant(TEMPLATE_LEVELS),
    (Target, "target"): _target,
    (Target, "targetType"): _target_type,
    (InvitationRedemptionIdentityProviderConfiguration, "primaryIdentityProviderPrecedenceOrder"): _constant(
        {"type": ["array", "null"], "items": {"enum": list(PRIMARY_IDENTITY_PROVIDERS)}, "uniqueItems": True}
    ),
    (InvitationRedemptionIdentityProviderConfiguration, "fallbackIdentityProvider"): _constant(
        {"enum": list(FALLBACK_IDENTITY_PROVIDERS)}
    ),
}


def _keyword_types(model: type[BaseModel]) -> list[Schema]:
    """A reserved keyword goes with its own targetType (AllUsers with user, not group)."""
    return [
        {
            "if": {"properties": {"target": {"const": keyword}}, "required": ["target"]},
            "then": {"properties": {"targetType": {"const": kind}}},
        }
        for keyword, kind in KEYWORD_TARGET_TYPES.items()
        if kind in _slot_types(model)
    ]


def _blocks_all(keyword: str) -> Schema:
    """A target configuration that blocks `keyword` (`models._blocks_all`)."""
    names_it = {"type": "object", "required": ["target"], "properties": {"target": {"const": keyword}}}
    return {
        "type": "object",
        "required": ["accessType", "targets"],
        "properties": {"accessType": {"const": "blocked"}, "targets": {"type": "array", "contains": names_it}},
    }


def _blocking_needs_blocking(first: str, first_all: str, second: str, second_all: str) -> Rules:
    """`first` blocking everyone needs `second`, where written, to block everything too
    (`models._blocks_one_not_other`)."""
    written = {first: _blocks_all(first_all), second: {"type": "object"}}
    rule = {
        "if": {"required": [first, second], "properties": written},
        "then": {"properties": {second: _blocks_all(second_all)}},
    }
    return lambda model: [rule]


def _microsoft_accounts_all_users(model: type[BaseModel]) -> list[Schema]:
    """The Microsoft Accounts tenant's tenant restrictions target AllUsers only, whatever the
    case its tenantId is written in (`Partner._microsoft_accounts_are_all_or_nothing`)."""
    any_case = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in MICROSOFT_ACCOUNTS_TENANT)
    restricted = {"properties": {"usersAndGroups": {"properties": {"targets": ALL_USERS_ONLY}}}}
    return [
        {
            "if": {"required": ["tenantId"], "properties": {"tenantId": {"pattern": f"^{any_case}$"}}},
            "then": {"properties": {"tenantRestrictions": restricted}},
        }
    ]


# What a model's validators check across its properties, as JSON Schema (`allOf`), keyed by the
# class that declares the validator (a subclass inherits the rule).
MODEL_RULES: dict[type[BaseModel], Rules] = {
    Target: _keyword_types,
    B2BSetting: _blocking_needs_blocking("usersAndGroups", ALL_USERS, "applications", ALL_APPLICATIONS),
    TenantRestrictions: _blocking_needs_blocking("applications", ALL_APPLICATIONS, "usersAndGroups", ALL_USERS),
    Partner: _microsoft_accounts_all_users,
    # A capability is named by its `@odata.type` or its `name` (`M365Capability._own_odata_type`).
    M365Capability: lambda model: [{"anyOf": [{"required": [ODATA_TYPE]}, {"required": ["name"]}]}],
}


def schemas() -> dict[str, Schema]:
    """Each policy file type's schema by name: every resource type with a file of its own (a
    partner's holds its identity sync), in registry order, then xtap.yaml's settings."""
    found = {
        _name(rtype): _file_schema(rtype.model, _where(rtype), tool_key=True)
        for rtype in REGISTRY
        if not rtype.parents  # a nested type lives in its parent's file, and schema
    }
    found[Path(SETTINGS_FILE).stem] = _file_schema(Settings, SETTINGS_FILE, tool_key=False)
    return found


def write(folder: Path) -> list[Path]:
    """Write each schema as `<name>.schema.json` in `folder`; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = folder / f"{name}{SUFFIX}"
        path.write_text(dumps(schema), encoding="utf-8")
        written.append(path)
    return written


def dumps(schema: Schema) -> str:
    """Stable text (sorted keys, a final newline), so a committed copy diffs cleanly."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _name(rtype: ResourceType) -> str:
    return Path(rtype.file).stem if rtype.file else rtype.name


def _where(rtype: ResourceType) -> str:
    return rtype.file or f"{rtype.folder}/*.yaml"


def _file_schema(model: type[BaseModel], file: str, tool_key: bool) -> Schema:
    """The schema of one file: the model's, refined, with the tool-only key where the loader
    takes it. A file with only comments is YAML null: for a singleton it declares the
    unconfigured state, for xtap.yaml no settings, and for a partner the loader says it lacks its
    tenantId, which `required` says too."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    by_name = _models_by_name(model)
    for name, definition in definitions.items():
        _refine(definition, by_name[name])
    _refine(schema, model)
    if tool_key:
        tool = {name: {"description": "tool-only, never sent to Graph"} for name in sorted(TOOL_KEYS)}
        schema["properties"][TOOL_KEY] = {"type": "object", "properties": tool, "additionalProperties": False}
    if "required" not in schema:
        schema["type"] = ["object", "null"]
    return {
        "$schema": DIALECT,
        "title": f"xtap policy file {file}",
        **schema,
        **({"$defs": definitions} if definitions else {}),
    }


def _models_by_name(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `model`, by class name: the keys pydantic gives `$defs`."""
    found: dict[str, type[BaseModel]] = {}
    stack = [model]
    while stack:
        current = stack.pop()
        for info in current.model_fields.values():
            for nested in _models_in(info.annotation):
                if nested.__name__ not in found:
                    found[nested.__name__] = nested
                    stack.append(nested)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]


def _refine(schema: Schema, model: type[BaseModel]) -> None:
    """Say in `schema` what `model`'s validators check and pydantic leaves out of it."""
    properties: dict[str, Schema] = schema.setdefault("properties", {})
    schema["description"] = _description(model)
    for name, prop in properties.items():
        prop.pop("title", None)  # pydantic's "Ismfaaccepted": noise on every hover
        rule = _rule(model, name)
        if rule is not None:
            properties[name] = rule(model, prop)
    for name, reason in _refused(model).items():
        properties[name] = {"not": {}, "description": reason}
    if issubclass(model, GraphModel) and model.graph_type:
        properties[ODATA_TYPE] = {"enum": model.odata_types(), "description": "its Graph type, as the docs write it"}
    across = [rule for cls in model.__mro__ if cls in MODEL_RULES for rule in MODEL_RULES[cls](model)]
    if across:
        schema["allOf"] = across
    schema.pop("title", None)


def _description(model: type[BaseModel]) -> str:
    if issubclass(model, GraphModel) and model.graph_type:
        return f"Microsoft Graph's {model.graph_type}, with Graph's own property names"
    return f"{SETTINGS_FILE}: settings of xtap itself, never sent to Graph"


def _rule(model: type[BaseModel], name: str) -> Rule | None:
    return next((PROPERTY_RULES[(cls, name)] for cls in model.__mro__ if (cls, name) in PROPERTY_RULES), None)


def _refused(model: type[BaseModel]) -> dict[str, str]:
    """The properties `model` declares only to refuse them (read-only ones, `devices`), with the
    reason: a before-validator that turns away any value at all, which no schema of the value
    could say. A validator that lets None or an arbitrary object through refuses nothing whole."""
    found: dict[str, str] = {}
    for decorator in model.__pydantic_decorators__.field_validators.values():
        if decorator.info.mode != "before":
            continue
        reasons = [_refusal(decorator.func, value) for value in (None, object())]
        if all(reasons):
            found.update(dict.fromkeys(decorator.info.fields, reasons[0] or ""))
    return found


def _refusal(check: Callable[[Any], Any], value: Any) -> str | None:
    try:
        check(value)
    except ValueError as exc:
        return str(exc)
    return None
