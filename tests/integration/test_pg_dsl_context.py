"""execute_file, repo(), direction() and prefix() on a real PostgreSQL, and run-time warnings.

The warnings (logger ``whimbrel``) are about concurrent index builds: inside a
transaction PostgreSQL refuses them, and with ``disable_migration_lock`` two
deploying processes can build the same index at once. Holding whimbrel's
PostgreSQL lock is safe (a polled session advisory lock), so that gets none.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from migration_helpers import write_change, write_up_down
from test_pg_dsl_catalog import Column, RoundTrip, make_migrator, planned_sql, sql_file

from whimbrel.errors import (
    IrreversibleMigrationError,
    MigrationDefinitionError,
)


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> RoundTrip:
    return RoundTrip(tmp_path, pg_url, {})


# --- execute_file --------------------------------------------------------------------------


def test_execute_file_with_a_down_file(rt: RoundTrip) -> None:
    sql_file(rt.project, "sql/search_up.sql", "CREATE TABLE search (doc tsvector);\n")
    sql_file(rt.project, "sql/search_down.sql", "DROP TABLE search;\n")
    rt.run(
        'execute_file("sql/search_up.sql", "sql/search_down.sql")',
        up_sql=["CREATE TABLE search (doc tsvector)"],
        down_sql=["DROP TABLE search"],
        check=lambda db: db.columns("search") == {"doc": Column("tsvector", False)},
    )


def test_execute_file_alone_cannot_be_rolled_back(tmp_path: Path, pg_url: str) -> None:
    sql_file(tmp_path, "seed.sql", "CREATE TABLE seeded (id int);")
    write_change(tmp_path, 1, "seed", 'execute_file("seed.sql")')
    with make_migrator(tmp_path, pg_url) as m:
        assert m.up() == [1]
        with pytest.raises(IrreversibleMigrationError) as err:
            m.down()
    assert "cannot reverse migration command execute_file('seed.sql')" in str(err.value)
    assert "execute_file(up_path, down_path)" in str(err.value)


# --- repo(): data changes in order with the DDL ------------------------------------------------


def test_repo_runs_data_changes_between_the_schema_changes(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("people")):
            add("name", "text")
        execute("INSERT INTO people (name) VALUES ('ann'), ('bob')", "DELETE FROM people")
        """
    )

    def check(db: object) -> None:
        assert rt.schema.rows("SELECT name, active FROM people ORDER BY 1") == [
            ("ann", True),
            ("bob", False),
        ]
        assert rt.schema.columns("people")["active"] == Column("boolean", True)

    rt.run(
        up="""
        with alter(table("people")):
            add("active", "boolean")
        # runs after the ALTER above, before the one below
        repo().execute("UPDATE people SET active = (name = %s)", ["ann"])
        for (missing,) in repo().query("SELECT count(*) FROM people WHERE active IS NULL"):
            assert missing == 0  # (a dry run runs no queries and returns no rows)
        with alter(table("people")):
            modify("active", "boolean", null=False)
        """,
        down="""
        with alter(table("people")):
            remove("active")
        """,
        up_sql=[
            'ALTER TABLE "people" ADD COLUMN "active" boolean',
            "UPDATE people SET active = (name = %s);  -- params: ['ann']",
            'ALTER TABLE "people" ALTER COLUMN "active" TYPE boolean, '
            'ALTER COLUMN "active" SET NOT NULL',
        ],
        check=check,
    )


# --- direction() and prefix() ----------------------------------------------------------------


def test_direction_is_down_while_change_is_rolled_back(tmp_path: Path, pg_url: str) -> None:
    write_change(tmp_path, 1, "log", 'execute("CREATE TABLE log (entry text)", "DROP TABLE log")')
    write_change(
        tmp_path,
        2,
        "note",
        """
        execute(f"INSERT INTO log VALUES ('up side, recorded {direction()}')",
                f"INSERT INTO log VALUES ('down side, recorded {direction()}')")
        """,
    )
    rt = RoundTrip(tmp_path, pg_url, {})
    with make_migrator(tmp_path, pg_url) as m:
        m.up()
        m.down()
    assert rt.schema.rows("SELECT entry FROM log ORDER BY 1") == [
        ("down side, recorded down",),
        ("up side, recorded up",),
    ]


def test_prefix_is_the_tenant_schema(tmp_path: Path, pg_url: str) -> None:
    write_change(
        tmp_path,
        1,
        "things",
        """
        with create(table("things", comment=f"made in {prefix()}")):
            add("name", "text")
        """,
    )
    rt = RoundTrip(tmp_path, pg_url, {})
    with make_migrator(tmp_path, pg_url) as m:
        assert planned_sql_with_prefix(m, "tenant_a") == [
            'CREATE TABLE "tenant_a"."things" ("id" bigserial, "name" text, PRIMARY KEY ("id"))',
            'COMMENT ON TABLE "tenant_a"."things" IS \'made in tenant_a\'',
        ]
        assert m.run("up", prefix="tenant_a") == [1]
        assert rt.schema.table("things", "tenant_a").comment == "made in tenant_a"
        assert ("public", "things") not in rt.schema.relations()
        assert m.run("down", prefix="tenant_a") == [1]
        assert ("tenant_a", "things") not in rt.schema.relations()


def planned_sql_with_prefix(m: object, prefix: str) -> list[str]:
    lines: list[str] = []
    m.out = lines.append  # type: ignore[attr-defined]
    m.run("up", prefix=prefix, dry_run=True)  # type: ignore[attr-defined]
    return [
        line.removesuffix(";")
        for line in lines
        if not line.startswith(("--", "BEGIN", "COMMIT", "CREATE SCHEMA IF NOT EXISTS"))
        and "schema_migrations" not in line
    ]


def test_a_mistake_names_the_file_line_and_fix(tmp_path: Path, pg_url: str) -> None:
    path = write_change(
        tmp_path,
        1,
        "bad_enum",
        """
        create(enum("mood", ["happy", "sad", "happy"]))
        """,
    )
    with make_migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationDefinitionError) as err:
            m.up()
        assert m.status()[0].status == "down"
    assert str(err.value) == (
        f"{path}:4: enum(\"mood\"): the value 'happy' is listed twice: keep one"
    )


# --- warnings about concurrent index builds --------------------------------------------------


@pytest.fixture
def warnings(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    # The CLI turns propagation off when it runs in-process; the library logs normally.
    monkeypatch.setattr(logging.getLogger("whimbrel"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="whimbrel")
    return caplog


def warned(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_concurrent_index_inside_a_transaction_is_refused_before_anything_runs(
    tmp_path: Path, pg_url: str
) -> None:
    # Once a warning at run time; now the whole-plan check refuses it (issue 9).
    write_change(tmp_path, 1, "posts", 'create(table("posts"))')
    path = write_change(tmp_path, 2, "index", 'create(index("posts", ["id"], concurrently=True))')
    with make_migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationDefinitionError) as refused:
            m.up()
        assert m.status()[0].status == "down"  # migration 1 did not run either
    assert str(path) in str(refused.value)
    assert "created concurrently inside the migration's transaction" in str(refused.value)


def test_dropping_concurrently_inside_a_transaction_is_refused_before_anything_runs(
    tmp_path: Path, pg_url: str
) -> None:
    write_change(tmp_path, 1, "posts", 'create(table("posts"))\ncreate(index("posts", ["id"]))')
    write_up_down(
        tmp_path,
        2,
        "drop_index",
        up='drop(index("posts", ["id"], concurrently=True))',
        down='create(index("posts", ["id"]))',
    )
    with make_migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationDefinitionError, match="dropped concurrently inside"):
            m.up()


def test_a_concurrent_index_without_the_migration_lock_is_warned_about_once(
    tmp_path: Path, pg_url: str, warnings: pytest.LogCaptureFixture
) -> None:
    write_change(tmp_path, 1, "posts", 'create(table("posts"))')
    path = write_change(
        tmp_path,
        2,
        "index",
        'create(index("posts", ["id"], concurrently=True))',
        flags="disable_ddl_transaction = True\ndisable_migration_lock = True\n",
    )
    with make_migrator(tmp_path, pg_url) as m:
        assert m.up() == [1, 2]
    unlocked = [w for w in warned(warnings) if "disable_migration_lock" in w]
    assert len(unlocked) == 1 and str(path) in unlocked[0]


def test_a_concurrent_index_holding_the_postgres_lock_is_not_warned_about(
    tmp_path: Path, pg_url: str, warnings: pytest.LogCaptureFixture
) -> None:
    write_change(tmp_path, 1, "posts", 'create(table("posts"))')
    write_change(
        tmp_path,
        2,
        "index",
        'create(index("posts", ["id"], concurrently=True))',
        flags="disable_ddl_transaction = True\n",
    )
    with make_migrator(tmp_path, pg_url) as m:
        assert m.up() == [1, 2]
        assert m.down() == [2]
    assert warned(warnings) == []


def test_sqlite_builds_no_concurrent_index_so_nothing_is_warned(
    tmp_path: Path, sqlite_url: str, warnings: pytest.LogCaptureFixture
) -> None:
    write_change(tmp_path, 1, "posts", 'create(table("posts"))')
    write_change(tmp_path, 2, "index", 'create(index("posts", ["id"], concurrently=True))')
    with make_migrator(tmp_path, sqlite_url) as m:
        assert planned_sql(m, "up") == [
            'CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)'
        ]
        assert m.up() == [1, 2]
    assert warned(warnings) == []
