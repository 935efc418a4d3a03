"""The read path: ``status``, ``ensure-up`` and a ``migrate`` with nothing to do.

They read the versions table and the checksums beside it without the
migration lock, and on PostgreSQL through libpq itself
(``whimbrel.adapters.libpq``), without importing psycopg.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from migration_helpers import (
    Catalog,
    cli_env,
    error_text,
    migrator,
    run_cli,
    write_table_migrations,
)

from dbs import DatabaseNames
from whimbrel.adapters import adapter_for
from whimbrel.adapters.base import Adapter, Settings
from whimbrel.adapters.libpq import LibpqAdapter
from whimbrel.adapters.postgres import PostgresAdapter
from whimbrel.errors import DatabaseConnectionError, DatabaseError

# -- the libpq session against the real server -----------------------------------------


@pytest.fixture
def reader(pg_url: str) -> LibpqAdapter:
    opened = LibpqAdapter.open(pg_url, Settings())
    assert opened is not None, "libpq (psycopg_binary.libs or libpq.so.5) should load here"
    yield opened
    opened.close()


def test_reader_rows_come_back_as_psycopg_gives_them(reader: LibpqAdapter, pg_url: str) -> None:
    sql = "SELECT %s::int, %s::bigint, %s::text, %s::bool, NULL::int, '' , 'a%%b', %s::bool"
    params = (7, 2**40, "héllo", True, False)
    with psycopg.connect(pg_url) as conn:
        expected = conn.execute(sql, params).fetchall()
    assert (
        reader.query(sql, params) == expected == [(7, 2**40, "héllo", True, None, "", "a%b", False)]
    )


def test_reader_applied_versions_equal_the_driver_adapter(pg_url: str, tmp_path: Path) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    with migrator(tmp_path, pg_url) as m:
        m.up()
        full = m.adapter.applied_versions(None, "schema_migrations")
    opened = LibpqAdapter.open(pg_url, Settings())
    assert opened is not None
    with closing(opened):  # open() connected it (``with adapter`` would connect again)
        assert opened.applied_versions(None, "schema_migrations") == full == [10, 20, 30]
        assert opened.applied_versions(None, "no_such_table") == []
        assert opened.table_exists("schema_migrations", None)


def test_reader_errors_carry_the_sqlstate_and_the_statement(reader: LibpqAdapter) -> None:
    with pytest.raises(DatabaseError) as caught:
        reader.query("SELECT * FROM no_such_table_here")
    assert caught.value.sqlstate == "42P01"
    assert 'relation "no_such_table_here" does not exist' in str(caught.value)
    assert caught.value.statement == "SELECT * FROM no_such_table_here"
    assert reader.query("SELECT 1") == [(1,)]  # the session is still usable


def test_reader_connection_error_reads_as_psycopgs_with_the_password_masked(
    pg_url: str,
) -> None:
    bad = "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere"
    with pytest.raises(DatabaseConnectionError) as by_reader:
        LibpqAdapter.open(bad, Settings(connect_timeout=2))
    with pytest.raises(DatabaseConnectionError) as by_psycopg:
        PostgresAdapter(bad, Settings(connect_timeout=2)).connect()
    for caught in (by_reader, by_psycopg):
        text = str(caught.value)
        assert "s3cr3t-pw" not in text
        assert text.startswith("cannot connect to postgresql://someone:***@127.0.0.1:1/nowhere")
    assert "Connection refused" in str(by_reader.value)


def test_whimbrel_libpq_0_connects_through_psycopg(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHIMBREL_LIBPQ", "0")
    with closing(adapter_for(pg_url, Settings())) as chosen:
        assert type(chosen) is PostgresAdapter
    monkeypatch.delenv("WHIMBREL_LIBPQ")
    with closing(adapter_for(pg_url, Settings())) as light:
        assert type(light) is LibpqAdapter


# -- the commands ------------------------------------------------------------------------

_IMPORTED = """
import sys
from whimbrel.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    print("psycopg imported:", "psycopg" in sys.modules, "exit", done.code, file=sys.stderr)
"""


def _run_reporting_imports(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _IMPORTED, *args, "--database-url", url],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["migrate", "status", "ensure-up"])
def test_commands_that_only_read_do_not_import_psycopg(
    tmp_path: Path, pg_url: str, command: str
) -> None:
    write_table_migrations(tmp_path, [10, 20])
    assert run_cli(tmp_path, pg_url, "migrate").returncode == 0
    done = _run_reporting_imports(tmp_path, pg_url, command)
    assert "psycopg imported: False exit 0" in done.stderr, done.stderr


def test_migrate_with_work_to_do_runs_on_libpq_without_psycopg(tmp_path: Path, pg_url: str) -> None:
    """Applying plain DDL needs none of psycopg's adapters: libpq alone writes too."""
    write_table_migrations(tmp_path, [10])
    done = _run_reporting_imports(tmp_path, pg_url, "migrate")
    assert "psycopg imported: False exit 0" in done.stderr, done.stderr
    assert Catalog(pg_url).versions() == [10]


def _hold_lock(url: str) -> psycopg.Connection:
    """Another deploy, mid-migration: a session holding whimbrel's lock for this database."""
    conn = psycopg.connect(url, autocommit=True)
    name = f"whimbrel:{conn.info.dbname}::schema_migrations"
    assert conn.execute("SELECT pg_try_advisory_lock(%s)", (Adapter.lock_key(name),)).fetchone()
    return conn


def test_nothing_to_do_needs_no_lock_but_work_waits_for_it(tmp_path: Path, pg_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    assert run_cli(tmp_path, pg_url, "migrate").returncode == 0
    (tmp_path / "whimbrel.toml").write_text("migration_lock_wait = 1\n")
    holder = _hold_lock(pg_url)
    try:
        # With the lock taken this would end in "still held" (exit 1) after 1 s.
        idle = run_cli(tmp_path, pg_url, "migrate")
        assert idle.returncode == 0, idle.stderr
        assert "Migrations already up" in idle.stderr

        write_table_migrations(tmp_path, [20])
        busy = run_cli(tmp_path, pg_url, "migrate")
        assert busy.returncode == 1, busy.stderr
        assert "still held by another process" in error_text(busy)
        assert Catalog(pg_url).versions() == [10]
    finally:
        holder.close()
    assert run_cli(tmp_path, pg_url, "migrate").returncode == 0
    assert Catalog(pg_url).versions() == [10, 20]


def test_an_edited_file_is_not_taken_for_nothing_to_do(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20])
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    edited = tmp_path / "migrations" / "10_create_t10.py"
    edited.write_text(edited.read_text() + "\n# changed\n")
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    assert "changed since it ran" in error_text(done)
    status = run_cli(tmp_path, db_url, "status")
    assert "up (edited)" in status.stdout, status.stdout


def test_versions_applied_by_another_tool_are_adopted_by_the_next_migrate(
    tmp_path: Path, db_url: str
) -> None:
    """Applied versions without a checksum are not "nothing to do": migrate records them."""
    write_table_migrations(tmp_path, [10, 20])
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    catalog = Catalog(db_url)
    catalog.execute("DELETE FROM schema_migrations_checksums WHERE version = 20")
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    assert sorted(
        r[0] for r in catalog._rows("SELECT version FROM schema_migrations_checksums")
    ) == [
        10,
        20,
    ]


def test_a_misnamed_file_is_warned_about_once_per_run(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    (tmp_path / "migrations" / "20_Bad.py").write_text("# not a migration name\n")
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0
    assert done.stderr.count("skipping") == 1, done.stderr


def test_reader_text_comes_back_as_utf8_from_a_latin1_database(
    pg_admin_url: str, db_names: DatabaseNames
) -> None:
    """libpq hands text over in the client encoding: the libpq session asks for UTF-8."""
    name = db_names.new()
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
            "TEMPLATE template0"
        )
    url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        opened = LibpqAdapter.open(url, Settings())
        assert opened is not None
        with closing(opened):
            # é made by the server, so it is the database's own LATIN1 byte until converted
            assert opened.query("SELECT 'tenant_caf' || chr(233)") == [("tenant_café",)]
            assert opened.query("SELECT %s::text", ("tenant_café",)) == [("tenant_café",)]
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
