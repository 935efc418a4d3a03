"""PostgreSQL enum types and validate_constraint(): recording, mistakes, other dialects.

The PostgreSQL SQL is in test_compile_postgres.py and the reversal table in
test_reverse.py; this file checks what the DSL records, what it refuses while
recording, and that SQLite refuses these commands with a message that says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from whimbrel.dialects.sqlite import SQLiteDialect
from whimbrel.dsl.commands import (
    AddEnumValue,
    CreateEnum,
    DropEnum,
    RenameEnum,
    RenameEnumValue,
    ValidateConstraint,
)
from whimbrel.dsl.objects import Constraint, EnumType
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.errors import MigrationDefinitionError, UnsupportedFeatureError
from whimbrel.migration import (
    add,
    add_enum_value,
    alter,
    create,
    create_if_not_exists,
    drop,
    drop_if_exists,
    enum,
    rename,
    rename_enum_value,
    table,
    validate_constraint,
)

MOOD = EnumType("mood", ("happy", "sad"))


def record(migration: Callable[[], Any], **recorder_options: Any) -> list[object]:
    recorder = Recorder(**recorder_options)
    with recording(recorder):
        migration()
    return recorder.take()


def test_enum_builds_data_and_runs_nothing() -> None:
    assert enum("mood", ["happy", "sad"]) == MOOD
    assert enum("mood", ("happy",), prefix="app", comment="c") == EnumType(
        "mood", ("happy",), "app", "c"
    )


RECORDED: list[Any] = [
    pytest.param(lambda: create(enum("mood", ["happy", "sad"])), CreateEnum(MOOD), id="create"),
    pytest.param(lambda: drop(enum("mood")), DropEnum(EnumType("mood")), id="drop"),
    pytest.param(
        lambda: drop_if_exists(enum("mood"), mode="cascade"),
        DropEnum(EnumType("mood"), "cascade", True),
        id="drop-if-exists-cascade",
    ),
    pytest.param(
        lambda: rename(enum("mood"), to="feeling"),
        RenameEnum(EnumType("mood"), "feeling"),
        id="rename",
    ),
    pytest.param(
        lambda: add_enum_value("mood", "meh", after="happy", if_not_exists=True),
        AddEnumValue(EnumType("mood"), "meh", None, "happy", True),
        id="add-value",
    ),
    pytest.param(
        lambda: add_enum_value(MOOD, "meh", before="sad"),
        AddEnumValue(MOOD, "meh", before="sad"),
        id="add-value-to-an-enum-object",
    ),
    pytest.param(
        lambda: add_enum_value("mood", "meh", prefix="app"),
        AddEnumValue(EnumType("mood", prefix="app"), "meh"),
        id="add-value-with-prefix",
    ),
    pytest.param(
        lambda: rename_enum_value("mood", "sad", to="blue"),
        RenameEnumValue(EnumType("mood"), "sad", "blue"),
        id="rename-value",
    ),
    pytest.param(
        lambda: validate_constraint("products", "price_positive"),
        ValidateConstraint(Constraint("products", "price_positive")),
        id="validate-constraint",
    ),
]


@pytest.mark.parametrize(("migration", "command"), RECORDED)
def test_commands_are_recorded_as_data(migration: Callable[[], None], command: object) -> None:
    assert record(migration) == [command]


def test_a_column_uses_the_enum_by_name() -> None:
    def migration() -> None:
        create(enum("mood", ["happy", "sad"]))
        with alter(table("people")):
            add("mood", "mood", default="happy")

    create_enum, alter_people = record(migration)
    assert create_enum == CreateEnum(MOOD)
    assert alter_people.changes[0].type == "mood"  # type: ignore[attr-defined]


INVALID: list[Any] = [
    pytest.param(
        lambda: create(enum("mood")),
        ['create(enum("mood")): give the values, e.g. enum("mood", ["happy", "sad"])'],
        id="create-without-values",
    ),
    pytest.param(
        lambda: enum("mood", "happy"),
        ['enum("mood"): values must be a list of strings, e.g. ["happy", "sad"]'],
        id="values-a-string",
    ),
    pytest.param(
        lambda: enum("mood", ["happy", 2]),
        ['enum("mood"): values must be a list of strings'],
        id="values-not-strings",
    ),
    pytest.param(
        lambda: enum("mood", ["happy", "sad", "happy"]),
        ["enum(\"mood\"): the value 'happy' is listed twice: keep one"],
        id="duplicate-value",
    ),
    pytest.param(
        lambda: enum("", ["a"]),
        ["enum(): the type name must be a non-empty string, got ''"],
        id="empty-name",
    ),
    pytest.param(
        lambda: enum("mood", ["a"], shema="x"),
        ["enum(): unknown option 'shema'", "accepted: name, values, prefix, comment"],
        id="unknown-option",
    ),
    pytest.param(
        lambda: add_enum_value("mood", "meh", before="sad", after="happy"),
        ["add_enum_value(\"mood\", 'meh'): give before= or after=, not both"],
        id="before-and-after",
    ),
    pytest.param(
        lambda: add_enum_value("mood", "meh", befor="sad"),
        ["add_enum_value(): unknown option 'befor' (did you mean 'before'?)"],
        id="misspelt-before",
    ),
    pytest.param(
        lambda: add_enum_value("mood", None),
        ['add_enum_value("mood", None): the value must be a non-empty string'],
        id="value-not-a-string",
    ),
    pytest.param(
        lambda: add_enum_value(enum("mood", prefix="a"), "meh", prefix="b"),
        ["give prefix= once, on enum(...) or here"],
        id="two-prefixes",
    ),
    pytest.param(
        lambda: rename_enum_value("mood", "sad", "blue"),
        ["rename_enum_value(): takes 2 positional arguments"],
        id="rename-value-to-not-a-keyword",
    ),
    pytest.param(
        lambda: rename_enum_value("mood", "sad", to=""),
        ["rename_enum_value(\"mood\", 'sad'): to must be a non-empty string"],
        id="rename-value-to-empty",
    ),
    pytest.param(
        lambda: create_if_not_exists(enum("mood", ["a"])),  # type: ignore[call-overload]
        ["create_if_not_exists() takes table(...) or index(...)", "no IF NOT EXISTS"],
        id="create-if-not-exists",
    ),
    pytest.param(
        lambda: rename(enum("mood"), to=enum("feeling")),  # type: ignore[arg-type]
        ["or rename(enum(old), to=new_name)"],
        id="rename-to-an-enum",
    ),
    pytest.param(
        lambda: with_enum_in_a_block(),
        ['cannot run create(enum("mood")) inside alter(table("people"))'],
        id="inside-a-block",
    ),
]


def with_enum_in_a_block() -> None:
    with alter(table("people")):
        create(enum("mood", ["a"]))


@pytest.mark.parametrize(("migration", "message_parts"), INVALID)
def test_mistakes_are_refused_while_recording(
    migration: Callable[[], Any], message_parts: list[str]
) -> None:
    with pytest.raises(MigrationDefinitionError) as err:
        record(migration)
    for part in message_parts:
        assert part in str(err.value)


@pytest.mark.parametrize(
    "migration",
    [
        lambda: create(enum("mood", ["a"], prefix="public")),
        lambda: drop(enum("mood", prefix="public")),
        lambda: rename(enum("mood", prefix="public"), to="x"),
        lambda: add_enum_value("mood", "b", prefix="public"),
        lambda: rename_enum_value(enum("mood", prefix="public"), "a", to="b"),
    ],
    ids=["create", "drop", "rename", "add-value", "rename-value"],
)
def test_an_enum_in_another_schema_than_the_migrations_is_refused(
    migration: Callable[[], None],
) -> None:
    with pytest.raises(MigrationDefinitionError, match='prefix="public" does not match'):
        record(migration, prefix="tenant_a")


# --- SQLite has no enum types and no NOT VALID constraints -------------------------------

SQLITE_REFUSED: list[Any] = [
    pytest.param(CreateEnum(MOOD), 'create(enum("mood")): SQLite has no enum types', id="create"),
    pytest.param(DropEnum(MOOD), 'drop(enum("mood")): SQLite has no enum types', id="drop"),
    pytest.param(
        RenameEnum(MOOD, "feeling"),
        'rename(enum("mood"), to="feeling"): SQLite has no enum types',
        id="rename",
    ),
    pytest.param(
        AddEnumValue(MOOD, "meh"),
        "add_enum_value(\"mood\", 'meh'): SQLite has no enum types",
        id="add-value",
    ),
    pytest.param(
        RenameEnumValue(MOOD, "sad", "blue"),
        "rename_enum_value(\"mood\", 'sad', to='blue'): SQLite has no enum types",
        id="rename-value",
    ),
]


@pytest.mark.parametrize(("command", "what"), SQLITE_REFUSED)
def test_sqlite_refuses_enum_commands_with_the_alternative(command: object, what: str) -> None:
    with pytest.raises(UnsupportedFeatureError) as err:
        SQLiteDialect().compile(command)
    message = str(err.value)
    assert message.startswith(f"sqlite does not support {what}")
    assert 'store the value in a "text" column instead' in message


def test_sqlite_refuses_validate_constraint_saying_why() -> None:
    with pytest.raises(UnsupportedFeatureError) as err:
        SQLiteDialect().compile(ValidateConstraint(Constraint("products", "price_positive")))
    message = str(err.value)
    assert 'validate_constraint("products", "price_positive")' in message
    assert "SQLite has no NOT VALID constraints" in message
    assert "leave validate_constraint() out of migrations that run on SQLite" in message
