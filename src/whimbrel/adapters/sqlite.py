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

Table rebuilds (``CatalogStep``s from the SQLite dialect) run here, because
they need the catalog: the table's ``CREATE TABLE`` text, its indexes and
triggers (``sqlite_master``), generated columns (``PRAGMA table_xinfo``)
and the tables whose foreign keys point at it (``pragma_foreign_key_list``).
Dropping a table with foreign keys ON deletes its rows first, firing the
children's ``ON DELETE`` actions, so a rebuild needs ``PRAGMA foreign_keys =
OFF``, which SQLite ignores inside a transaction. ``begin()`` therefore
turns foreign keys off *before* ``BEGIN IMMEDIATE`` when the migration is
known to rebuild a table, and ``commit()`` runs ``PRAGMA foreign_key_check``
first, refusing to commit rows that break a foreign key and were not broken
before; foreign keys are switched back on after COMMIT or ROLLBACK. A rebuild
outside a transaction (``disable_ddl_transaction``) gets a transaction of its
own with the same steps. A rebuild that only becomes known inside the
transaction (after a ``repo().query()``) runs with ``PRAGMA
defer_foreign_keys`` when no other table references the table, and is
refused with the fix otherwise.

Example::

    with SQLiteAdapter("sqlite:///:memory:") as db:
        db.execute("CREATE TABLE t (a TEXT)")
        db.read_table("t").columns[0].name      # 'a'
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whimbrel.adapters.base import Adapter, Capabilities, DatabaseConfig
from whimbrel.dialects.quoting import quote
from whimbrel.errors import DatabaseConnectionError, DatabaseError
from whimbrel.url import sqlite_path

if TYPE_CHECKING:
    from whimbrel.dialects.sqlite_schema import TableSchema
    from whimbrel.dialects.steps import AdapterStep, Statement

#: (child table, parent table) -> number of rows whose foreign key finds no parent.
Violations = Counter[tuple[str, str]]

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
        transactional_ddl=True,
        session_lock=fcntl is not None,
        schemas=False,
        journal_outside_transaction=False,
    )
    conn: sqlite3.Connection | None = None
    _lock_fd: int | None = None
    #: Violations counted when foreign keys were turned off for this transaction.
    _fk_baseline: Violations | None = None

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

    def begin(self, upcoming: Sequence[Statement] = ()) -> None:
        from whimbrel.dialects.steps import CatalogStep

        rebuilds = any(isinstance(s, CatalogStep) and s.plan.may_rebuild for s in upcoming)
        if rebuilds and self._foreign_keys_on():
            self.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
            self.execute("BEGIN IMMEDIATE")
            self._fk_baseline = self.violations()
            return
        self.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self._fk_baseline is not None:
            self._refuse_new_violations(self._fk_baseline, None, "the migration")
        self.execute("COMMIT")
        self._restore_foreign_keys()

    def rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            self.execute("ROLLBACK")
        self._restore_foreign_keys()

    def _restore_foreign_keys(self) -> None:
        if self._fk_baseline is not None and self.conn is not None:
            self._fk_baseline = None
            self.execute("PRAGMA foreign_keys = ON")

    def _foreign_keys_on(self) -> bool:
        rows = self.query("PRAGMA foreign_keys")
        return bool(rows and rows[0][0])

    # -- catalog steps: the table rebuild ---------------------------------------------

    def run_step(self, step: AdapterStep, emit: Callable[[Statement], None]) -> None:
        from whimbrel.dialects.sqlite_rebuild import IndexRename, TablePlan
        from whimbrel.dialects.steps import CatalogStep

        if not isinstance(step, CatalogStep):
            super().run_step(step, emit)  # refuses a step of another database
            return
        plan = step.plan
        if isinstance(plan, IndexRename):
            rows = self.query(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                (plan.index.name,),
            )
            for sql in plan.expand(rows[0][0] if rows else None):
                emit(sql)
            return
        if not isinstance(plan, TablePlan):
            super().run_step(step, emit)
            return
        schema = self.read_table(plan.table.name)
        expansion = plan.expand(schema)
        if not expansion.rebuilt:
            for sql in expansion.statements:
                emit(sql)
            return
        with self._rebuilding(schema.name):
            for sql in expansion.statements:
                emit(sql)

    def read_table(self, name: str) -> TableSchema:
        """The table's definition, indexes, triggers and AUTOINCREMENT counter."""
        from whimbrel.dialects.sqlite_schema import parse_table

        rows = self.query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            (name,),
        )
        if not rows:
            raise DatabaseError(
                f'SQLite has no table "{name}" to alter: check the name, or create it first'
            )
        real, sql = rows[0]
        catalog = "SELECT {} FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL"
        indexes = self.query(catalog.format("name, sql"), ("index", real))
        triggers = self.query(catalog.format("sql"), ("trigger", real))
        # table_xinfo's "hidden" is 2 or 3 for generated columns, which cannot be copied.
        xinfo = self.query("SELECT name, hidden FROM pragma_table_xinfo(?)", (real,))
        sequence = None
        if self.table_exists("sqlite_sequence", None):
            seq = self.query("SELECT seq FROM sqlite_sequence WHERE name = ?", (real,))
            sequence = int(seq[0][0]) if seq else None
        return parse_table(
            real,
            sql,
            indexes=tuple((str(n), str(s)) for n, s in indexes),
            triggers=tuple(str(t) for (t,) in triggers),
            generated=frozenset(str(n).casefold() for n, hidden in xinfo if hidden in (2, 3)),
            sequence=sequence,
        )

    def children(self, table: str) -> list[str]:
        """Tables (``table`` itself included) whose foreign keys reference ``table``."""
        rows = self.query(
            "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
            "WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE",
            (table,),
        )
        return [str(r[0]) for r in rows]

    def violations(self, tables: Sequence[str] | None = None) -> Violations:
        """Rows whose foreign key finds no parent, per (table, parent); all tables by default."""
        checks = [f"PRAGMA foreign_key_check({quote(t)})" for t in tables or ()] or [
            "PRAGMA foreign_key_check"
        ]
        found: Violations = Counter()
        for sql in checks:
            found.update((str(row[0]), str(row[2])) for row in self.query(sql))
        return found

    @contextmanager
    def _rebuilding(self, table: str) -> Iterator[None]:
        """Foreign keys off (or deferred) around a rebuild, and checked after it."""
        assert self.conn is not None
        involved = [table, *(t for t in self.children(table) if t != table)]
        if not self.conn.in_transaction:
            # disable_ddl_transaction: the rebuild gets the transaction SQLite's steps use.
            fk = self._foreign_keys_on()
            if fk:
                self.execute("PRAGMA foreign_keys = OFF")
            self.execute("BEGIN IMMEDIATE")
            try:
                before = self.violations(involved)
                yield
                self._after_rebuild(table, before, involved)
                self.execute("COMMIT")
            except BaseException:
                self.execute("ROLLBACK")
                raise
            finally:
                if fk:
                    self.execute("PRAGMA foreign_keys = ON")
            return
        if self._fk_baseline is None and self._foreign_keys_on():
            self._refuse_rebuild_with_foreign_keys(table)
        before = self.violations(involved)
        yield
        self._after_rebuild(table, before, involved)

    def _after_rebuild(self, table: str, before: Violations, involved: list[str]) -> None:
        """SQLite's last steps: foreign keys still hold, and every view still reads."""
        self._refuse_new_violations(before, involved, f'rebuilding table "{table}"')
        for (view,) in self.query("SELECT name FROM sqlite_master WHERE type = 'view'"):
            try:
                self.query(f"SELECT * FROM {quote(str(view))} LIMIT 0")
            except DatabaseError as exc:
                raise DatabaseError(
                    f'rebuilding table "{table}" breaks view "{view}" ({exc}): drop the view '
                    "before changing the table and create it again after it, with execute()"
                ) from exc
        # Trigger bodies are only compiled when they fire, so a trigger naming a dropped
        # column would fail every later write. ALTER TABLE ... RENAME (legacy mode off)
        # re-checks every trigger and view of the schema; renaming a scratch table runs
        # SQLite's own check and changes nothing else.
        probe, renamed = quote("whimbrel_schema_check"), quote("whimbrel_schema_checked")
        try:
            self.execute(f"CREATE TABLE {probe} (x)")
            self.execute(f"ALTER TABLE {probe} RENAME TO {renamed}")
        except DatabaseError as exc:
            raise DatabaseError(
                f'rebuilding table "{table}" breaks a trigger ({exc}): drop the trigger '
                "before changing the table and create it again after it, with execute()"
            ) from exc
        self.execute(f"DROP TABLE {renamed}")

    def _refuse_rebuild_with_foreign_keys(self, table: str) -> None:
        referencing = self.children(table)
        if referencing:
            raise DatabaseError(
                f'rebuilding table "{table}" needs foreign keys off, as {", ".join(referencing)} '
                "reference it, and SQLite only switches them off outside a transaction; this "
                "rebuild comes after a repo().query() call, so whimbrel could not foresee it: "
                "move the command before that call, or into a migration of its own"
            )
        # Nothing references the table: dropping it fires no ON DELETE action. Deferring
        # lets the copy's own foreign keys be checked below, with a clear message.
        self.execute("PRAGMA defer_foreign_keys = ON")

    def _refuse_new_violations(
        self, before: Violations, tables: Sequence[str] | None, what: str
    ) -> None:
        try:
            after = self.violations(tables)
        except DatabaseError as exc:  # "foreign key mismatch": a key points at a lost column
            raise DatabaseError(
                f"{what} broke a foreign key definition: {exc}; a foreign key of another table "
                "names a column that no longer exists or is not unique: change that foreign "
                "key first",
                statement=exc.statement,
            ) from exc
        new = after - before
        if new:
            listed = ", ".join(
                f"{child} -> {parent} ({n} rows)" for (child, parent), n in new.items()
            )
            raise DatabaseError(
                f"{what} would leave rows whose foreign key finds no parent: {listed}; fix or "
                "delete those rows first (PRAGMA foreign_key_check lists them), or change the "
                "migration"
            )

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

    def replace_row_sql(self, table: str, names: Sequence[str], values: Sequence[str]) -> str:
        """``INSERT OR REPLACE INTO``: one statement that replaces a row with the same key."""
        columns = ", ".join(quote(n, self.quote_char) for n in names)
        return f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({', '.join(values)})"

    def table_exists(self, name: str, prefix: str | None) -> bool:
        catalog = f"{quote(prefix)}.sqlite_master" if prefix else "sqlite_master"
        rows = self.query(f"SELECT 1 FROM {catalog} WHERE type = 'table' AND name = ?", (name,))
        return bool(rows)

    def database_name(self) -> str:
        return sqlite_path(self.url)

    def database_config(self) -> DatabaseConfig:
        """A file: ``database`` is its path; no host, port, user or password."""
        return DatabaseConfig("sqlite", None, None, sqlite_path(self.url), None)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
