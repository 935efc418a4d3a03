"""Self-tests for the database harness (tests/dbs.py, tests/conftest.py).

Why: every integration test trusts these fixtures to hand it a real, empty,
private database. If that breaks, failures elsewhere would be misleading.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from dbs import (
    DB_NAME_PREFIX,
    FORCE_EMBEDDED_ENV,
    MYSQL,
    POSTGRES,
    DatabaseNames,
    env_flag,
    fresh_database,
    selected_backends,
    url_for_database,
)

TESTS_DIR = Path(__file__).resolve().parents[1]


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _pg_scalar(url: str, sql: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_url_for_database_keeps_credentials_and_socket_query() -> None:
    assert (
        url_for_database("postgresql://postgres:@/postgres?host=/tmp/x/pgdata", "whimbrel_t_1")
        == "postgresql://postgres:@/whimbrel_t_1?host=/tmp/x/pgdata"
    )
    assert (
        url_for_database("postgresql://u:p@127.0.0.1:5432/postgres", "d")
        == "postgresql://u:p@127.0.0.1:5432/d"
    )
    assert url_for_database("mysql://root@127.0.0.1:3306/", "d") == "mysql://root@127.0.0.1:3306/d"
    assert url_for_database("postgresql:///postgres?host=/s", "d") == "postgresql:///d?host=/s"


def test_database_names_are_unique_and_safe() -> None:
    names = [DatabaseNames().new() for _ in range(3)] + [DatabaseNames().new()]
    one_run = DatabaseNames()
    names += [one_run.new(), one_run.new()]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.startswith(DB_NAME_PREFIX)
        POSTGRES.quote(name)  # raises if the name would need escaping


def test_selected_backends_parsing() -> None:
    assert selected_backends({}) == ["sqlite", "postgres", "mysql"]
    assert selected_backends({"WHIMBREL_TEST_BACKENDS": " mysql, sqlite,mysql "}) == [
        "mysql",
        "sqlite",
    ]
    with pytest.raises(ValueError, match="oracle"):
        selected_backends({"WHIMBREL_TEST_BACKENDS": "sqlite,oracle"})


@pytest.mark.parametrize("round_", [1, 2])
def test_pg_url_is_a_fresh_empty_database(
    pg_url: str, round_: int, seen_pg_names: set[str]
) -> None:
    """Run twice: each run gets a new name and sees no table the other one created."""
    name = _dbname(pg_url)
    assert name.startswith(DB_NAME_PREFIX)
    assert name not in seen_pg_names
    seen_pg_names.add(name)
    assert _pg_scalar(pg_url, "SELECT current_database()") == name
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    assert _pg_scalar(pg_url, tables) == 0
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE leftover (id int)")


@pytest.fixture(scope="module")
def seen_pg_names() -> set[str]:
    return set()


def test_fresh_database_is_dropped_despite_open_connection(
    pg_admin_url: str, db_names: DatabaseNames
) -> None:
    name = db_names.new()
    with fresh_database(POSTGRES, pg_admin_url, name) as url:
        lingering = psycopg.connect(url)  # deliberately left open: DROP ... WITH (FORCE)
    exists = f"SELECT count(*) FROM pg_database WHERE datname = '{name}'"
    assert _pg_scalar(pg_admin_url, exists) == 0
    with lingering, pytest.raises(psycopg.OperationalError):
        lingering.execute("SELECT 1")  # its session was terminated by the drop


@pytest.mark.mysql
def test_mysql_url_is_a_fresh_empty_database(mysql_url: str) -> None:
    with closing(MYSQL.connect(mysql_url)) as conn, closing(conn.cursor()) as cursor:
        cursor.execute("SELECT DATABASE(), @@character_set_database")
        assert cursor.fetchone() == (_dbname(mysql_url), "utf8mb4")
        cursor.execute("SHOW TABLES")
        assert cursor.fetchall() == ()
        cursor.execute("CREATE TABLE t (id INT)")  # left behind on purpose: teardown drops it


def test_db_url_matches_backend(db_url: str, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["db_url"]
    assert backend in selected_backends()
    expected_scheme = {"sqlite": "sqlite", "postgres": "postgresql", "mysql": "mysql"}[backend]
    assert urlsplit(db_url).scheme == expected_scheme


_EMBEDDED_SCRIPT = """
import json, os, dbs
server = dbs.discover_postgres()
try:
    with dbs.fresh_database(dbs.POSTGRES, server.admin_url, dbs.DatabaseNames().new()) as url:
        import psycopg
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
    print(json.dumps({"origin": server.origin, "url": url, "version": version}))
finally:
    server.stop()
"""


@pytest.mark.skipif(
    not env_flag("WHIMBREL_TEST_EMBEDDED"),
    reason="starts a second PostgreSQL (~1 s); set WHIMBREL_TEST_EMBEDDED=1 to run",
)
def test_forced_embedded_postgres_starts_and_cleans_up() -> None:
    """In a subprocess, so this session's own server choice is unaffected."""
    env = {**os.environ, FORCE_EMBEDDED_ENV: "1"}
    done = subprocess.run(
        [sys.executable, "-c", _EMBEDDED_SCRIPT],
        cwd=TESTS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["origin"].startswith("embedded-postgres in ")
    assert "?host=" in report["url"] and _dbname(report["url"]).startswith(DB_NAME_PREFIX)
    assert not Path(report["origin"].removeprefix("embedded-postgres in ")).exists()
