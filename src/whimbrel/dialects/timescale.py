"""TimescaleDB commands compiled for PostgreSQL, for the server's TimescaleDB version.

Each compiler is a function registered on ``PostgresDialect`` with
``@compiles(Command, on=PostgresDialect)`` (``whimbrel.dialects.base``);
``whimbrel.dialects.postgres`` imports this module, so every PostgreSQL
dialect has them. The dialect is built with the server's ``TimescaleDB``
(version and schema, read by the adapter at connect time, or the version a
``CREATE EXTENSION timescaledb`` earlier in the plan installs) and stays
pure: the same command and version always give the same SQL. Three API
generations:

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
from typing import Any

from whimbrel.dialects.base import compiles
from whimbrel.dialects.postgres import PostgresDialect
from whimbrel.dialects.quoting import quote
from whimbrel.dialects.steps import Statement
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
    TimescaleCommand,
)
from whimbrel.errors import UnsupportedFeatureError

COLUMNSTORE = (2, 18, 0)
DIMENSION_BUILDERS = (2, 13, 0)
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")


def _name(name: str) -> str:
    """A name as written in SQL: bare when it needs no quotes (readable regclass text)."""
    return name if _PLAIN.match(name) else quote(name)


def _is_name(text: str) -> bool:
    """A bare column name (quoted in SQL), as opposed to an expression such as ``ts DESC``."""
    return re.fullmatch(r"\w+", text) is not None


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


# -- helpers ---------------------------------------------------------------------------


def version(d: PostgresDialect, command: TimescaleCommand) -> tuple[int, int, int]:
    """The server's TimescaleDB version; refuses the command when there is none."""
    if d.timescaledb is None:
        raise UnsupportedFeatureError(
            f"{command.describe()} needs TimescaleDB, and this PostgreSQL server does not "
            "have the timescaledb extension: run CREATE EXTENSION timescaledb (in a "
            "migration applied before this one, or by the database's administrator), or "
            "point the database URL at a TimescaleDB server"
        )
    return d.timescaledb.version


def columnstore(d: PostgresDialect, command: TimescaleCommand) -> bool:
    return version(d, command) >= COLUMNSTORE


def fn(d: PostgresDialect, name: str) -> str:
    """An extension function, qualified with the extension's schema when known."""
    schema = d.timescaledb.schema if d.timescaledb else None
    return f"{_name(schema)}.{name}" if schema else name


def regclass(d: PostgresDialect, name: str, prefix: str | None) -> str:
    """A relation as a ``regclass`` argument: ``'ticks'``, ``'tenant_a.ticks'``."""
    schema = prefix or d.prefix
    return d.string(f"{_name(schema)}.{_name(name)}" if schema else _name(name))


def args(*pairs: tuple[str, Any]) -> str:
    """Named arguments ``name => value`` for the pairs whose value is not None."""
    return "".join(f", {key} => {value}" for key, value in pairs if value is not None)


# -- hypertables -----------------------------------------------------------------------


@compiles(CreateHypertable, on=PostgresDialect)
def create_hypertable(d: PostgresDialect, c: CreateHypertable) -> list[Statement]:
    h = c.hypertable
    rel = regclass(d, h.table, h.prefix)
    options = args(
        ("create_default_indexes", None if h.create_default_indexes else "false"),
        ("if_not_exists", "true" if h.if_not_exists else None),
        ("migrate_data", "true" if h.migrate_data else None),
    )
    if version(d, c) < DIMENSION_BUILDERS:
        chunk, partition = h.chunk_time_interval, h.partition_column
        legacy = args(
            ("chunk_time_interval", None if chunk is None else interval(chunk)),
            ("partitioning_column", None if partition is None else d.string(partition)),
            ("number_partitions", h.number_partitions),
        )
        col = d.string(h.time_column)
        return [f"SELECT {fn(d, 'create_hypertable')}({rel}, {col}{legacy}{options})"]
    dim = d.string(h.time_column)
    if h.chunk_time_interval is not None:
        dim += f", {interval(h.chunk_time_interval)}"
    by_range = f"{fn(d, 'by_range')}({dim})"
    sql: list[Statement] = [f"SELECT {fn(d, 'create_hypertable')}({rel}, {by_range}{options})"]
    if h.partition_column is not None:
        space = f"{d.string(h.partition_column)}, {h.number_partitions}"
        exists = ", if_not_exists => true" if h.if_not_exists else ""
        sql.append(f"SELECT {fn(d, 'add_dimension')}({rel}, {fn(d, 'by_hash')}({space}){exists})")
    return sql


# -- continuous aggregates ---------------------------------------------------------------


@compiles(CreateContinuousAggregate, on=PostgresDialect)
def create_cagg(d: PostgresDialect, c: CreateContinuousAggregate) -> list[Statement]:
    version(d, c)
    a = c.aggregate
    options = "timescaledb.continuous"
    if a.materialized_only is not None:
        options += f", timescaledb.materialized_only = {str(a.materialized_only).lower()}"
    query = (a.query or "").strip().rstrip(";").rstrip()
    data = "WITH DATA" if a.with_data else "WITH NO DATA"
    view = d.qualified(a.name, a.prefix)
    return [f"CREATE MATERIALIZED VIEW {view} WITH ({options}) AS\n{query}\n{data}"]


@compiles(DropContinuousAggregate, on=PostgresDialect)
def drop_cagg(d: PostgresDialect, c: DropContinuousAggregate) -> list[Statement]:
    version(d, c)
    exists = " IF EXISTS" if c.if_exists else ""
    mode = " CASCADE" if c.mode == "cascade" else ""
    view = d.qualified(c.aggregate.name, c.aggregate.prefix)
    return [f"DROP MATERIALIZED VIEW{exists} {view}{mode}"]


@compiles(CreateRefreshPolicy, on=PostgresDialect)
def create_refresh(d: PostgresDialect, c: CreateRefreshPolicy) -> list[Statement]:
    version(d, c)
    p = c.policy
    arguments = (
        f"{regclass(d, p.view, p.prefix)}, start_offset => {interval(p.start_offset)}, "
        f"end_offset => {interval(p.end_offset)}, "
        f"schedule_interval => {interval(p.schedule_interval)}"
    )
    exists = ", if_not_exists => true" if p.if_not_exists else ""
    return [f"SELECT {fn(d, 'add_continuous_aggregate_policy')}({arguments}{exists})"]


@compiles(DropRefreshPolicy, on=PostgresDialect)
def drop_refresh(d: PostgresDialect, c: DropRefreshPolicy) -> list[Statement]:
    version(d, c)
    # The second argument means "no error if missing" in every version; its name
    # changed (if_not_exists, then if_exists in 2.x), so it is passed by position.
    exists = ", true" if c.if_exists else ""
    rel = regclass(d, c.policy.view, c.policy.prefix)
    return [f"SELECT {fn(d, 'remove_continuous_aggregate_policy')}({rel}{exists})"]


# -- compression / columnstore -----------------------------------------------------------


def _order_by(comp: Compression) -> str:
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


def _alter(d: PostgresDialect, comp: Compression) -> str:
    kind = "MATERIALIZED VIEW" if comp.view else "TABLE"
    return f"ALTER {kind} {d.qualified(comp.table, comp.prefix)}"


@compiles(CreateCompression, on=PostgresDialect)
def create_compression(d: PostgresDialect, c: CreateCompression) -> list[Statement]:
    comp = c.compression
    new = columnstore(d, c)
    settings = ["timescaledb.enable_columnstore = true" if new else "timescaledb.compress"]
    if comp.segment_by:
        key = "segmentby" if new else "compress_segmentby"
        segment = ", ".join(_name(s) for s in comp.segment_by)
        settings.append(f"timescaledb.{key} = {d.string(segment)}")
    if comp.order_by:
        key = "orderby" if new else "compress_orderby"
        settings.append(f"timescaledb.{key} = {d.string(_order_by(comp))}")
    return [f"{_alter(d, comp)} SET ({', '.join(settings)})"]


@compiles(DropCompression, on=PostgresDialect)
def drop_compression(d: PostgresDialect, c: DropCompression) -> list[Statement]:
    comp = c.compression
    chunks = f"{fn(d, 'show_chunks')}({regclass(d, comp.table, comp.prefix)})"
    # TimescaleDB refuses to switch compression off while compressed chunks remain.
    if columnstore(d, c):
        decompress = (
            f"DO $whimbrel$ DECLARE chunk regclass; BEGIN FOR chunk IN SELECT {chunks} LOOP "
            f"CALL {fn(d, 'convert_to_rowstore')}(chunk, if_columnstore => true); "
            "END LOOP; END $whimbrel$"
        )
        off = "timescaledb.enable_columnstore = false"
    else:
        decompress = (
            f"SELECT {fn(d, 'decompress_chunk')}(chunk, if_compressed => true) "
            f"FROM {chunks} AS chunk"
        )
        off = "timescaledb.compress = false"
    return [decompress, f"{_alter(d, comp)} SET ({off})"]


@compiles(CreateCompressionPolicy, on=PostgresDialect)
def create_compression_policy(d: PostgresDialect, c: CreateCompressionPolicy) -> list[Statement]:
    p = c.policy
    rel = regclass(d, p.table, p.prefix)
    extra = args(
        ("if_not_exists", "true" if p.if_not_exists else None),
        ("schedule_interval", interval(p.schedule_interval) if p.schedule_interval else None),
    )
    if columnstore(d, c):
        after = f"after => {interval(p.compress_after)}"
        return [f"CALL {fn(d, 'add_columnstore_policy')}({rel}, {after}{extra})"]
    after = f"compress_after => {interval(p.compress_after)}"
    return [f"SELECT {fn(d, 'add_compression_policy')}({rel}, {after}{extra})"]


@compiles(DropCompressionPolicy, on=PostgresDialect)
def drop_compression_policy(d: PostgresDialect, c: DropCompressionPolicy) -> list[Statement]:
    rel = regclass(d, c.policy.table, c.policy.prefix)
    exists = ", if_exists => true" if c.if_exists else ""
    if columnstore(d, c):
        return [f"CALL {fn(d, 'remove_columnstore_policy')}({rel}{exists})"]
    return [f"SELECT {fn(d, 'remove_compression_policy')}({rel}{exists})"]


# -- retention -------------------------------------------------------------------------


@compiles(CreateRetentionPolicy, on=PostgresDialect)
def create_retention(d: PostgresDialect, c: CreateRetentionPolicy) -> list[Statement]:
    version(d, c)
    p = c.policy
    extra = args(
        ("if_not_exists", "true" if p.if_not_exists else None),
        ("schedule_interval", interval(p.schedule_interval) if p.schedule_interval else None),
    )
    rel, after = regclass(d, p.table, p.prefix), f"drop_after => {interval(p.drop_after)}"
    return [f"SELECT {fn(d, 'add_retention_policy')}({rel}, {after}{extra})"]


@compiles(DropRetentionPolicy, on=PostgresDialect)
def drop_retention(d: PostgresDialect, c: DropRetentionPolicy) -> list[Statement]:
    version(d, c)
    rel = regclass(d, c.policy.table, c.policy.prefix)
    exists = ", if_exists => true" if c.if_exists else ""
    return [f"SELECT {fn(d, 'remove_retention_policy')}({rel}{exists})"]
