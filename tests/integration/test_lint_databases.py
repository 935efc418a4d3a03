"""Lint's claims checked against the real servers, and its safe sequences applied to one.

- PostgreSQL: a rewrite gives the table a new file (``pg_relation_filenode``), so
  for each type change and each new column lint's verdict must match whether the
  file changed.
- MariaDB/MySQL: a statement lint calls a copy must be refused with
  ``ALGORITHM=INPLACE``; one it calls a rebuild must be refused with
  ``ALGORITHM=NOCOPY``/``INSTANT`` and accepted INPLACE; one it calls instant
  must be accepted with ``ALGORITHM=INSTANT``.
- The safe sequences of migrations that docs/lint.md recommends migrate cleanly on
  PostgreSQL, and lint finds nothing in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from migration_helpers import migrator

from lint_helpers import SETUP, rules_of, write
from whimbrel.adapters import Adapter, adapter_for
from whimbrel.errors import DatabaseError
from whimbrel.lint import lint_paths
from whimbrel.lint.types import mysql_copies, pg_rewrites


@pytest.fixture
def pg(pg_url: str) -> Iterator[Adapter]:
    adapter = adapter_for(pg_url)
    adapter.connect()
    # timestamp -> timestamptz rewrites unless the session is in UTC: lint assumes it is not.
    adapter.execute("SET TIME ZONE 'America/New_York'")
    yield adapter
    adapter.close()


def _filenode(pg: Adapter) -> int:
    return int(pg.query("SELECT pg_relation_filenode('t')")[0][0])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("varchar(255)", "varchar(500)"),
        ("varchar(500)", "varchar(20)"),
        ("varchar(40)", "text"),
        ("text", "varchar"),
        ("numeric(10,2)", "numeric(12,2)"),
        ("numeric(10,2)", "numeric(12,3)"),
        ("timestamp(0)", "timestamp"),
        ("timestamp", "timestamp(0)"),
        ("timestamp", "timestamptz"),
        ("cidr", "inet"),
        ("integer", "bigint"),
    ],
)
def test_postgres_rewrites_exactly_when_lint_says_so(pg: Adapter, old: str, new: str) -> None:
    pg.execute(f"CREATE TABLE t (id bigint PRIMARY KEY, c {old})")
    pg.execute("INSERT INTO t (id) SELECT g FROM generate_series(1, 10) g")
    before = _filenode(pg)
    pg.execute(f"ALTER TABLE t ALTER COLUMN c TYPE {new}")
    assert (_filenode(pg) != before) is pg_rewrites(old, new)


@pytest.mark.parametrize(
    ("column", "flagged"),
    [
        ('add("u", "uuid", default=fragment("gen_random_uuid()"))', True),
        ('add("at", "utc_datetime", default=fragment("clock_timestamp()"))', True),
        ('add("n", "bigserial")', True),
        ('add("at", "utc_datetime", default=fragment("now()"))', False),
        ('add("score", "integer", default=0, null=False)', False),
        ('add("note", "text")', False),
    ],
)
def test_a_new_column_rewrites_exactly_when_lint_flags_it(
    pg_url: str, tmp_path: Path, column: str, flagged: bool
) -> None:
    project = tmp_path / "project"
    create = 'from whimbrel.migration import *\n\ndef change():\n    with create(table("t")):\n'
    create += '        add("title", "text")\n'
    add = 'from whimbrel.migration import *\n\ndef change():\n    with alter(table("t")):\n'
    add += f"        {column}\n"
    write(project / "migrations", create, add)
    with migrator(project, pg_url) as m:
        m.run("up", step=1)
        m.adapter.execute("INSERT INTO t (title) SELECT 'x' FROM generate_series(1, 10)")
        before = int(m.adapter.query("SELECT pg_relation_filenode('t')")[0][0])
        m.run("up", step=1)
        after = int(m.adapter.query("SELECT pg_relation_filenode('t')")[0][0])
    found = rules_of(lint_paths([project / "migrations"]))
    assert ("adding-volatile-default" in found) is flagged is (after != before)


@pytest.fixture
def my(mysql_url: str) -> Iterator[Adapter]:
    adapter = adapter_for(mysql_url)
    adapter.connect()
    adapter.execute("CREATE TABLE u (id bigint PRIMARY KEY) ENGINE=InnoDB")
    adapter.execute(
        "CREATE TABLE t (id bigint PRIMARY KEY, a varchar(60), b varchar(255), c int, "
        "d varchar(10), uid bigint) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )
    adapter.execute("INSERT INTO t VALUES (1, 'x', 'y', 1, 'z', NULL)")
    yield adapter
    adapter.close()


def _accepted(adapter: Adapter, sql: str) -> bool:
    try:
        adapter.execute(sql)
    except DatabaseError as exc:
        assert "ALGORITHM" in str(exc), exc  # refused for its algorithm, nothing else
        return False
    return True


@pytest.mark.parametrize(
    ("column", "old", "new"),
    [
        ("a", "varchar(60)", "varchar(64)"),
        ("b", "varchar(255)", "varchar(500)"),
        ("d", "varchar(10)", "varchar(60)"),
        ("b", "varchar(255)", "varchar(200)"),
        ("c", "int", "bigint"),
    ],
)
def test_mysql_copies_exactly_when_lint_says_so(
    my: Adapter, column: str, old: str, new: str
) -> None:
    inplace = _accepted(my, f"ALTER TABLE t MODIFY {column} {new}, ALGORITHM=INPLACE")
    assert inplace is not mysql_copies(old, new)


@pytest.mark.parametrize(
    ("migration", "statement", "algorithm", "rule", "accepted"),
    [
        (
            'execute("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES u (id)")',
            "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (uid) REFERENCES u (id)",
            "INPLACE",
            "mysql-copy-algorithm",
            False,
        ),
        (
            'execute("ALTER TABLE t ADD COLUMN g int AS (c + 1) STORED")',
            "ALTER TABLE t ADD COLUMN g int AS (c + 1) STORED",
            "INPLACE",
            "mysql-copy-algorithm",
            False,
        ),
        (
            'execute("ALTER TABLE t MODIFY c int NOT NULL")',
            "ALTER TABLE t MODIFY c int NOT NULL",
            "NOCOPY",
            "mysql-table-rebuild",
            False,
        ),
        (
            'execute("ALTER TABLE t ADD COLUMN e int AFTER id")',
            "ALTER TABLE t ADD COLUMN e int AFTER id",
            "INSTANT",
            "mysql-table-rebuild",
            True,
        ),
    ],
)
def test_mysql_rules_match_the_server(
    my: Adapter,
    tmp_path: Path,
    migration: str,
    statement: str,
    algorithm: str,
    rule: str,
    accepted: bool,
) -> None:
    version = str(my.query("SELECT version()")[0][0])
    source = f"from whimbrel.migration import *\n\ndef change():\n    {migration}\n"
    setup = "def change():\n    pass\n"  # the tables exist before: made by the fixture
    folder = tmp_path / "migrations"
    write(folder, setup, source)
    found = rules_of(lint_paths([folder], database="mysql", server_version=version))
    assert _accepted(my, f"{statement}, ALGORITHM={algorithm}") is accepted
    assert (rule in found) is not accepted, (version, found)


# -- the safe sequences docs/lint.md recommends ------------------------------------------------

SAFE_SEQUENCES = {
    "not-null": [
        'def change():\n    create(constraint("posts", "posts_title_nn", '
        'check="title IS NOT NULL", validate=False))\n',
        'def change():\n    validate_constraint("posts", "posts_title_nn")\n',
        'def up():\n    with alter(table("posts")):\n'
        '        modify("title", "string", null=False)\n'
        '    drop(constraint("posts", "posts_title_nn"))\n\ndef down():\n    pass\n',
    ],
    "foreign-key": [
        'def change():\n    with alter(table("posts")):\n'
        '        add("editor_id", references("users", validate=False))\n',
        'def change():\n    validate_constraint("posts", "posts_editor_id_fkey")\n',
    ],
    "unique": [
        "disable_ddl_transaction = True\n\ndef change():\n"
        '    create(unique_index("users", ["email"], name="users_email_ix", concurrently=True))\n',
        'def up():\n    execute("ALTER TABLE users ADD CONSTRAINT users_email_key '
        'UNIQUE USING INDEX users_email_ix")\n\ndef down():\n    pass\n',
    ],
    "index-and-backfill": [
        "disable_ddl_transaction = True\n\ndef change():\n"
        '    create(index("posts", ["views"], concurrently=True))\n',
        'def change():\n    with alter(table("posts")):\n        add("score", "integer")\n',
        "disable_ddl_transaction = True\n\ndef up():\n"
        '    repo().execute("UPDATE posts SET score = views WHERE id >= 0 AND id < 1000")\n'
        "\ndef down():\n    pass\n",
    ],
}


@pytest.mark.parametrize("name", sorted(SAFE_SEQUENCES))
def test_the_safe_sequences_migrate_and_lint_clean(pg_url: str, tmp_path: Path, name: str) -> None:
    head = "from whimbrel.migration import *\n\n"
    folder = tmp_path / "migrations"
    write(folder, SETUP, *(head + s for s in SAFE_SEQUENCES[name]))
    assert lint_paths([folder]) == []
    with migrator(tmp_path, pg_url) as m:
        assert len(m.up()) == 1 + len(SAFE_SEQUENCES[name])
