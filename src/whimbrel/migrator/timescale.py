"""Whole-plan checks of TimescaleDB commands, run before the first migration of a run.

TimescaleDB reports these mistakes only when the statement runs, which for
the fifth migration of a run is after four were applied. The migrator's
precheck records every planned migration first; this check watches the
commands it records, in plan order, and refuses:

- any TimescaleDB command when the database is not PostgreSQL with the
  timescaledb extension;
- a policy or compression on a relation that is neither a hypertable (or,
  for refresh policies, a continuous aggregate) created earlier in the plan
  nor one in the catalog;
- a unique index, created later in the plan, that leaves out the time column
  of a hypertable the plan made;
- ``continuous_aggregate(..., with_data=True)`` in a migration that runs in a
  transaction, which TimescaleDB refuses (as PostgreSQL refuses
  ``CREATE INDEX CONCURRENTLY``): the migration needs
  ``disable_ddl_transaction = True``.

Example::

    check = PlanCheck(adapter, prefix=None)
    precheck(migration, "up", dialect, ..., observe=check.observer(migration, "up"))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whimbrel.dsl.commands import CreateIndex
from whimbrel.dsl.objects import IndexColumn
from whimbrel.dsl.timescale import (
    TIMESCALE_COMMANDS,
    CreateCompression,
    CreateCompressionPolicy,
    CreateContinuousAggregate,
    CreateHypertable,
    CreateRefreshPolicy,
    CreateRetentionPolicy,
    describe,
    target,
)
from whimbrel.errors import MigrationDefinitionError, UnsupportedFeatureError
from whimbrel.migrator.loader import Migration

HYPERTABLES_SQL = (
    "SELECT hypertable_name FROM timescaledb_information.hypertables "
    "WHERE hypertable_schema = coalesce(%s, current_schema())"
)
AGGREGATES_SQL = (
    "SELECT view_name FROM timescaledb_information.continuous_aggregates "
    "WHERE view_schema = coalesce(%s, current_schema())"
)


class PlanCheck:
    """What the plan has made so far, and the catalog, to check each TimescaleDB command."""

    def __init__(self, adapter: Any, prefix: str | None):
        self.adapter = adapter
        self.prefix = prefix
        #: Hypertables made in the plan, with their time column.
        self.hypertables: dict[str, str] = {}
        self.aggregates: set[str] = set()
        self._catalog: tuple[set[str], set[str]] | None = None

    def observer(self, migration: Migration, direction: str) -> Callable[[list[object]], None]:
        """The callback ``precheck`` calls with each batch of recorded commands."""

        def observe(commands: list[object]) -> None:
            for command in commands:
                self.check(migration, direction, command)

        return observe

    def check(self, migration: Migration, direction: str, command: object) -> None:
        if isinstance(command, CreateIndex):
            self._check_unique(command)
        if not isinstance(command, TIMESCALE_COMMANDS):
            return
        self._require_extension(command)
        match command:
            case CreateHypertable(hypertable=h):
                self.hypertables[h.table] = h.time_column
            case CreateContinuousAggregate(aggregate=a):
                if a.with_data and migration.transactional(direction):
                    raise MigrationDefinitionError(
                        f"{describe(command)} with with_data=True fills the view as it is "
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

    # -- helpers ------------------------------------------------------------------------

    def _require_extension(self, command: object) -> None:
        features = getattr(self.adapter, "server_features", None)
        if features is None:
            raise UnsupportedFeatureError(
                f"{describe(command)} is a TimescaleDB command, and the database is "
                f"{self.adapter.name}: TimescaleDB commands need a PostgreSQL server with the "
                "timescaledb extension; point the database URL at one"
            )
        if features.timescaledb is None:
            raise UnsupportedFeatureError(
                f"{describe(command)} needs TimescaleDB, and the PostgreSQL server at "
                f"{self.adapter.display_url} does not have the timescaledb extension: run "
                "CREATE EXTENSION timescaledb first (a migration of its own, applied before "
                "this one, or by the database's administrator), or point the database URL at "
                "a TimescaleDB server"
            )

    def _require(self, command: object, *, aggregates: bool, hypertables: bool) -> None:
        name = target(command)
        known_tables, known_views = set(self.hypertables), set(self.aggregates)
        if (hypertables and name in known_tables) or (aggregates and name in known_views):
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
            f'{describe(command)}: "{name}" is not {wanted}, neither in the database nor made '
            "earlier in this run: create it first (create(hypertable(...)) or "
            "create(continuous_aggregate(...))), or check the name"
        )

    def _read_catalog(self) -> tuple[set[str], set[str]]:
        if self._catalog is None:
            tables = {str(r[0]) for r in self.adapter.query(HYPERTABLES_SQL, (self.prefix,))}
            views = {str(r[0]) for r in self.adapter.query(AGGREGATES_SQL, (self.prefix,))}
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
