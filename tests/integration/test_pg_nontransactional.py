"""PostgreSQL `disable_ddl_transaction` migrations: journaled, resumed, INVALID index rebuilt."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from migration_helpers import (
    PROGRESS,
    Catalog,
    cli_command,
    cli_env,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_up_down,
)

from whimbrel.errors import MigrationFailedError

NO_TX = "disable_ddl_transaction = True\n"


def test_a_failed_step_is_resumed_without_repeating_what_ran(tmp_path: Path, pg_url: str) -> None:
    write_up_down(
        tmp_path,
        20,
        "steps",
        """
        create(table("first"))
        execute("SELECT 1 / 0")
        create(table("second"))
        """,
        'drop(table("second"))\ndrop(table("first"))',
        flags=NO_TX,
    )
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
    assert caught.value.rolled_back is False
    assert "resumes at statement 2" in str(caught.value)
    assert catalog.user_tables() == {"first"} and PROGRESS in catalog.tables()
    path = tmp_path / "migrations" / "20_steps.py"
    path.write_text(path.read_text().replace("1 / 0", "1"))
    with migrator(tmp_path, pg_url) as m:  # without the journal: "relation first already exists"
        assert m.up() == [20]
    assert catalog.user_tables() == {"first", "second"}
    assert PROGRESS not in catalog.tables()


def test_a_failure_before_any_statement_leaves_no_journal(tmp_path: Path, pg_url: str) -> None:
    write_change(tmp_path, 20, "bad", 'execute("SELECT * FROM nowhere", "SELECT 1")', flags=NO_TX)
    assert run_cli(tmp_path, pg_url, "migrate").returncode == 1
    assert Catalog(pg_url).tables() == {"schema_migrations", "schema_migrations_checksums"}


def _slow_index_project(project: Path) -> None:
    """A concurrent index build that takes ~3 s (a slow immutable function per row)."""
    write_change(
        project,
        10,
        "big",
        """
        create(table("big"))
        execute(
            "CREATE FUNCTION slow(x bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS "
            "'BEGIN PERFORM pg_sleep(0.01); RETURN x; END'",
            "DROP FUNCTION slow(bigint)",
        )
        execute("INSERT INTO big SELECT g FROM generate_series(1, 300) g", "SELECT 1")
        """,
    )
    write_change(
        project,
        20,
        "slow_index",
        """
        create(table("before_build"))
        create(index("big", ["slow(id)"], name="big_slow_index", concurrently=True))
        create(table("after_build"))
        """,
        flags=NO_TX,
    )


def _index_valid(url: str, name: str) -> bool | None:
    rows = Catalog(url)._rows(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = %s",
        (name,),
    )
    return rows[0][0] if rows else None


def _stop_build(url: str, how: str) -> None:
    """From another session, cancel or terminate whimbrel's CREATE INDEX CONCURRENTLY."""
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND query LIKE 'CREATE INDEX CONCURRENTLY%%'"
            ).fetchall()
            if rows:
                time.sleep(0.5)  # well into the build: the index exists, INVALID
                conn.execute(f"SELECT pg_{how}_backend(%s)", (rows[0][0],))
                return
            time.sleep(0.05)
    raise AssertionError("the concurrent index build never started")


@pytest.mark.parametrize("how", ["cancel", "terminate"])
def test_a_killed_concurrent_build_is_dropped_and_rebuilt(
    tmp_path: Path, pg_url: str, how: str
) -> None:
    _slow_index_project(tmp_path)
    assert run_cli(tmp_path, pg_url, "migrate", "--to", "10").returncode == 0
    process = subprocess.Popen(
        cli_command(pg_url, "migrate"),
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _stop_build(pg_url, how)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    catalog = Catalog(pg_url)
    assert _index_valid(pg_url, "big_slow_index") is False  # what a killed build leaves
    assert catalog.user_tables() == {"big", "before_build"}
    assert catalog.versions() == [10]

    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "INVALID" in done.stderr and "skipping statement 1" in done.stderr
    assert _index_valid(pg_url, "big_slow_index") is True
    assert catalog.user_tables() == {"big", "before_build", "after_build"}
    assert catalog.versions() == [10, 20] and PROGRESS not in catalog.tables()


def test_a_valid_index_of_the_same_name_is_not_dropped(tmp_path: Path, pg_url: str) -> None:
    write_change(
        tmp_path,
        10,
        "t",
        'create(table("t"))\nexecute("CREATE INDEX dup ON t (id)", "DROP INDEX dup")',
    )
    write_change(
        tmp_path,
        20,
        "dup",
        'create(index("t", ["id"], name="dup", concurrently=True))',
        flags=NO_TX,
    )
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 1
    assert "already exists" in error_text(done)
    assert _index_valid(pg_url, "dup") is True
