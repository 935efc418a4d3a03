"""Running one migration: its recording, its commands and its transaction.

``record()`` records and compiles a migration without running anything. The
migrator does this for every planned migration before the first one runs (a
DSL mistake, an irreversible ``change()``, a missing ``execute_file`` or a
command the database cannot express in the fifth file stops the run before
the first file is applied), and the run then uses that same ``Recording``:
the migration's function is called once. Only a migration that reads the
database part-way (``repo().query()``) is checked up to that read and
recorded again, live, when it runs, since what follows may depend on the rows.

``MigrationRunner.apply()`` owns one migration's transaction: BEGIN, the
commands, the version row, COMMIT, or ROLLBACK and a failure report naming
the statements that ran. Every statement goes through the ``Executor``
(``whimbrel.migrator.executor``), which runs or, for ``--dry-run``, prints.

Example::

    recording = record(migration, "up", dialect, prefix=None, defaults=DslDefaults())
    MigrationRunner(adapter.capabilities, versions, executor).apply(
        migration, "up", recording, dialect, prefix=None, defaults=DslDefaults()
    )
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from whimbrel.adapters.base import Capabilities, DatabaseConfig
from whimbrel.dialects.base import Dialect
from whimbrel.dialects.steps import Statement
from whimbrel.dsl.commands import Command, CreateIndex, DropIndex, ExecuteCallable, RepoExecute
from whimbrel.dsl.recorder import DslDefaults, Recorder, recording
from whimbrel.errors import (
    DatabaseError,
    MigrationDefinitionError,
    MigrationFailedError,
    WhimbrelError,
)
from whimbrel.migrator.checksums import Checksums, file_checksum, text_checksum
from whimbrel.migrator.executor import Executor
from whimbrel.migrator.journal import failed, stays_applied
from whimbrel.migrator.loader import Migration, describe_exception, line_in
from whimbrel.migrator.versions import Versions

log = logging.getLogger("whimbrel")

#: A recorded command with its compiled statements (none for callables and data changes).
Step = tuple[Command, list[Statement]]


@dataclass
class Recording:
    """One migration recorded and compiled in one direction."""

    steps: list[Step]
    #: False when the migration read the database part-way: the run records it again.
    complete: bool

    @property
    def upcoming(self) -> list[Statement]:
        """The compiled statements, so the adapter can prepare the transaction."""
        return [sql for _, statements in self.steps for sql in statements]


class _Probe(BaseException):
    """A checked migration reached ``repo().query()``: the rest depends on the database.

    A ``BaseException``, as control flow: neither a migration's own ``except Exception``
    nor the loader's report of exceptions raised while recording may catch it.
    """


class _CheckRepo:
    """``repo()`` while recording for the check: writes are recorded, a read ends the check."""

    def __init__(self, recorder: Recorder, steps: list[Step], database: DatabaseConfig | None):
        self._recorder = recorder
        self._steps = steps
        self._database = database

    def config(self) -> DatabaseConfig:
        return _config(self._database)

    def execute(self, sql: str, params: Any = None) -> None:
        self._recorder.flush()  # the commands before it run first
        self._steps.append((RepoExecute(sql, params), []))

    def query(self, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        self._recorder.flush()
        raise _Probe

    def __getattr__(self, name: str) -> Any:
        # The driver's own handle (ArangoDB: the python-arango database) reads and
        # writes as it likes, so the check ends here, as at a query.
        self._recorder.flush()
        raise _Probe


def compile_command(dialect: Dialect, command: Command) -> list[Statement]:
    """A command's statements; callables and data changes are run, not compiled."""
    if isinstance(command, ExecuteCallable | RepoExecute):
        return []
    return dialect.compile(command)


def record(
    migration: Migration,
    direction: str,
    dialect: Dialect,
    *,
    prefix: str | None,
    defaults: DslDefaults,
    check: Callable[[Command], None] | None = None,
    database: DatabaseConfig | None = None,
) -> Recording:
    """Record and compile a migration without running anything (see the module docstring).

    ``check`` sees each command, in order, before it is compiled: the
    Migrator's whole-plan checks (``whimbrel.migrator.timescale.PlanCheck``)
    raise ``MigrationDefinitionError`` there, and the error gets the file.
    ``database`` is what ``repo().config()`` returns while recording.
    """
    steps: list[Step] = []

    def compiled(commands: list[Command]) -> None:
        try:
            for c in commands:
                if check is not None:
                    check(c)
                steps.append((c, compile_command(dialect, c)))
        except MigrationDefinitionError as exc:
            raise exc.locate(str(migration.file.path), None) from None

    recorder = Recorder(
        direction=direction,
        backward=migration.reversible_by_change(direction),
        prefix=prefix,
        defaults=defaults,
        on_flush=compiled,
        source=migration.file.path,
    )
    recorder.repo = _CheckRepo(recorder, steps, database)
    try:
        compiled(migration.record(direction, recorder))
    except _Probe:
        return Recording(steps, complete=False)
    return Recording(steps, complete=True)


class Repo:
    """What ``repo()`` returns inside a running migration: data changes in order with the DDL.

    Every call first runs the commands recorded so far, so an ``UPDATE`` sees
    the column an earlier ``add()`` created. Parameters use the driver's style
    (``%s`` for PostgreSQL and MySQL, ``?`` for SQLite).

    Example::

        def up():
            with alter(table("users")):
                add("active", "boolean")
            repo().execute("UPDATE users SET active = true")
    """

    def __init__(self, executor: Executor, flush: Callable[[], None]):
        self._executor = executor
        self._flush = flush

    def execute(self, sql: str, params: Any = None) -> None:
        """Run a statement that returns no rows."""
        self._flush()
        self._executor.run_data(sql, params)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run a query and return its rows (none in ``--dry-run``)."""
        self._flush()
        return self._executor.query(sql, params)

    def __getattr__(self, name: str) -> Any:
        """Anything else is the driver's own handle's (ArangoDB: the python-arango database,
        ``repo().collection("users").insert(...)``), after what was queued has run."""
        if name.startswith("_"):
            raise AttributeError(name)
        self._flush()
        return getattr(self._executor.native(), name)

    def config(self) -> DatabaseConfig:
        """The database's settings (Ecto's ``Repo.config()``): scheme, host, port,
        database, user; ``.password`` only when asked for, ``***`` when printed.

        Example::

            execute(f'ALTER DATABASE "{repo().config().database}" SET timezone TO \'UTC\'')
        """
        return _config(self._executor.database_config())


def _config(database: DatabaseConfig | None) -> DatabaseConfig:
    if database is None:  # a migration recorded outside the migrator (tests, lint)
        raise MigrationDefinitionError(
            "repo().config() needs a database: it is only known while whimbrel migrates one"
        )
    return database


class MigrationRun:
    """Runs the commands of one migration in one direction, in order."""

    def __init__(
        self,
        migration: Migration,
        direction: str,
        executor: Executor,
        dialect: Dialect,
        capabilities: Capabilities,
        *,
        prefix: str | None,
        defaults: DslDefaults,
        in_transaction: bool,
    ):
        self.migration = migration
        self.direction = direction
        self.executor = executor
        self.dialect = dialect
        self.capabilities = capabilities
        self.prefix = prefix
        self.defaults = defaults
        self.in_transaction = in_transaction

    def run(self, recorded: Recording) -> None:
        """Run a complete recording, or record the migration again, live, and run that."""
        if recorded.complete:
            self.run_steps(recorded.steps)
            return
        recorder = self._recorder(backward=self.migration.reversible_by_change(self.direction))
        self.run_commands(self.migration.record(self.direction, recorder))

    def _recorder(self, *, backward: bool = False) -> Recorder:
        recorder = Recorder(
            direction=self.direction,
            backward=backward,
            prefix=self.prefix,
            defaults=self.defaults,
            on_flush=self.run_commands,
            source=self.migration.file.path,
        )
        recorder.repo = Repo(self.executor, recorder.flush)
        return recorder

    def run_commands(self, commands: list[Command]) -> None:
        # Compile everything first, so an unsupported command fails before any SQL runs.
        self.run_steps([(c, compile_command(self.dialect, c)) for c in commands])

    def run_steps(self, steps: list[Step]) -> None:
        for command, statements in steps:
            if isinstance(command, ExecuteCallable):
                self.call(command.up)
            elif isinstance(command, RepoExecute):
                self.executor.run_data(command.sql, command.params)
            else:
                if isinstance(command, CreateIndex | DropIndex) and command.index.concurrently:
                    self.warn_concurrently(command)
                    if isinstance(command, CreateIndex) and not self.in_transaction:
                        # A build that failed or was cancelled leaves an INVALID index
                        # of the same name behind, which the new build would trip on.
                        self.executor.drop_invalid_index(command.index.name, command.index.prefix)
                for sql in statements:
                    self.executor.emit(sql)

    def warn_concurrently(self, command: CreateIndex | DropIndex) -> None:
        """Warn, with the fix, where a concurrent index build will fail or can deadlock.

        Only databases whose concurrent build refuses a transaction and waits
        for open snapshots (``Capabilities.concurrent_index_needs_no_transaction``,
        PostgreSQL) get here. Holding whimbrel's PostgreSQL lock is safe: it is
        a session advisory lock that waiters poll for, so no waiter sits in a
        snapshot that the build would wait on (Ecto's table lock does, hence
        its advice to disable the lock). What is not safe is the opposite:
        without the lock, several processes deploying at once build the same
        index together, which deadlocks or leaves an INVALID index behind; the
        migrator says so once per run for every file with ``disable_migration_lock``.
        """
        if not self.capabilities.concurrent_index_needs_no_transaction:
            return
        verb = "created" if isinstance(command, CreateIndex) else "dropped"
        where = f"{self.migration.file.path}: index {command.index.name!r}"
        if self.in_transaction:
            log.warning(
                "%s is %s concurrently inside a transaction, which PostgreSQL refuses: "
                "set `disable_ddl_transaction = True` in the migration",
                where,
                verb,
            )

    def call(self, fn: Callable[[], Any]) -> None:
        if self.executor.skip_callable(fn):
            return
        # The function runs now, while the migration runs, not while change() is
        # recorded: it gets a recorder of its own, so repo() works in it even when
        # change() is rolled back, and what it records runs as it returns.
        recorder = self._recorder()
        with recording(recorder):
            fn()
            recorder.flush()


def _raised(exc: Exception, m: Migration) -> DatabaseError:
    """An exception from the migration's Python code, worded as the failure report's cause."""
    if isinstance(exc, MigrationDefinitionError):
        return DatabaseError(str(exc))
    line = line_in(exc, m.file.path)
    where = f"{m.file.path}:{line}" if line else str(m.file.path)
    return DatabaseError(f"{where}: raised {describe_exception(exc)}")


class MigrationRunner:
    """Applies one migration inside its transaction (where the database has them)."""

    def __init__(self, capabilities: Capabilities, versions: Versions, executor: Executor):
        self.capabilities = capabilities
        self.versions = versions
        self.executor = executor

    def _book(self, m: Migration, direction: str, prefix: str | None) -> None:
        """The version row and, on a real run, the file's checksum (see ``checksums``)."""
        executor, version = self.executor, m.file.version
        executor.emit(self.versions.record_sql(prefix, version, direction))
        if executor.live:
            checksums = Checksums(self.versions.adapter, self.versions.source)
            if m.source is not None:  # the text that ran
                checksum = text_checksum(m.source)
            else:
                checksum = file_checksum(m.file.path)
            sql = checksums.record_sql(prefix, version, direction, checksum)
            for statement in sql:
                executor.emit(statement)

    def apply(
        self,
        m: Migration,
        direction: str,
        recorded: Recording,
        dialect: Dialect,
        *,
        prefix: str | None,
        defaults: DslDefaults,
    ) -> bool:
        """Run ``m``; False when another process ran it meanwhile (nothing was done)."""
        executor, source = self.executor, self.versions.source
        in_tx = self.capabilities.transactional_ddl and m.transactional(direction)
        tag = f"[{prefix}] " if prefix is not None else ""  # every line names the tenant
        log.info("== %s%s %s %s (%s)", tag, executor.verb, m.file.version, m.file.name, direction)
        started = time.monotonic()
        executor.start(tag + m.file.label, direction, in_tx)
        if in_tx:
            executor.begin(recorded.upcoming)
        if not self.capabilities.session_lock and executor.live:
            # No session lock: the lock is a transaction (SQLite's write transaction,
            # ArangoDB's exclusive one, re-taken after each version write), so another
            # process may have run this migration since the plan was made: re-read.
            if (m.file.version in self.versions.applied(prefix)) == (direction == "up"):
                if in_tx:
                    executor.rollback()
                log.info(
                    "== %s%s already %s (another process ran it)", tag, m.file.version, direction
                )
                return False
        executor.journal = executor.open_journal(prefix, source, m.file.version, direction, in_tx)
        label = m.file.label + (f" in {prefix}" if prefix is not None else "")
        try:
            run = MigrationRun(
                m,
                direction,
                executor,
                dialect,
                self.capabilities,
                prefix=prefix,
                defaults=defaults,
                in_transaction=in_tx,
            )
            run.run(recorded)
            journal, executor.journal = executor.journal, None
            book = partial(self._book, m, direction, prefix)
            if journal is not None:  # the version row and the cleanup commit together
                journal.finish(book)
            else:
                book()
            if in_tx:
                executor.commit()
        except DatabaseError as exc:
            if in_tx:
                executor.rollback()
            journal, executor.journal, f = executor.journal, None, m.file
            if journal is not None:
                journal.forget_if_empty()
            raise failed(label, f.version, direction, exc, executor.ran, in_tx, journal) from exc
        except MigrationFailedError:
            executor.journal = None  # already says what ran and what stays (the journal)
            if in_tx:
                executor.rollback()
            raise
        except Exception as exc:  # Python code of the migration failed at run time
            if in_tx:
                executor.rollback()
            journal, executor.journal, f = executor.journal, None, m.file
            if journal is not None:
                journal.forget_if_empty()
            error = failed(
                label, f.version, direction, _raised(exc, m), executor.ran, in_tx, journal
            )
            if isinstance(exc, WhimbrelError):  # keep its class (and exit code); say what stays
                exc.add_note(str(error).partition("\n")[2].strip())
                raise
            raise error from exc
        except BaseException:  # Ctrl-C, SIGTERM: say what became of the migration, then stop
            journal, executor.journal = executor.journal, None
            if journal is not None:
                journal.forget_if_empty()
            if in_tx:
                executor.rollback()
                if executor.live:
                    log.warning(
                        "migration %s (%s) interrupted: its transaction was rolled back, "
                        "nothing of it was applied",
                        label,
                        direction,
                    )
            elif executor.ran and executor.live:
                log.warning(stays_applied(label, direction, executor.ran))
            raise
        if executor.live:
            done = "Migrated" if direction == "up" else "Rolled back"
            log.info("== %s%s %s in %.2fs", tag, done, m.file.version, time.monotonic() - started)
        return True
