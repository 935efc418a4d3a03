"""The versions table and the migration lock, checked against the real database."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from migration_helpers import (
    Catalog,
    error_text,
    is_sqlite,
    migrator,
    run_cli,
    write_config,
    write_table_migrations,
)

from whimbrel.adapters.base import Adapter
from whimbrel.errors import LockTimeoutError


def test_takes_over_a_versions_table_written_by_ecto(tmp_path: Path, db_url: str) -> None:
    """Ecto's schema_migrations(version bigint PRIMARY KEY, inserted_at timestamp(0))."""
    write_table_migrations(tmp_path, [10, 20])
    ecto = [
        'CREATE TABLE "schema_migrations" '
        '("version" bigint PRIMARY KEY, "inserted_at" timestamp(0))',
        'CREATE TABLE "t10" ("id" integer)',
        "INSERT INTO \"schema_migrations\" VALUES (10, '2020-01-01 00:00:00')",
    ]
    if is_sqlite(db_url):
        with closing(sqlite3.connect(db_url.split("://", 1)[1][1:])) as lite, lite:
            for statement in ecto:
                lite.execute(statement)
    else:
        with psycopg.connect(db_url, autocommit=True) as conn:
            for statement in ecto:
                conn.execute(statement.encode())
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
    assert catalog.tables() == {"t10", "my_versions"}
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
