"""PostgreSQL enum types on a real database: create, drop, rename, add and rename values.

Also the two PostgreSQL rules the DSL documents: a value added inside a
transaction cannot be used before it commits, and a value cannot be removed,
so a change() adding one is refused at rollback before anything runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import Catalog, write_change, write_up_down
from test_pg_dsl_catalog import RoundTrip, TypeInfo, make_migrator

from whimbrel.errors import (
    IrreversibleMigrationError,
    MigrationFailedError,
    UnsupportedFeatureError,
)

MOOD = """
create(enum("mood", ["happy", "sad"]))
with create(table("people")):
    add("mood", "mood", default="happy", null=False)
execute("INSERT INTO people (mood) VALUES ('sad')", "DELETE FROM people")
"""


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> RoundTrip:
    return RoundTrip(tmp_path, pg_url, {})


def test_create_enum_and_a_column_of_it(rt: RoundTrip) -> None:
    def check(db: object) -> None:
        assert rt.schema.types()[("public", "mood")] == TypeInfo("e", ("happy", "sad"), "Feel")
        column = rt.schema.columns("people")["mood"]
        assert (column.type, column.default) == ("mood", "'happy'::mood")

    rt.run(
        """
        create(enum("mood", ["happy", "sad"], comment="Feel"))
        with create(table("people")):
            add("mood", "mood", default="happy")
        """,
        up_sql=[
            "CREATE TYPE \"mood\" AS ENUM ('happy', 'sad')",
            "COMMENT ON TYPE \"mood\" IS 'Feel'",
            'CREATE TABLE "people" ("id" bigserial, "mood" mood DEFAULT \'happy\', '
            'PRIMARY KEY ("id"))',
        ],
        down_sql=['DROP TABLE "people"', 'DROP TYPE "mood"'],
        check=check,
    )


def test_enum_in_a_schema(rt: RoundTrip) -> None:
    rt.setup('execute("CREATE SCHEMA app", "DROP SCHEMA app")')
    rt.run(
        'create(enum("mood", ["happy"], prefix="app"))',
        up_sql=['CREATE TYPE "app"."mood" AS ENUM (\'happy\')'],
        down_sql=['DROP TYPE "app"."mood"'],
        check=lambda db: db.enum_labels("mood", "app") == ["happy"],
    )


def test_drop_enum_with_its_values_comes_back_on_rollback(rt: RoundTrip) -> None:
    rt.setup('create(enum("mood", ["happy", "sad"]))')
    rt.run(
        'drop(enum("mood", ["happy", "sad"]))',
        up_sql=['DROP TYPE "mood"'],
        down_sql=["CREATE TYPE \"mood\" AS ENUM ('happy', 'sad')"],
        check=lambda db: ("public", "mood") not in db.types(),
    )


def test_rename_value_and_type_are_reversed(rt: RoundTrip) -> None:
    rt.setup(MOOD)

    def check(db: object) -> None:
        assert rt.schema.enum_labels("feeling") == ["happy", "blue"]
        # Rows hold the value's position, so they follow the rename.
        assert rt.schema.rows("SELECT mood::text FROM people") == [("blue",)]

    rt.run(
        """
        rename_enum_value("mood", "sad", to="blue")
        rename(enum("mood"), to="feeling")
        """,
        up_sql=[
            "ALTER TYPE \"mood\" RENAME VALUE 'sad' TO 'blue'",
            'ALTER TYPE "mood" RENAME TO "feeling"',
        ],
        down_sql=[
            'ALTER TYPE "feeling" RENAME TO "mood"',
            "ALTER TYPE \"mood\" RENAME VALUE 'blue' TO 'sad'",
        ],
        check=check,
    )


def test_add_values_with_up_and_down(rt: RoundTrip) -> None:
    # PostgreSQL cannot drop an enum value: down() recreates the type without the new ones.
    rt.setup(MOOD)
    rt.run(
        up="""
        add_enum_value("mood", "meh", before="sad")
        add_enum_value("mood", "ecstatic", after="happy", if_not_exists=True)
        add_enum_value("mood", "ecstatic", if_not_exists=True)
        add_enum_value("mood", "angry")
        """,
        down="""
        execute("DELETE FROM people WHERE mood NOT IN ('happy', 'sad')")
        rename(enum("mood"), to="mood_old")
        create(enum("mood", ["happy", "sad"]))
        execute("ALTER TABLE people ALTER COLUMN mood DROP DEFAULT")
        execute("ALTER TABLE people ALTER COLUMN mood TYPE mood USING mood::text::mood")
        execute("ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'happy'")
        drop(enum("mood_old"))
        """,
        up_sql=[
            "ALTER TYPE \"mood\" ADD VALUE 'meh' BEFORE 'sad'",
            "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'ecstatic' AFTER 'happy'",
            "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'ecstatic'",
            "ALTER TYPE \"mood\" ADD VALUE 'angry'",
        ],
        check=lambda db: db.enum_labels("mood") == ["happy", "ecstatic", "meh", "sad", "angry"],
    )


def test_adding_a_value_in_change_is_refused_at_rollback_before_anything_runs(
    tmp_path: Path, pg_url: str
) -> None:
    write_change(tmp_path, 1, "mood", MOOD)
    write_change(tmp_path, 2, "meh", 'add_enum_value("mood", "meh")')
    rt = RoundTrip(tmp_path, pg_url, {})
    with make_migrator(tmp_path, pg_url) as m:
        assert m.up() == [1, 2]
        before = rt.schema.snapshot()
        with pytest.raises(IrreversibleMigrationError) as err:
            m.down()
    message = str(err.value)
    assert "2_meh.py" in message
    assert "cannot reverse migration command add_enum_value(\"mood\", 'meh')" in message
    assert "PostgreSQL cannot remove a value from an enum type" in message
    assert "define up() and down() instead of change()" in message
    assert rt.schema.snapshot() == before
    assert rt.schema.rows("SELECT version FROM schema_migrations ORDER BY 1") == [(1,), (2,)]


def test_a_value_added_in_the_transaction_cannot_be_used_before_commit(
    tmp_path: Path, pg_url: str
) -> None:
    write_change(tmp_path, 1, "mood", MOOD)
    write_up_down(
        tmp_path,
        2,
        "use_meh",
        up="""
        add_enum_value("mood", "meh")
        execute("INSERT INTO people (mood) VALUES ('meh')")
        """,
        down='execute("SELECT 1")',
    )
    rt = RoundTrip(tmp_path, pg_url, {})
    with make_migrator(tmp_path, pg_url) as m:
        m.up(step=1)
        with pytest.raises(MigrationFailedError) as err:
            m.up()
    assert 'unsafe use of new value "meh" of enum type mood' in str(err.value)
    assert "the transaction, with the version row, was rolled back" in str(err.value)
    assert rt.schema.enum_labels("mood") == ["happy", "sad"]


def test_without_a_transaction_the_new_value_can_be_used_at_once(
    tmp_path: Path, pg_url: str
) -> None:
    write_change(tmp_path, 1, "mood", MOOD)
    write_up_down(
        tmp_path,
        2,
        "use_meh",
        up="""
        add_enum_value("mood", "meh")
        execute("INSERT INTO people (mood) VALUES ('meh')")
        """,
        down='execute("SELECT 1")',
        flags="disable_ddl_transaction = True\n",
    )
    rt = RoundTrip(tmp_path, pg_url, {})
    with make_migrator(tmp_path, pg_url) as m:
        assert m.up() == [1, 2]
    assert rt.schema.enum_labels("mood") == ["happy", "sad", "meh"]
    assert rt.schema.rows("SELECT mood::text FROM people ORDER BY 1") == [("meh",), ("sad",)]


def test_sqlite_refuses_enum_commands_before_running_anything(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_change(
        tmp_path,
        1,
        "mood",
        """
        create(table("people"))
        create(enum("mood", ["happy", "sad"]))
        """,
    )
    with make_migrator(tmp_path, sqlite_url) as m:
        with pytest.raises(UnsupportedFeatureError) as err:
            m.up()
        assert m.status()[0].status == "down"
    # Every command compiles before the first one runs, so not even the table was made.
    assert Catalog(sqlite_url).user_tables() == set()
    message = str(err.value)
    assert 'sqlite does not support create(enum("mood")): SQLite has no enum types' in message
    assert 'store the value in a "text" column instead' in message


def test_enum_in_a_tenant_schema(tmp_path: Path, pg_url: str) -> None:
    # Types are not qualified for you (as in Ecto): name the tenant's type with prefix().
    write_change(
        tmp_path,
        1,
        "mood",
        """
        create(enum("mood", ["happy", "sad"]))
        with create(table("people")):
            add("mood", f'"{prefix()}"."mood"', default="happy")
        """,
    )
    rt = RoundTrip(tmp_path, pg_url, {})
    with make_migrator(tmp_path, pg_url) as m:
        assert m.run("up", prefix="tenant_a") == [1]
        assert rt.schema.enum_labels("mood", "tenant_a") == ["happy", "sad"]
        assert rt.schema.columns("people", "tenant_a")["mood"].type == "tenant_a.mood"
        assert ("public", "mood") not in rt.schema.types()
        assert m.run("down", prefix="tenant_a") == [1]
        assert ("tenant_a", "mood") not in rt.schema.types()
