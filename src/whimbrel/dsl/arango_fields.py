"""The fields of ``with create(collection(...)):`` / ``with alter(...)`` blocks.

``add()`` builds a ``Field`` (checked against the rules its JSON type takes
and against what ArangoDB accepts as a schema), ``modify()``/``remove()``
and field ``rename`` change an existing rule inside ``alter``; ``with
add(name, "object"):`` nests fields. The block records its command when it
is opened and replaces it with the finished one when it closes, as the SQL
table block does. Example::

    with create(collection("users")):
        add("email", "string", null=False, required=True)
        with add("address", "object"):
            add("city", "string")
"""

from __future__ import annotations

import difflib
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.arango_objects import (
    AddField,
    AlterCollection,
    ArrayOf,
    CreateCollection,
    Field,
    FieldChange,
    FieldType,
    ModifyField,
    RemoveField,
)
from whimbrel.dsl.arango_schema import (
    RULES,
    TYPES,
    SchemaMergeError,
    check_rule,
    field_schema,
    json_type,
)
from whimbrel.dsl.commands import Command
from whimbrel.errors import MigrationDefinitionError


def _fail(message: str) -> MigrationDefinitionError:
    return MigrationDefinitionError(message)


class FieldBlock:
    """``with create(collection(...)):`` collects fields, like the SQL table block."""

    def __init__(self, rec: _rec.Recorder, command: CreateCollection | AlterCollection):
        self.rec, self.command = rec, command
        self.position = len(rec.commands)
        self.frames: list[list[FieldChange]] = [[]]
        rec.record(command)

    @property
    def kind(self) -> str:
        return "create" if isinstance(self.command, CreateCollection) else "alter"

    def __enter__(self) -> None:
        if OPEN_BLOCK.get() is not None:
            raise _fail(f"cannot nest {self.command_name()} inside another collection block")
        self.token = OPEN_BLOCK.set(self)

    def __exit__(self, exc_type: object, *_: object) -> None:
        OPEN_BLOCK.reset(self.token)
        if exc_type is not None:
            return
        changes = tuple(self.frames[0])
        if isinstance(self.command, CreateCollection):
            fields = tuple(ch.field for ch in changes if isinstance(ch, AddField))
            final: Command = replace(self.command, fields=fields)
        else:
            final = replace(self.command, changes=changes)
        self.rec.commands[self.position] = final

    def command_name(self) -> str:
        return f'{self.kind}(collection("{self.command.collection.name}"))'


OPEN_BLOCK: ContextVar[FieldBlock | None] = ContextVar("whimbrel_arango_block", default=None)


class _Nested:
    """What ``add()`` returns: ``with add("address", "object"):`` opens a nested object."""

    def __init__(self, block: FieldBlock, frame: list[FieldChange], position: int):
        self.block, self.frame, self.position = block, frame, position

    def __enter__(self) -> None:
        added = self.frame[self.position]
        assert isinstance(added, AddField)
        if added.field.type not in ("object", "map"):
            raise _fail(
                f'add("{added.field.name}", {added.field.type!r}) cannot hold fields: '
                f'use add("{added.field.name}", "object") for a nested object'
            )
        self.block.frames.append([])

    def __exit__(self, exc_type: object, *_: object) -> None:
        inner = self.block.frames.pop()
        if exc_type is not None:
            return
        added = self.frame[self.position]
        assert isinstance(added, AddField)
        nested = tuple(ch.field for ch in inner if isinstance(ch, AddField))
        self.frame[self.position] = AddField(replace(added.field, type="object", fields=nested))


def current_block(what: str, allowed: tuple[str, ...] = ("create", "alter")) -> FieldBlock:
    block = OPEN_BLOCK.get()
    if block is None:
        raise _fail(
            f"{what}() can only be used inside a block: write it under "
            '`with create(collection("...")):` or `with alter(collection("...")):`'
        )
    if block.kind not in allowed:
        raise _fail(f"{what}() cannot be used inside {block.command_name()}: use alter()")
    if len(block.frames) > 1 and what != "add":
        raise _fail(f"{what}() cannot be used inside a nested object; only add() can")
    return block


def field_type(where: str, type_: Any) -> FieldType:
    if isinstance(type_, ArrayOf) or type_ in TYPES:
        return type_  # type: ignore[no-any-return]
    close = difflib.get_close_matches(str(type_), list(TYPES), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    raise _fail(f"{where}: unknown field type {type_!r}{hint}; use one of: {', '.join(TYPES)}")


def _field(
    where: str, name: str, type_: Any, null: bool, required: bool, rules: dict[str, Any]
) -> Field:
    if not isinstance(name, str) or not name:
        raise _fail(f"{where}: the field name must be a non-empty string, got {name!r}")
    checked = field_type(where, type_)
    group = json_type(checked)
    allowed = {"comment": "$comment", "description": "description", "title": "title"}
    allowed |= RULES.get(group, {})
    converted = []
    for key, value in rules.items():
        if key not in allowed:
            raise _fail(
                f"{where}: rule {key!r} does not apply to {group} fields; "
                f"{group} takes: {', '.join(sorted(allowed))}"
            )
        converted.append((allowed[key], value))
    if group in ("enum", "const") and not rules.get("values" if group == "enum" else "value"):
        option = "values=[...]" if group == "enum" else "value=..."
        raise _fail(f"{where}: a {group} field needs {option}")
    for low, high in (("minimum", "exclusive_minimum"), ("maximum", "exclusive_maximum")):
        if low in rules and high in rules:
            raise _fail(f"{where}: give {low}= or {high}=, not both")
    built = Field(name, checked, tuple(converted), null, required)
    try:
        check_rule(field_schema(built), "the rule")
    except SchemaMergeError as exc:
        raise _fail(f"{where}: {exc}; ArangoDB would refuse it (error 1621)") from exc
    return built


def add(name: str, type: Any, null: bool = True, required: bool = False, **rules: Any) -> _Nested:  # noqa: A002
    """Add a field to the schema rule; ``with add(name, "object"):`` nests fields.

    ``null=True`` (the default, as in ArangoXEcto) also allows ``null``;
    ``required=True`` lists the field in its object's ``required``. Rules:
    strings ``min_length``, ``max_length``, ``pattern``, ``format``; numbers
    ``minimum``, ``maximum``, ``exclusive_minimum``, ``exclusive_maximum``,
    ``multiple_of``; arrays ``min_items``, ``max_items``, ``unique_items``;
    objects ``additional_properties``, ``pattern_properties``,
    ``min_properties``, ``max_properties``; ``enum`` fields ``values``,
    ``const`` fields ``value``; any field ``comment``, ``description``, ``title``.
    """
    block = current_block("add")
    frame = block.frames[-1]
    frame.append(AddField(_field(f'add("{name}")', name, type, null, required, rules)))
    return _Nested(block, frame, len(frame) - 1)


def modify(
    name: str,
    type: Any,  # noqa: A002
    null: bool = True,
    required: bool = False,
    from_: tuple[Any, dict[str, Any]] | Any = None,
    **rules: Any,
) -> None:
    """Replace a field's schema inside ``alter``; ``from_=type`` or ``(type, {rules})``
    states what it was, which a rollback can use when nothing was captured."""
    block = current_block("modify", ("alter",))
    where = f'modify("{name}")'
    before = None
    if from_ is not None:
        old_type, old_rules = from_ if isinstance(from_, tuple) else (from_, {})
        before = _field(where, name, old_type, True, False, dict(old_rules))
    block.frames[-1].append(ModifyField(_field(where, name, type, null, required, rules), before))


def remove(name: str, type: Any = None, **rules: Any) -> None:  # noqa: A002
    """Remove a field from the schema inside ``alter``."""
    block = current_block("remove", ("alter",))
    known = None if type is None else _field(f'remove("{name}")', name, type, True, False, rules)
    block.frames[-1].append(RemoveField(name, known))


def timestamps(
    inserted_at: str = "inserted_at",
    updated_at: str | None = "updated_at",
    type: str = "naive_datetime",  # noqa: A002
) -> None:
    """``inserted_at``/``updated_at`` fields, as ArangoXEcto's ``timestamps()``."""
    add(inserted_at, type)
    if updated_at is not None:
        add(updated_at, type)
