"""SQLite compiler: migration code → exact SQL, and a clear refusal for what SQLite cannot do.

The accepted statements are also run against an in-memory SQLite database
(standard library, no server), so a row cannot expect SQL that SQLite rejects.
What needs the catalog (the table rebuild, index renames) compiles to a
``CatalogStep``; ``run_sqlite`` expands it through the SQLite adapter against
``FIXTURE_SCHEMA``, and the rows compare the statements that really ran.
The rebuild planner itself is pure and is also tested on parsed definitions.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial as call
from typing import Any

import pytest
from compile_helpers import Migration, altering, compile_with, creating

from whimbrel.adapters.sqlite import SQLiteAdapter
from whimbrel.dialects.sqlite import SQLiteDialect
from whimbrel.dialects.sqlite_rebuild import TablePlan
from whimbrel.dialects.sqlite_schema import parse_table
from whimbrel.dialects.steps import CatalogStep
from whimbrel.dsl.commands import ModifyColumn, RemoveColumn
from whimbrel.dsl.objects import ColumnOpts, Table
from whimbrel.errors import DatabaseError, UnsupportedFeatureError
from whimbrel.migration import (
    add,
    add_if_not_exists,
    array,
    constraint,
    create,
    create_if_not_exists,
    desc,
    drop,
    drop_if_exists,
    enum,
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
    validate_constraint,
)

# Objects the statements below refer to; created before each statement is tried.
FIXTURE_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, uuid TEXT UNIQUE);
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT, author_id INTEGER,
                    inserted_at TEXT, deleted_at TEXT);
CREATE INDEX old ON posts (title);
"""


def compile_sqlite(migration: Migration) -> list[str]:
    return compile_with(SQLiteDialect(), migration)


def run_sqlite(migration: Migration, schema: str = FIXTURE_SCHEMA) -> list[str]:
    """Compile, then run on a fresh in-memory database; the statements that ran.

    Catalog steps are expanded by the SQLite adapter, as the migrator does.
    """
    ran: list[str] = []

    def emit(sql: str) -> None:
        if isinstance(sql, CatalogStep):
            db.run_step(sql, emit)
            return
        db.execute(sql)  # raises if SQLite does not accept the statement
        ran.append(sql)

    with SQLiteAdapter("sqlite:///:memory:") as db:
        for statement in split_script(schema):
            db.execute(statement)
        for sql in compile_sqlite(migration):
            emit(sql)
    return ran


def split_script(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def check(migration: Migration, expected: list[str]) -> None:
    assert run_sqlite(migration) == expected


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
        ['ALTER TABLE "posts" DROP COLUMN "author_id"'],  # the fixture declares no FK
        id="remove-unconstrained-column",
    ),
    pytest.param(
        altering(table("posts"), call(add_if_not_exists, "slug", "text")),
        ['ALTER TABLE "posts" ADD COLUMN "slug" TEXT'],
        id="add-if-not-exists-adds",
    ),
    pytest.param(
        altering(table("posts"), call(add_if_not_exists, "title", "text")),
        [],
        id="add-if-not-exists-skips",
    ),
    pytest.param(
        altering(table("posts"), call(remove_if_exists, "slug")), [], id="remove-if-exists-skips"
    ),
    pytest.param(
        lambda: create(unique_index("posts", ["title"], nulls_distinct=True)),
        ['CREATE UNIQUE INDEX "posts_title_index" ON "posts" ("title")'],
        id="nulls-distinct-is-what-sqlite-does",
    ),
    pytest.param(
        lambda: rename(index("posts", name="old"), to="new"),
        ['DROP INDEX "old"', 'CREATE INDEX "new" ON posts (title)'],
        id="rename-index-drops-and-recreates",
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
        id="main-prefix-qualifies-the-index-name",
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
        ["INSERT INTO posts (title) VALUES ('a;b')", "UPDATE posts SET body = ';'"],
        id="execute-split",
    ),
]


@pytest.mark.parametrize(("migration", "expected"), ACCEPTED)
def test_accepted_commands(migration: Migration, expected: list[str]) -> None:
    check(migration, expected)


# --- the table rebuild: what ALTER TABLE cannot do, planned from the live definition -------

REBUILD_TAIL = [
    'DROP TABLE "posts"',
    "PRAGMA legacy_alter_table = ON",
    'ALTER TABLE "whimbrel_new_posts" RENAME TO "posts"',
    "PRAGMA legacy_alter_table = OFF",
    "CREATE INDEX old ON posts (title)",
]
COPY = (
    'INSERT INTO "whimbrel_new_posts" ("id", "title", "body", "author_id", "inserted_at", '
    '"deleted_at") SELECT "id", "title", "body", "author_id", "inserted_at", "deleted_at" '
    'FROM "posts"'
)

REBUILT: list[Any] = [
    pytest.param(
        altering(table("posts"), call(modify, "title", "string", null=False, default="")),
        [
            'CREATE TABLE "whimbrel_new_posts" (id INTEGER PRIMARY KEY, '
            "title TEXT NOT NULL DEFAULT '', body TEXT, author_id INTEGER, inserted_at TEXT, "
            "deleted_at TEXT)",
            COPY,
            *REBUILD_TAIL,
        ],
        id="modify-type-null-default",
    ),
    pytest.param(
        altering(table("posts"), call(modify, "author_id", references("users"))),
        [
            'CREATE TABLE "whimbrel_new_posts" (id INTEGER PRIMARY KEY, title TEXT, body TEXT, '
            'author_id INTEGER CONSTRAINT "posts_author_id_fkey" REFERENCES "users"("id"), '
            "inserted_at TEXT, deleted_at TEXT)",
            COPY,
            *REBUILD_TAIL,
        ],
        id="modify-adds-a-foreign-key",
    ),
    pytest.param(
        altering(table("posts"), call(add, "editor_id", references("users"), null=False)),
        [
            'CREATE TABLE "whimbrel_new_posts" (id INTEGER PRIMARY KEY, title TEXT, body TEXT, '
            "author_id INTEGER, inserted_at TEXT, deleted_at TEXT, "
            '"editor_id" INTEGER NOT NULL CONSTRAINT "posts_editor_id_fkey" '
            'REFERENCES "users"("id"))',
            COPY,
            *REBUILD_TAIL,
        ],
        id="add-not-null-reference",
    ),
    pytest.param(
        lambda: create(constraint("posts", "title_set", check="title <> ''")),
        [
            'CREATE TABLE "whimbrel_new_posts" (id INTEGER PRIMARY KEY, title TEXT, body TEXT, '
            "author_id INTEGER, inserted_at TEXT, deleted_at TEXT, "
            "CONSTRAINT \"title_set\" CHECK (title <> ''))",
            COPY,
            *REBUILD_TAIL,
        ],
        id="create-check-constraint",
    ),
    pytest.param(
        altering(table("posts"), call(remove, "title")),
        [
            'CREATE TABLE "whimbrel_new_posts" (id INTEGER PRIMARY KEY, body TEXT, '
            "author_id INTEGER, inserted_at TEXT, deleted_at TEXT)",
            'INSERT INTO "whimbrel_new_posts" ("id", "body", "author_id", "inserted_at", '
            '"deleted_at") SELECT "id", "body", "author_id", "inserted_at", "deleted_at" '
            'FROM "posts"',
            *REBUILD_TAIL[:-1],  # the index on the removed column goes with it
        ],
        id="remove-indexed-column",
    ),
]


@pytest.mark.parametrize(("migration", "expected"), REBUILT)
def test_rebuilt_commands(migration: Migration, expected: list[str]) -> None:
    check(migration, expected)


def test_rebuild_compiles_to_a_catalog_step_with_a_dry_run_preview() -> None:
    (step,) = compile_sqlite(altering(table("posts"), call(modify, "title", "integer")))
    assert isinstance(step, CatalogStep) and isinstance(step.plan, TablePlan)
    assert not isinstance(step, str)  # a typed step, not SQL text in disguise
    assert step.preview.startswith('-- modify("title") on table "posts"')
    assert "rebuilds the table" in step.preview
    (remove_step,) = compile_sqlite(altering(table("posts"), call(remove, "body")))
    assert isinstance(remove_step, CatalogStep)
    assert remove_step.preview.splitlines()[1] == 'ALTER TABLE "posts" DROP COLUMN "body"'


def test_drop_constraint_removes_a_named_column_constraint() -> None:
    schema = (
        "CREATE TABLE users (id INTEGER PRIMARY KEY);"
        'CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER CONSTRAINT "posts_a_fk" '
        "REFERENCES users(id) ON DELETE SET NULL, n INTEGER CONSTRAINT n_pos CHECK (n > 0))"
    )
    ran = run_sqlite(lambda: drop(constraint("posts", "posts_a_fk")), schema)
    assert ran[0] == (
        'CREATE TABLE "whimbrel_new_posts" (id INTEGER PRIMARY KEY, author_id INTEGER, '
        "n INTEGER CONSTRAINT n_pos CHECK (n > 0))"
    )
    assert run_sqlite(lambda: drop_if_exists(constraint("posts", "nope")), schema) == []
    with pytest.raises(DatabaseError, match='has no constraint "nope"'):
        run_sqlite(lambda: drop(constraint("posts", "nope")), schema)


def test_removing_a_column_drops_the_constraints_that_use_it() -> None:
    schema = (
        "CREATE TABLE t (a INTEGER, b INTEGER CHECK (b > a), c TEXT, "
        "CONSTRAINT ab UNIQUE (a, b), CHECK (c <> ''))"
    )
    ran = run_sqlite(altering(table("t"), call(remove, "a")), schema)
    assert ran[0] == "CREATE TABLE \"whimbrel_new_t\" (b INTEGER, c TEXT, CHECK (c <> ''))"
    assert (
        ran[1]
        == 'INSERT INTO "whimbrel_new_t" ("rowid", "b", "c") SELECT "rowid", "b", "c" FROM "t"'
    )


def test_errors_name_the_table_and_the_fix() -> None:
    with pytest.raises(DatabaseError, match='has no column "nope" for modify'):
        run_sqlite(altering(table("posts"), call(modify, "nope", "text")))
    with pytest.raises(DatabaseError, match='SQLite has no table "ghost"'):
        run_sqlite(altering(table("ghost"), call(modify, "a", "text")))
    with pytest.raises(DatabaseError, match="already has a primary key"):
        run_sqlite(altering(table("posts"), call(add, "code", "text", primary_key=True)))
    with pytest.raises(DatabaseError, match="automatic index of a UNIQUE constraint"):
        run_sqlite(lambda: rename(index("users", name="sqlite_autoindex_users_1"), to="x"))


# --- the rebuild planner, pure: parsed definitions in, statements out ------------------------


def plan(*changes: Any) -> TablePlan:
    return TablePlan(Table("t"), tuple(changes), SQLiteDialect())


def test_planner_keeps_rowids_autoincrement_triggers_and_generated_columns() -> None:
    schema = parse_table(
        "t",
        'CREATE TABLE "t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "a" TEXT, '
        '"g" TEXT GENERATED ALWAYS AS (upper(a)) VIRTUAL) STRICT',
        indexes=(("t_a", 'CREATE INDEX "t_a" ON "t" ("a")'),),
        triggers=("CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN SELECT 1; END",),
        generated=frozenset({"g"}),
        sequence=41,
    )
    out = plan(ModifyColumn("a", "text", ColumnOpts(null=False))).expand(schema)
    assert out.rebuilt
    assert out.statements[0] == (
        'CREATE TABLE "whimbrel_new_t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, '
        '"a" TEXT NOT NULL, "g" TEXT GENERATED ALWAYS AS (upper(a)) VIRTUAL) STRICT'
    )
    assert out.statements[1] == 'INSERT INTO "whimbrel_new_t" ("id", "a") SELECT "id", "a" FROM "t"'
    assert out.statements[6:9] == [
        'CREATE INDEX "t_a" ON "t" ("a")',
        "CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN SELECT 1; END",
        "UPDATE sqlite_sequence SET seq = 41 WHERE name = 't' AND seq < 41",
    ]


def test_planner_keeps_clauses_it_does_not_change() -> None:
    schema = parse_table(
        "t",
        "CREATE TABLE t (a VARCHAR(10) NOT NULL DEFAULT 'x' COLLATE NOCASE "
        "REFERENCES u(id) ON DELETE SET NULL NOT DEFERRABLE, b)",
    )
    out = plan(ModifyColumn("a", "integer", ColumnOpts(default=0))).expand(schema)
    assert out.statements[0] == (
        'CREATE TABLE "whimbrel_new_t" (a INTEGER NOT NULL DEFAULT 0 COLLATE NOCASE '
        "REFERENCES u(id) ON DELETE SET NULL NOT DEFERRABLE, b)"
    )


def test_planner_uses_alter_table_when_nothing_depends_on_the_column() -> None:
    schema = parse_table(
        "t", "CREATE TABLE t (a TEXT, b TEXT)", indexes=(("i", "CREATE INDEX i ON t (a)"),)
    )
    assert plan(RemoveColumn("b")).expand(schema).statements == ['ALTER TABLE "t" DROP COLUMN "b"']
    assert plan(RemoveColumn("a")).expand(schema).rebuilt  # indexed: SQLite cannot drop it
    assert plan(RemoveColumn("zz", if_exists=True)).expand(schema).statements == []


# --- what SQLite cannot express at all: refused, naming the command and the alternative -----

UNSUPPORTED: list[Any] = [
    pytest.param(
        lambda: create(index("posts", ["title"], using="gin")),
        ['index option using= (index "posts_title_index")', "only B-tree indexes", "FTS5"],
        id="index-using",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], include=["body"])),
        ['index option include= (index "posts_title_index")', "add the columns"],
        id="index-include",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], only=True)),
        ["index option only=", "remove only="],
        id="index-only",
    ),
    pytest.param(
        lambda: create(unique_index("posts", ["title"], nulls_distinct=False)),
        ["index option nulls_distinct=", "ifnull(col, '')"],
        id="index-nulls-not-distinct",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], options="WITH (fillfactor = 70)")),
        ["index option options=", "no storage parameters"],
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
        lambda: drop(constraint("posts", "c"), mode="cascade"),
        ['drop(constraint("posts", "c"), mode="cascade")', "drop the dependent objects first"],
        id="drop-constraint-cascade",
    ),
    pytest.param(
        lambda: create(constraint("posts", "no_overlap", exclude="gist (c WITH &&)")),
        ['exclusion constraint "no_overlap"', "unique index or a trigger"],
        id="exclusion-constraint",
    ),
    pytest.param(
        lambda: create(constraint("posts", "c", check="title <> ''", validate=False)),
        ["validate=False", "SQLite has no NOT VALID", "remove validate=False"],
        id="check-not-valid",
    ),
    pytest.param(
        altering(table("posts"), call(modify, "author_id", references("users", validate=False))),
        ["references(validate=False)", "remove validate=False"],
        id="modify-reference-not-valid",
    ),
    pytest.param(
        lambda: validate_constraint("posts", "c"),
        ['validate_constraint("posts", "c")', "nothing to validate"],
        id="validate-constraint",
    ),
    pytest.param(
        lambda: create(enum("mood", ["happy", "sad"])),
        ['create(enum("mood"))', "SQLite has no enum types", '"text" column'],
        id="enum",
    ),
    pytest.param(
        lambda: create(table("posts", prefix="tenant_a")),
        ['prefix "tenant_a" in create(table("posts")) (SQLite has no schemas)', "remove prefix="],
        id="prefix-table",
    ),
    pytest.param(
        altering(table("posts"), call(add, "u", references("users", prefix="other"))),
        ['prefix "other"', "a database file per tenant"],
        id="prefix-reference",
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
