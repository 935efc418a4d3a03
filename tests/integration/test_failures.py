"""A migration whose SQL fails: what stays applied, what is rolled back, what is reported.

In a transaction (SQLite and PostgreSQL) a failing migration leaves neither its
DDL nor its version row, while earlier migrations of the same run stay applied.
Without one (``disable_ddl_transaction``, PostgreSQL) whimbrel reports exactly
which statements had completed and records no version. Where DDL is never
transactional (MySQL/MariaDB, ``backends.WHY``) the same cases assert the
journal instead: the exact statements that ran, and a re-run that resumes
after them; a migration changed before that point is refused until repaired.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from backends import backend, has, q
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


def _second_statements(url: str) -> list[str]:
    """What migration 20 runs before its failing statement, on a journaling database."""
    return [
        f"CREATE TABLE {q(url, 'second')} (`id` bigint unsigned not null auto_increment, "
        "`c` integer, PRIMARY KEY (`id`)) ENGINE = InnoDB",
        f"CREATE INDEX {q(url, 'second_c_index')} ON {q(url, 'second')} (`c`)",
    ]


def test_failing_migration_leaves_nothing_half_done(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
        error = caught.value
        assert error.version == 20
        assert error.statement is not None and BAD_SQL in error.statement
        assert "20_second" in str(error)
        assert catalog.versions() == [10]
        if has(db_url, "transactional_ddl"):
            assert error.rolled_back is True and "rolled back" in str(error)
            assert catalog.user_tables() == {"first"}
        else:  # the statements before the failure stay, and are journaled
            assert error.rolled_back is False
            assert error.statements_run == _second_statements(db_url)
            assert catalog.user_tables() == {"first", "second"}
            assert PROGRESS in catalog.tables()

        # The same migrator (and connection) carries on once the file is fixed; without
        # transactions it resumes after the statements that ran (repeating them would fail).
        _fix(tmp_path)
        assert m.up() == [20, 30]
    assert catalog.versions() == [10, 20, 30]
    assert catalog.indexes("second") == {"second_c_index"}
    assert PROGRESS not in catalog.tables()  # no migration is half-done any more


def _fix(project: Path, name: str = "20_second.py", new: str = "SELECT 1") -> None:
    path = project / "migrations" / name
    path.write_text(path.read_text().replace(BAD_SQL, new))


def test_failing_migration_via_cli_exits_1(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 1, done.stderr
    error = error_text(done)
    assert "20_second" in error and "no_such_table_anywhere" in error
    catalog = Catalog(db_url)
    assert catalog.versions() == [10]
    if has(db_url, "transactional_ddl"):
        assert "nothing was applied" in error
        assert catalog.user_tables() == {"first"}
    else:
        first, second = _second_statements(db_url)
        assert f"1. {first}" in error and f"2. {second}" in error
        assert not _listed_step(3, error)
        assert "resumes at statement 3" in error and f"DELETE FROM `{PROGRESS}`" in error
        assert catalog.user_tables() == {"first", "second"}


def _listed_step(n: int, error: str) -> bool:
    """Whether the failure report lists statement ``n`` (a line starting ``n.``).

    A bare ``"3." in error`` also matched the random database name quoted in the
    driver's message (``..._gw0_33.no_such_table``), which made this check flaky.
    """
    return re.search(rf"^\s*{n}\. ", error, re.MULTILINE) is not None


# A statement that runs until it is interrupted, on each database. Not SLEEP() on
# MySQL: it notices a closed connection by itself; BENCHMARK(), like DDL, does not.
BUSY = {
    "sqlite": 'execute(lambda: __import__("time").sleep(60))',
    "postgres": 'execute("SELECT pg_sleep(60)")',
    "mysql": "execute(\"SELECT BENCHMARK(100000000000, MD5('x'))\")",
}


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["ctrl_c", "sigterm"],
)
def test_ctrl_c_mid_migration_undoes_it_and_frees_the_lock(
    tmp_path: Path, db_url: str, signum: int, code: int
) -> None:
    """Ctrl-C or SIGTERM while a statement runs: exit 130/143, the migration rolled back
    (or journaled, on MySQL), and the lock free at once, not when the server finishes the
    statement; a line says what became of the migration."""
    slow = tmp_path / "slow"  # the migration sleeps only while this file exists
    slow.touch()
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    write_up_down(
        tmp_path,
        20,
        "slow",
        f'create(table("slow"))\nif __import__("os").path.exists({str(slow)!r}):\n'
        f"    {BUSY[backend(db_url)]}",
        'drop(table("slow"))',
    )
    process = subprocess.Popen(
        cli_command(db_url, "migrate"),
        cwd=tmp_path,
        env=cli_env(),
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it (a test runner's workers may ignore SIGINT).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "Running 20" in line:
            break
    time.sleep(1)  # into the sleeping statement
    process.send_signal(signum)
    assert process.wait(timeout=30) == code
    stderr = process.stderr.read()
    process.stderr.close()
    if signum == signal.SIGTERM:
        assert "whimbrel: stopped by SIGTERM (exit 143)" in stderr, stderr
    if has(db_url, "transactional_ddl"):
        assert "migration 20_slow (up) interrupted: its transaction was rolled back" in stderr
    else:
        assert "stopped without a transaction" in stderr and "CREATE TABLE `slow`" in stderr

    catalog = Catalog(db_url)
    assert catalog.versions() == [10]
    if has(db_url, "transactional_ddl"):
        assert catalog.user_tables() == {"first"}
    slow.unlink()
    with migrator(tmp_path, db_url, migration_lock_wait=5) as m:
        assert m.up() == [20]  # on MySQL, resumed after the journaled CREATE TABLE
    assert catalog.user_tables() == {"first", "slow"}


def test_failing_rollback_leaves_nothing_half_done(tmp_path: Path, db_url: str) -> None:
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
        with pytest.raises(MigrationFailedError) as caught:
            m.down(all=True)
        assert catalog.versions() == [10, 20]
        if has(db_url, "transactional_ddl"):
            assert catalog.user_tables() == {"first", "second"}
        else:
            assert caught.value.statements_run == [f"DROP TABLE {q(db_url, 'second')}"]
            assert catalog.user_tables() == {"first"}
            _fix(tmp_path)
            assert m.down(all=True) == [20, 10]  # the DROP is not repeated
            assert catalog.versions() == []


def test_a_migration_changed_after_a_partial_failure_is_refused_until_repaired(
    tmp_path: Path, db_url: str
) -> None:
    if has(db_url, "transactional_ddl"):
        pytest.skip("a failed migration was rolled back: there is nothing to resume")
    _project(tmp_path)
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        with pytest.raises(MigrationFailedError):
            m.up()
        # Editing a statement that already ran: resuming would be a guess.
        path = tmp_path / "migrations" / "20_second.py"
        path.write_text(path.read_text().replace('add("c", "integer")', 'add("c", "bigint")'))
        _fix(tmp_path)
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
        message = str(caught.value)
        assert "changed since an earlier attempt failed part-way" in message
        assert "statement 1 ran as" in message and "`c` integer" in message
        assert "`c` bigint" in message
        repair = f"DELETE FROM `{PROGRESS}` WHERE `version` = 20 AND `direction` = 'up'"
        assert repair in message
        assert caught.value.statements_run == _second_statements(db_url)
        assert catalog.versions() == [10]

        # The manual repair the message describes: undo what ran, forget the attempt.
        catalog.execute("DROP TABLE second", repair)
        assert m.up() == [20, 30]
    assert catalog.versions() == [10, 20, 30]
    assert catalog.columns("second") == ["id", "c"]


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
    assert not _listed_step(3, error)
    assert "not recorded" in error
    assert Catalog(pg_url).versions() == [10]
