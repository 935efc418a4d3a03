"""Every planned migration is recorded and compiled before the first one runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import UNEXPRESSIBLE, backend, has
from migration_helpers import Catalog, error_text, migrator, run_cli, write_change, write_up_down

from whimbrel.errors import IrreversibleMigrationError, MigrationDefinitionError


def test_a_dsl_mistake_in_the_last_file_stops_the_run_before_the_first(
    tmp_path: Path, db_url: str
) -> None:
    write_change(tmp_path, 10, "create_a", 'create(table("a"))')
    write_change(tmp_path, 20, "create_b", 'create(table("b"))')
    write_change(tmp_path, 30, "bad", 'with alter(table("a")):\n    add("x", "text", nul=False)')
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2
    message = error_text(done)
    assert "30_bad.py:" in message and "'nul'" in message and "null" in message
    assert Catalog(db_url).tables() == set()


def test_a_command_the_database_cannot_express_stops_the_run_first(
    tmp_path: Path, db_url: str
) -> None:
    refused = UNEXPRESSIBLE.get(backend(db_url))
    if refused is None:
        pytest.skip(f"{backend(db_url)} expresses every command of the DSL")
    write_change(tmp_path, 10, "create_a", 'with create(table("a")):\n    add("x", "text")')
    write_change(tmp_path, 20, "index_a", refused)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2
    error = error_text(done)
    assert "20_index_a.py" in error and "does not support" in error
    assert Catalog(db_url).tables() == set()


def test_rollback_all_refuses_an_irreversible_migration_before_undoing_any(
    tmp_path: Path, db_url: str
) -> None:
    write_change(tmp_path, 10, "create_a", 'create(table("a"))\nexecute("SELECT 1")')
    write_change(tmp_path, 20, "create_b", 'create(table("b"))')
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10, 20]
        with pytest.raises(IrreversibleMigrationError, match="execute"):
            m.run("down", all=True)
    assert {"a", "b"} <= Catalog(db_url).tables()
    assert Catalog(db_url).versions() == [10, 20]


def test_a_migration_is_checked_past_repo_execute(tmp_path: Path, db_url: str) -> None:
    write_up_down(
        tmp_path,
        10,
        "with_data",
        up='create(table("a"))\nrepo().execute("INSERT INTO a DEFAULT VALUES")\nexecute(42)',
        down='drop(table("a"))',
    )
    with migrator(tmp_path, db_url) as m, pytest.raises(MigrationDefinitionError, match="execute"):
        m.up()
    # repo().execute() returns nothing the rest could depend on, so the check goes on
    # past it and finds the bad call before the table or the row exist (on every database).
    assert Catalog(db_url).tables() == set()


def test_a_migration_is_checked_up_to_repo_query(tmp_path: Path, db_url: str) -> None:
    write_up_down(
        tmp_path,
        10,
        "with_read",
        up='create(table("a"))\nrows = repo().query("SELECT 1")\nexecute(42)',
        down='drop(table("a"))',
    )
    with migrator(tmp_path, db_url) as m, pytest.raises(MigrationDefinitionError, match="execute"):
        m.up()
    # What follows a read may depend on it, so it is only checked when it runs: a
    # transaction undoes the table; without one (MySQL) the table stays.
    expected = set() if has(db_url, "transactional_ddl") else {"a"}
    assert Catalog(db_url).user_tables() == expected


def test_a_missing_execute_file_in_the_second_migration_stops_the_run_before_the_first(
    tmp_path: Path, db_url: str
) -> None:
    # execute_file() reads its file while the migration is recorded, so the check of the
    # whole plan finds the missing file before migration 10 runs (and, on MySQL, commits).
    write_change(tmp_path, 10, "create_a", 'create(table("a"))')
    write_up_down(tmp_path, 20, "seed", up='execute_file("sql/seed.sql")', down="pass")
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2
    error = error_text(done)
    assert "20_seed.py" in error and "execute_file('sql/seed.sql'): cannot read" in error
    assert Catalog(db_url).user_tables() == set()


def test_the_check_and_the_run_share_one_recording(tmp_path: Path, db_url: str) -> None:
    # The migration function counts its calls in a file: recorded once for the check and
    # the run together, it is called once, and its data change still runs after the DDL.
    # (Lint, on by default, records it once more for its own reading: switched off here.)
    counter = tmp_path / "calls.txt"
    body = (
        f"calls = __import__('pathlib').Path({str(counter)!r})\n"
        'calls.write_text((calls.read_text() if calls.exists() else "") + "x")\n'
        'create(table("a"))\n'
        'repo().execute("INSERT INTO a (id) VALUES (7)")'
    )
    write_change(tmp_path, 10, "create_a", body)
    with migrator(tmp_path, db_url, lint="off") as m:
        assert m.up() == [10]
    assert counter.read_text() == "x"
    catalog = Catalog(db_url)
    assert catalog._rows("SELECT id FROM a") == [(7,)]


def test_a_concurrent_index_inside_a_transaction_is_refused_before_anything_runs(
    tmp_path: Path, pg_url: str
) -> None:
    # PostgreSQL refuses CREATE INDEX CONCURRENTLY in a transaction; found before 10 runs.
    write_change(tmp_path, 10, "create_a", 'with create(table("a")):\n    add("x", "text")')
    write_change(tmp_path, 20, "index_a", 'create(index("a", ["x"], concurrently=True))')
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_index_a.py" in error and "disable_ddl_transaction = True" in error
    assert Catalog(pg_url).tables() == set()


def test_every_refusal_of_the_plan_is_reported_at_once(tmp_path: Path, db_url: str) -> None:
    refused = UNEXPRESSIBLE.get(backend(db_url))
    if refused is None:
        pytest.skip(f"{backend(db_url)} expresses every command of the DSL")
    write_change(tmp_path, 10, "create_a", 'with create(table("a")):\n    add("x", "text")')
    write_change(tmp_path, 20, "first_refusal", refused)
    write_change(tmp_path, 30, "second_refusal", refused)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "2 problems" in error, error
    assert "20_first_refusal.py" in error and "30_second_refusal.py" in error
    assert Catalog(db_url).tables() == set()
