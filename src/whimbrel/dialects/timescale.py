"""TimescaleDB commands compiled for PostgreSQL, for the server's TimescaleDB version.

A mixin of ``PostgresDialect``: its ``@compiles`` methods join the dialect's
registry. The dialect is given the server's ``TimescaleDB`` (version and
schema, read by the adapter at connect time) and stays pure: the same
command and version always give the same SQL. Three API generations:

- hypertables: ``create_hypertable(t, by_range(col, interval))`` (+
  ``add_dimension(t, by_hash(...))``) on 2.13+, the older
  ``create_hypertable(t, col, chunk_time_interval => ...)`` before;
- compression: the columnstore API on 2.18+ (``timescaledb.enable_columnstore``,
  ``segmentby``/``orderby``, ``CALL add_columnstore_policy``,
  ``convert_to_rowstore``), the compression API before
  (``timescaledb.compress``, ``add_compression_policy``, ``decompress_chunk``).

The extension's functions are qualified with its schema, so they are found
whatever the session's ``search_path``.

Example::

    >>> d = PostgresDialect(timescaledb=TimescaleDB((2, 17, 0), "public"))
    >>> d.compile(CreateRetentionPolicy(RetentionPolicy("ticks", "90 days")))
    ["SELECT public.add_retention_policy('ticks', drop_after => INTERVAL '90 days')"]
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from whimbrel.adapters.timescale import TimescaleDB
from whimbrel.dialects.base import compiles
from whimbrel.dialects.quoting import quote
from whimbrel.dsl.objects import IndexColumn
from whimbrel.dsl.timescale import (
    Compression,
    CreateCompression,
    CreateCompressionPolicy,
    CreateContinuousAggregate,
    CreateHypertable,
    CreateRefreshPolicy,
    CreateRetentionPolicy,
    DropCompression,
    DropCompressionPolicy,
    DropContinuousAggregate,
    DropRefreshPolicy,
    DropRetentionPolicy,
    Interval,
    describe,
)
from whimbrel.errors import UnsupportedFeatureError

COLUMNSTORE = (2, 18, 0)
DIMENSION_BUILDERS = (2, 13, 0)
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")


def _name(name: str) -> str:
    """A name as written in SQL: bare when it needs no quotes (readable regclass text)."""
    return name if _PLAIN.match(name) else quote(name)


def interval(value: Interval | None) -> str:
    """An interval argument: ``INTERVAL '7 days'``, a bare integer, or ``NULL``.

    >>> interval("7 days"), interval(timedelta(hours=1)), interval(86400), interval(None)
    ("INTERVAL '7 days'", "INTERVAL '3600 seconds'", '86400', 'NULL')
    """
    if value is None:
        return "NULL"
    if isinstance(value, timedelta):
        value = f"{int(value.total_seconds())} seconds"
    if isinstance(value, int):
        return str(value)
    return "INTERVAL '" + value.replace("'", "''") + "'"


class TimescaleCompiler:
    """``@compiles`` methods for the TimescaleDB commands; mixed into ``PostgresDialect``."""

    timescaledb: TimescaleDB | None
    prefix: str | None

    if TYPE_CHECKING:  # provided by the dialect it is mixed into

        def qualified(self, name: str, prefix: str | None = None) -> str: ...

        def string(self, value: str) -> str: ...

    # -- helpers --------------------------------------------------------------------

    def ts_version(self, command: object) -> tuple[int, int, int]:
        if self.timescaledb is None:
            raise UnsupportedFeatureError(
                f"{describe(command)} needs TimescaleDB, and this PostgreSQL server does not "
                "have the timescaledb extension: run CREATE EXTENSION timescaledb (in a "
                "migration applied before this one, or by the database's administrator), or "
                "point the database URL at a TimescaleDB server"
            )
        return self.timescaledb.version

    def columnstore(self, command: object) -> bool:
        return self.ts_version(command) >= COLUMNSTORE

    def fn(self, name: str) -> str:
        """An extension function, qualified with the extension's schema when known."""
        schema = self.timescaledb.schema if self.timescaledb else None
        return f"{_name(schema)}.{name}" if schema else name

    def regclass(self, name: str, prefix: str | None) -> str:
        """A relation as a ``regclass`` argument: ``'ticks'``, ``'tenant_a.ticks'``."""
        schema = prefix or self.prefix
        return self.string(f"{_name(schema)}.{_name(name)}" if schema else _name(name))

    @staticmethod
    def args(*pairs: tuple[str, Any]) -> str:
        """Named arguments ``name => value`` for the pairs whose value is not None."""
        return "".join(f", {key} => {value}" for key, value in pairs if value is not None)

    # -- hypertables -------------------------------------------------------------------

    @compiles(CreateHypertable)
    def _create_hypertable(self, c: CreateHypertable) -> list[str]:
        h = c.hypertable
        rel = self.regclass(h.table, h.prefix)
        options = self.args(
            ("create_default_indexes", None if h.create_default_indexes else "false"),
            ("if_not_exists", "true" if h.if_not_exists else None),
            ("migrate_data", "true" if h.migrate_data else None),
        )
        if self.ts_version(c) < DIMENSION_BUILDERS:
            chunk = h.chunk_time_interval
            partition = h.partition_column
            legacy = self.args(
                ("chunk_time_interval", None if chunk is None else interval(chunk)),
                ("partitioning_column", None if partition is None else self.string(partition)),
                ("number_partitions", h.number_partitions),
            )
            col = self.string(h.time_column)
            return [f"SELECT {self.fn('create_hypertable')}({rel}, {col}{legacy}{options})"]
        dim = self.string(h.time_column)
        if h.chunk_time_interval is not None:
            dim += f", {interval(h.chunk_time_interval)}"
        by_range = f"{self.fn('by_range')}({dim})"
        sql = [f"SELECT {self.fn('create_hypertable')}({rel}, {by_range}{options})"]
        if h.partition_column is not None:
            space = f"{self.string(h.partition_column)}, {h.number_partitions}"
            exists = ", if_not_exists => true" if h.if_not_exists else ""
            sql.append(
                f"SELECT {self.fn('add_dimension')}({rel}, {self.fn('by_hash')}({space}){exists})"
            )
        return sql

    # -- continuous aggregates -----------------------------------------------------------

    @compiles(CreateContinuousAggregate)
    def _create_cagg(self, c: CreateContinuousAggregate) -> list[str]:
        self.ts_version(c)
        a = c.aggregate
        options = "timescaledb.continuous"
        if a.materialized_only is not None:
            options += f", timescaledb.materialized_only = {str(a.materialized_only).lower()}"
        query = (a.query or "").strip().rstrip(";").rstrip()
        data = "WITH DATA" if a.with_data else "WITH NO DATA"
        view = self.qualified(a.name, a.prefix)
        return [f"CREATE MATERIALIZED VIEW {view} WITH ({options}) AS\n{query}\n{data}"]

    @compiles(DropContinuousAggregate)
    def _drop_cagg(self, c: DropContinuousAggregate) -> list[str]:
        self.ts_version(c)
        exists = " IF EXISTS" if c.if_exists else ""
        mode = " CASCADE" if c.mode == "cascade" else ""
        view = self.qualified(c.aggregate.name, c.aggregate.prefix)
        return [f"DROP MATERIALIZED VIEW{exists} {view}{mode}"]

    @compiles(CreateRefreshPolicy)
    def _create_refresh(self, c: CreateRefreshPolicy) -> list[str]:
        self.ts_version(c)
        p = c.policy
        args = (
            f"{self.regclass(p.view, p.prefix)}, start_offset => {interval(p.start_offset)}, "
            f"end_offset => {interval(p.end_offset)}, "
            f"schedule_interval => {interval(p.schedule_interval)}"
        )
        exists = ", if_not_exists => true" if p.if_not_exists else ""
        return [f"SELECT {self.fn('add_continuous_aggregate_policy')}({args}{exists})"]

    @compiles(DropRefreshPolicy)
    def _drop_refresh(self, c: DropRefreshPolicy) -> list[str]:
        self.ts_version(c)
        # The second argument means "no error if missing" in every version; its name
        # changed (if_not_exists, then if_exists in 2.x), so it is passed by position.
        exists = ", true" if c.if_exists else ""
        rel = self.regclass(c.policy.view, c.policy.prefix)
        return [f"SELECT {self.fn('remove_continuous_aggregate_policy')}({rel}{exists})"]

    # -- compression / columnstore ---------------------------------------------------------

    def _order_by(self, comp: Compression) -> str:
        parts = []
        for col in comp.order_by:
            if isinstance(col, IndexColumn):
                text = _name(col.expr) if _is_name(col.expr) else col.expr
                text += f" {col.direction}" if col.direction else ""
                text += f" NULLS {col.nulls}" if col.nulls else ""
                parts.append(text)
            else:
                parts.append(_name(col) if _is_name(col) else col)
        return ", ".join(parts)

    def _relation(self, comp: Compression) -> str:
        kind = "MATERIALIZED VIEW" if comp.view else "TABLE"
        return f"ALTER {kind} {self.qualified(comp.table, comp.prefix)}"

    @compiles(CreateCompression)
    def _create_compression(self, c: CreateCompression) -> list[str]:
        comp = c.compression
        new = self.columnstore(c)
        settings = ["timescaledb.enable_columnstore = true" if new else "timescaledb.compress"]
        segment = ", ".join(_name(s) for s in comp.segment_by)
        if comp.segment_by:
            key = "segmentby" if new else "compress_segmentby"
            settings.append(f"timescaledb.{key} = {self.string(segment)}")
        if comp.order_by:
            key = "orderby" if new else "compress_orderby"
            settings.append(f"timescaledb.{key} = {self.string(self._order_by(comp))}")
        return [f"{self._relation(comp)} SET ({', '.join(settings)})"]

    @compiles(DropCompression)
    def _drop_compression(self, c: DropCompression) -> list[str]:
        comp = c.compression
        rel = self.regclass(comp.table, comp.prefix)
        chunks = f"{self.fn('show_chunks')}({rel})"
        # TimescaleDB refuses to switch compression off while compressed chunks remain.
        if self.columnstore(c):
            decompress = (
                f"DO $whimbrel$ DECLARE chunk regclass; BEGIN FOR chunk IN SELECT {chunks} LOOP "
                f"CALL {self.fn('convert_to_rowstore')}(chunk, if_columnstore => true); "
                "END LOOP; END $whimbrel$"
            )
            off = "timescaledb.enable_columnstore = false"
        else:
            decompress = (
                f"SELECT {self.fn('decompress_chunk')}(chunk, if_compressed => true) "
                f"FROM {chunks} AS chunk"
            )
            off = "timescaledb.compress = false"
        return [decompress, f"{self._relation(comp)} SET ({off})"]

    @compiles(CreateCompressionPolicy)
    def _create_compression_policy(self, c: CreateCompressionPolicy) -> list[str]:
        p = c.policy
        rel = self.regclass(p.table, p.prefix)
        extra = self.args(
            ("if_not_exists", "true" if p.if_not_exists else None),
            ("schedule_interval", interval(p.schedule_interval) if p.schedule_interval else None),
        )
        if self.columnstore(c):
            after = f"after => {interval(p.compress_after)}"
            return [f"CALL {self.fn('add_columnstore_policy')}({rel}, {after}{extra})"]
        after = f"compress_after => {interval(p.compress_after)}"
        return [f"SELECT {self.fn('add_compression_policy')}({rel}, {after}{extra})"]

    @compiles(DropCompressionPolicy)
    def _drop_compression_policy(self, c: DropCompressionPolicy) -> list[str]:
        rel = self.regclass(c.policy.table, c.policy.prefix)
        exists = ", if_exists => true" if c.if_exists else ""
        if self.columnstore(c):
            return [f"CALL {self.fn('remove_columnstore_policy')}({rel}{exists})"]
        return [f"SELECT {self.fn('remove_compression_policy')}({rel}{exists})"]

    # -- retention ------------------------------------------------------------------------

    @compiles(CreateRetentionPolicy)
    def _create_retention(self, c: CreateRetentionPolicy) -> list[str]:
        self.ts_version(c)
        p = c.policy
        extra = self.args(
            ("if_not_exists", "true" if p.if_not_exists else None),
            ("schedule_interval", interval(p.schedule_interval) if p.schedule_interval else None),
        )
        rel = self.regclass(p.table, p.prefix)
        after = f"drop_after => {interval(p.drop_after)}"
        return [f"SELECT {self.fn('add_retention_policy')}({rel}, {after}{extra})"]

    @compiles(DropRetentionPolicy)
    def _drop_retention(self, c: DropRetentionPolicy) -> list[str]:
        self.ts_version(c)
        rel = self.regclass(c.policy.table, c.policy.prefix)
        exists = ", if_exists => true" if c.if_exists else ""
        return [f"SELECT {self.fn('remove_retention_policy')}({rel}{exists})"]


def _is_name(text: str) -> bool:
    """A bare column name (quoted in SQL), as opposed to an expression such as ``ts DESC``."""
    return re.fullmatch(r"\w+", text) is not None
