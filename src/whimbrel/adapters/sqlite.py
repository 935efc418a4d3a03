"""SQLite adapter on the standard library's ``sqlite3``.

Python's sqlite3 module opens transactions implicitly and only before DML,
which would leave DDL outside them; ``isolation_level=None`` turns that off
and the migrator sends BEGIN/COMMIT itself, so DDL is transactional.

SQLite has no session lock, so the migration lock is an exclusive ``flock``
on a file beside the database (``<db>-whimbrel.lock``), polled like the
PostgreSQL advisory lock and held for the whole run: it also covers
migrations that run outside a transaction. Each migration's transaction
starts with ``BEGIN IMMEDIATE`` (the database's write lock), and where
``flock`` does not exist (Windows) the migrator re-reads the applied versions
inside that transaction instead.

The database file is created by the first write, so ``status`` and
``--dry-run`` on a new project leave nothing behind.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from whimbrel.adapters.base import Adapter, Capabilities
from whimbrel.dialects.quoting import quote
from whimbrel.errors import DatabaseConnectionError, DatabaseError
from whimbrel.url import sqlite_path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

BUSY_TIMEOUT_SECONDS = 60.0


class SQLiteAdapter(Adapter):
    name = "sqlite"
    schemes = ("sqlite",)
    dialect_path = "whimbrel.dialects.sqlite:SQLiteDialect"
    version_columns = "BIGINT PRIMARY KEY, {inserted_at} TEXT"
    capabilities = Capabilities(
        transactional_ddl=True, session_lock=fcntl is not None, schemas=False
    )
    conn: sqlite3.Connection | None = None
    _lock_fd: int | None = None

    def connect(self) -> None:
        self.path = sqlite_path(self.url)
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise DatabaseConnectionError(
                f"cannot open {self.display_url}: the folder {str(Path(self.path).parent)!r} "
                "does not exist; create it or fix the path"
            )
        if self.path == ":memory:" or Path(self.path).exists():
            self._open()

    def _open(self) -> sqlite3.Connection:
        wait = self.settings.lock_wait
        try:
            self.conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_SECONDS if wait is None else wait,
            )
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise DatabaseConnectionError(f"cannot open {self.display_url}: {exc}") from exc
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._unlock_file()

    def execute(self, sql: str, params: Any = None) -> None:
        self._run(self.conn or self._open(), sql, params)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        conn = self.conn or (self._open() if Path(self.path).exists() else None)
        if conn is None:
            return []  # no file yet: an empty database, and reading must not create it
        return list(self._run(conn, sql, params).fetchall())

    def _run(self, conn: sqlite3.Connection, sql: str, params: Any) -> sqlite3.Cursor:
        try:
            return conn.execute(sql, params or ())
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorname", None)
            raise DatabaseError(str(exc), statement=sql, sqlstate=code) from exc

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            self.execute("ROLLBACK")

    def acquire_lock(self, prefix: str | None, source: str) -> None:
        if fcntl is None or self.path == ":memory:":
            return
        fd = os.open(f"{self.path}-whimbrel.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self.poll_lock(lambda: _try_flock(fd), self.lock_name(prefix, source))
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd = fd

    def release_lock(self, prefix: str | None, source: str) -> None:
        self._unlock_file()

    def _unlock_file(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def table_exists(self, name: str, prefix: str | None) -> bool:
        catalog = f"{quote(prefix)}.sqlite_master" if prefix else "sqlite_master"
        rows = self.query(f"SELECT 1 FROM {catalog} WHERE type = 'table' AND name = ?", (name,))
        return bool(rows)

    def database_name(self) -> str:
        return sqlite_path(self.url)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
