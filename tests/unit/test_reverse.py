"""The reversal table (DESIGN §2, Ecto's runner `reverse/1`): what `change()` undoes, and how."""

from __future__ import annotations

from typing import Any

import pytest

from whimbrel.dsl.commands import (
    AddColumn,
    AddEnumValue,
    AlterTable,
    CreateConstraint,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropTable,
    Execute,
    ExecuteCallable,
    ExecuteFile,
    ModifyColumn,
    Nothing,
    RemoveColumn,
    RenameColumn,
    RenameEnum,
    RenameEnumValue,
    RenameIndex,
    RenameTable,
    ValidateConstraint,
)
from whimbrel.dsl.objects import ColumnOpts, Constraint, EnumType, Index, Reference, Table
from whimbrel.dsl.reverse import reverse, reverse_all
from whimbrel.errors import IrreversibleMigrationError, MigrationDefinitionError
from whimbrel.migration import constraint, index, references

POSTS = Table("posts")
NOT_NULL = ColumnOpts(null=False)
KEY = AddColumn("id", "bigserial", ColumnOpts(primary_key=True))
TITLE_INDEX = index("posts", ["title"], unique=True, concurrently=True, where="title <> ''")
PRICE_CHECK = constraint("products", "price_positive", check="price > 0")
MOOD = EnumType("mood", ("happy", "sad"), "app", "How it feels")
VALIDATE = ValidateConstraint(Constraint("products", "price_positive"))


def _undo_sql() -> None: ...


def _redo_sql() -> None: ...


REVERSIBLE: list[Any] = [
    pytest.param(CreateTable(POSTS, (KEY,)), DropTable(POSTS), id="create-table"),
    pytest.param(
        CreateTable(POSTS, (KEY,), if_not_exists=True),
        DropTable(POSTS, if_exists=True),
        id="create-table-if-not-exists",
    ),
    pytest.param(CreateIndex(TITLE_INDEX), DropIndex(TITLE_INDEX), id="create-index"),
    pytest.param(
        CreateIndex(TITLE_INDEX, if_not_exists=True),
        DropIndex(TITLE_INDEX, if_exists=True),
        id="create-index-if-not-exists",
    ),
    # The index object carries every option, so a dropped index comes back as it was.
    pytest.param(DropIndex(TITLE_INDEX), CreateIndex(TITLE_INDEX), id="drop-index"),
    pytest.param(
        DropIndex(TITLE_INDEX, if_exists=True),
        CreateIndex(TITLE_INDEX, if_not_exists=True),
        id="drop-index-if-exists",
    ),
    pytest.param(
        CreateConstraint(PRICE_CHECK), DropConstraint(PRICE_CHECK), id="create-constraint"
    ),
    pytest.param(
        RenameTable(POSTS, Table("articles")),
        RenameTable(Table("articles"), POSTS),
        id="rename-table",
    ),
    pytest.param(
        RenameColumn(POSTS, "title", "subject"),
        RenameColumn(POSTS, "subject", "title"),
        id="rename-column",
    ),
    pytest.param(
        RenameIndex(Index("posts", (), "old_name"), "new_name"),
        RenameIndex(Index("posts", (), "new_name"), "old_name"),
        id="rename-index",
    ),
    pytest.param(
        Execute("CREATE EXTENSION citext", "DROP EXTENSION citext"),
        Execute("DROP EXTENSION citext", "CREATE EXTENSION citext"),
        id="execute-up-down",
    ),
    pytest.param(
        ExecuteCallable(_redo_sql, _undo_sql),
        ExecuteCallable(_undo_sql, _redo_sql),
        id="execute-callables",
    ),
    pytest.param(
        ExecuteFile("up.sql", "down.sql", "CREATE TABLE t (a int)", "DROP TABLE t"),
        ExecuteFile("down.sql", "up.sql", "DROP TABLE t", "CREATE TABLE t (a int)"),
        id="execute-file",
    ),
    pytest.param(
        AlterTable(
            POSTS,
            (
                AddColumn("views", "integer", ColumnOpts(default=0)),
                RemoveColumn("legacy", "boolean", ColumnOpts(null=False)),
                ModifyColumn("title", "text", ColumnOpts(), ("string", ColumnOpts(null=False))),
            ),
        ),
        AlterTable(
            POSTS,
            (
                ModifyColumn("title", "string", ColumnOpts(null=False), ("text", ColumnOpts())),
                AddColumn("legacy", "boolean", ColumnOpts(null=False)),
                RemoveColumn("views", "integer", ColumnOpts(default=0)),
            ),
        ),
        id="alter-inverted-in-reverse-order",
    ),
    pytest.param(
        AlterTable(POSTS, (AddColumn("author_id", references("users")),)),
        AlterTable(POSTS, (RemoveColumn("author_id", references("users")),)),
        id="alter-add-reference",
    ),
    pytest.param(
        AlterTable(
            POSTS,
            (
                ModifyColumn(
                    "author_id", "bigint", ColumnOpts(), (Reference("users"), ColumnOpts())
                ),
            ),
        ),
        AlterTable(
            POSTS,
            (
                ModifyColumn(
                    "author_id", Reference("users"), ColumnOpts(), ("bigint", ColumnOpts())
                ),
            ),
        ),
        id="alter-modify-from-reference",
    ),
    pytest.param(
        AlterTable(
            POSTS,
            (RemoveColumn("author_id", references("users", on_delete="delete_all"), NOT_NULL),),
        ),
        AlterTable(
            POSTS,
            (AddColumn("author_id", references("users", on_delete="delete_all"), NOT_NULL),),
        ),
        id="alter-remove-reference-with-type-and-options",
    ),
    pytest.param(
        # comment="" is how PostgreSQL removes a comment, so "no comment" can be restored.
        AlterTable(
            POSTS,
            (
                ModifyColumn(
                    "title",
                    "text",
                    ColumnOpts(comment="Headline"),
                    ("string", ColumnOpts(comment="")),
                ),
            ),
        ),
        AlterTable(
            POSTS,
            (
                ModifyColumn(
                    "title",
                    "string",
                    ColumnOpts(comment=""),
                    ("text", ColumnOpts(comment="Headline")),
                ),
            ),
        ),
        id="alter-modify-comment-with-the-old-one",
    ),
    # Validating only checks rows: there is nothing to undo, and it cannot be un-validated.
    pytest.param(VALIDATE, Nothing(VALIDATE), id="validate-constraint"),
    pytest.param(CreateEnum(MOOD), DropEnum(MOOD), id="create-enum"),
    # The values are known, so the type comes back as it was.
    pytest.param(DropEnum(MOOD), CreateEnum(MOOD), id="drop-enum-with-values"),
    pytest.param(
        RenameEnum(EnumType("mood", prefix="app"), "feeling"),
        RenameEnum(EnumType("feeling", prefix="app"), "mood"),
        id="rename-enum",
    ),
    pytest.param(
        RenameEnumValue(EnumType("mood"), "sad", "blue"),
        RenameEnumValue(EnumType("mood"), "blue", "sad"),
        id="rename-enum-value",
    ),
]


@pytest.mark.parametrize(("command", "inverse"), REVERSIBLE)
def test_reverse(command: object, inverse: object) -> None:
    assert reverse(command) == inverse


SELF_INVERSE_KINDS = [
    p
    for p in REVERSIBLE
    if p.id.startswith(("rename", "execute", "alter", "drop-index", "drop-enum", "validate"))
]


@pytest.mark.parametrize(("command", "inverse"), SELF_INVERSE_KINDS)
def test_reversing_twice_gives_the_command_back(command: object, inverse: object) -> None:
    assert reverse(reverse(command)) == command


def test_reverse_all_inverts_each_command_in_reverse_order() -> None:
    recorded = [
        CreateTable(POSTS, (KEY,)),
        CreateIndex(TITLE_INDEX),
        RenameColumn(POSTS, "title", "subject"),
    ]
    assert reverse_all(recorded) == [
        RenameColumn(POSTS, "subject", "title"),
        DropIndex(TITLE_INDEX),
        DropTable(POSTS),
    ]


def test_reverse_all_of_nothing_is_nothing() -> None:
    assert reverse_all([]) == []


IRREVERSIBLE: list[Any] = [
    pytest.param(DropTable(POSTS), ['drop(table("posts"))'], id="drop-table"),
    pytest.param(
        DropTable(POSTS, if_exists=True),
        ['drop_if_exists(table("posts"))'],
        id="drop-table-if-exists",
    ),
    pytest.param(
        DropConstraint(PRICE_CHECK),
        ['drop(constraint("products", "price_positive"))'],
        id="drop-constraint",
    ),
    pytest.param(
        DropConstraint(PRICE_CHECK, if_exists=True),
        ['drop_if_exists(constraint("products", "price_positive"))'],
        id="drop-constraint-if-exists",
    ),
    pytest.param(
        Execute("UPDATE posts SET views = 0"),
        ["execute('UPDATE posts SET views = 0')", "give execute() a down side too"],
        id="execute-sql",
    ),
    pytest.param(
        ExecuteCallable(_redo_sql),
        ["execute('_redo_sql')", "execute(up_sql, down_sql)"],
        id="execute-fn",
    ),
    pytest.param(
        ExecuteFile("seed.sql"),
        ["execute_file('seed.sql')", "execute_file(up_path, down_path)"],
        id="execute-file",
    ),
    pytest.param(
        AlterTable(POSTS, (RemoveColumn("body"),)),
        ['remove("body")', 'give remove() the column type, e.g. remove("col", "string")'],
        id="remove-without-type",
    ),
    pytest.param(
        AlterTable(POSTS, (ModifyColumn("title", "text"),)),
        ['modify("title")', 'modify("col", "text", from_="string")'],
        id="modify-without-from",
    ),
    pytest.param(
        AlterTable(POSTS, (AddColumn("slug", "text", if_not_exists=True),)),
        ['add_if_not_exists("slug")'],
        id="add-if-not-exists",
    ),
    pytest.param(
        AlterTable(POSTS, (RemoveColumn("slug", "text", if_exists=True),)),
        ['remove_if_exists("slug")'],
        id="remove-if-exists",
    ),
    pytest.param(
        # One bad change makes the whole alter irreversible; the message names that change.
        AlterTable(POSTS, (AddColumn("views", "integer"), RemoveColumn("body"))),
        ['remove("body")'],
        id="alter-with-one-irreversible-change",
    ),
]


IRREVERSIBLE += [
    pytest.param(
        # PostgreSQL keeps no earlier comment to restore (Ecto would set this one again).
        AlterTable(Table("posts", comment="Blog posts"), (AddColumn("views", "integer"),)),
        [
            'alter(table("posts")): the table comment it sets cannot be restored',
            'execute("COMMENT ON TABLE posts IS \'...\'", "COMMENT ON TABLE posts IS NULL")',
        ],
        id="alter-setting-a-table-comment",
    ),
    pytest.param(
        AlterTable(
            POSTS,
            (
                ModifyColumn(
                    "title", "text", ColumnOpts(comment="Headline"), ("string", ColumnOpts())
                ),
            ),
        ),
        ['modify("title")', 'give from_ the old comment ("" for none)'],
        id="modify-setting-a-comment-without-the-old-one",
    ),
    pytest.param(
        DropEnum(EnumType("mood")),
        ['drop(enum("mood"))', 'give drop() the values, e.g. drop(enum("mood", ["happy", "sad"]))'],
        id="drop-enum-without-values",
    ),
    pytest.param(
        # CASCADE dropped the columns using the type too; recreating the type brings none back.
        DropEnum(MOOD, mode="cascade"),
        ['drop(enum("mood"))'],
        id="drop-enum-cascade",
    ),
    pytest.param(
        # It may have dropped nothing, and there is no CREATE TYPE IF NOT EXISTS.
        DropEnum(MOOD, if_exists=True),
        ['drop_if_exists(enum("mood"))'],
        id="drop-enum-if-exists",
    ),
    pytest.param(
        AddEnumValue(EnumType("mood"), "meh"),
        [
            "add_enum_value(\"mood\", 'meh'): PostgreSQL cannot remove a value from an enum "
            "type, so a down() has to recreate the type without it: define up() and down()"
        ],
        id="add-enum-value",
    ),
]


@pytest.mark.parametrize(("command", "names"), IRREVERSIBLE)
def test_irreversible_commands_raise_naming_the_command_and_the_fix(
    command: object, names: list[str]
) -> None:
    assert reverse(command) is None
    with pytest.raises(IrreversibleMigrationError) as err:
        reverse_all([CreateTable(POSTS), command])
    message = str(err.value)
    assert message.startswith("cannot reverse migration command ")
    for name in names:
        assert name in message
    assert message.endswith("define up() and down() instead of change()")


def test_remove_if_exists_is_not_told_to_add_a_type() -> None:
    # remove_if_exists() stays irreversible with a type, so that advice would be wrong.
    command = AlterTable(POSTS, (RemoveColumn("slug", "text", if_exists=True),))
    with pytest.raises(IrreversibleMigrationError) as err:
        reverse_all([command])
    assert "give remove() the column type" not in str(err.value)


def test_only_a_plain_drop_of_a_known_enum_gets_the_values_hint() -> None:
    with pytest.raises(IrreversibleMigrationError) as err:
        reverse_all([DropEnum(EnumType("mood"), mode="cascade")])
    assert "give drop() the values" not in str(err.value)


def test_a_rolled_back_validation_runs_nothing_and_the_rest_is_undone() -> None:
    recorded = [CreateConstraint(PRICE_CHECK), VALIDATE, CreateEnum(MOOD)]
    assert reverse_all(recorded) == [
        DropEnum(MOOD),
        Nothing(VALIDATE),
        DropConstraint(PRICE_CHECK),
    ]


def test_irreversible_is_a_migration_definition_error() -> None:
    # The CLI maps MigrationDefinitionError to exit code 2 ("fix the migration").
    with pytest.raises(MigrationDefinitionError):
        reverse_all([DropTable(POSTS)])
