"""TimescaleDB DSL: what it records, how change() reverses it, what it refuses while recording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from whimbrel.dsl.commands import CreateTable, DropTable, Nothing
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.dsl.reverse import reverse, reverse_all
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
    RefreshPolicy,
    RetentionPolicy,
)
from whimbrel.dsl.timescale_sql import group_by_has_time_bucket
from whimbrel.errors import IrreversibleMigrationError, MigrationDefinitionError
from whimbrel.migration import (
    add,
    compression,
    compression_policy,
    continuous_aggregate,
    create,
    drop,
    drop_if_exists,
    hypertable,
    refresh_policy,
    retention_policy,
    table,
    unique_index,
)

QUERY = "SELECT time_bucket('1 minute', at) AS bucket, count(*) FROM ticks GROUP BY bucket"


def record(migration: Callable[[], Any]) -> list[object]:
    recorder = Recorder()
    with recording(recorder):
        migration()
    return recorder.take()


def ticks(primary_key: bool = False) -> None:
    with create(table("ticks", primary_key=primary_key)):
        add("at", "utc_datetime", null=False)
        add("symbol", "string")


def test_hypertable_remembers_whether_its_table_was_created_here() -> None:
    def both() -> None:
        ticks()
        create(hypertable("ticks", "at", chunk_time_interval="1 day"))

    made = record(both)
    assert isinstance(made[0], CreateTable)
    assert made[1] == CreateHypertable(Hypertable("ticks", "at", "1 day"), table_created=True)
    alone = record(lambda: create(hypertable("ticks", "at")))
    assert alone == [CreateHypertable(Hypertable("ticks", "at"), table_created=False)]


def test_the_seed_pattern_reverses_in_reverse_order() -> None:
    def seed() -> None:
        ticks()
        create(hypertable("ticks", "at"))
        create(continuous_aggregate("t1", QUERY))
        create(refresh_policy("t1", schedule_interval="1 minute"))
        create(compression("ticks", segment_by="symbol"))
        create(compression_policy("ticks", compress_after="7 days"))
        create(retention_policy("ticks", drop_after="90 days"))

    undo = reverse_all(record(seed))
    assert [type(c) for c in undo] == [
        DropRetentionPolicy,
        DropCompressionPolicy,
        DropCompression,
        DropRefreshPolicy,
        DropContinuousAggregate,
        Nothing,
        DropTable,
    ]


@pytest.mark.parametrize(
    ("command", "inverse"),
    [
        (
            CreateContinuousAggregate(ContinuousAggregate("v", QUERY)),
            DropContinuousAggregate(ContinuousAggregate("v", QUERY)),
        ),
        (
            CreateRefreshPolicy(RefreshPolicy("v", schedule_interval="1 h", if_not_exists=True)),
            DropRefreshPolicy(
                RefreshPolicy("v", schedule_interval="1 h", if_not_exists=True), if_exists=True
            ),
        ),
        (CreateCompression(Compression("t", ("s",))), DropCompression(Compression("t", ("s",)))),
        (
            CreateCompressionPolicy(CompressionPolicy("t", "7 days")),
            DropCompressionPolicy(CompressionPolicy("t", "7 days")),
        ),
        (
            CreateRetentionPolicy(RetentionPolicy("t", "90 days")),
            DropRetentionPolicy(RetentionPolicy("t", "90 days")),
        ),
    ],
)
def test_reverse_pairs(command: object, inverse: object) -> None:
    assert reverse(command) == inverse
    if not getattr(command, "policy", RetentionPolicy("x")).if_not_exists:
        assert reverse(inverse) == command


@pytest.mark.parametrize(
    ("migration", "expected"),
    [
        (
            lambda: create(hypertable("ticks", "at")),
            'TimescaleDB cannot turn hypertable "ticks" back into a plain table',
        ),
        (lambda: drop(continuous_aggregate("v")), "give drop() the query"),
        (lambda: drop(retention_policy("t")), 'drop(retention_policy("t", "90 days"))'),
        (lambda: drop(compression_policy("t")), "give drop() compress_after"),
        (lambda: drop_if_exists(retention_policy("t", "1 day")), "drop_if_exists"),
    ],
)
def test_irreversible_commands_name_the_fix(migration: Any, expected: str) -> None:
    with pytest.raises(IrreversibleMigrationError) as caught:
        reverse_all(record(migration))
    assert expected in str(caught.value)
    assert "define up() and down() instead of change()" in str(caught.value)


@pytest.mark.parametrize(
    ("migration", "expected"),
    [
        pytest.param(
            lambda: (ticks(primary_key=True), create(hypertable("ticks", "at"))),
            'the primary key of table "ticks" (id) does not include the time column "at"',
            id="seed-primary-key",
        ),
        pytest.param(
            lambda: (
                ticks(),
                create(unique_index("ticks", ["symbol"])),
                create(hypertable("ticks", "at")),
            ),
            'unique index "ticks_symbol_index" on (symbol) does not include the time column',
            id="unique-index",
        ),
        pytest.param(
            lambda: create(continuous_aggregate("v", "SELECT s, max(v) FROM t GROUP BY s")),
            "must GROUP BY a time_bucket(...)",
            id="no-time-bucket",
        ),
        pytest.param(
            lambda: create(continuous_aggregate("v")),
            'give the query: continuous_aggregate("v", "SELECT ...")',
            id="no-query",
        ),
        pytest.param(
            lambda: hypertable("t", "at", partition_column="s"),
            "partition_column and number_partitions go together",
            id="partition-alone",
        ),
        pytest.param(
            lambda: retention_policy("t", drop_after=["90 days"]),
            'drop_after must be an interval such as "7 days"',
            id="bad-interval",
        ),
        pytest.param(
            lambda: create(retention_policy("t")),
            'give drop_after, e.g. retention_policy("t", drop_after="90 days")',
            id="missing-drop-after",
        ),
        pytest.param(
            lambda: create(refresh_policy("v")),
            "give schedule_interval",
            id="missing-schedule",
        ),
        pytest.param(
            lambda: drop(hypertable("t", "at")),
            'plain table: drop the table with drop(table("t"))',
            id="drop-hypertable",
        ),
        pytest.param(
            lambda: drop_if_exists(compression("t")),
            "no IF EXISTS for switching compression off",
            id="drop-compression-if-exists",
        ),
        pytest.param(
            lambda: drop(retention_policy("t"), mode="cascade"),
            'mode="cascade" applies to continuous aggregates only',
            id="cascade-policy",
        ),
        pytest.param(
            lambda: hypertable("t", "at", chunk_interval="1 day"),
            "unknown option 'chunk_interval' (did you mean 'chunk_time_interval'?)",
            id="unknown-option",
        ),
    ],
)
def test_mistakes_are_caught_while_recording(migration: Any, expected: str) -> None:
    with pytest.raises(MigrationDefinitionError) as caught:
        record(migration)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        (QUERY, True),
        ("SELECT time_bucket('1 h', ts) b, max(v) FROM t GROUP BY 1", True),
        ("SELECT time_bucket('1 h', ts), max(v) FROM t GROUP BY time_bucket('1 h', ts)", True),
        ('SELECT time_bucket(\'1 h\', ts) AS "B", max(v) FROM t GROUP BY "B"', True),
        ("SELECT public.time_bucket('1 h', ts) AS b, s FROM t GROUP BY s, b", True),
        ("SELECT time_bucket('1 h', ts) AS b, s, max(v) FROM t GROUP BY s", False),
        ("SELECT s, max(v) FROM t", False),
        ("SELECT b, max(v) FROM (SELECT time_bucket('1 h', ts) AS b FROM t) s GROUP BY b", False),
    ],
)
def test_group_by_has_time_bucket(query: str, ok: bool) -> None:
    assert group_by_has_time_bucket(query) is ok
