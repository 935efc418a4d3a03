"""The TimescaleDB DSL: constructors, and what ``create``/``drop`` record for them.

Exported by ``whimbrel.migration`` with the rest of the DSL (DESIGN §7)::

    def change():
        with create(table("ticks", primary_key=False)):
            add("timestamp", "utc_datetime_usec", null=False)
            add("symbol", "string", null=False)
            add("price", "decimal", precision=20, scale=8)
        create(hypertable("ticks", "timestamp", chunk_time_interval="1 day"))
        create(compression("ticks", segment_by=["symbol"], order_by=[desc("timestamp")]))
        create(compression_policy("ticks", compress_after="7 days"))
        create(retention_policy("ticks", drop_after="90 days"))

Mistakes TimescaleDB would report only when the statement runs are caught
while recording: a primary key or unique index of the table that leaves out
the time column, and a continuous aggregate whose GROUP BY has no
``time_bucket``. Checks that need the server or the whole plan (extension
present, policy target is a hypertable, ``with_data`` outside a transaction)
run in ``whimbrel.migrator.timescale`` before the first migration runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.checks import check_name, check_prefix, checked, fail
from whimbrel.dsl.commands import AddColumn, Command, CreateIndex, CreateTable
from whimbrel.dsl.objects import IndexColumn
from whimbrel.dsl.timescale import (
    Compression,
    CompressionPolicy,
    ContinuousAggregate,
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
    Hypertable,
    Interval,
    RefreshPolicy,
    RetentionPolicy,
    TimescaleObject,
    label,
)
from whimbrel.dsl.timescale_sql import group_by_has_time_bucket


def _interval(where: str, option: str, value: Any, required: bool = False) -> Interval | None:
    if value is None and not required:
        return None
    if isinstance(value, timedelta) or (isinstance(value, int) and not isinstance(value, bool)):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and value.strip():
        return value
    raise fail(
        f'{where}: {option} must be an interval such as "7 days", a timedelta, or an '
        f"integer for an integer time column, got {value!r}"
    )


@checked
def hypertable(
    table: str,
    time_column: str,
    chunk_time_interval: Interval | None = None,
    partition_column: str | None = None,
    number_partitions: int | None = None,
    migrate_data: bool = False,
    create_default_indexes: bool = True,
    if_not_exists: bool = False,
    prefix: str | None = None,
) -> Hypertable:
    """A TimescaleDB hypertable made of an existing table, partitioned by ``time_column``.

    Options: ``chunk_time_interval`` ("1 day"; TimescaleDB's default is 7 days),
    ``partition_column`` with ``number_partitions`` (a hash dimension),
    ``migrate_data`` (move existing rows into chunks), ``create_default_indexes``,
    ``if_not_exists``, ``prefix``.
    """
    where = f'hypertable("{table}")'
    check_name(where, "table", table)
    check_name(where, "time_column", time_column)
    if (partition_column is None) != (number_partitions is None):
        raise fail(
            f"{where}: partition_column and number_partitions go together: give both, "
            'e.g. partition_column="symbol", number_partitions=4'
        )
    interval = _interval(where, "chunk_time_interval", chunk_time_interval)
    return Hypertable(
        table,
        time_column,
        interval,
        partition_column,
        number_partitions,
        migrate_data,
        create_default_indexes,
        if_not_exists,
        prefix,
    )


@checked
def continuous_aggregate(
    name: str,
    query: str | None = None,
    with_data: bool = False,
    materialized_only: bool | None = None,
    prefix: str | None = None,
) -> ContinuousAggregate:
    """A continuous aggregate: a materialized view TimescaleDB keeps up to date.

    ``query`` must group by a ``time_bucket(...)`` of the hypertable's time
    column. ``with_data=True`` fills it when created, which TimescaleDB refuses
    inside a transaction: the migration then needs ``disable_ddl_transaction =
    True``; the default (``WITH NO DATA``) leaves filling it to a refresh policy
    or ``CALL refresh_continuous_aggregate(...)``. ``materialized_only``: True
    returns only materialized rows, False adds the newest raw data (real time).
    """
    where = f'continuous_aggregate("{name}")'
    check_name(where, "name", name)
    if query is not None:
        check_name(where, "query", query)
    return ContinuousAggregate(name, query, with_data, materialized_only, prefix)


@checked
def refresh_policy(
    view: str,
    start_offset: Interval | None = None,
    end_offset: Interval | None = None,
    schedule_interval: Interval | None = None,
    if_not_exists: bool = False,
    prefix: str | None = None,
) -> RefreshPolicy:
    """A job refreshing continuous aggregate ``view`` every ``schedule_interval``.

    The window refreshed is from ``start_offset`` to ``end_offset`` before now
    (None: unbounded).
    """
    where = f'refresh_policy("{view}")'
    check_name(where, "view", view)
    return RefreshPolicy(
        view,
        _interval(where, "start_offset", start_offset),
        _interval(where, "end_offset", end_offset),
        _interval(where, "schedule_interval", schedule_interval),
        if_not_exists,
        prefix,
    )


@checked
def compression(
    table: str,
    segment_by: str | Sequence[str] = (),
    order_by: str | IndexColumn | Sequence[str | IndexColumn] = (),
    view: bool = False,
    prefix: str | None = None,
) -> Compression:
    """Compression (the columnstore on TimescaleDB 2.18+) for a hypertable.

    ``segment_by``: columns rows are grouped by; ``order_by``: column names,
    ``desc("col")``/``asc("col")``, or SQL text such as ``"timestamp DESC"``.
    ``view=True`` for a continuous aggregate.
    """
    where = f'compression("{table}")'
    check_name(where, "table", table)
    segments = (segment_by,) if isinstance(segment_by, str) else tuple(segment_by)
    orders = (order_by,) if isinstance(order_by, str | IndexColumn) else tuple(order_by)
    return Compression(table, segments, orders, view, prefix)


@checked
def compression_policy(
    table: str,
    compress_after: Interval | None = None,
    schedule_interval: Interval | None = None,
    if_not_exists: bool = False,
    prefix: str | None = None,
) -> CompressionPolicy:
    """A job compressing chunks older than ``compress_after`` (needs ``compression`` first)."""
    where = f'compression_policy("{table}")'
    check_name(where, "table", table)
    return CompressionPolicy(
        table,
        _interval(where, "compress_after", compress_after),
        _interval(where, "schedule_interval", schedule_interval),
        if_not_exists,
        prefix,
    )


@checked
def retention_policy(
    table: str,
    drop_after: Interval | None = None,
    schedule_interval: Interval | None = None,
    if_not_exists: bool = False,
    prefix: str | None = None,
) -> RetentionPolicy:
    """A job dropping chunks whose data is older than ``drop_after``."""
    where = f'retention_policy("{table}")'
    check_name(where, "table", table)
    return RetentionPolicy(
        table,
        _interval(where, "drop_after", drop_after),
        _interval(where, "schedule_interval", schedule_interval),
        if_not_exists,
        prefix,
    )


# --- create and drop (called by whimbrel.dsl.api.create/drop) ---------------------------


def create(obj: TimescaleObject) -> None:
    """Record the create command of a TimescaleDB object."""
    rec = _rec.current()
    check_prefix(f"create({label(obj)})", obj.prefix)
    match obj:
        case Hypertable():
            rec.record(_create_hypertable(obj, rec.commands))
        case ContinuousAggregate():
            rec.record(CreateContinuousAggregate(_checked_aggregate(obj)))
        case RefreshPolicy():
            _require(obj, "schedule_interval", 'schedule_interval="1 hour"')
            rec.record(CreateRefreshPolicy(obj))
        case Compression():
            rec.record(CreateCompression(obj))
        case CompressionPolicy():
            _require(obj, "compress_after", 'compress_after="7 days"')
            rec.record(CreateCompressionPolicy(obj))
        case RetentionPolicy():
            _require(obj, "drop_after", 'drop_after="90 days"')
            rec.record(CreateRetentionPolicy(obj))


def drop(obj: TimescaleObject, mode: str, if_exists: bool) -> None:
    """Record the drop command of a TimescaleDB object."""
    rec = _rec.current()
    verb = "drop_if_exists" if if_exists else "drop"
    check_prefix(f"{verb}({label(obj)})", obj.prefix)
    if mode != "restrict" and not isinstance(obj, ContinuousAggregate):
        raise fail(f'{verb}({label(obj)}): mode="{mode}" applies to continuous aggregates only')
    match obj:
        case Hypertable(table=t):
            raise fail(
                f"{verb}({label(obj)}): TimescaleDB cannot turn a hypertable back into a "
                f'plain table: drop the table with drop(table("{t}"))'
            )
        case ContinuousAggregate():
            rec.record(DropContinuousAggregate(obj, mode, if_exists))
        case RefreshPolicy():
            rec.record(DropRefreshPolicy(obj, if_exists))
        case Compression():
            if if_exists:
                raise fail(
                    f"drop_if_exists({label(obj)}): TimescaleDB has no IF EXISTS for switching "
                    "compression off: use drop()"
                )
            rec.record(DropCompression(obj))
        case CompressionPolicy():
            rec.record(DropCompressionPolicy(obj, if_exists))
        case RetentionPolicy():
            rec.record(DropRetentionPolicy(obj, if_exists))


def _require(obj: TimescaleObject, option: str, example: str) -> None:
    if getattr(obj, option) is None:
        name = label(obj)
        raise fail(f"create({name}): give {option}, e.g. {name[:-1]}, {example})")


def _checked_aggregate(obj: ContinuousAggregate) -> ContinuousAggregate:
    where = f"create({label(obj)})"
    if obj.query is None:
        raise fail(f'{where}: give the query: continuous_aggregate("{obj.name}", "SELECT ...")')
    if not group_by_has_time_bucket(obj.query):
        raise fail(
            f"{where}: the query must GROUP BY a time_bucket(...) of the hypertable's time "
            "column, as TimescaleDB requires of a continuous aggregate: e.g. SELECT "
            "time_bucket('1 minute', timestamp) AS bucket, ... GROUP BY bucket"
        )
    return obj


def _create_hypertable(obj: Hypertable, recorded: Sequence[Command]) -> CreateHypertable:
    """Check the table's keys against the time column; note whether it was created here."""
    created = [c for c in recorded if isinstance(c, CreateTable) and c.table.name == obj.table]
    for table in created:
        _check_key(obj, table)
    for index in recorded:
        if isinstance(index, CreateIndex) and index.index.table == obj.table:
            _check_unique(obj, index)
    return CreateHypertable(obj, table_created=bool(created))


def _check_key(obj: Hypertable, command: CreateTable) -> None:
    key = [c.name for c in command.columns if isinstance(c, AddColumn) and c.opts.primary_key]
    if key and obj.time_column not in key:
        raise fail(
            f'create({label(obj)}): the primary key of table "{obj.table}" '
            f'({", ".join(key)}) does not include the time column "{obj.time_column}", and '
            "TimescaleDB requires every unique key of a hypertable to include it: create "
            f'the table with primary_key=False, or add primary_key=True to "{obj.time_column}" '
            "as well (a composite key)"
        )


def _check_unique(obj: Hypertable, command: CreateIndex) -> None:
    index = command.index
    columns = [c.expr if isinstance(c, IndexColumn) else c for c in index.columns]
    if index.unique and obj.time_column not in columns:
        raise fail(
            f'create({label(obj)}): unique index "{index.name}" on ({", ".join(columns)}) '
            f'does not include the time column "{obj.time_column}", and TimescaleDB requires '
            f'every unique index of a hypertable to include it: add "{obj.time_column}" to '
            "the index, or make it a plain index"
        )


__all__ = [
    "compression",
    "compression_policy",
    "continuous_aggregate",
    "hypertable",
    "refresh_policy",
    "retention_policy",
]
