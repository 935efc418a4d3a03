"""SQLite compiler: migration code → exact SQL, and a clear refusal for what SQLite cannot do.

The accepted statements are also run against an in-memory SQLite database
(standard library, no server), so a row cannot expect SQL that SQLite rejects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from functools import partial as call
from typing import Any

import pytest

from whimbrel.dialects.sqlite import SQLiteDialect
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.errors import UnsupportedFeatureError
from whimbrel.migration import (
    add,
    add_if_not_exists,
    alter,
    array,
    constraint,
    create,
    create_if_not_exists,
    desc,
    drop,
    drop_if_exists,
    execute,
    fragment,
    index,
    modify,
    references,
    remove,
    remove_if_exists,
    rename,
    table,
    timestamps,
    unique_index,
)

Migration = Callable[[], Any]

# Objects the statements below refer to; created before each statement is tried.
FIXTURE_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, uuid TEXT UNIQUE);
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT, author_id INTEGER,
                    inserted_at TEXT, deleted_at TEXT);
CREATE INDEX old ON posts (title);
"""


def compile_sqlite(migration: Migration) -> list[str]:
    recorder = Recorder()
    with recording(recorder):
        migration()
    dialect = SQLiteDialect()
    return [sql for command in recorder.take() for sql in dialect.compile(command)]


def creating(t: Any, *subcommands: Callable[[], None]) -> Migration:
    def migration() -> None:
        with create(t):
            for subcommand in subcommands:
                subcommand()

    return migration


def altering(t: Any, *subcommands: Callable[[], None]) -> Migration:
    def migration() -> None:
        with alter(t):
            for subcommand in subcommands:
                subcommand()

    return migration


def check(migration: Migration, expected: list[str]) -> None:
    statements = compile_sqlite(migration)
    assert statements == expected
    db = sqlite3.connect(":memory:")
    db.executescript(FIXTURE_SCHEMA)
    for sql in statements:
        db.execute(sql)  # raises if SQLite does not accept the statement
    db.close()


# --- create table --------------------------------------------------------------------------

CREATE_TABLE: list[Any] = [
    pytest.param(
        lambda: create(table("things")),
        ['CREATE TABLE "things" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)'],
        id="sole-serial-key-is-the-rowid",
    ),
    pytest.param(
        creating(table("things"), call(add, "title", "string", null=False)),
        ['CREATE TABLE "things" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "title" TEXT NOT NULL)'],
        id="key-and-columns",
    ),
    pytest.param(
        lambda: create(table("things", primary_key={"type": "integer"})),
        ['CREATE TABLE "things" ("id" INTEGER PRIMARY KEY)'],
        id="integer-key-without-autoincrement",
    ),
    pytest.param(
        lambda: create(table("things", primary_key={"name": "uuid", "type": "binary_id"})),
        ['CREATE TABLE "things" ("uuid" TEXT, PRIMARY KEY ("uuid"))'],
        id="non-integer-key",
    ),
    pytest.param(
        creating(
            table("memberships", primary_key=False),
            call(add, "user_id", "bigint", primary_key=True),
            call(add, "group_id", "bigint", primary_key=True),
        ),
        [
            'CREATE TABLE "memberships" ("user_id" INTEGER, "group_id" INTEGER, '
            'PRIMARY KEY ("user_id", "group_id"))'
        ],
        id="composite-key",
    ),
    pytest.param(
        creating(table("tags", primary_key=False), call(add, "name", "text")),
        ['CREATE TABLE "tags" ("name" TEXT)'],
        id="no-key",
    ),
    pytest.param(
        creating(table("things", comment="ignored"), call(add, "title", "text", comment="ignored")),
        ['CREATE TABLE "things" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "title" TEXT)'],
        id="comments-are-not-stored",
    ),
    pytest.param(
        creating(table("things", primary_key=False, options="STRICT"), call(add, "n", "integer")),
        ['CREATE TABLE "things" ("n" INTEGER) STRICT'],
        id="options",
    ),
    pytest.param(
        lambda: create_if_not_exists(table("posts")),
        ['CREATE TABLE IF NOT EXISTS "posts" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)'],
        id="if-not-exists",
    ),
    pytest.param(
        creating(
            table("comments"),
            call(add, "post_id", references("posts", on_delete="delete_all"), null=False),
        ),
        [
            'CREATE TABLE "comments" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, '
            '"post_id" INTEGER NOT NULL CONSTRAINT "comments_post_id_fkey" '
            'REFERENCES "posts"("id") ON DELETE CASCADE)'
        ],
        id="reference",
    ),
    pytest.param(
        creating(table("comments"), timestamps),
        [
            'CREATE TABLE "comments" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, '
            '"inserted_at" TEXT NOT NULL, "updated_at" TEXT NOT NULL)'
        ],
        id="timestamps",
    ),
]


@pytest.mark.parametrize(("migration", "expected"), CREATE_TABLE)
def test_create_table(migration: Migration, expected: list[str]) -> None:
    check(migration, expected)


# --- types and defaults (affinities as in ecto_sqlite3) --------------------------------------

TYPES: list[Any] = [
    ("id", {}, "INTEGER"),
    ("integer", {}, "INTEGER"),
    ("bigint", {}, "INTEGER"),
    ("serial", {}, "INTEGER"),
    ("bigserial", {}, "INTEGER"),
    ("identity", {"start_value": 5}, "INTEGER"),
    ("binary_id", {}, "TEXT"),
    ("uuid", {}, "TEXT"),
    ("string", {}, "TEXT"),
    ("string", {"size": 40}, "TEXT(40)"),
    ("text", {}, "TEXT"),
    ("boolean", {}, "INTEGER"),
    ("float", {}, "NUMERIC"),
    ("decimal", {}, "DECIMAL"),
    ("decimal", {"precision": 10, "scale": 2}, "DECIMAL(10,2)"),
    ("binary", {}, "BLOB"),
    ("map", {}, "TEXT"),
    ("date", {}, "TEXT"),
    ("time", {}, "TEXT"),
    ("utc_datetime", {}, "TEXT"),
    ("utc_datetime_usec", {"precision": 3}, "TEXT"),
    ("naive_datetime", {}, "TEXT"),
    ("naive_datetime_usec", {}, "TEXT"),
    (array("text"), {}, "TEXT"),
    ("citext", {}, "citext"),
    ("text", {"default": "it's"}, "TEXT DEFAULT 'it''s'"),
    ("integer", {"default": 0}, "INTEGER DEFAULT 0"),
    ("float", {"default": 2.5}, "NUMERIC DEFAULT 2.5"),
    ("decimal", {"default": Decimal("1.10")}, "DECIMAL DEFAULT 1.10"),
    ("boolean", {"default": True}, "INTEGER DEFAULT 1"),
    ("boolean", {"default": False}, "INTEGER DEFAULT 0"),
    ("text", {"default": None}, "TEXT DEFAULT NULL"),
    (array("text"), {"default": ["a", "b"]}, 'TEXT DEFAULT \'["a","b"]\''),
    ("map", {"default": {"k": "it's"}}, "TEXT DEFAULT '{\"k\":\"it''s\"}'"),
    ("utc_datetime", {"default": fragment("CURRENT_TIMESTAMP")}, "TEXT DEFAULT CURRENT_TIMESTAMP"),
    ("text", {"null": False, "default": ""}, "TEXT DEFAULT '' NOT NULL"),
    ("text", {"collation": "NOCASE"}, 'TEXT COLLATE "NOCASE"'),
]


@pytest.mark.parametrize(("type_", "opts", "definition"), TYPES, ids=str)
def test_column_types_and_defaults(type_: Any, opts: dict[str, Any], definition: str) -> None:
    migration = creating(table("t", primary_key=False), call(add, "c", type_, **opts))
    check(migration, [f'CREATE TABLE "t" ("c" {definition})'])


# --- alter, indexes, drop, rename, execute -----------------------------------------------------

ACCEPTED: list[Any] = [
    pytest.param(
        altering(table("posts"), call(add, "views", "integer", default=0), call(remove, "body")),
        [
            'ALTER TABLE "posts" ADD COLUMN "views" INTEGER DEFAULT 0',
            'ALTER TABLE "posts" DROP COLUMN "body"',
        ],
        id="one-alter-per-action",
    ),
    pytest.param(
        altering(table("posts"), call(add, "editor_id", references("users"))),
        [
            'ALTER TABLE "posts" ADD COLUMN "editor_id" INTEGER '
            'CONSTRAINT "posts_editor_id_fkey" REFERENCES "users"("id")'
        ],
        id="add-reference-inline",
    ),
    pytest.param(
        altering(table("posts"), call(remove, "author_id", references("users"))),
        ['ALTER TABLE "posts" DROP COLUMN "author_id"'],
        id="remove-reference",
    ),
    pytest.param(
        altering(table("posts", comment="ignored")),
        [],
        id="table-comment-only-is-nothing",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"])),
        ['CREATE INDEX "posts_title_index" ON "posts" ("title")'],
        id="index",
    ),
    pytest.param(
        lambda: create(unique_index("posts", ["lower(title)", desc("inserted_at")])),
        [
            'CREATE UNIQUE INDEX "posts_lower_title_inserted_at_index" '
            'ON "posts" (lower(title), "inserted_at" DESC)'
        ],
        id="unique-expression-direction",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], where="deleted_at IS NULL", concurrently=True)),
        ['CREATE INDEX "posts_title_index" ON "posts" ("title") WHERE deleted_at IS NULL'],
        id="partial-and-concurrently-ignored",
    ),
    pytest.param(
        lambda: create_if_not_exists(index("posts", ["title"], prefix="main")),
        ['CREATE INDEX IF NOT EXISTS "main"."posts_title_index" ON "posts" ("title")'],
        id="prefix-qualifies-the-index-name",
    ),
    pytest.param(lambda: drop(index("posts", name="old")), ['DROP INDEX "old"'], id="drop-index"),
    pytest.param(
        lambda: drop_if_exists(index("posts", name="gone")),
        ['DROP INDEX IF EXISTS "gone"'],
        id="drop-index-if-exists",
    ),
    pytest.param(lambda: drop(table("posts")), ['DROP TABLE "posts"'], id="drop-table"),
    pytest.param(
        lambda: drop_if_exists(table("gone")), ['DROP TABLE IF EXISTS "gone"'], id="drop-if-exists"
    ),
    pytest.param(
        lambda: rename(table("posts"), to=table("articles")),
        ['ALTER TABLE "posts" RENAME TO "articles"'],
        id="rename-table",
    ),
    pytest.param(
        lambda: rename(table("posts"), "title", to="subject"),
        ['ALTER TABLE "posts" RENAME COLUMN "title" TO "subject"'],
        id="rename-column",
    ),
    pytest.param(
        # sqlite3 runs one statement per call, so execute() text is split with SQLite's tokenizer.
        lambda: execute("INSERT INTO posts (title) VALUES ('a;b'); UPDATE posts SET body = ';'"),
        ["INSERT INTO posts (title) VALUES ('a;b');", "UPDATE posts SET body = ';'"],
        id="execute-split",
    ),
]


@pytest.mark.parametrize(("migration", "expected"), ACCEPTED)
def test_accepted_commands(migration: Migration, expected: list[str]) -> None:
    check(migration, expected)


# --- what SQLite cannot do: refused, naming the command and the alternative -----------------

UNSUPPORTED: list[Any] = [
    pytest.param(
        altering(table("posts"), call(modify, "title", "text", from_="string")),
        ['modify("title")', "create a new table with the new column, copy the rows"],
        id="modify",
    ),
    pytest.param(
        altering(table("posts"), call(add_if_not_exists, "slug", "text")),
        ["add_if_not_exists()", "use add()"],
        id="add-if-not-exists",
    ),
    pytest.param(
        altering(table("posts"), call(remove_if_exists, "slug")),
        ["remove_if_exists()", "use remove()"],
        id="remove-if-exists",
    ),
    pytest.param(
        altering(table("posts"), call(add, "code", "text", primary_key=True)),
        ["adding a primary key column", "create a new table and copy the rows"],
        id="add-primary-key",
    ),
    pytest.param(
        lambda: create(constraint("posts", "title_set", check="title <> ''")),
        ['constraint "title_set"', "declare CHECK constraints when the table is created"],
        id="create-constraint",
    ),
    pytest.param(
        lambda: drop(constraint("posts", "title_set")),
        ['constraint "title_set"', "rebuild the table"],
        id="drop-constraint",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], using="gin")),
        ['index option using= (index "posts_title_index")', "remove the option"],
        id="index-using",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], include=["body"])),
        ['index option include= (index "posts_title_index")', "remove the option"],
        id="index-include",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], only=True)),
        ["index option only=", "remove the option"],
        id="index-only",
    ),
    pytest.param(
        lambda: create(unique_index("posts", ["title"], nulls_distinct=False)),
        ["index option nulls_distinct=", "remove the option"],
        id="index-nulls-distinct",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], options="WITH (fillfactor = 70)")),
        ["index option options=", "remove the option"],
        id="index-options",
    ),
    pytest.param(
        lambda: drop(table("posts"), mode="cascade"),
        ['drop(..., mode="cascade")', "drop the dependent objects first"],
        id="drop-table-cascade",
    ),
    pytest.param(
        lambda: drop(index("posts", name="old"), mode="cascade"),
        ['drop(index, mode="cascade")', "drop the index alone"],
        id="drop-index-cascade",
    ),
    pytest.param(
        lambda: rename(index("posts", name="old"), to="new"),
        ['rename(index(name="old"))', "drop the index and create it again under the new name"],
        id="rename-index",
    ),
]


@pytest.mark.parametrize(("migration", "message_parts"), UNSUPPORTED)
def test_unsupported_commands_are_refused_with_the_alternative(
    migration: Migration, message_parts: list[str]
) -> None:
    with pytest.raises(UnsupportedFeatureError) as err:
        compile_sqlite(migration)
    message = str(err.value)
    assert message.startswith("sqlite does not support ")
    for part in message_parts:
        assert part in message
