"""The reversal table (DESIGN §2, Ecto's runner `reverse/1`): what `change()` undoes, and how."""

from __future__ import annotations

from typing import Any

import pytest

from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    CreateConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    Execute,
    ExecuteFile,
    ModifyColumn,
    RemoveColumn,
    RenameColumn,
    RenameIndex,
    RenameTable,
)
from whimbrel.dsl.objects import ColumnOpts, Index, Reference, Table
from whimbrel.dsl.reverse import reverse, reverse_all
from whimbrel.errors import IrreversibleMigrationError, MigrationDefinitionError
from whimbrel.migration import constraint, index, references

POSTS = Table("posts")
KEY = AddColumn("id", "bigserial", ColumnOpts(primary_key=True))
TITLE_INDEX = index("posts", ["title"], unique=True, concurrently=True, where="title <> ''")
PRICE_CHECK = constraint("products", "price_positive", check="price > 0")


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
        Execute(_redo_sql, _undo_sql), Execute(_undo_sql, _redo_sql), id="execute-callables"
    ),
    pytest.param(
        ExecuteFile("up.sql", "down.sql"), ExecuteFile("down.sql", "up.sql"), id="execute-file"
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
]


@pytest.mark.parametrize(("command", "inverse"), REVERSIBLE)
def test_reverse(command: object, inverse: object) -> None:
    assert reverse(command) == inverse


SELF_INVERSE_KINDS = [
    p for p in REVERSIBLE if p.id.startswith(("rename", "execute", "alter", "drop-index"))
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
        Execute(_redo_sql), ["execute('_redo_sql')", "execute(up_sql, down_sql)"], id="execute-fn"
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


def test_irreversible_is_a_migration_definition_error() -> None:
    # The CLI maps MigrationDefinitionError to exit code 2 ("fix the migration").
    with pytest.raises(MigrationDefinitionError):
        reverse_all([DropTable(POSTS)])
