"""SQLite adapter on the standard library's ``sqlite3``.

Python's sqlite3 module opens transactions implicitly and only before DML,
which would leave DDL outside them; ``isolation_level=None`` turns that off
and the migrator sends BEGIN/COMMIT itself, so DDL is transactional.

SQLite has no session lock. Each migration's transaction starts with
``BEGIN IMMEDIATE``, which takes the database's write lock (other writers wait
up to the busy timeout), and the migrator re-reads the applied versions
inside it, so several processes migrating one file apply each version once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from whimbrel.adapters.base import Adapter, Capabilities
from whimbrel.dialects.quoting import quote
from whimbrel.errors import DatabaseConnectionError, DatabaseError
from whimbrel.url import sqlite_path

BUSY_TIMEOUT_SECONDS = 60.0


class SQLiteAdapter(Adapter):
    name = "sqlite"
    schemes = ("sqlite",)
    dialect_path = "whimbrel.dialects.sqlite:SQLiteDialect"
    version_columns = "BIGINT PRIMARY KEY, {inserted_at} TEXT"
    capabilities = Capabilities(transactional_ddl=True, session_lock=False, schemas=False)

    def connect(self) -> None:
        path = sqlite_path(self.url)
        if path != ":memory:" and not Path(path).parent.exists():
            raise DatabaseConnectionError(
                f"cannot open {self.display_url}: the folder {str(Path(path).parent)!r} does not "
                "exist; create it or fix the path"
            )
        timeout = (
            self.settings.lock_wait if self.settings.lock_wait is not None else BUSY_TIMEOUT_SECONDS
        )
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise DatabaseConnectionError(f"cannot open {self.display_url}: {exc}") from exc

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()

    def execute(self, sql: str, params: Any = None) -> None:
        self._run(sql, params)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return list(self._run(sql, params).fetchall())

    def _run(self, sql: str, params: Any) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params or ())
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorname", None)
            raise DatabaseError(str(exc), statement=sql, sqlstate=code) from exc

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.execute("ROLLBACK")

    def table_exists(self, name: str, prefix: str | None) -> bool:
        catalog = f"{quote(prefix)}.sqlite_master" if prefix else "sqlite_master"
        rows = self.query(f"SELECT 1 FROM {catalog} WHERE type = 'table' AND name = ?", (name,))
        return bool(rows)

    def database_name(self) -> str:
        return sqlite_path(self.url)
