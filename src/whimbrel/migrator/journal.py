"""The progress journal: statement-level resume where DDL cannot be rolled back (MySQL).

MySQL and MariaDB commit every DDL statement on its own, so a migration that
fails at its third statement leaves the first two applied, and its version
unrecorded; re-running it blindly fails on "table already exists" (the
half-applied migration that Alembic, Flyway and golang-migrate users repair
by hand). On an adapter without ``transactional_ddl`` the migrator therefore
journals each statement as it completes, in ``<migration_source>_progress``
(``version, direction, step, statement_hash, statement, done_at``):

- a failure reports exactly which statements ran;
- a re-run of the same migration compares its statements with the journal
  and skips those that already ran (logging each), resuming at the one that
  failed; if the file changed before that point it refuses, naming the
  statements and the manual repair;
- when the migration completes, its version row is written and its journal
  rows deleted in one (DML) transaction; a run that leaves the journal empty
  drops the table, so a database without failures holds only Ecto's table.

A crash between a statement and its journal row can still make one statement
run twice; the database's own error then names it.

Example::

    journal = Journal.open(adapter, None, "schema_migrations", 20260101120000, "up")
    if not journal.already_ran(sql):
        adapter.execute(sql)
        journal.record(sql)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from whimbrel.adapters.base import Adapter
from whimbrel.dialects.quoting import quote
from whimbrel.errors import DatabaseError, MigrationFailedError

log = logging.getLogger("whimbrel")

SUFFIX = "_progress"


def statement_hash(sql: str) -> str:
    """SHA-256 of the statement with its whitespace collapsed (reformatting is no change)."""
    return hashlib.sha256(" ".join(sql.split()).encode()).hexdigest()


class Journal:
    """The journal of one migration run in one direction."""

    def __init__(
        self,
        adapter: Adapter,
        prefix: str | None,
        source: str,
        version: int,
        direction: str,
        earlier: list[tuple[str, str]],
    ):
        self.adapter = adapter
        self.prefix, self.source = prefix, source
        self.table = adapter.versions_table(prefix, source + SUFFIX)
        self.version = int(version)
        self.direction = direction
        #: (hash, statement) of the statements a failed earlier run completed.
        self.earlier = earlier
        self.step = 0

    @classmethod
    def open(
        cls, adapter: Adapter, prefix: str | None, source: str, version: int, direction: str
    ) -> Journal:
        """Create the journal table if needed and read what an earlier attempt completed."""
        q = adapter.quote_char
        columns = adapter.progress_columns.format(**{c: quote(c, q) for c in _COLUMNS})
        table = adapter.versions_table(prefix, source + SUFFIX)
        adapter.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        # Running one direction makes a leftover journal of the other one stale.
        other = "down" if direction == "up" else "up"
        adapter.execute(f"DELETE FROM {table} WHERE {_where(adapter, version, other)}")
        rows = adapter.query(
            f"SELECT {quote('statement_hash', q)}, {quote('statement', q)} FROM {table} "
            f"WHERE {_where(adapter, version, direction)} ORDER BY {quote('step', q)}"
        )
        journal = cls(adapter, prefix, source, version, direction, [(h, s) for h, s in rows])
        if rows:
            log.info(
                "== %s (%s) failed part-way before: %d statement(s) ran; resuming after them",
                version,
                direction,
                len(rows),
            )
        return journal

    def already_ran(self, sql: str) -> bool:
        """True (and logged) for a statement an earlier attempt completed; refuses a changed one."""
        if self.step >= len(self.earlier):
            return False
        recorded, text = self.earlier[self.step]
        if recorded != statement_hash(sql):
            raise self._changed(
                f"statement {self.step + 1} ran as\n    {text}\n  but is now\n    {sql}"
            )
        self.step += 1
        log.info("   skipping statement %d, completed by the earlier attempt: %s", self.step, sql)
        return True

    def record(self, sql: str) -> None:
        """Journal a statement that just completed."""
        self.step += 1
        q = self.adapter.quote_char
        names = ", ".join(quote(c, q) for c in _COLUMNS)
        text = self.adapter.string_literal
        values = ", ".join(
            [
                str(self.version),
                text(self.direction),
                str(self.step),
                text(statement_hash(sql)),
                text(sql),
                self.adapter.now_utc,
            ]
        )
        self.adapter.execute(f"INSERT INTO {self.table} ({names}) VALUES ({values})")

    def finish(self, bookkeeping: Callable[[], None]) -> None:
        """Write the version row and clear the journal together, in one DML transaction."""
        if self.step < len(self.earlier):
            missing = "\n    ".join(text for _, text in self.earlier[self.step :])
            raise self._changed(
                f"it now has {self.step} statement(s), but these also ran before:\n    {missing}"
            )
        self.adapter.begin()
        try:
            bookkeeping()
            self.adapter.execute(f"DELETE FROM {self.table} WHERE {self._where}")
            self.adapter.commit()
        except BaseException:
            self.adapter.rollback()
            raise
        self.tidy(self.adapter, self.prefix, self.source)

    def forget_if_empty(self) -> None:
        """After a failure: drop the journal table if nothing at all was journaled.

        A failure before the first statement completed leaves no progress to
        resume, so the database keeps only Ecto's table.
        """
        try:
            self.tidy(self.adapter, self.prefix, self.source)
        except DatabaseError:
            pass  # the connection is gone: the failure itself is what gets reported

    @property
    def _where(self) -> str:
        return _where(self.adapter, self.version, self.direction)

    @property
    def repair(self) -> str:
        """The statement that forgets this migration's progress."""
        return f"DELETE FROM {self.table} WHERE {self._where}"

    def _changed(self, detail: str) -> MigrationFailedError:
        ran = [text for _, text in self.earlier]
        listed = "".join(f"\n    {n}. {sql}" for n, sql in enumerate(ran, 1))
        return MigrationFailedError(
            f"migration {self.version} ({self.direction}) changed since an earlier attempt "
            f"failed part-way: {detail}\n  These statements ran then and stay applied "
            f"(the database cannot roll DDL back):{listed}\n  Either restore the migration's "
            "statements up to the one that failed, or undo the statements above by hand and "
            f"forget the attempt with: {self.repair}; then run migrate again.",
            version=self.version,
            statements_run=ran,
            rolled_back=False,
        )

    @staticmethod
    def tidy(adapter: Adapter, prefix: str | None, source: str) -> None:
        """Drop the journal table when no migration is half-done."""
        table = adapter.versions_table(prefix, source + SUFFIX)
        if adapter.table_exists(source + SUFFIX, prefix) and not adapter.query(
            f"SELECT 1 FROM {table} LIMIT 1"
        ):
            adapter.execute(f"DROP TABLE {table}")


_COLUMNS = ("version", "direction", "step", "statement_hash", "statement", "done_at")


def _where(adapter: Adapter, version: int, direction: str) -> str:
    q = adapter.quote_char
    version_is = f"{quote('version', q)} = {int(version)}"
    return f"{version_is} AND {quote('direction', q)} = {adapter.string_literal(direction)}"


def stays_applied(label: str, direction: str, ran: list[str]) -> str:
    """The note for a migration stopped by something other than the database, part-way."""
    listed = "".join(f"\n    {n}. {sql}" for n, sql in enumerate(ran, 1))
    return (
        f"migration {label} ({direction}) stopped without a transaction; these statements "
        f"had completed and stay applied:{listed}"
    )


def failed(
    label: str,
    version: int,
    direction: str,
    exc: DatabaseError,
    ran: list[str],
    in_tx: bool,
    journal: Journal | None,
) -> MigrationFailedError:
    """The error for a migration whose statement failed, saying exactly what stays applied."""
    head = f"migration {label} ({direction}) failed: {exc}"
    statement = f"\n  failing statement: {exc.statement}" if exc.statement else ""
    listed = "".join(f"\n    {n}. {sql}" for n, sql in enumerate(ran, 1))
    if in_tx:
        tail = "\n  nothing was applied: the transaction, with the version row, was rolled back."
    elif journal is not None and ran:
        tail = (
            "\n  it ran without a transaction, so these statements had completed "
            f"and stay applied:{listed}\n  the version was not recorded; whimbrel journaled "
            f"them in {journal.table}: fix the failing statement and run it again; it resumes at "
            f"statement {len(ran) + 1} without repeating them. To change them "
            f"instead, undo them by hand and run: {journal.repair}"
        )
    elif ran:
        tail = (
            "\n  it ran without a transaction; these statements had completed and stay "
            f"applied:{listed}"
            "\n  the version was not recorded: undo or finish these by hand, fix the migration, "
            "and run it again."
        )
    else:
        tail = (
            "\n  it ran without a transaction, but no statement had completed; "
            "fix it and run it again."
        )
    return MigrationFailedError(
        head + statement + tail,
        version=version,
        statement=exc.statement,
        statements_run=ran,
        rolled_back=in_tx,
        sqlstate=exc.sqlstate,
    )
