"""Running one migration's commands: the single place where SQL is executed or printed.

``Executor.emit`` either runs a statement on the adapter or, for
``--dry-run``, prints it; so dry runs and ``--log-sql`` need nothing else.
A ``CatalogStep`` (a statement that needs the live catalog, such as SQLite's
table rebuild) is handed to the adapter, which expands it and sends each
resulting statement back through ``emit``. Where DDL is not transactional
(MySQL), ``emit`` also consults and writes the migration's progress
``Journal``, skipping what an earlier failed attempt already completed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whimbrel.adapters.base import Adapter
from whimbrel.dialects.base import Dialect
from whimbrel.dialects.steps import CatalogStep
from whimbrel.dsl.commands import CreateIndex, DropIndex, Execute, ExecuteFile
from whimbrel.dsl.recorder import DslDefaults, Recorder, recording
from whimbrel.errors import MigrationDefinitionError, MigrationFileError
from whimbrel.migrator.journal import Journal
from whimbrel.migrator.loader import Migration

log = logging.getLogger("whimbrel")


class Executor:
    """Runs (or prints) statements and remembers which ones completed."""

    def __init__(
        self,
        adapter: Adapter | None,
        *,
        dry_run: bool = False,
        log_sql: bool = False,
        out: Callable[[str], None] = print,
    ):
        self.adapter = adapter
        self.dry_run = dry_run
        self.log_sql = log_sql
        self.out = out
        self.ran: list[str] = []
        #: Set by the migrator while a migration runs without transactional DDL.
        self.journal: Journal | None = None

    def emit(self, sql: str) -> None:
        if self.dry_run:
            self.out(sql.rstrip().rstrip(";") + ";")
            return
        assert self.adapter is not None
        if isinstance(sql, CatalogStep):
            self.adapter.run_step(sql, self.emit)
            return
        self._run(sql, None, sql)

    def _run(self, sql: str, params: Any, key: str) -> None:
        """Run one statement (``key`` identifies it in the journal), unless it already ran."""
        assert self.adapter is not None
        if self.journal is not None and self.journal.already_ran(key):
            self.ran.append(sql)
            return
        if self.log_sql:
            log.info("%s", sql if params is None else f"{sql} {params!r}")
        self.adapter.execute(sql, params)
        self.ran.append(sql)
        if self.journal is not None:
            self.journal.record(key)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        if self.dry_run:
            self.out(f"-- query not run in --dry-run: {sql}")
            return []
        if self.log_sql:
            log.info("%s %s", sql, params if params is not None else "")
        assert self.adapter is not None
        return self.adapter.query(sql, params)

    def run_data(self, sql: str, params: Any = None) -> None:
        if self.dry_run:
            self.out(
                sql.rstrip().rstrip(";") + ";" + (f"  -- params: {params!r}" if params else "")
            )
            return
        self._run(sql, params, sql if params is None else f"{sql} -- params: {params!r}")


class Repo:
    """What ``repo()`` returns inside a migration: data changes in order with the DDL.

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


class MigrationRun:
    """Records one migration in one direction and runs its commands in order."""

    def __init__(
        self,
        migration: Migration,
        direction: str,
        executor: Executor,
        dialect: Dialect,
        *,
        prefix: str | None,
        defaults: DslDefaults,
        in_transaction: bool,
    ):
        self.migration = migration
        self.direction = direction
        self.executor = executor
        self.dialect = dialect
        self.in_transaction = in_transaction
        self.recorder = Recorder(
            direction=direction,
            backward=migration.reversible_by_change(direction),
            prefix=prefix,
            defaults=defaults,
            on_flush=self.run_commands,
        )
        self.recorder.repo = Repo(executor, self.recorder.flush)

    def run(self) -> None:
        self.run_commands(self.migration.record(self.direction, self.recorder))

    def run_commands(self, commands: list[object]) -> None:
        # Compile everything first, so an unsupported command fails before any SQL runs.
        plan = [(c, self.compile(c)) for c in commands]
        for command, statements in plan:
            if isinstance(command, Execute) and callable(command.up):
                self.call(command.up)
                continue
            for sql in statements:
                self.executor.emit(sql)

    def compile(self, command: object) -> list[str]:
        if isinstance(command, ExecuteFile):
            command = Execute(self.read(command.up_path))
        if isinstance(command, Execute) and callable(command.up):
            return []
        statements = self.dialect.compile(command)
        if isinstance(command, CreateIndex | DropIndex) and any(
            isinstance(sql, str) and " CONCURRENTLY " in sql for sql in statements
        ):
            self.warn_concurrently(command)
        return statements

    def warn_concurrently(self, command: CreateIndex | DropIndex) -> None:
        """Warn, with the fix, where a concurrent index build will fail or can deadlock.

        Only the dialects that emit CONCURRENTLY (PostgreSQL) get here. Holding
        whimbrel's PostgreSQL lock is safe: it is a session advisory lock that
        waiters poll for, so no waiter sits in a snapshot that the build would
        wait on (Ecto's table lock does, hence its advice to disable the lock).
        What is not safe is the opposite: without the lock, several processes
        deploying at once build the same index together, which deadlocks or
        leaves an INVALID index behind.
        """
        verb = "created" if isinstance(command, CreateIndex) else "dropped"
        where = f"{self.migration.file.path}: index {command.index.name!r}"
        if self.in_transaction:
            log.warning(
                "%s is %s concurrently inside a transaction, which PostgreSQL refuses: "
                "set `disable_ddl_transaction = True` in the migration",
                where,
                verb,
            )
        capabilities = getattr(self.executor.adapter, "capabilities", None)
        session_lock = capabilities is None or capabilities.session_lock
        if self.migration.disable_migration_lock and session_lock:
            log.warning(
                "%s is %s concurrently with `disable_migration_lock = True`: whimbrel's "
                "migration lock here is a polled session lock that a concurrent index build "
                "does not wait for, so the flag is not needed, and without the lock two "
                "processes migrating at once can both build this index, deadlock or leave "
                "it INVALID: remove `disable_migration_lock = True` from the migration",
                where,
                verb,
            )

    def read(self, relative: str) -> str:
        path = Path(self.migration.file.path).parent / relative
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MigrationFileError(
                f"execute_file({relative!r}): cannot read {path}: {exc.strerror}; paths are "
                "relative to the migration file",
                path=str(self.migration.file.path),
            ) from None

    def call(self, fn: Callable[[], Any]) -> None:
        if self.executor.dry_run:
            self.executor.out(
                f"-- execute({getattr(fn, '__name__', 'callable')}): "
                "Python callable, not run in --dry-run"
            )
            return
        # The function runs now, while the migration runs, not while change() is
        # recorded: it gets a recorder of its own, so repo() works in it even when
        # change() is rolled back, and what it records runs as it returns.
        recorder = Recorder(
            direction=self.direction,
            prefix=self.recorder.prefix,
            defaults=self.recorder.defaults,
            on_flush=self.run_commands,
        )
        recorder.repo = Repo(self.executor, recorder.flush)
        with recording(recorder):
            fn()
            recorder.flush()


class _Probe(Exception):
    """A checked migration reached ``repo().query()``: the rest depends on the database."""


class _ProbeRepo:
    """``repo()`` while checking: writes are skipped, a read ends the check."""

    def __init__(self, recorder: Recorder):
        self._recorder = recorder

    def execute(self, *_: Any, **__: Any) -> None:
        self._recorder.flush()  # as the real repo() does: checks what came before

    def query(self, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        self._recorder.flush()
        raise _Probe


def precheck(
    migration: Migration,
    direction: str,
    dialect: Dialect,
    *,
    prefix: str | None,
    defaults: DslDefaults,
    observe: Callable[[list[object]], None] | None = None,
) -> list[str]:
    """Record and compile a migration without running anything; return its statements.

    The migrator checks every planned migration this way before the first one
    runs, so a DSL mistake, an irreversible ``change()`` or a command the
    database cannot express in the fifth file stops the run before the first
    file is applied (this matters most where DDL cannot be rolled back).
    ``flush()`` and ``repo().execute()`` do not stop the check, as nothing
    after them depends on their result; a ``repo().query()`` does, since the
    rest of the migration may depend on what it reads. The statements compiled
    up to there are returned, so the adapter can prepare the transaction
    (``Adapter.begin``). ``observe`` sees each batch of commands before it is
    compiled (the whole-plan checks of ``whimbrel.migrator.timescale``).
    """
    compiled: list[str] = []

    def check(commands: list[object]) -> None:
        try:
            if observe is not None:
                observe(commands)
            for command in commands:
                if not isinstance(command, ExecuteFile) and not (
                    isinstance(command, Execute) and callable(command.up)
                ):
                    compiled.extend(dialect.compile(command))
        except MigrationDefinitionError as exc:
            raise exc.locate(str(migration.file.path), None) from None

    recorder = Recorder(
        direction=direction,
        backward=migration.reversible_by_change(direction),
        prefix=prefix,
        defaults=defaults,
        on_flush=check,
    )
    recorder.repo = _ProbeRepo(recorder)
    try:
        check(migration.record(direction, recorder))
    except _Probe:
        pass
    return compiled
