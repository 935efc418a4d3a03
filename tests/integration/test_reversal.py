"""Rolling back really restores the schema: change() reversal, up()/down(), SQL files.

And an irreversible change() is refused at rollback before a single statement
runs, leaving the schema and the version row as they were.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from backends import backend, skip_without
from migration_helpers import (
    Catalog,
    error_text,
    is_sqlite,
    migrator,
    run_cli,
    write,
    write_change,
    write_up_down,
)

from whimbrel.errors import IrreversibleMigrationError, MigrationFailedError


def test_change_reversal_restores_each_step(tmp_path: Path, db_url: str) -> None:
    write_change(
        tmp_path,
        10,
        "create_posts",
        """
        with create(table("posts")):
            add("title", "string", null=False)
        create(index("posts", ["title"]))
        """,
    )
    write_change(
        tmp_path,
        20,
        "evolve_posts",
        """
        with alter(table("posts")):
            add("body", "text")
            add("views", "integer", default=0)
        rename(table("posts"), "title", to="headline")
        create(unique_index("posts", ["headline", "body"], name="posts_headline_body"))
        """,
    )
    write_change(tmp_path, 30, "rename_posts", 'rename(table("posts"), to=table("articles"))')
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10, 20, 30]
        assert catalog.user_tables() == {"articles"}
        assert catalog.columns("articles") == ["id", "headline", "body", "views"]
        assert catalog.indexes("articles") == {"posts_title_index", "posts_headline_body"}

        assert m.down() == [30]
        assert catalog.user_tables() == {"posts"}
        assert catalog.columns("posts") == ["id", "headline", "body", "views"]

        assert m.down() == [20]
        assert catalog.columns("posts") == ["id", "title"]
        assert catalog.indexes("posts") == {"posts_title_index"}
        assert catalog.versions() == [10]

        assert m.down() == [10]
    assert catalog.user_tables() == set()
    assert catalog.versions() == []


def test_up_down_migration_with_data_changes(tmp_path: Path, db_url: str) -> None:
    write_up_down(
        tmp_path,
        10,
        "people",
        up="""
        with create(table("people")):
            add("name", "string")
        repo().execute("INSERT INTO people (name) VALUES ('ann')")
        with alter(table("people")):
            add("nick", "string")
        repo().execute("UPDATE people SET nick = 'ann!' WHERE name = 'ann'")
        """,
        down="""
        assert direction() == "down"
        drop(table("people"))
        """,
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
        assert catalog.columns("people") == ["id", "name", "nick"]
        assert catalog.scalar("SELECT nick FROM people") == "ann!"
        assert m.down() == [10]
    assert catalog.user_tables() == set()
    assert catalog.versions() == []


def test_execute_functions_use_repo_and_the_dsl_both_ways(tmp_path: Path, db_url: str) -> None:
    """``execute(up_fn, down_fn)`` in change(): the functions run while migrating, not
    while recording, so repo() works in them on rollback too, and the commands they
    record run when they return."""
    write_change(
        tmp_path,
        10,
        "seed",
        """
        def seed():
            with create(table("people")):
                add("name", "string")
            repo().execute("INSERT INTO people (name) VALUES ('ann')")
            create(index("people", ["name"]))

        def unseed():
            assert repo().query("SELECT name FROM people") == [("ann",)]
            drop(index("people", ["name"]))
            drop(table("people"))

        create(table("log"))
        execute(seed, unseed)
        """,
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
        assert catalog.user_tables() == {"log", "people"}
        assert catalog.indexes("people") == {"people_name_index"}
        assert m.down() == [10]
    assert catalog.user_tables() == set()
    assert catalog.versions() == []


def test_sql_migration_up_and_down_sections(tmp_path: Path, db_url: str) -> None:
    write(
        tmp_path / "migrations",
        "10_raw_sql.sql",
        """
        -- whimbrel:up
        CREATE TABLE raw_items (id integer PRIMARY KEY, label varchar(20));
        INSERT INTO raw_items VALUES (1, 'a; b');  -- a semicolon inside a string
        CREATE INDEX raw_items_label ON raw_items (label);

        -- whimbrel:down
        DELETE FROM raw_items;
        DROP TABLE raw_items;
        """,
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
        assert catalog.indexes("raw_items") == {"raw_items_label"}
        assert catalog.scalar("SELECT label FROM raw_items") == "a; b"
        assert m.down() == [10]
    assert catalog.user_tables() == set()


# Statements only the database's own lexical rules split right.
SCRIPTS = {
    # A trigger body holds semicolons.
    "sqlite": """
        CREATE TRIGGER items_log AFTER INSERT ON items
        BEGIN INSERT INTO log VALUES (NEW.v); INSERT INTO log VALUES ('again'); END;
        INSERT INTO items VALUES ('it''s; ok');
        """,
    # A # comment, and a backslash-escaped quote, each before a semicolon.
    "mysql": r"""
        # the row below; with a quote
        INSERT INTO items VALUES ('it\'s; ok');
        INSERT INTO log VALUES ('it\'s; ok'), ('again');
        """,
    # A dollar-quoted body holds semicolons.
    "postgres": """
        CREATE FUNCTION two() RETURNS text LANGUAGE sql AS $$ SELECT 'again'; $$;
        INSERT INTO items VALUES ('it''s; ok');
        INSERT INTO log SELECT v FROM items UNION ALL SELECT two();
        """,
}


def test_sql_migration_is_split_by_the_database_s_own_rules(tmp_path: Path, db_url: str) -> None:
    write(
        tmp_path / "migrations",
        "10_script.sql",
        "-- whimbrel:up\nCREATE TABLE items (v text);\nCREATE TABLE log (msg text);\n"
        + textwrap.dedent(SCRIPTS[backend(db_url)])
        + "-- whimbrel:down\nDROP TABLE log;\nDROP TABLE items;\n",
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
    assert catalog.scalar("SELECT v FROM items") == "it's; ok"
    assert catalog.scalar("SELECT count(*) FROM log WHERE msg IN ('again', 'it''s; ok')") == 2


def test_sql_migration_transaction_false_runs_outside_a_transaction(
    tmp_path: Path, db_url: str
) -> None:
    """The up section holds a statement the database refuses inside a transaction."""
    outside_only = {
        "sqlite": "VACUUM;",
        "postgres": "CREATE INDEX CONCURRENTLY plain_c ON plain (c);",
        "mysql": "CREATE INDEX plain_c ON plain (c) LOCK=NONE;",  # every statement is outside
    }[backend(db_url)]
    write(
        tmp_path / "migrations",
        "10_plain.sql",
        "-- whimbrel:up\nCREATE TABLE plain (c integer);\n-- whimbrel:down\nDROP TABLE plain;\n",
    )
    write(
        tmp_path / "migrations",
        "20_outside.sql",
        f"-- whimbrel:up transaction:false\n{outside_only}\n-- whimbrel:down\nSELECT 1;\n",
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10, 20]
    assert catalog.versions() == [10, 20]
    if not is_sqlite(db_url):
        assert catalog.indexes("plain") == {"plain_c"}

    # Without the option the same file runs in a transaction, and the database refuses it.
    skip_without(db_url, "transactional_ddl")
    (tmp_path / "migrations" / "20_outside.sql").unlink()
    write(
        tmp_path / "migrations",
        "30_inside.sql",
        f"-- whimbrel:up\n{outside_only.replace('plain_c', 'plain_c2')}\n",
    )
    with migrator(tmp_path, db_url) as m, pytest.raises(MigrationFailedError, match="30_inside"):
        m.up()
    assert catalog.versions() == [10, 20]


def _irreversible_project(project: Path) -> None:
    write_change(
        project,
        10,
        "create_notes",
        """
        with create(table("notes")):
            add("body", "text")
        """,
    )
    # The irreversible command comes first: its rollback order puts the (reversible)
    # drop of "audit" first, so any eager execution would drop that table.
    write_change(
        project,
        20,
        "legacy",
        """
        execute("INSERT INTO notes (body) VALUES ('kept')")
        with create(table("audit")):
            add("at", "text")
        """,
    )


def test_irreversible_change_is_refused_before_any_sql(tmp_path: Path, db_url: str) -> None:
    _irreversible_project(tmp_path)
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10, 20]
        before = catalog.snapshot()
        with pytest.raises(IrreversibleMigrationError) as caught:
            m.down()
    message = str(caught.value)
    assert "20_legacy.py" in message
    assert "execute" in message and "up() and down()" in message
    assert catalog.snapshot() == before
    assert catalog.versions() == [10, 20]
    assert catalog.scalar("SELECT count(*) FROM notes") == 1


def test_irreversible_change_via_cli_exits_2(tmp_path: Path, db_url: str) -> None:
    _irreversible_project(tmp_path)
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    catalog = Catalog(db_url)
    before = catalog.snapshot()

    done = run_cli(tmp_path, db_url, "rollback", "--all", "--log-sql")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_legacy.py" in error and "up() and down()" in error
    assert "DROP" not in done.stderr.upper()
    assert catalog.snapshot() == before
    assert catalog.versions() == [10, 20]


def test_sql_migration_without_down_section_is_irreversible(tmp_path: Path, db_url: str) -> None:
    write(
        tmp_path / "migrations", "10_only_up.sql", "-- whimbrel:up\nCREATE TABLE only_up (a int);\n"
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
        with pytest.raises(IrreversibleMigrationError, match="whimbrel:down"):
            m.down()
    assert catalog.user_tables() == {"only_up"}
    assert catalog.versions() == [10]
