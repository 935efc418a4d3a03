"""Running one migration's commands: the single place where SQL is executed or printed.

``Executor.emit`` either runs a statement on the adapter or, for
``--dry-run``, prints it; so dry runs and ``--log-sql`` need nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whimbrel.adapters.base import Adapter
from whimbrel.dialects.base import Dialect
from whimbrel.dsl.commands import CreateIndex, Execute, ExecuteFile
from whimbrel.dsl.recorder import DslDefaults, Recorder
from whimbrel.errors import MigrationDefinitionError, MigrationFileError
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

    def emit(self, sql: str) -> None:
        if self.dry_run:
            self.out(sql.rstrip().rstrip(";") + ";")
            return
        if self.log_sql:
            log.info("%s", sql)
        assert self.adapter is not None
        self.adapter.execute(sql)
        self.ran.append(sql)

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
        if self.log_sql:
            log.info("%s %s", sql, params if params is not None else "")
        assert self.adapter is not None
        self.adapter.execute(sql, params)
        self.ran.append(sql)


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
        if isinstance(command, CreateIndex) and command.index.concurrently and self.in_transaction:
            log.warning(
                "%s: index %r is created concurrently inside a transaction, which PostgreSQL "
                "refuses: set `disable_ddl_transaction = True` in the migration",
                self.migration.file.path,
                command.index.name,
            )
        return self.dialect.compile(command)

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
        from whimbrel.dsl.recorder import recording

        with recording(self.recorder):
            fn()


class _Probe(Exception):
    """A checked migration reached ``flush()`` or ``repo()``: the rest depends on the database."""


class _ProbeRepo:
    def execute(self, *_: Any, **__: Any) -> None:
        raise _Probe

    def query(self, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise _Probe


def _stop(_: list[object]) -> None:
    raise _Probe


def precheck(
    migration: Migration,
    direction: str,
    dialect: Dialect,
    *,
    prefix: str | None,
    defaults: DslDefaults,
) -> None:
    """Record and compile a migration without running anything.

    The migrator checks every planned migration this way before the first one
    runs, so a DSL mistake, an irreversible ``change()`` or a command the
    database cannot express in the fifth file stops the run before the first
    file is applied. A migration that calls ``flush()`` or ``repo()`` is
    checked up to that call.
    """
    recorder = Recorder(
        direction=direction,
        backward=migration.reversible_by_change(direction),
        prefix=prefix,
        defaults=defaults,
        on_flush=_stop,
        repo=_ProbeRepo(),
    )
    try:
        commands = migration.record(direction, recorder)
    except _Probe:
        return
    try:
        for command in commands:
            if not isinstance(command, ExecuteFile) and not (
                isinstance(command, Execute) and callable(command.up)
            ):
                dialect.compile(command)
    except MigrationDefinitionError as exc:
        raise exc.locate(str(migration.file.path), None) from None
