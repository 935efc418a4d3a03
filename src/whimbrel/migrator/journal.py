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

PostgreSQL journals a ``disable_ddl_transaction`` migration the same way.

**Crash safety.** A client killed during a long statement (``kill -9``) does
not stop the server, which finishes the statement after the client is gone.
So the journal never trusts "not journaled" to mean "did not run":

- a data change (``INSERT``/``UPDATE``/``DELETE``/``REPLACE``, and every
  ``repo().execute``) runs in a transaction together with its journal row:
  either both commit or neither does (a dead client's transaction is rolled
  back), so it is never run twice;
- any other statement is journaled as an *intent* (``done_at`` NULL, with the
  server's session id) before it runs, and marked done after. A re-run that
  finds an intent waits until that session has gone from the server's
  process list, then settles it: a DDL statement (CREATE, ALTER, DROP,
  RENAME) is sent again, and an error that says it already took effect
  ("Duplicate column name", "already exists", "doesn't exist" for a DROP)
  counts as done by the interrupted run; any other statement stops the run
  with the repair to choose, since repeating it could do its work twice.

Parameters of ``repo().execute`` are never stored: the journal keeps the SQL
text and its hash only.

Example::

    journal = Journal.open(adapter, None, "schema_migrations", 20260101120000, "up")
    if not journal.already_ran(sql):
        adapter.execute(sql)
        journal.record(sql)
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
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
        intent: tuple[str, str, int | None] | None = None,
    ):
        self.adapter = adapter
        self.prefix, self.source = prefix, source
        self.table = adapter.versions_table(prefix, source + SUFFIX)
        self.version = int(version)
        self.direction = direction
        #: (hash, statement) of the statements a failed earlier run completed.
        self.earlier = earlier
        #: (hash, statement, session) of a statement an interrupted run had started.
        self.intent = intent
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
        names = ", ".join(quote(c, q) for c in ("statement_hash", "statement", "done_at"))
        rows = adapter.query(
            f"SELECT {names}, {quote('session_id', q)} FROM {table} "
            f"WHERE {_where(adapter, version, direction)} ORDER BY {quote('step', q)}"
        )
        done = [(h, s) for h, s, at, _ in rows if at is not None]
        started = [(h, s, session) for h, s, at, session in rows if at is None]
        journal = cls(
            adapter, prefix, source, version, direction, done, started[0] if started else None
        )
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

    def run(self, sql: str, key: str, execute: Callable[[], None]) -> None:
        """Run a statement the journal has not seen complete (see the module docstring)."""
        if self.intent is not None and self.step == len(self.earlier):
            self._settle(key, execute)
        elif is_data_change(sql):
            step = self.step
            self.adapter.begin()
            try:
                execute()
                self._insert(key, done=True)
                self.adapter.commit()
            except BaseException:
                self.step = step  # the row was rolled back with the change
                self.adapter.rollback()
                raise
        else:
            self._insert(key, done=False)
            try:
                execute()
            except DatabaseError as exc:
                if exc.code not in _CONNECTION_LOST and not (exc.sqlstate or "").startswith("08"):
                    self._forget_intent()  # the server refused it: it did not take effect
                raise
            self._mark_done()

    def _forget_intent(self) -> None:
        q = self.adapter.quote_char
        try:
            self.adapter.execute(
                f"DELETE FROM {self.table} WHERE {self._where} AND {quote('step', q)} = {self.step}"
            )
        except DatabaseError:
            return  # the connection is gone: the next run settles the intent
        self.step -= 1

    def record(self, sql: str) -> None:
        """Journal a statement that just completed."""
        self._insert(sql, done=True)

    def _insert(self, sql: str, *, done: bool) -> None:
        self.step += 1
        q = self.adapter.quote_char
        names = ", ".join(quote(c, q) for c in _COLUMNS)
        text = self.adapter.string_literal
        session = self.adapter.session_id()
        values = ", ".join(
            [
                str(self.version),
                text(self.direction),
                str(self.step),
                text(statement_hash(sql)),
                text(sql),
                self.adapter.now_utc if done else "NULL",
                "NULL" if session is None else str(int(session)),
            ]
        )
        self.adapter.execute(f"INSERT INTO {self.table} ({names}) VALUES ({values})")

    def _mark_done(self) -> None:
        q = self.adapter.quote_char
        self.adapter.execute(
            f"UPDATE {self.table} SET {quote('done_at', q)} = {self.adapter.now_utc} "
            f"WHERE {self._where} AND {quote('step', q)} = {self.step}"
        )

    def _settle(self, sql: str, execute: Callable[[], None]) -> None:
        """An interrupted run had started ``sql``: wait for its session, then find out."""
        assert self.intent is not None
        recorded, text, session = self.intent
        number = self.step + 1
        if recorded != statement_hash(sql):
            raise self._changed(
                f"statement {number} was started as\n    {text}\n  but is now\n    {sql}"
            )
        self._wait_for(session, number, sql)
        if not _DDL.match(sql):
            raise MigrationFailedError(
                f"migration {self.version} ({self.direction}): statement {number} was running "
                f"when an earlier run was stopped, and whether it took effect is unknown:\n    "
                f"{sql}\n  whimbrel will not run it again blindly. Check the database; if it "
                f"took effect, mark it done with: UPDATE {self.table} SET done_at = "
                f"{self.adapter.now_utc} WHERE {self._where} AND step = {number}; if it did not, "
                f"forget it with: DELETE FROM {self.table} WHERE {self._where} AND step = "
                f"{number}; then run {_command(self.direction)} again.",
                version=self.version,
                statement=sql,
                rolled_back=False,
            )
        try:
            execute()
        except DatabaseError as exc:
            if not already_done(exc):
                raise
            log.info(
                "   statement %d had taken effect in the interrupted run (the server says: %s)",
                number,
                exc,
            )
        self.step += 1
        self.intent = None
        self._mark_done()

    def _wait_for(self, session: int | None, number: int, sql: str) -> None:
        """Wait while the interrupted run's session still runs the statement on the server."""
        started, next_note = time.monotonic(), 0.0
        while session is not None and self.adapter.session_alive(int(session)):
            waited = time.monotonic() - started
            if waited >= next_note:
                log.info(
                    "   waiting for session %s of the interrupted run to finish statement %d "
                    "(%.0fs): %s",
                    session,
                    number,
                    waited,
                    sql,
                )
                next_note = max(5.0, next_note * 2)
            time.sleep(0.2)

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
            f"forget the attempt with: {self.repair}; then run {_command(self.direction)} again.",
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


_COLUMNS = (
    "version",
    "direction",
    "step",
    "statement_hash",
    "statement",
    "done_at",
    "session_id",
)
#: Statements that change rows: run in one transaction with their journal row.
_DATA_CHANGE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)
#: Statements whose repetition the server refuses once they took effect.
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|RENAME)\b", re.IGNORECASE)
#: "Already done" errors: MySQL/MariaDB codes and PostgreSQL SQLSTATEs.
_ALREADY_CODES = frozenset({1050, 1051, 1060, 1061, 1091, 1146, 1826, 1022})
#: MySQL client errors after which a statement's outcome is unknown (server gone, lost).
_CONNECTION_LOST = frozenset({0, 2006, 2013})
_ALREADY_STATES = frozenset({"42P07", "42701", "42710", "42704", "42P01", "42703"})


def is_data_change(sql: str) -> bool:
    """Whether ``sql`` changes rows (so it can share a transaction with its journal row).

    >>> is_data_change("  insert into t select * from u")
    True
    """
    return bool(_DATA_CHANGE.match(sql))


def already_done(exc: DatabaseError) -> bool:
    """Whether the server refused a DDL statement because it had already taken effect."""
    return exc.code in _ALREADY_CODES or exc.sqlstate in _ALREADY_STATES


def _where(adapter: Adapter, version: int, direction: str) -> str:
    q = adapter.quote_char
    version_is = f"{quote('version', q)} = {int(version)}"
    return f"{version_is} AND {quote('direction', q)} = {adapter.string_literal(direction)}"


def _command(direction: str) -> str:
    """The command that runs a direction again: ``migrate`` or ``rollback``."""
    return "whimbrel migrate" if direction == "up" else "whimbrel rollback"


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
