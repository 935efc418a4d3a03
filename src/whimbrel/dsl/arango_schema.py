"""Fields to ArangoDB JSON-schema rules, and ``alter`` changes merged into a rule.

ArangoDB validates documents against a draft-4 JSON Schema (collections
page of the HTTP API: ``schema.rule``). Field types follow ArangoXEcto's
``JsonSchema`` module: Ecto type names become JSON types, date and time
types become strings with a format or pattern, ``null=True`` (the default)
also allows ``null``. Rules are given in snake_case and written in the
schema's spelling; ``exclusive_minimum=5`` becomes draft-4's
``{"minimum": 5, "exclusiveMinimum": true}``.

Example::

    >>> rule_for((Field("title", "string", (("minLength", 1),), null=False, required=True),))
    {'properties': {'title': {'type': 'string', 'minLength': 1}}, 'required': ['title']}
"""

from __future__ import annotations

import copy
import re
from typing import Any

from whimbrel.dsl.arango_objects import (
    AddField,
    ArrayOf,
    Field,
    FieldChange,
    FieldType,
    ModifyField,
    RemoveField,
    RenameField,
)

NAIVE_DATETIME = (
    r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3])"
    r":[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$"
)
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

#: Field type -> (JSON type or None, extra keywords).
TYPES: dict[str, tuple[str | None, dict[str, Any]]] = {
    "string": ("string", {}),
    "text": ("string", {}),
    "integer": ("integer", {}),
    "bigint": ("integer", {}),
    "id": ("integer", {}),
    "number": ("number", {}),
    "float": ("number", {}),
    "decimal": ("number", {}),
    "boolean": ("boolean", {}),
    "map": ("object", {}),
    "object": ("object", {}),
    "date": ("string", {"format": "date"}),
    "datetime": ("string", {"format": "date-time"}),
    "utc_datetime": ("string", {"format": "date-time"}),
    "utc_datetime_usec": ("string", {"format": "date-time"}),
    "naive_datetime": ("string", {"pattern": NAIVE_DATETIME}),
    "naive_datetime_usec": ("string", {"pattern": NAIVE_DATETIME}),
    "uuid": ("string", {"pattern": UUID}),
    "binary_id": ("string", {"pattern": UUID}),
    "enum": (None, {}),
    "const": (None, {}),
}

_COMMON = {"comment": "$comment", "description": "description", "title": "title"}
#: Rules each JSON type accepts: DSL name -> schema keyword.
RULES: dict[str, dict[str, str]] = {
    "string": {
        "min_length": "minLength",
        "max_length": "maxLength",
        "pattern": "pattern",
        "format": "format",
        "content_encoding": "contentEncoding",
        "content_media_type": "contentMediaType",
    },
    "integer": {
        "minimum": "minimum",
        "maximum": "maximum",
        "exclusive_minimum": "exclusiveMinimum",
        "exclusive_maximum": "exclusiveMaximum",
        "multiple_of": "multipleOf",
    },
    "array": {"min_items": "minItems", "max_items": "maxItems", "unique_items": "uniqueItems"},
    "object": {
        "additional_properties": "additionalProperties",
        "pattern_properties": "patternProperties",
        "min_properties": "minProperties",
        "max_properties": "maxProperties",
    },
    "enum": {"values": "enum"},
    "const": {"value": "enum"},
    "boolean": {},
}
RULES["number"] = RULES["integer"]


def json_type(type_: FieldType) -> str:
    """The rule group of a field type: ``"string"``, ``"array"``, ``"enum"`` ..."""
    if isinstance(type_, ArrayOf):
        return "array"
    if type_ in ("enum", "const"):
        return type_
    base = TYPES[type_][0]
    return base or type_


def field_schema(f: Field) -> dict[str, Any]:
    """The JSON schema of one field (nested objects and arrays included)."""
    if isinstance(f.type, ArrayOf):
        inner = Field("items", f.type.of, (), null=False)
        schema: dict[str, Any] = {"type": "array", "items": field_schema(inner)}
    else:
        base, extra = TYPES[f.type]
        schema = {} if base is None else {"type": base, **extra}
    if f.fields:
        schema["type"] = "object"
        schema |= rule_for(f.fields)
    for key, value in f.rules:
        _put_rule(schema, key, value)
    if f.null:
        _allow_null(schema)
    return schema


def _put_rule(schema: dict[str, Any], key: str, value: Any) -> None:
    # Draft 4 spells an exclusive bound as a flag beside minimum/maximum.
    if key in ("exclusiveMinimum", "exclusiveMaximum"):
        schema["minimum" if key == "exclusiveMinimum" else "maximum"] = value
        schema[key] = True
    elif key == "enum" and not isinstance(value, list | tuple):
        schema["enum"] = [value]  # const(value): draft 4 has no "const"
    elif key == "enum":
        schema["enum"] = list(value)
    else:
        schema[key] = value


def _allow_null(schema: dict[str, Any]) -> None:
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]


def rule_for(fields: tuple[Field, ...]) -> dict[str, Any]:
    """The object rule holding ``fields``: ``properties`` and ``required``."""
    rule: dict[str, Any] = {"properties": {f.name: field_schema(f) for f in fields}}
    required = [f.name for f in fields if f.required]
    if required:
        rule["required"] = required
    return rule


class SchemaMergeError(ValueError):
    """An ``alter`` change that does not fit the schema the server has."""


def apply_changes(rule: dict[str, Any] | None, changes: tuple[FieldChange, ...]) -> dict[str, Any]:
    """The rule after ``changes``: what ``alter`` puts, computed from what the server has.

    Adding a field that exists, or changing one that does not, is an error
    naming the field and the fix rather than a silent overwrite.
    """
    result = copy.deepcopy(rule) if rule else {"properties": {}}
    props: dict[str, Any] = result.setdefault("properties", {})
    required: list[str] = list(result.get("required", []))
    for change in changes:
        required = _apply(props, required, change)
    if required:
        result["required"] = required
    else:
        result.pop("required", None)
    return result


def _apply(props: dict[str, Any], required: list[str], change: FieldChange) -> list[str]:
    match change:
        case AddField(field=f):
            if f.name in props:
                raise SchemaMergeError(
                    f"add({f.name!r}): the schema already has {f.name!r}; use modify()"
                )
            props[f.name] = field_schema(f)
            return required + [f.name] if f.required else required
        case ModifyField(field=f):
            _must_have(props, f.name, "modify")
            props[f.name] = field_schema(f)
            kept = [r for r in required if r != f.name]
            return kept + [f.name] if f.required else kept
        case RemoveField(name=name):
            _must_have(props, name, "remove")
            del props[name]
            return [r for r in required if r != name]
        case RenameField(name=name, to=to):
            _must_have(props, name, "rename")
            if to in props:
                raise SchemaMergeError(f"rename({name!r}, to={to!r}): {to!r} already exists")
            props[to] = props.pop(name)
            return [to if r == name else r for r in required]
    raise SchemaMergeError(f"unknown schema change {change!r}")


def _must_have(props: dict[str, Any], name: str, verb: str) -> None:
    if name not in props:
        known = ", ".join(sorted(props)) or "none"
        raise SchemaMergeError(
            f"{verb}({name!r}): the schema has no field {name!r} (fields: {known}); "
            "use add() for a new field"
        )


JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def check_rule(rule: Any, where: str = "rule") -> None:
    """Reject a hand-written rule ArangoDB would refuse (error 1621), before anything runs.

    A structural check of the draft-4 keywords that most often go wrong:
    the rule is an object, ``type`` names JSON types, ``required`` is a list
    of names, ``properties`` maps names to schemas, bounds are numbers.
    """
    if not isinstance(rule, dict):
        raise SchemaMergeError(f"{where} must be an object (a JSON schema), got {rule!r}")
    types = rule.get("type", [])
    for t in [types] if isinstance(types, str) else types:
        if t not in JSON_TYPES:
            raise SchemaMergeError(
                f"{where}.type {t!r} is not a JSON type ({', '.join(JSON_TYPES)})"
            )
    required = rule.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaMergeError(f"{where}.required must be a list of field names, got {required!r}")
    for key in ("minimum", "maximum", "multipleOf"):
        value = rule.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaMergeError(f"{where}.{key} must be a number, got {value!r}")
    for key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties"):
        value = rule.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SchemaMergeError(f"{where}.{key} must be a whole number >= 0, got {value!r}")
    for key in ("uniqueItems", "exclusiveMinimum", "exclusiveMaximum"):
        if not isinstance(rule.get(key, False), bool):
            raise SchemaMergeError(f"{where}.{key} must be true or false, got {rule[key]!r}")
    _check_pattern(rule, where)
    properties = rule.get("properties") or {}
    if not isinstance(properties, dict):
        raise SchemaMergeError(f"{where}.properties must map field names to schemas")
    for name, sub in properties.items():
        check_rule(sub, f"{where}.properties.{name}")
    if "items" in rule and isinstance(rule["items"], dict):
        check_rule(rule["items"], f"{where}.items")


def _check_pattern(rule: dict[str, Any], where: str) -> None:
    pattern = rule.get("pattern")
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except (re.error, TypeError) as exc:
        raise SchemaMergeError(f"{where}.pattern {pattern!r} is not a regular expression") from exc
