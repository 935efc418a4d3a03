"""TimescaleDB objects and commands, as immutable data (DESIGN §7).

The constructors in ``whimbrel.dsl.timescale_api`` build the objects;
``create(obj)`` and ``drop(obj)`` record the commands below. They are
``Command`` subclasses like the core ones: each says in its own methods how it
is named in messages (``describe()``), what undoes it in a ``change()``
rollback (``reverse()``) and, when nothing does, what to change
(``reversal_hint()``). ``whimbrel.dialects.timescale`` registers their
compilers on ``PostgresDialect``, for the server's TimescaleDB version:

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

    >>> CreateRetentionPolicy(RetentionPolicy("ticks", "90 days")).reverse()
    DropRetentionPolicy(policy=RetentionPolicy(table='ticks', ...), if_exists=False)
    >>> DropRetentionPolicy(RetentionPolicy("ticks")).describe()
    'drop(retention_policy("ticks"))'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from whimbrel.dsl.commands import Command, Nothing
from whimbrel.dsl.objects import IndexColumn

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


def label(obj: TimescaleObject) -> str:
    """``hypertable("ticks")``, ``retention_policy("ticks")``... for messages."""
    names = {
        Hypertable: "hypertable",
        ContinuousAggregate: "continuous_aggregate",
        RefreshPolicy: "refresh_policy",
        Compression: "compression",
        CompressionPolicy: "compression_policy",
        RetentionPolicy: "retention_policy",
    }
    return f'{names[type(obj)]}("{target_of(obj)}")'


def target_of(obj: TimescaleObject) -> str:
    """The relation a TimescaleDB object is about (table, view or aggregate name)."""
    match obj:
        case ContinuousAggregate(name=name) | RefreshPolicy(view=name):
            return name
        case Hypertable(table=name) | Compression(table=name):
            return name
        case CompressionPolicy(table=name) | RetentionPolicy(table=name):
            return name
    raise TypeError(f"not a TimescaleDB object: {obj!r}")


@dataclass(frozen=True)
class TimescaleCommand(Command):
    """Base of the TimescaleDB commands: one object, created or dropped."""

    @property
    def subject(self) -> TimescaleObject:
        """The TimescaleDB object the command creates or drops."""
        raise NotImplementedError

    @property
    def target(self) -> str:
        """The relation the command acts on (table or view name)."""
        return target_of(self.subject)

    def describe(self) -> str:
        verb = "create" if type(self).__name__.startswith("Create") else "drop"
        if getattr(self, "if_exists", False):
            verb = "drop_if_exists"
        return f"{verb}({label(self.subject)})"


@dataclass(frozen=True)
class CreateHypertable(TimescaleCommand):
    hypertable: Hypertable
    #: The same migration created the table first, so rolling back drops it anyway.
    table_created: bool = False

    @property
    def subject(self) -> Hypertable:
        return self.hypertable

    def reverse(self) -> Nothing | None:
        # TimescaleDB cannot turn a hypertable back into a plain table: only the table's
        # own drop (the rollback of its create in this migration) undoes it.
        return Nothing(self) if self.table_created else None

    def reversal_hint(self) -> str:
        t = self.hypertable.table
        return (
            f'TimescaleDB cannot turn hypertable "{t}" back into a plain table, so '
            "create(hypertable(...)) is reversible only in the migration that creates "
            f'table "{t}": move it there'
        )


@dataclass(frozen=True)
class CreateContinuousAggregate(TimescaleCommand):
    aggregate: ContinuousAggregate

    @property
    def subject(self) -> ContinuousAggregate:
        return self.aggregate

    def reverse(self) -> DropContinuousAggregate:
        return DropContinuousAggregate(self.aggregate)


@dataclass(frozen=True)
class DropContinuousAggregate(TimescaleCommand):
    aggregate: ContinuousAggregate
    mode: str = "restrict"
    if_exists: bool = False

    @property
    def subject(self) -> ContinuousAggregate:
        return self.aggregate

    def reverse(self) -> CreateContinuousAggregate | None:
        if self.if_exists or self.mode != "restrict" or self.aggregate.query is None:
            return None
        return CreateContinuousAggregate(self.aggregate)

    def reversal_hint(self) -> str:
        if self.if_exists or self.mode != "restrict":
            return ""
        return (
            f'give drop() the query: drop(continuous_aggregate("{self.aggregate.name}", '
            '"SELECT ..."))'
        )


@dataclass(frozen=True)
class CreateRefreshPolicy(TimescaleCommand):
    policy: RefreshPolicy

    @property
    def subject(self) -> RefreshPolicy:
        return self.policy

    def reverse(self) -> DropRefreshPolicy:
        return DropRefreshPolicy(self.policy, if_exists=self.policy.if_not_exists)


@dataclass(frozen=True)
class DropRefreshPolicy(TimescaleCommand):
    policy: RefreshPolicy
    if_exists: bool = False

    @property
    def subject(self) -> RefreshPolicy:
        return self.policy

    def reverse(self) -> CreateRefreshPolicy | None:
        known = not self.if_exists and self.policy.schedule_interval is not None
        return CreateRefreshPolicy(self.policy) if known else None

    def reversal_hint(self) -> str:
        if self.if_exists:
            return ""
        return f'give drop() the schedule: drop(refresh_policy("{self.policy.view}", ...))'


@dataclass(frozen=True)
class CreateCompression(TimescaleCommand):
    compression: Compression

    @property
    def subject(self) -> Compression:
        return self.compression

    def reverse(self) -> DropCompression:
        return DropCompression(self.compression)


@dataclass(frozen=True)
class DropCompression(TimescaleCommand):
    """Switch compression off; compressed chunks are decompressed first."""

    compression: Compression

    @property
    def subject(self) -> Compression:
        return self.compression

    def reverse(self) -> CreateCompression:
        return CreateCompression(self.compression)


@dataclass(frozen=True)
class CreateCompressionPolicy(TimescaleCommand):
    policy: CompressionPolicy

    @property
    def subject(self) -> CompressionPolicy:
        return self.policy

    def reverse(self) -> DropCompressionPolicy:
        return DropCompressionPolicy(self.policy, if_exists=self.policy.if_not_exists)


@dataclass(frozen=True)
class DropCompressionPolicy(TimescaleCommand):
    policy: CompressionPolicy
    if_exists: bool = False

    @property
    def subject(self) -> CompressionPolicy:
        return self.policy

    def reverse(self) -> CreateCompressionPolicy | None:
        known = not self.if_exists and self.policy.compress_after is not None
        return CreateCompressionPolicy(self.policy) if known else None

    def reversal_hint(self) -> str:
        if self.if_exists:
            return ""
        t = self.policy.table
        return f'give drop() compress_after: drop(compression_policy("{t}", "7 days"))'


@dataclass(frozen=True)
class CreateRetentionPolicy(TimescaleCommand):
    policy: RetentionPolicy

    @property
    def subject(self) -> RetentionPolicy:
        return self.policy

    def reverse(self) -> DropRetentionPolicy:
        return DropRetentionPolicy(self.policy, if_exists=self.policy.if_not_exists)


@dataclass(frozen=True)
class DropRetentionPolicy(TimescaleCommand):
    policy: RetentionPolicy
    if_exists: bool = False

    @property
    def subject(self) -> RetentionPolicy:
        return self.policy

    def reverse(self) -> CreateRetentionPolicy | None:
        known = not self.if_exists and self.policy.drop_after is not None
        return CreateRetentionPolicy(self.policy) if known else None

    def reversal_hint(self) -> str:
        if self.if_exists:
            return ""
        t = self.policy.table
        return f'give drop() drop_after: drop(retention_policy("{t}", "90 days"))'
