"""TimescaleDB objects and commands, as immutable data (DESIGN §7).

The constructors in ``whimbrel.dsl.timescale_api`` build the objects;
``create(obj)`` and ``drop(obj)`` record the commands below, which
``whimbrel.dialects.timescale`` compiles for the server's TimescaleDB version
and ``reverse`` (registered here) inverts for ``change()`` rollbacks:

==========================  ==================================================
command                     reversed by
==========================  ==================================================
CreateHypertable            nothing, when the same migration creates the table
                            (its drop goes with the table); refused otherwise
CreateContinuousAggregate   DropContinuousAggregate, and back when the query is known
CreateRefreshPolicy         DropRefreshPolicy, and back when the schedule is known
CreateCompression           DropCompression (chunks decompressed first), and back
CreateCompressionPolicy     DropCompressionPolicy, and back when ``compress_after`` is known
CreateRetentionPolicy       DropRetentionPolicy, and back when ``drop_after`` is known
==========================  ==================================================

Example::

    >>> reverse(CreateRetentionPolicy(RetentionPolicy("ticks", "90 days")))
    DropRetentionPolicy(policy=RetentionPolicy(table='ticks', ...), if_exists=False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from whimbrel.dsl.commands import Nothing
from whimbrel.dsl.objects import IndexColumn
from whimbrel.dsl.reverse import reverse

#: An interval: SQL interval text ("7 days"), a timedelta, or an integer for integer time columns.
Interval = str | int | timedelta

# --- objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class Hypertable:
    """``create_hypertable`` on an existing table, partitioned by ``time_column``."""

    table: str
    time_column: str
    chunk_time_interval: Interval | None = None
    partition_column: str | None = None
    number_partitions: int | None = None
    migrate_data: bool = False
    create_default_indexes: bool = True
    if_not_exists: bool = False
    prefix: str | None = None


@dataclass(frozen=True)
class ContinuousAggregate:
    """A materialized view ``WITH (timescaledb.continuous)`` over ``query``."""

    name: str
    query: str | None = None
    with_data: bool = False
    materialized_only: bool | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class RefreshPolicy:
    """A job refreshing a continuous aggregate (``add_continuous_aggregate_policy``)."""

    view: str
    start_offset: Interval | None = None
    end_offset: Interval | None = None
    schedule_interval: Interval | None = None
    if_not_exists: bool = False
    prefix: str | None = None


@dataclass(frozen=True)
class Compression:
    """Columnstore (compression) settings of a hypertable or continuous aggregate."""

    table: str
    segment_by: tuple[str, ...] = ()
    order_by: tuple[str | IndexColumn, ...] = ()
    #: True when the relation is a continuous aggregate (ALTER MATERIALIZED VIEW).
    view: bool = False
    prefix: str | None = None


@dataclass(frozen=True)
class CompressionPolicy:
    """A job compressing (moving to the columnstore) chunks older than ``compress_after``."""

    table: str
    compress_after: Interval | None = None
    schedule_interval: Interval | None = None
    if_not_exists: bool = False
    prefix: str | None = None


@dataclass(frozen=True)
class RetentionPolicy:
    """A job dropping chunks older than ``drop_after``."""

    table: str
    drop_after: Interval | None = None
    schedule_interval: Interval | None = None
    if_not_exists: bool = False
    prefix: str | None = None


TimescaleObject = (
    Hypertable
    | ContinuousAggregate
    | RefreshPolicy
    | Compression
    | CompressionPolicy
    | RetentionPolicy
)
TIMESCALE_OBJECTS = (
    Hypertable,
    ContinuousAggregate,
    RefreshPolicy,
    Compression,
    CompressionPolicy,
    RetentionPolicy,
)

# --- commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateHypertable:
    hypertable: Hypertable
    #: The same migration created the table first, so rolling back drops it anyway.
    table_created: bool = False


@dataclass(frozen=True)
class CreateContinuousAggregate:
    aggregate: ContinuousAggregate


@dataclass(frozen=True)
class DropContinuousAggregate:
    aggregate: ContinuousAggregate
    mode: str = "restrict"
    if_exists: bool = False


@dataclass(frozen=True)
class CreateRefreshPolicy:
    policy: RefreshPolicy


@dataclass(frozen=True)
class DropRefreshPolicy:
    policy: RefreshPolicy
    if_exists: bool = False


@dataclass(frozen=True)
class CreateCompression:
    compression: Compression


@dataclass(frozen=True)
class DropCompression:
    """Switch compression off; compressed chunks are decompressed first."""

    compression: Compression


@dataclass(frozen=True)
class CreateCompressionPolicy:
    policy: CompressionPolicy


@dataclass(frozen=True)
class DropCompressionPolicy:
    policy: CompressionPolicy
    if_exists: bool = False


@dataclass(frozen=True)
class CreateRetentionPolicy:
    policy: RetentionPolicy


@dataclass(frozen=True)
class DropRetentionPolicy:
    policy: RetentionPolicy
    if_exists: bool = False


TIMESCALE_COMMANDS = (
    CreateHypertable,
    CreateContinuousAggregate,
    DropContinuousAggregate,
    CreateRefreshPolicy,
    DropRefreshPolicy,
    CreateCompression,
    DropCompression,
    CreateCompressionPolicy,
    DropCompressionPolicy,
    CreateRetentionPolicy,
    DropRetentionPolicy,
)


def target(command: object) -> str:
    """The relation a TimescaleDB command acts on (table or view name)."""
    obj = next(iter(vars(command).values()))
    for attr in ("table", "view", "name"):
        if isinstance(getattr(obj, attr, None), str):
            return str(getattr(obj, attr))
    raise TypeError(f"not a TimescaleDB command: {command!r}")


def label(obj: object) -> str:
    """``hypertable("ticks")``, ``retention_policy("ticks")``... for messages."""
    names = {
        Hypertable: "hypertable",
        ContinuousAggregate: "continuous_aggregate",
        RefreshPolicy: "refresh_policy",
        Compression: "compression",
        CompressionPolicy: "compression_policy",
        RetentionPolicy: "retention_policy",
    }
    name = getattr(obj, "table", None) or getattr(obj, "view", None) or getattr(obj, "name", "")
    return f'{names.get(type(obj), type(obj).__name__)}("{name}")'


def describe(command: object) -> str:
    """``create(hypertable("ticks"))``, ``drop_if_exists(retention_policy("ticks"))``..."""
    obj = next(iter(vars(command).values()))
    verb = "create" if type(command).__name__.startswith("Create") else "drop"
    if getattr(command, "if_exists", False):
        verb = "drop_if_exists"
    return f"{verb}({label(obj)})"


# --- reversal ---------------------------------------------------------------------------


@reverse.register
def _(c: CreateHypertable) -> object | None:
    # TimescaleDB cannot turn a hypertable back into a plain table: only the table's
    # own drop (the rollback of its create in this migration) undoes it.
    return Nothing(c) if c.table_created else None


@reverse.register
def _(c: CreateContinuousAggregate) -> object:
    return DropContinuousAggregate(c.aggregate)


@reverse.register
def _(c: DropContinuousAggregate) -> object | None:
    if c.if_exists or c.mode != "restrict" or c.aggregate.query is None:
        return None
    return CreateContinuousAggregate(c.aggregate)


@reverse.register
def _(c: CreateRefreshPolicy) -> object:
    return DropRefreshPolicy(c.policy, if_exists=c.policy.if_not_exists)


@reverse.register
def _(c: DropRefreshPolicy) -> object | None:
    known = not c.if_exists and c.policy.schedule_interval is not None
    return CreateRefreshPolicy(c.policy) if known else None


@reverse.register
def _(c: CreateCompression) -> object:
    return DropCompression(c.compression)


@reverse.register
def _(c: DropCompression) -> object:
    return CreateCompression(c.compression)


@reverse.register
def _(c: CreateCompressionPolicy) -> object:
    return DropCompressionPolicy(c.policy, if_exists=c.policy.if_not_exists)


@reverse.register
def _(c: DropCompressionPolicy) -> object | None:
    known = not c.if_exists and c.policy.compress_after is not None
    return CreateCompressionPolicy(c.policy) if known else None


@reverse.register
def _(c: CreateRetentionPolicy) -> object:
    return DropRetentionPolicy(c.policy, if_exists=c.policy.if_not_exists)


@reverse.register
def _(c: DropRetentionPolicy) -> object | None:
    known = not c.if_exists and c.policy.drop_after is not None
    return CreateRetentionPolicy(c.policy) if known else None


def irreversible_hint(command: object) -> str:
    """What to change so a TimescaleDB command can be reversed (for the rollback error)."""
    match command:
        case CreateHypertable(hypertable=h):
            return (
                f'TimescaleDB cannot turn hypertable "{h.table}" back into a plain table, so '
                "create(hypertable(...)) is reversible only in the migration that creates "
                f'table "{h.table}": move it there'
            )
        case DropContinuousAggregate(aggregate=a):
            return f'give drop() the query: drop(continuous_aggregate("{a.name}", "SELECT ..."))'
        case DropRefreshPolicy(policy=p):
            return f'give drop() the schedule: drop(refresh_policy("{p.view}", ...))'
        case DropCompressionPolicy(policy=p):
            return f'give drop() compress_after: drop(compression_policy("{p.table}", "7 days"))'
        case DropRetentionPolicy(policy=p):
            return f'give drop() drop_after: drop(retention_policy("{p.table}", "90 days"))'
    return ""
