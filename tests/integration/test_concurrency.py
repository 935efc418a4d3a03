"""Many processes run ``whimbrel migrate`` at once against one database.

Each must exit 0 and each migration must be applied exactly once (PostgreSQL's
advisory lock, MySQL's GET_LOCK, SQLite's file lock), including a
``disable_ddl_transaction`` migration that builds an index CONCURRENTLY next to
the other processes' lock polling (the deadlock of ecto_sql issue #365). A
data migration inserts one row, so running it twice would show as two rows.

All processes are started before any is waited for, and the wait has a
deadline: a deadlock fails the test instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from migration_helpers import Catalog, cli_command, cli_env, write, write_change, write_up_down

pytestmark = pytest.mark.xdist_group("concurrency")

DEADLINE_S = 120
VERSIONS = [10, 20, 30, 40, 50, 60]


# In the first migration, PostgreSQL sleeps and then records how many whimbrel sessions
# are connected to the database: more than one proves the processes really overlapped.
PG_FIRST = """
with create(table("t")):
    add("c", "integer")
execute("SELECT pg_sleep(1)")
repo().execute(
    "CREATE TABLE overlap AS SELECT count(*) AS sessions FROM pg_stat_activity "
    "WHERE application_name = 'whimbrel' AND datname = current_database()"
)
"""
# MySQL/MariaDB: the same, from the server's process list (waiters poll GET_LOCK).
MYSQL_FIRST = """
with create(table("t")):
    add("c", "integer")
execute("SELECT SLEEP(1)")
repo().execute(
    "CREATE TABLE overlap AS SELECT count(*) AS sessions FROM information_schema.processlist "
    "WHERE db = DATABASE()"
)
"""
# SQLite holds its write lock (BEGIN IMMEDIATE) while a Python callable sleeps.
SQLITE_FIRST = """
with create(table("t")):
    add("c", "integer")
execute(lambda: __import__("time").sleep(0.5))
repo().execute("CREATE TABLE overlap (sessions integer)")
"""


def _project(project: Path, first: str, *, non_transactional: bool = True) -> None:
    write_up_down(
        project,
        10,
        "create_t",
        first,
        'drop(table("overlap"))\ndrop(table("t"))',
    )
    write_change(
        project,
        20,
        "add_d",
        """
        with alter(table("t")):
            add("d", "text")
        """,
    )
    write_change(
        project,
        30,
        "create_u",
        """
        with create(table("u")):
            add("t_id", references("t"))
        create(index("u", ["t_id"]))
        """,
    )
    write_change(
        project,
        40,
        "index_t_c",
        'create(index("t", ["c"], concurrently=True))',
        flags="\ndisable_ddl_transaction = True\n" if non_transactional else "",
    )
    write_up_down(
        project,
        50,
        "seed_t",
        "repo().execute(\"INSERT INTO t (c, d) VALUES (1, 'seeded')\")",
        'repo().execute("DELETE FROM t")',
    )
    write(
        project / "migrations", "60_create_v.sql", "-- whimbrel:up\nCREATE TABLE v (a integer);\n"
    )


def _run_concurrently(project: Path, url: str, processes: int) -> list[tuple[int, str]]:
    """Start ``processes`` ``whimbrel migrate`` at once; wait for all under one deadline."""
    env = cli_env()
    procs = [
        subprocess.Popen(
            cli_command(url, "migrate"),
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    deadline = time.monotonic() + DEADLINE_S
    results = []
    try:
        for proc in procs:
            _, stderr = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            results.append((proc.returncode, stderr))
    except subprocess.TimeoutExpired:
        pytest.fail(f"whimbrel migrate processes still running after {DEADLINE_S}s: deadlock?")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return results


def _assert_each_applied_once(url: str, results: list[tuple[int, str]]) -> None:
    for code, stderr in results:
        assert code == 0, stderr
    # Every migration ran in exactly one process.
    runs = [line for _, stderr in results for line in stderr.splitlines() if "== Migrated" in line]
    assert sorted(int(line.split()[2]) for line in runs) == VERSIONS
    catalog = Catalog(url)
    assert catalog.versions() == VERSIONS  # the primary key makes duplicates impossible...
    assert catalog.scalar("SELECT count(*) FROM t") == 1  # ...but not a second data run
    assert catalog.user_tables() == {"t", "u", "v", "overlap"}
    assert "t_c_index" in catalog.indexes("t")


def test_eight_processes_migrate_one_postgres_database(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, PG_FIRST)
    results = _run_concurrently(tmp_path, pg_url, processes=8)
    _assert_each_applied_once(pg_url, results)
    catalog = Catalog(pg_url)
    assert catalog.scalar("SELECT sessions FROM overlap") > 1
    valid = catalog.scalar(
        "SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE i.relname = 't_c_index'"
    )
    assert valid is True
    assert (
        catalog.scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        == 0
    )


def test_four_processes_migrate_one_sqlite_file(tmp_path: Path, sqlite_url: str) -> None:
    _project(tmp_path, SQLITE_FIRST, non_transactional=False)
    results = _run_concurrently(tmp_path, sqlite_url, processes=4)
    _assert_each_applied_once(sqlite_url, results)


def test_four_processes_sqlite_with_a_non_transactional_migration(
    tmp_path: Path, sqlite_url: str
) -> None:
    _project(tmp_path, SQLITE_FIRST, non_transactional=True)
    results = _run_concurrently(tmp_path, sqlite_url, processes=4)
    _assert_each_applied_once(sqlite_url, results)


def test_four_processes_migrate_one_mysql_database(tmp_path: Path, mysql_url: str) -> None:
    _project(tmp_path, MYSQL_FIRST)
    results = _run_concurrently(tmp_path, mysql_url, processes=4)
    _assert_each_applied_once(mysql_url, results)
    catalog = Catalog(mysql_url)
    assert catalog.scalar("SELECT sessions FROM overlap") > 1
    assert "schema_migrations_progress" not in catalog.tables()
