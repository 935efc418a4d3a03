"""SQLite's table rebuild, end to end: every row and value survives, foreign keys hold.

What SQLite's ALTER TABLE cannot do (``modify``, constraints, NOT NULL
references, dropping an indexed column) runs as the rebuild SQLite documents.
These cases seed rows, including rows in tables whose foreign keys point AT
the rebuilt table with ON DELETE CASCADE and SET NULL (the actions a careless
rebuild fires), then compare every row after each migration and after rolling
all of them back. The other databases run the same DSL natively; the
integration cases over ``db_url`` cover them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from migration_helpers import Catalog, migrator, write_change, write_up_down

import whimbrel
from whimbrel.config import load_config
from whimbrel.errors import MigrationFailedError

SEED = """
execute(
    "INSERT INTO users (id, email, name, score) VALUES "
    "(1, 'ann@x', 'Ann', 3), (2, 'bob@x', 'Bob', 0), (3, 'cy@x', NULL, 7)",
    "DELETE FROM users",
)
execute(
    "INSERT INTO posts (id, title, author_id, editor_id) VALUES "
    "(1, 'one', 1, 2), (2, 'two', 1, NULL), (3, 'three', 2, 1), (4, 'four', 3, 3)",
    "DELETE FROM posts",
)
execute(
    "INSERT INTO comments (id, post_id, body) VALUES (1, 1, 'hi'), (2, 4, 'yo')",
    "DELETE FROM comments",
)
"""


def _base(project: Path) -> None:
    write_change(
        project,
        10,
        "create",
        """
        with create(table("users")):
            add("email", "string")
            add("name", "text")
            add("score", "integer", default=0)
        with create(table("posts")):
            add("title", "string")
            add("author_id", references("users", on_delete="delete_all"))
            add("editor_id", references("users", on_delete="nilify_all"))
        with create(table("comments")):
            add("post_id", references("posts", on_delete="delete_all"))
            add("body", "text")
        create(index("posts", ["title"]))
        create(unique_index("users", ["email"]))
        execute(
            "CREATE TRIGGER users_score AFTER UPDATE OF score ON users "
            "BEGIN UPDATE posts SET editor_id = editor_id WHERE author_id = new.id; END",
            "DROP TRIGGER users_score",
        )
        """,
    )
    write_change(project, 15, "seed", SEED)


STEPS = {
    20: """
        with alter(table("users")):
            modify("email", "string", null=False, from_="string")
            remove("name", "text")
            add("code", "string", null=False, default="x")
        """,
    30: 'create(constraint("users", "score_positive", check="score >= 0"))',
    40: """
        with alter(table("posts")):
            modify(
                "author_id",
                references("users", on_delete="restrict"),
                from_=references("users", on_delete="delete_all"),
            )
        """,
    50: """
        with alter(table("comments")):
            add("first_post_id", references("posts"), null=False, default=1)
        """,
}
# Dropping an indexed column drops its index (as on PostgreSQL), so down() recreates both.
REMOVE_INDEXED = (
    """
    with alter(table("posts")):
        remove("title")
    """,
    """
    with alter(table("posts")):
        add("title", "string")
    create(index("posts", ["title"]))
    """,
)


def _steps(project: Path) -> None:
    for version, body in STEPS.items():
        write_change(project, version, f"step_{version}", body)
    write_up_down(project, 60, "remove_indexed", *REMOVE_INDEXED)


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    catalog = Catalog(url)
    return {
        "users": catalog._rows("SELECT id, email, score FROM users ORDER BY id"),
        "posts": catalog._rows("SELECT id, author_id, editor_id FROM posts ORDER BY id"),
        "comments": catalog._rows("SELECT id, post_id, body FROM comments ORDER BY id"),
    }


def test_every_rebuild_keeps_every_row_and_the_foreign_keys_pointing_at_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    _base(tmp_path)
    _steps(tmp_path)
    catalog = Catalog(sqlite_url)
    with migrator(tmp_path, sqlite_url) as m:
        assert m.up(to=15) == [10, 15]
        seeded = _rows(sqlite_url)
        assert len(seeded["posts"]) == 4 and seeded["posts"][0] == (1, 1, 2)
        for version in [*STEPS, 60]:
            assert m.up(step=1) == [version]
            assert _rows(sqlite_url) == seeded, f"rows changed by migration {version}"
            assert catalog._rows("PRAGMA foreign_key_check") == []
        assert catalog.columns("users") == ["id", "email", "score", "code"]
        assert catalog.columns("posts") == ["id", "author_id", "editor_id"]
        assert catalog.indexes("users") == {"users_email_index"}
        assert catalog.indexes("posts") == set()  # its index went with the removed column
        assert catalog.scalar("SELECT count(*) FROM comments WHERE first_post_id = 1") == 2
        triggers = catalog._rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert triggers == [("users_score",)]
        sql = catalog.scalar("SELECT sql FROM sqlite_master WHERE name = 'users'")
        assert 'CONSTRAINT "score_positive" CHECK (score >= 0)' in sql
        assert '"email" TEXT NOT NULL' in sql
        assert "ON DELETE RESTRICT" in catalog.scalar(
            "SELECT sql FROM sqlite_master WHERE name = 'posts'"
        )
        # The foreign keys really work again (whimbrel's connection has them on).
        assert m.adapter.query("PRAGMA foreign_keys") == [(1,)]
        with pytest.raises(whimbrel.errors.DatabaseError, match="FOREIGN KEY"):
            m.adapter.execute("DELETE FROM users WHERE id = 1")  # posts restrict it now

        assert m.down(to=20) == [60, 50, 40, 30, 20]
        assert _rows(sqlite_url) == seeded
        # Re-added columns come last, as on PostgreSQL.
        assert catalog.columns("users") == ["id", "email", "score", "name"]
        assert catalog.columns("posts") == ["id", "author_id", "editor_id", "title"]
        assert catalog.indexes("posts") == {"posts_title_index"}
        assert catalog._rows("PRAGMA foreign_key_check") == []


def test_autoincrement_counter_survives_a_rebuild(tmp_path: Path, sqlite_url: str) -> None:
    _base(tmp_path)
    write_up_down(
        tmp_path,
        20,
        "delete_and_modify",
        up="""
        repo().execute("DELETE FROM comments WHERE id = 2")
        with alter(table("comments")):
            modify("body", "string", null=False, default="")
        repo().execute("INSERT INTO comments (post_id, body) VALUES (1, 'new')")
        """,
        down='repo().execute("SELECT 1")',
    )
    with migrator(tmp_path, sqlite_url) as m:
        m.up()
    # Ids of deleted rows are never reused: AUTOINCREMENT's counter was carried over.
    assert Catalog(sqlite_url).scalar("SELECT max(id) FROM comments") == 3


def test_rows_that_break_a_new_foreign_key_refuse_the_rebuild(
    tmp_path: Path, sqlite_url: str
) -> None:
    _base(tmp_path)
    write_change(
        tmp_path,
        20,
        "orphan",
        """
        execute("INSERT INTO posts (id, title) VALUES (9, 'x')", "DELETE FROM posts WHERE id = 9")
        with alter(table("posts")):
            add("reviewer_id", "integer", default=42)
        """,
    )
    write_change(
        tmp_path,
        30,
        "reference",
        """
        with alter(table("posts")):
            modify("reviewer_id", references("users"), from_="integer")
        """,
    )
    with migrator(tmp_path, sqlite_url) as m:
        assert m.up(to=20) == [10, 15, 20]
        before = _rows(sqlite_url)
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
        message = str(caught.value)
        assert "finds no parent: posts -> users (5 rows)" in message
        assert "nothing was applied" in message
        assert _rows(sqlite_url) == before
        assert (
            "REFERENCES"
            not in Catalog(sqlite_url)
            .scalar("SELECT sql FROM sqlite_master WHERE name = 'posts'")
            .split('"reviewer_id"')[-1]
        )
        assert m.adapter.query("PRAGMA foreign_keys") == [(1,)]  # switched back on


def test_data_changes_in_a_rebuilding_migration_are_checked_at_commit(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Foreign keys are off for the whole migration, so ON DELETE does not fire: caught."""
    _base(tmp_path)
    write_change(
        tmp_path,
        20,
        "delete_with_cascade",
        """
        with alter(table("users")):
            modify("score", "integer", null=False, default=0)
        execute("DELETE FROM users WHERE id = 3", "SELECT 1")
        """,
    )
    with migrator(tmp_path, sqlite_url) as m:
        m.up(to=15)
        with pytest.raises(MigrationFailedError, match="the migration would leave rows"):
            m.up()
    assert len(_rows(sqlite_url)["users"]) == 3


def test_a_rebuild_after_a_query_is_refused_only_where_tables_reference_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    _base(tmp_path)
    write_up_down(
        tmp_path,
        20,
        "read_then_rebuild",
        up="""
        repo().query("SELECT count(*) FROM users")
        with alter(table("comments")):
            modify("body", "string", null=False, default="")
        """,
        down='repo().execute("SELECT 1")',
    )
    write_up_down(
        tmp_path,
        30,
        "read_then_rebuild_parent",
        up="""
        repo().query("SELECT count(*) FROM users")
        with alter(table("users")):
            modify("score", "integer", null=False, default=0)
        """,
        down='repo().execute("SELECT 1")',
    )
    with migrator(tmp_path, sqlite_url) as m:
        assert m.up(to=20) == [10, 15, 20]  # nothing references comments
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
    message = str(caught.value)
    assert "needs foreign keys off, as posts reference it" in message
    assert "move the command before that call, or into a migration of its own" in message
    assert Catalog(sqlite_url).versions() == [10, 15, 20]


def test_a_rebuild_outside_a_transaction_gets_its_own(tmp_path: Path, sqlite_url: str) -> None:
    _base(tmp_path)
    write_change(
        tmp_path,
        20,
        "no_transaction",
        'create(constraint("users", "score_positive", check="score >= 0"))',
        flags="\ndisable_ddl_transaction = True\n",
    )
    with migrator(tmp_path, sqlite_url) as m:
        m.up(to=15)
        seeded = _rows(sqlite_url)
        assert m.up() == [20]
        assert _rows(sqlite_url) == seeded
        assert m.down() == [20]
        assert _rows(sqlite_url) == seeded


def test_a_view_the_rebuild_would_break_refuses_it(tmp_path: Path, sqlite_url: str) -> None:
    _base(tmp_path)
    write_change(
        tmp_path,
        20,
        "view",
        'execute("CREATE VIEW names AS SELECT name FROM users", "DROP VIEW names")',
    )
    write_change(
        tmp_path,
        30,
        "drop_name",
        """
        with alter(table("users")):
            remove("name", "text")
            modify("score", "integer", null=False, default=0)
        """,
    )
    with migrator(tmp_path, sqlite_url) as m:
        assert m.up(to=20) == [10, 15, 20]
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
    assert 'rebuilding table "users" breaks view "names"' in str(caught.value)
    assert "drop the view before changing the table" in str(caught.value)
    assert Catalog(sqlite_url).versions() == [10, 15, 20]
    assert "name" in Catalog(sqlite_url).columns("users")


@pytest.mark.parametrize(
    "trigger",
    [
        # On the rebuilt table, naming the dropped column.
        "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN "
        "UPDATE posts SET title = NEW.name WHERE author_id = NEW.id; END",
        # On another table, reading the dropped column of the rebuilt one.
        "CREATE TRIGGER posts_touch AFTER UPDATE ON posts BEGIN "
        "UPDATE posts SET title = (SELECT name FROM users WHERE id = NEW.author_id); END",
    ],
)
def test_a_trigger_the_rebuild_would_break_refuses_it(
    tmp_path: Path, sqlite_url: str, trigger: str
) -> None:
    """SQLite compiles a trigger body only when it fires: a trigger left naming a dropped
    column would make every later UPDATE fail, long after the migration said it worked."""
    _base(tmp_path)
    name = trigger.split()[2]
    write_change(tmp_path, 20, "trigger", f'execute("{trigger}", "DROP TRIGGER {name}")')
    write_change(
        tmp_path,
        30,
        "drop_name",
        """
        with alter(table("users")):
            remove("name", "text")
            modify("score", "integer", null=False, default=0)
        """,
    )
    with migrator(tmp_path, sqlite_url) as m:
        assert m.up(to=20) == [10, 15, 20]
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
    assert f'rebuilding table "users" breaks a trigger (error in trigger {name}' in str(
        caught.value
    )
    assert "drop the trigger before changing the table" in str(caught.value)
    assert Catalog(sqlite_url).versions() == [10, 15, 20]
    assert "name" in Catalog(sqlite_url).columns("users")


def test_migrations_with_rebuilds_run_on_an_in_memory_database(tmp_path: Path) -> None:
    """``sqlite:///:memory:`` through the Python API: the database lives with the migrator."""
    _base(tmp_path)
    _steps(tmp_path)
    config = load_config(cwd=tmp_path, env={}, overrides={"database_url": "sqlite:///:memory:"})
    with whimbrel.Migrator(config, out=lambda _line: None) as m:
        assert m.up() == [10, 15, *STEPS, 60]
        assert [s.status for s in m.status()] == ["up"] * 7
        assert m.adapter.query("SELECT count(*) FROM posts") == [(4,)]
        assert m.adapter.query("SELECT count(*) FROM comments WHERE first_post_id = 1") == [(2,)]
        assert m.down(all=True) == [60, 50, 40, 30, 20, 15, 10]
        tables = (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        assert m.adapter.query(tables) == [("schema_migrations",), ("schema_migrations_checksums",)]
