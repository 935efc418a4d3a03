"""The versions table and the migration lock, checked against the real database."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from backends import backend, q
from migration_helpers import (
    CHECKSUMS,
    Catalog,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_config,
    write_table_migrations,
)

from dbs import MYSQL
from whimbrel.adapters.base import Adapter
from whimbrel.errors import LockTimeoutError
from whimbrel.migrator.checksums import file_checksum


def test_takes_over_a_versions_table_written_by_ecto(tmp_path: Path, db_url: str) -> None:
    """Ecto's schema_migrations(version bigint PRIMARY KEY, inserted_at timestamp(0)).

    Ecto's MySQL adapter writes ``inserted_at`` as ``datetime``.
    """
    write_table_migrations(tmp_path, [10, 20])
    versions, timestamp = q(db_url, "schema_migrations"), "timestamp(0)"
    if backend(db_url) == "mysql":
        timestamp = "datetime"
    Catalog(db_url).execute(
        f"CREATE TABLE {versions} ({q(db_url, 'version')} bigint PRIMARY KEY, "
        f"{q(db_url, 'inserted_at')} {timestamp})",
        f"CREATE TABLE {q(db_url, 't10')} ({q(db_url, 'id')} integer)",
        f"INSERT INTO {versions} VALUES (10, '2020-01-01 00:00:00')",
    )
    with migrator(tmp_path, db_url) as m:
        assert [(s.status, s.version) for s in m.status()] == [("up", 10), ("down", 20)]
        assert m.up() == [20]
    catalog = Catalog(db_url)
    assert catalog.versions() == [10, 20]
    assert catalog.scalar("SELECT count(*) FROM schema_migrations WHERE inserted_at IS NULL") == 0


def test_migration_source_names_the_versions_table(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    write_config(tmp_path, migration_source="my_versions")
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    catalog = Catalog(db_url)
    assert catalog.tables() == {"t10", "my_versions", "my_versions_checksums"}
    assert catalog.versions(source="my_versions") == [10]


def test_a_held_lock_makes_migrate_wait_then_give_up(tmp_path: Path, pg_url: str) -> None:
    """Another session holds whimbrel's advisory lock: nothing runs until it is released."""
    write_table_migrations(tmp_path, [10])
    name = f"whimbrel:{urlsplit(pg_url).path.lstrip('/')}::schema_migrations"
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (Adapter.lock_key(name),))
        with migrator(tmp_path, pg_url, migration_lock_wait=0.5) as m:
            with pytest.raises(LockTimeoutError, match="migration_lock_wait"):
                m.up()
        write_config(tmp_path, migration_lock_wait=0.5)
        done = run_cli(tmp_path, pg_url, "migrate")
        assert done.returncode == 1, done.stderr
        assert "still held by another process" in error_text(done)
        assert Catalog(pg_url).versions() is None
    # The holder's session ended: the lock is free again.
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert Catalog(pg_url).versions() == [10]


def test_a_held_mysql_lock_makes_migrate_wait_then_give_up(tmp_path: Path, mysql_url: str) -> None:
    """Another session holds whimbrel's GET_LOCK: nothing runs until it is released."""
    write_table_migrations(tmp_path, [10])
    name = f"whimbrel:{urlsplit(mysql_url).path.lstrip('/')}::schema_migrations"
    with closing(MYSQL.connect(mysql_url)) as holder, closing(holder.cursor()) as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", (name,))
        assert cursor.fetchone() == (1,)
        with migrator(tmp_path, mysql_url, migration_lock_wait=0.5) as m:
            with pytest.raises(LockTimeoutError, match="migration_lock_wait"):
                m.up()
        assert Catalog(mysql_url).versions() is None
    # The holder's session ended: the lock is free again, and whimbrel gives it back.
    with migrator(tmp_path, mysql_url) as m:
        assert m.up() == [10]
        assert Catalog(mysql_url).scalar(f"SELECT IS_USED_LOCK('{name}')") is None


def test_a_checksum_row_left_by_a_version_deleted_by_hand_is_replaced(
    tmp_path: Path, db_url: str
) -> None:
    """Someone deletes a version row to run a migration again: its checksum row stays behind,
    and the re-run replaces it (one upsert statement) instead of failing on its key."""
    path = write_change(
        tmp_path, 10, "again", 'execute("CREATE TABLE IF NOT EXISTS again (n int)")'
    )
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
    catalog = Catalog(db_url)
    catalog.execute(f"DELETE FROM {q(db_url, 'schema_migrations')}")
    path.write_text(path.read_text() + "# edited before the re-run\n")
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
        expected = m._checksums().recorded(None)
    assert catalog.scalar(f"SELECT count(*) FROM {q(db_url, CHECKSUMS)}") == 1
    assert expected == {10: file_checksum(path)}  # the edited file's, not the first run's
