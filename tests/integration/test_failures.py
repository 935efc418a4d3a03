"""A migration whose SQL fails: what stays applied, what is rolled back, what is reported.

In a transaction (SQLite and PostgreSQL) a failing migration leaves neither its
DDL nor its version row, while earlier migrations of the same run stay applied.
Without one (``disable_ddl_transaction``, PostgreSQL) whimbrel reports exactly
which statements had completed and records no version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_up_down,
)

from whimbrel.errors import MigrationFailedError

BAD_SQL = "SELECT * FROM no_such_table_anywhere"


def _project(project: Path) -> None:
    write_change(project, 10, "first", 'create(table("first"))')
    write_change(
        project,
        20,
        "second",
        f"""
        with create(table("second")):
            add("c", "integer")
        create(index("second", ["c"]))
        execute("{BAD_SQL}")
        """,
    )
    write_change(project, 30, "third", 'create(table("third"))')


def test_failing_migration_is_rolled_back_with_its_version_row(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
        error = caught.value
        assert error.version == 20
        assert error.rolled_back is True
        assert error.statement is not None and BAD_SQL in error.statement
        assert "20_second" in str(error) and "rolled back" in str(error)

        assert catalog.versions() == [10]
        assert catalog.user_tables() == {"first"}

        # The same migrator (and connection) carries on once the file is fixed.
        _fix(tmp_path)
        assert m.up() == [20, 30]
    assert catalog.versions() == [10, 20, 30]
    assert catalog.indexes("second") == {"second_c_index"}


def _fix(project: Path) -> None:
    path = project / "migrations" / "20_second.py"
    path.write_text(path.read_text().replace(BAD_SQL, "SELECT 1"))


def test_failing_migration_via_cli_exits_1(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 1, done.stderr
    error = error_text(done)
    assert "20_second" in error and "no_such_table_anywhere" in error
    assert "nothing was applied" in error
    catalog = Catalog(db_url)
    assert catalog.versions() == [10]
    assert catalog.user_tables() == {"first"}


def test_failing_rollback_is_rolled_back(tmp_path: Path, db_url: str) -> None:
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    # down() drops the table, then fails: the drop must be undone with it.
    write_up_down(
        tmp_path,
        20,
        "second",
        up='create(table("second"))',
        down=f'drop(table("second"))\nexecute("{BAD_SQL}")',
    )
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        m.up()
        with pytest.raises(MigrationFailedError):
            m.down(all=True)
    assert catalog.versions() == [10, 20]
    assert catalog.user_tables() == {"first", "second"}


def _non_transactional_project(project: Path) -> None:
    write_change(project, 10, "first", 'create(table("first"))')
    write_change(
        project,
        20,
        "concurrent",
        f"""
        with create(table("things")):
            add("c", "integer")
        create(index("things", ["c"], concurrently=True))
        execute("{BAD_SQL}")
        """,
        flags="\ndisable_ddl_transaction = True\n",
    )


def test_failure_without_transaction_reports_the_statements_that_ran(
    tmp_path: Path, pg_url: str
) -> None:
    _non_transactional_project(tmp_path)
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m, pytest.raises(MigrationFailedError) as caught:
        m.up()
    error = caught.value
    assert error.rolled_back is False
    assert error.version == 20
    assert len(error.statements_run) == 2
    assert error.statements_run[0].startswith('CREATE TABLE "things"')
    assert error.statements_run[1].startswith("CREATE INDEX CONCURRENTLY")
    assert BAD_SQL not in "".join(error.statements_run)
    # They stay applied (no transaction to undo them) and no version was recorded.
    assert catalog.user_tables() == {"first", "things"}
    assert catalog.indexes("things") == {"things_c_index"}
    assert catalog.versions() == [10]


def test_failure_without_transaction_via_cli_lists_the_statements(
    tmp_path: Path, pg_url: str
) -> None:
    _non_transactional_project(tmp_path)
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 1, done.stderr
    error = error_text(done)
    assert "20_concurrent" in error and "no_such_table_anywhere" in error
    assert '1. CREATE TABLE "things"' in error
    assert "2. CREATE INDEX CONCURRENTLY" in error
    assert "3." not in error
    assert "not recorded" in error
    assert Catalog(pg_url).versions() == [10]
