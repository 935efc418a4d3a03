"""Issue 11 in ``migrate``: lint before the first migration, checksums, lock-timeout retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from migration_helpers import (
    CHECKSUMS,
    Catalog,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_config,
    write_table_migrations,
    write_up_down,
)

from whimbrel.errors import EditedMigrationError, MigrationFailedError
from whimbrel.migrator.checksums import file_checksum

# -- lint inside migrate ----------------------------------------------------------------


def _drop_after_create(project: Path) -> None:
    write_table_migrations(project, [10])
    write_change(project, 20, "create_t20", 'create(table("t20"))')
    write_up_down(project, 30, "drop_t10", 'drop(table("t10"))', 'create(table("t10"))')


def test_migrate_warns_about_lint_findings_and_runs(tmp_path: Path, db_url: str) -> None:
    _drop_after_create(tmp_path)
    assert run_cli(tmp_path, db_url, "migrate", "--to", "10").returncode == 0
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "30_drop_t10.py:4: dropping-table" in done.stderr
    assert Catalog(db_url).versions() == [10, 20, 30]


def test_lint_error_stops_migrate_before_anything_runs(tmp_path: Path, db_url: str) -> None:
    _drop_after_create(tmp_path)
    write_config(tmp_path, lint="error")
    assert run_cli(tmp_path, db_url, "migrate", "--to", "10").returncode == 0
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    assert "30_drop_t10.py:4: dropping-table" in error_text(done)
    catalog = Catalog(db_url)
    assert catalog.versions() == [10]  # 20 is clean, but the run stopped before it
    assert catalog.user_tables() == {"t10"}


def test_lint_in_migrate_reads_only_the_planned_migrations(tmp_path: Path, db_url: str) -> None:
    """An applied migration with a finding does not block later runs in error mode."""
    _drop_after_create(tmp_path)
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    write_config(tmp_path, lint="error")
    write_change(tmp_path, 40, "create_t40", 'create(table("t40"))')
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert Catalog(db_url).versions() == [10, 20, 30, 40]


# -- checksums ---------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_an_edited_migration_is_refused_then_accepted(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    path = next((tmp_path / "migrations").glob("10_*.py"))
    _edit(path, '"t10"', '"t10_renamed"')
    write_table_migrations(tmp_path, [20])

    status = run_cli(tmp_path, db_url, "status", "--json")
    rows = {r["version"]: r for r in json.loads(status.stdout)}
    assert rows[10]["edited"] is True and rows[20]["edited"] is False
    assert "up (edited)" in run_cli(tmp_path, db_url, "status").stdout

    refused = run_cli(tmp_path, db_url, "migrate")
    assert refused.returncode == 2, refused.stderr
    message = error_text(refused)
    assert str(path) in message and "--accept-edited 10" in message
    assert Catalog(db_url).versions() == [10]  # 20 did not run

    wrong = run_cli(tmp_path, db_url, "migrate", "--accept-edited", "20")
    assert wrong.returncode == 2 and "--accept-edited 20" in error_text(wrong)

    accepted = run_cli(tmp_path, db_url, "migrate", "--accept-edited", "10")
    assert accepted.returncode == 0, accepted.stderr
    assert Catalog(db_url).versions() == [10, 20]
    stored = Catalog(db_url).scalar(f"SELECT checksum FROM {CHECKSUMS} WHERE version = 10")
    assert stored == file_checksum(path)
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0


def test_whitespace_and_line_endings_are_no_edit(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    with migrator(tmp_path, db_url) as m:
        m.up()
    path = next((tmp_path / "migrations").glob("10_*.py"))
    reformatted = "\r\n\r\n".join(line + "   " for line in path.read_text().splitlines())
    path.write_bytes(reformatted.encode())
    with migrator(tmp_path, db_url) as m:
        assert [s.edited for s in m.status()] == [False]
        _edit(path, ")", ")  # a comment is an edit")
        assert [s.edited for s in m.status()] == [True]
        with pytest.raises(EditedMigrationError) as caught:
            m.up()
    assert caught.value.edited == [10] and caught.value.exit_code == 2


def test_versions_applied_without_checksums_are_adopted(tmp_path: Path, db_url: str) -> None:
    """Applied by Ecto (a bare version row) or before checksums existed: adopted silently."""
    write_table_migrations(tmp_path, [10, 20])
    with migrator(tmp_path, db_url) as m:
        assert m.up(to=10) == [10]
    catalog = Catalog(db_url)
    catalog.execute(
        f"DROP TABLE {CHECKSUMS}",
        'CREATE TABLE t20 ("id" integer)' if not catalog.mysql else "CREATE TABLE t20 (id int)",
        "INSERT INTO schema_migrations (version, inserted_at) VALUES (20, CURRENT_TIMESTAMP)",
    )
    # An edit made before adoption is adopted too: there is nothing to compare it with.
    _edit(next((tmp_path / "migrations").glob("20_*.py")), "create(", "create(  ")
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "edited" not in done.stderr
    rows = catalog._rows(f"SELECT version, algorithm FROM {CHECKSUMS} ORDER BY version")
    assert [tuple(r) for r in rows] == [(10, "text-v1"), (20, "text-v1")]
    _edit(next((tmp_path / "migrations").glob("20_*.py")), '"t20"', '"t21"')
    assert run_cli(tmp_path, db_url, "migrate").returncode == 2


def test_a_rollback_forgets_the_checksum(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20])
    with migrator(tmp_path, db_url) as m:
        m.up()
        m.down()
    catalog = Catalog(db_url)
    assert [r[0] for r in catalog._rows(f"SELECT version FROM {CHECKSUMS}")] == [10]
    # Edited while rolled back: it is pending, so the new text simply runs.
    _edit(next((tmp_path / "migrations").glob("20_*.py")), '"t20"', '"t20b"')
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [20]
    assert catalog.user_tables() == {"t10", "t20b"}


def test_no_op_migrate_stays_fast_with_many_applied_files(tmp_path: Path, pg_url: str) -> None:
    """Checking 300 applied files' checksums is a read and a hash each, not a compile."""
    for v in range(1, 301):
        write_change(tmp_path, v, f"m{v}", 'execute("SELECT 1", "SELECT 1")')
    with migrator(tmp_path, pg_url) as m:
        m.up()
        started = time.perf_counter()
        assert m.up() == []
        elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"a no-op migrate over 300 applied files took {elapsed:.2f}s"


# -- lock timeouts with retries (PostgreSQL) ---------------------------------------------


@contextmanager
def _table_locked(url: str, table: str, seconds: float) -> Iterator[None]:
    """Another session holds ACCESS EXCLUSIVE on ``table`` for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("BEGIN")
            conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            taken.set()
            time.sleep(seconds)
            conn.execute("COMMIT")

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        holder.join()


def _locked_table_project(project: Path, url: str, retries: int) -> None:
    write_table_migrations(project, [10])
    write_config(
        project,
        lock_timeout="500ms",
        lock_timeout_retries=retries,
        lock_timeout_retry_delay="200ms",
    )
    with migrator(project, url) as m:
        m.up()
    write_change(
        project,
        20,
        "add_to_t10",
        """
        create(table("fresh"))
        with alter(table("t10")):
            add("note", "text")
        """,
    )


def test_a_migration_retries_until_the_lock_is_free(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _locked_table_project(tmp_path, pg_url, retries=10)
    started = time.monotonic()
    with _table_locked(pg_url, "t10", 3.0), migrator(tmp_path, pg_url) as m:
        assert m.up() == [20]
    assert time.monotonic() - started >= 2.5  # it waited for the holder, in several attempts
    catalog = Catalog(pg_url)
    assert "note" in catalog.columns("t10") and "fresh" in catalog.user_tables()
    assert catalog.versions() == [10, 20]


def test_too_few_retries_fail_cleanly_with_nothing_applied(tmp_path: Path, pg_url: str) -> None:
    _locked_table_project(tmp_path, pg_url, retries=1)
    with _table_locked(pg_url, "t10", 3.0), migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
    assert caught.value.rolled_back and caught.value.sqlstate == "55P03"
    assert "gave up after 1 lock-timeout retry" in str(caught.value)
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10]
    assert "fresh" not in catalog.user_tables() and "note" not in catalog.columns("t10")


def test_without_retries_the_lock_timeout_fails_at_once(tmp_path: Path, pg_url: str) -> None:
    _locked_table_project(tmp_path, pg_url, retries=0)
    started = time.monotonic()
    with _table_locked(pg_url, "t10", 2.0), migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationFailedError):
            m.up()
        assert time.monotonic() - started < 1.8
