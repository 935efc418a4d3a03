"""Whole-plan checks of TimescaleDB commands, run before the first migration of a run.

TimescaleDB reports these mistakes only when the statement runs, which for
the fifth migration of a run is after four were applied. The Migrator
records every planned migration before the first one runs
(``whimbrel.migrator.runner.record``, one recording per migration, reused by
the run); ``PlanCheck.check`` sees each recorded command, in plan order,
before it is compiled, and refuses:

- any TimescaleDB command when the database is not PostgreSQL with the
  timescaledb extension, unless an ``execute("CREATE EXTENSION ...
  timescaledb")`` earlier in the plan installs it: the compiler then writes
  for the version the server would install (``pg_available_extensions``);
- a policy or compression on a relation that is neither a hypertable (or,
  for refresh policies, a continuous aggregate) created earlier in the plan
  nor one in the catalog;
- a unique index, created later in the plan with ``create(unique_index(...))``,
  that leaves out the time column of a hypertable the plan made;
- ``continuous_aggregate(..., with_data=True)`` in a migration that runs in a
  transaction, which TimescaleDB refuses (as PostgreSQL refuses
  ``CREATE INDEX CONCURRENTLY``): the migration needs
  ``disable_ddl_transaction = True``.

The errors are ``MigrationDefinitionError`` (exit code 2); ``record()``
adds the migration's file to the message, which names the command and the fix.

Example::

    check = PlanCheck(adapter, dialect, prefix=None)
    record(migration, "up", dialect, ..., check=check.for_migration(migration, "up"))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from whimbrel.dialects.features import ServerFeatures, TimescaleDB
from whimbrel.dsl.commands import Command, CreateIndex, Execute, ExecuteFile, ExecuteScript
from whimbrel.dsl.objects import IndexColumn
from whimbrel.dsl.timescale import (
    CreateCompression,
    CreateCompressionPolicy,
    CreateContinuousAggregate,
    CreateHypertable,
    CreateRefreshPolicy,
    CreateRetentionPolicy,
    TimescaleCommand,
)
from whimbrel.errors import MigrationDefinitionError, UnsupportedFeatureError
from whimbrel.migrator.loader import Migration

if TYPE_CHECKING:
    from whimbrel.adapters.base import Adapter
    from whimbrel.dialects.base import Dialect

HYPERTABLES_SQL = (
    "SELECT hypertable_name FROM timescaledb_information.hypertables "
    "WHERE hypertable_schema = coalesce(%s, current_schema())"
)
AGGREGATES_SQL = (
    "SELECT view_name FROM timescaledb_information.continuous_aggregates "
    "WHERE view_schema = coalesce(%s, current_schema())"
)
#: ``CREATE EXTENSION [IF NOT EXISTS] timescaledb [WITH] [SCHEMA s] ...`` in raw SQL.
_CREATE_EXTENSION = re.compile(
    r'\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?"?timescaledb"?'
    r'(?:[^;]*?\bSCHEMA\s+"?(?P<schema>\w+)"?)?',
    re.IGNORECASE,
)


class PlanCheck:
    """What the plan has made so far, and the catalog, to check each TimescaleDB command."""

    def __init__(self, adapter: Adapter, dialect: Dialect, prefix: str | None):
        self.adapter = adapter
        self.dialect = dialect
        self.prefix = prefix
        #: Hypertables made in the plan, with their time column.
        self.hypertables: dict[str, str] = {}
        self.aggregates: set[str] = set()
        self._catalog: tuple[set[str], set[str]] | None = None

    def for_migration(self, migration: Migration, direction: str) -> Callable[[Command], None]:
        """The callback ``record()`` calls with each command before compiling it."""
        return lambda command: self.check(migration, direction, command)

    def check(self, migration: Migration, direction: str, command: Command) -> None:
        if isinstance(command, Execute | ExecuteScript | ExecuteFile):
            self._note_extension(command)
        if isinstance(command, CreateIndex):
            self._check_unique(command)
        if not isinstance(command, TimescaleCommand):
            return
        self._require_extension(command)
        match command:
            case CreateHypertable(hypertable=h):
                self.hypertables[h.table] = h.time_column
            case CreateContinuousAggregate(aggregate=a):
                if a.with_data and migration.transactional(direction):
                    raise MigrationDefinitionError(
                        f"{command.describe()} with with_data=True fills the view as it is "
                        "created, which TimescaleDB refuses inside a transaction: set "
                        "`disable_ddl_transaction = True` in the migration (and keep it to "
                        "this command), or leave with_data out and let a refresh policy or "
                        "CALL refresh_continuous_aggregate(...) fill it"
                    )
                self.aggregates.add(a.name)
            case CreateRefreshPolicy():
                self._require(command, aggregates=True, hypertables=False)
            case CreateCompression(compression=comp):
                self._require(command, aggregates=comp.view, hypertables=not comp.view)
            case CreateCompressionPolicy() | CreateRetentionPolicy():
                self._require(command, aggregates=True, hypertables=True)

    # -- the extension ----------------------------------------------------------------------

    @property
    def features(self) -> ServerFeatures | None:
        """What the server offers; None when the database is not PostgreSQL."""
        features = getattr(self.adapter, "server_features", None)
        return features if isinstance(features, ServerFeatures) else None

    def _note_extension(self, command: Execute | ExecuteScript | ExecuteFile) -> None:
        """An earlier ``CREATE EXTENSION timescaledb`` in the plan provides the extension."""
        sql = command.up_sql if isinstance(command, ExecuteFile) else command.up
        match = _CREATE_EXTENSION.search(sql) if isinstance(sql, str) else None
        features = self.features
        if match is None or features is None or features.timescaledb is not None:
            return
        available = features.timescaledb_available
        if available is None:
            return  # the server has none to install: the TimescaleDB commands say so
        provided = TimescaleDB(available.version, match.group("schema"))
        # The rest of the plan is compiled for the version the statement installs, and
        # so is a migration recorded again when it runs (after a repo().query()).
        self.dialect.timescaledb = provided  # type: ignore[attr-defined]
        self.adapter.server_features = ServerFeatures(provided, available)  # type: ignore[attr-defined]
        self._catalog = (set(), set())  # a new extension has no hypertables yet

    def _require_extension(self, command: TimescaleCommand) -> None:
        features = self.features
        if features is None:
            raise UnsupportedFeatureError(
                f"{command.describe()} is a TimescaleDB command, and the database is "
                f"{self.adapter.name}: TimescaleDB commands need a PostgreSQL server with the "
                "timescaledb extension; point the database URL at one"
            )
        if features.timescaledb is None:
            can = (
                f"can install TimescaleDB {features.timescaledb_available.label}"
                if features.timescaledb_available
                else "has no TimescaleDB to install"
            )
            raise UnsupportedFeatureError(
                f"{command.describe()} needs TimescaleDB, and the PostgreSQL server at "
                f"{self.adapter.display_url} does not have the timescaledb extension (it "
                f'{can}): run execute("CREATE EXTENSION IF NOT EXISTS timescaledb") '
                "earlier in the plan (in this migration or one before it), or have the "
                "database's administrator create it, or point the database URL at a "
                "TimescaleDB server"
            )

    # -- targets and keys ---------------------------------------------------------------------

    def _require(self, command: TimescaleCommand, *, aggregates: bool, hypertables: bool) -> None:
        name = command.target
        if (hypertables and name in self.hypertables) or (aggregates and name in self.aggregates):
            return
        catalog_tables, catalog_views = self._read_catalog()
        if (hypertables and name in catalog_tables) or (aggregates and name in catalog_views):
            return
        wanted = " or ".join(
            what
            for what, ok in (("a hypertable", hypertables), ("a continuous aggregate", aggregates))
            if ok
        )
        raise MigrationDefinitionError(
            f'{command.describe()}: "{name}" is not {wanted}, neither in the database nor '
            "made earlier in this run: create it first (create(hypertable(...)) or "
            "create(continuous_aggregate(...))), or check the name"
        )

    def _read_catalog(self) -> tuple[set[str], set[str]]:
        if self._catalog is None:
            query = self.adapter.query
            tables = {str(r[0]) for r in query(HYPERTABLES_SQL, (self.prefix,))}
            views = {str(r[0]) for r in query(AGGREGATES_SQL, (self.prefix,))}
            self._catalog = (tables, views)
        return self._catalog

    def _check_unique(self, command: CreateIndex) -> None:
        index = command.index
        time_column = self.hypertables.get(index.table)
        if not index.unique or time_column is None:
            return
        columns = [c.expr if isinstance(c, IndexColumn) else c for c in index.columns]
        if time_column not in columns:
            raise MigrationDefinitionError(
                f'create(unique_index("{index.table}", ...)): unique index "{index.name}" on '
                f'({", ".join(columns)}) does not include the time column "{time_column}" of '
                f'hypertable "{index.table}", which TimescaleDB requires: add "{time_column}" '
                "to the index, or make it a plain index"
            )
