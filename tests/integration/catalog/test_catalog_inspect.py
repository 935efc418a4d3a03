"""whimbrel.inspect itself: every kind of change shows in diff(), on each database.

A round trip proves little if the snapshot is blind to what went wrong, so
each change below is made by hand (outside whimbrel) and must appear in
``diff`` as the named line. Also: the versions table is left out, the
snapshot survives JSON, and a driver connection reads the same as a URL.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

from backends import backend
from migration_helpers import Catalog as RawCatalog

from whimbrel.inspect import Catalog, diff, inspect

BASE = {
    "postgres": """
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE TABLE users (id bigint PRIMARY KEY);
        CREATE TABLE people (id bigint PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x',
            boss_id bigint CONSTRAINT people_boss_fkey REFERENCES users (id),
            age integer CONSTRAINT adult CHECK (age >= 18), mood mood);
        CREATE INDEX people_name_index ON people (name);
        CREATE VIEW adults AS SELECT id FROM people WHERE age > 30;
    """,
    "sqlite": """
        CREATE TABLE users (id INTEGER PRIMARY KEY);
        CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT(20) NOT NULL DEFAULT 'x',
            boss_id INTEGER CONSTRAINT people_boss_fkey REFERENCES users (id),
            age INTEGER CONSTRAINT adult CHECK (age >= 18));
        CREATE INDEX people_name_index ON people (name);
        CREATE VIEW adults AS SELECT id FROM people WHERE age > 30;
    """,
    "mysql": """
        CREATE TABLE users (id bigint PRIMARY KEY);
        CREATE TABLE people (id bigint PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x',
            boss_id bigint, age integer, CONSTRAINT adult CHECK (age >= 18),
            CONSTRAINT people_boss_fkey FOREIGN KEY (boss_id) REFERENCES users (id));
        CREATE INDEX people_name_index ON people (name);
        CREATE VIEW adults AS SELECT id FROM people WHERE age > 30;
    """,
}

#: (id, {backend: DDL}, the drift line it must produce). A backend absent cannot make it.
CHANGES = [
    (
        "type",
        {
            "postgres": "ALTER TABLE people ALTER COLUMN name TYPE varchar(30)",
            "mysql": "ALTER TABLE people MODIFY name varchar(30) NOT NULL DEFAULT 'x'",
        },
        'table "people": column "name": type',
    ),
    (
        "null",
        {
            "postgres": "ALTER TABLE people ALTER COLUMN name DROP NOT NULL",
            "mysql": "ALTER TABLE people MODIFY name varchar(20) NULL DEFAULT 'x'",
        },
        'table "people": column "name": nullable False -> True',
    ),
    (
        "default",
        {
            "postgres": "ALTER TABLE people ALTER COLUMN name SET DEFAULT 'y'",
            "mysql": "ALTER TABLE people ALTER COLUMN name SET DEFAULT 'y'",
        },
        'table "people": column "name": default',
    ),
    (
        "column-comment",
        {
            "postgres": "COMMENT ON COLUMN people.name IS 'n'",
            "mysql": "ALTER TABLE people MODIFY name varchar(20) NOT NULL DEFAULT 'x' COMMENT 'n'",
        },
        'table "people": column "name": comment none -> n',
    ),
    (
        "table-comment",
        {"postgres": "COMMENT ON TABLE people IS 't'", "mysql": "ALTER TABLE people COMMENT 't'"},
        'table "people": comment none -> t',
    ),
    (
        "collation",
        {
            "postgres": 'ALTER TABLE people ALTER COLUMN name TYPE varchar(20) COLLATE "C"',
            "mysql": "ALTER TABLE people MODIFY name varchar(20) COLLATE utf8mb4_bin "
            "NOT NULL DEFAULT 'x'",
        },
        'table "people": column "name": collation none -> ',
    ),
    (
        "add-column",
        {
            "postgres": "ALTER TABLE people ADD COLUMN extra integer",
            "sqlite": "ALTER TABLE people ADD COLUMN extra INTEGER",
            "mysql": "ALTER TABLE people ADD COLUMN extra integer",
        },
        'table "people": + column "extra"',
    ),
    (
        "drop-index",
        {
            "postgres": "DROP INDEX people_name_index",
            "sqlite": "DROP INDEX people_name_index",
            "mysql": "DROP INDEX people_name_index ON people",
        },
        'table "people": - index "people_name_index"',
    ),
    (
        "unique-index",
        {
            "postgres": "CREATE UNIQUE INDEX people_age_index ON people (age DESC)",
            "sqlite": "CREATE UNIQUE INDEX people_age_index ON people (age DESC)",
            "mysql": "CREATE UNIQUE INDEX people_age_index ON people (age DESC)",
        },
        'table "people": + index "people_age_index"',
    ),
    (
        "partial-index",
        {
            "postgres": "CREATE INDEX people_old ON people (age) WHERE age > 60",
            "sqlite": "CREATE INDEX people_old ON people (age) WHERE age > 60",
        },
        'table "people": + index "people_old"',
    ),
    (
        "check-validity",
        {
            "postgres": "ALTER TABLE people DROP CONSTRAINT adult, "
            "ADD CONSTRAINT adult CHECK (age >= 18) NOT VALID",
        },
        'table "people": constraint "adult": validated True -> False',
    ),
    (
        "drop-check",
        {
            "postgres": "ALTER TABLE people DROP CONSTRAINT adult",
            "mysql": "ALTER TABLE people DROP CONSTRAINT adult",
        },
        'table "people": - constraint "adult"',
    ),
    (
        "foreign-key-action",
        {
            "postgres": "ALTER TABLE people DROP CONSTRAINT people_boss_fkey, ADD CONSTRAINT "
            "people_boss_fkey FOREIGN KEY (boss_id) REFERENCES users (id) ON DELETE CASCADE",
            # One ALTER cannot drop and re-add a foreign key of the same name (errno 121).
            "mysql": "ALTER TABLE people DROP FOREIGN KEY people_boss_fkey; ALTER TABLE people "
            "ADD CONSTRAINT "
            "people_boss_fkey FOREIGN KEY (boss_id) REFERENCES users (id) ON DELETE CASCADE",
        },
        'table "people": foreign key "people_boss_fkey": on_delete',
    ),
    (
        "primary-key",
        {
            "postgres": "ALTER TABLE people DROP CONSTRAINT people_pkey",
            "mysql": "ALTER TABLE people DROP PRIMARY KEY",
        },
        'table "people": primary_key',
    ),
    (
        "view",
        {
            "postgres": "CREATE OR REPLACE VIEW adults AS SELECT id FROM people WHERE age > 40",
            "sqlite": "DROP VIEW adults",
            "mysql": "CREATE OR REPLACE VIEW adults AS SELECT id FROM people WHERE age > 40",
        },
        'view "adults"',
    ),
    ("enum", {"postgres": "ALTER TYPE mood ADD VALUE 'meh'"}, 'enum type "mood": labels'),
    (
        "drop-table",
        {
            "postgres": "DROP TABLE people CASCADE",
            "sqlite": "DROP TABLE people",
            "mysql": "DROP TABLE people",
        },
        '- table "people"',
    ),
]


def _script(db_url: str, sql: str) -> None:
    RawCatalog(db_url).execute(*[s for s in sql.split(";") if s.strip()])


def test_diff_notices_each_kind_of_change(db_url: str) -> None:
    # One database for all the changes, each checked against the snapshot just before it
    # (in CHANGES order, which keeps each valid after the previous ones).
    name = backend(db_url)
    _script(db_url, BASE[name])
    made = []
    for change, ddl, line in CHANGES:
        if name not in ddl:
            continue  # this database cannot make the change
        before = inspect(db_url)
        _script(db_url, ddl[name])
        drift = diff(before, inspect(db_url))
        assert any(line in found for found in drift), f"{change}: {drift}"
        made.append(change)
    assert len(made) >= 6, made


def test_the_snapshot_is_json_and_leaves_out_whimbrel_tables(db_url: str) -> None:
    name = backend(db_url)
    _script(db_url, BASE[name])
    snapshot = inspect(db_url)
    assert Catalog.from_dict(json.loads(snapshot.to_json())) == snapshot
    _script(
        db_url,
        "CREATE TABLE schema_migrations (version bigint PRIMARY KEY);"
        "CREATE TABLE schema_migrations_progress (version bigint)",
    )
    assert inspect(db_url) == snapshot
    assert {"schema_migrations", "schema_migrations_progress"} <= inspect(
        db_url, include_whimbrel=True
    ).table_names


def test_a_connection_reads_the_same_as_the_url(db_url: str) -> None:
    name = backend(db_url)
    _script(db_url, BASE[name])
    if name == "sqlite":
        conn = sqlite3.connect(db_url.split("://", 1)[1][1:])
    elif name == "mysql":
        from dbs import MYSQL

        conn = MYSQL.connect(db_url)
    else:
        import psycopg

        conn = psycopg.connect(db_url, autocommit=True)
    with closing(conn):
        assert inspect(conn) == inspect(db_url)
