"""MySQL/MariaDB: whimbrel killed (-9) mid-statement while the server finishes it (issue 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from migration_helpers import (
    PROGRESS,
    Catalog,
    cli_command,
    cli_env,
    run_cli,
    write_change,
    write_up_down,
)

from dbs import MYSQL


@contextmanager
def _held(url: str, statements: list[str], seconds: float) -> Iterator[None]:
    """Another session runs ``statements`` (taking a lock), holds it ``seconds``, then ends.

    Long enough for whimbrel to start and reach the statement on a loaded machine.
    """
    taken = threading.Event()

    def hold() -> None:
        with closing(MYSQL.connect(url)) as conn, closing(conn.cursor()) as cursor:
            for sql in statements:
                cursor.execute(sql)
            taken.set()
            time.sleep(seconds)
            cursor.execute("COMMIT")
            cursor.execute("UNLOCK TABLES")

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(20)
    try:
        yield
    finally:
        holder.join()


def _kill_when_running(url: str, process: subprocess.Popen[str], prefix: str) -> None:
    """SIGKILL whimbrel once the server shows it running a statement starting with ``prefix``."""
    deadline = time.monotonic() + 60
    with closing(MYSQL.connect(url)) as conn, closing(conn.cursor()) as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE %s",
                (prefix + "%",),
            )
            if cursor.fetchall():
                os.kill(process.pid, signal.SIGKILL)
                process.wait(30)
                return
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"whimbrel never ran {prefix!r}")


def _start(project: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_command(url, "migrate"),
        cwd=project,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_an_alter_finished_by_the_orphan_session_is_not_repeated(
    tmp_path: Path, mysql_url: str
) -> None:
    write_change(tmp_path, 10, "t", 'create(table("t"))')
    write_up_down(
        tmp_path,
        20,
        "add_extra",
        'execute("ALTER TABLE t ADD COLUMN extra int")\ncreate(table("after_alter"))',
        'drop(table("after_alter"))\nexecute("ALTER TABLE t DROP COLUMN extra")',
    )
    assert run_cli(tmp_path, mysql_url, "migrate", "--to", "10").returncode == 0
    # An open transaction that read t makes the ALTER wait for its metadata lock.
    with _held(mysql_url, ["START TRANSACTION", "SELECT * FROM t"], 8.0):
        _kill_when_running(mysql_url, _start(tmp_path, mysql_url), "ALTER TABLE t ADD")
    done = run_cli(tmp_path, mysql_url, "migrate")  # without the intent: Duplicate column name
    assert done.returncode == 0, done.stderr
    # Whether the server finished the orphan ALTER or dropped it with the dead client
    # (it may notice while waiting for the lock), the re-run settles it: one column.
    assert "resuming after them" in done.stderr
    catalog = Catalog(mysql_url)
    assert catalog.columns("t") == ["id", "extra"]
    assert catalog.user_tables() == {"t", "after_alter"}
    assert catalog.versions() == [10, 20] and PROGRESS not in catalog.tables()


def test_an_insert_select_of_a_killed_run_runs_exactly_once(tmp_path: Path, mysql_url: str) -> None:
    write_change(
        tmp_path,
        10,
        "tables",
        """
        create(table("src"))
        create(table("dst"))
        execute("INSERT INTO src (id) VALUES (1), (2), (3), (4)", "DELETE FROM src")
        """,
    )
    write_up_down(
        tmp_path,
        20,
        "copy",
        'create(table("before_copy"))\nexecute("INSERT INTO dst (id) SELECT id FROM src")',
        'execute("DELETE FROM dst")\ndrop(table("before_copy"))',
    )
    assert run_cli(tmp_path, mysql_url, "migrate", "--to", "10").returncode == 0
    with _held(mysql_url, ["LOCK TABLES dst WRITE"], 8.0):
        _kill_when_running(mysql_url, _start(tmp_path, mysql_url), "INSERT INTO dst")
    done = run_cli(tmp_path, mysql_url, "migrate")
    assert done.returncode == 0, done.stderr
    catalog = Catalog(mysql_url)
    assert catalog.scalar("SELECT count(*) FROM dst") == 4  # not 8
    assert catalog.versions() == [10, 20]


def test_the_journal_stores_no_parameter_values(tmp_path: Path, mysql_url: str) -> None:
    write_up_down(
        tmp_path,
        20,
        "secret",
        """
        create(table("creds"))
        repo().execute("INSERT INTO creds (id) VALUES (%s)", (424242,))
        execute("SELECT * FROM no_such_table")
        """,
        'drop(table("creds"))',
    )
    assert run_cli(tmp_path, mysql_url, "migrate").returncode == 1
    stored = Catalog(mysql_url)._rows(f"SELECT statement FROM {PROGRESS} ORDER BY step")
    assert len(stored) == 2 and all("424242" not in row[0] for row in stored)


def test_a_journal_conflict_in_rollback_says_rollback(tmp_path: Path, mysql_url: str) -> None:
    path = write_up_down(
        tmp_path,
        20,
        "two",
        'create(table("a"))\ncreate(table("b"))',
        'drop(table("b"))\nexecute("SELECT * FROM nowhere")\ndrop(table("a"))',
    )
    assert run_cli(tmp_path, mysql_url, "migrate").returncode == 0
    assert run_cli(tmp_path, mysql_url, "rollback").returncode == 1
    path.write_text(path.read_text().replace('drop(table("b"))\n', 'drop(table("a"))\n', 1))
    # The down journal recorded `DROP TABLE b` as statement 1; now it is `DROP TABLE a`.
    done = run_cli(tmp_path, mysql_url, "rollback")
    assert done.returncode == 1, done.stderr
    assert "run whimbrel rollback again" in done.stderr
    assert "migrate again" not in done.stderr
