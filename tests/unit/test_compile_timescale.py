"""The exact SQL of each TimescaleDB command, per API generation (no server needed).

The same statements run on a real TimescaleDB in tests/integration/test_timescale.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from compile_helpers import compile_with

from whimbrel.adapters.timescale import ServerFeatures, TimescaleDB, read_features
from whimbrel.dialects.postgres import PostgresDialect
from whimbrel.errors import UnsupportedFeatureError
from whimbrel.migration import (
    compression,
    compression_policy,
    continuous_aggregate,
    create,
    desc,
    drop,
    drop_if_exists,
    hypertable,
    refresh_policy,
    retention_policy,
)

COLUMNSTORE = PostgresDialect(timescaledb=TimescaleDB((2, 18, 0), "public"))
COMPRESSION = PostgresDialect(timescaledb=TimescaleDB((2, 17, 2), "public"))
LEGACY = PostgresDialect(timescaledb=TimescaleDB((2, 12, 0), "public"))
UNQUALIFIED = PostgresDialect(timescaledb=TimescaleDB((2, 23, 0)))
TENANT = PostgresDialect("tenant_a", timescaledb=TimescaleDB((2, 23, 0), "ext"))

QUERY = "SELECT time_bucket('1 minute', ts) AS bucket, max(v) FROM ticks GROUP BY bucket"


def sql(dialect: PostgresDialect, fn: Any) -> list[str]:
    return compile_with(dialect, fn)


# -- the same on every generation -------------------------------------------------------


@pytest.mark.parametrize("dialect", [COLUMNSTORE, COMPRESSION], ids=["2.18", "2.17"])
@pytest.mark.parametrize(
    ("migration", "expected"),
    [
        pytest.param(
            lambda: create(retention_policy("ticks", drop_after="90 days")),
            ["SELECT public.add_retention_policy('ticks', drop_after => INTERVAL '90 days')"],
            id="retention",
        ),
        pytest.param(
            lambda: create(
                retention_policy(
                    "ticks",
                    drop_after=timedelta(days=1),
                    schedule_interval="1 hour",
                    if_not_exists=True,
                )
            ),
            [
                "SELECT public.add_retention_policy('ticks', drop_after => INTERVAL "
                "'86400 seconds', if_not_exists => true, schedule_interval => INTERVAL '1 hour')"
            ],
            id="retention-options",
        ),
        pytest.param(
            lambda: drop_if_exists(retention_policy("ticks")),
            ["SELECT public.remove_retention_policy('ticks', if_exists => true)"],
            id="drop-retention",
        ),
        pytest.param(
            lambda: create(continuous_aggregate("ticks_1m", QUERY + ";")),
            [
                'CREATE MATERIALIZED VIEW "ticks_1m" WITH (timescaledb.continuous) AS\n'
                f"{QUERY}\nWITH NO DATA"
            ],
            id="aggregate",
        ),
        pytest.param(
            lambda: create(
                continuous_aggregate("ticks_1m", QUERY, with_data=True, materialized_only=False)
            ),
            [
                'CREATE MATERIALIZED VIEW "ticks_1m" WITH (timescaledb.continuous, '
                f"timescaledb.materialized_only = false) AS\n{QUERY}\nWITH DATA"
            ],
            id="aggregate-with-data",
        ),
        pytest.param(
            lambda: drop(continuous_aggregate("ticks_1m"), mode="cascade"),
            ['DROP MATERIALIZED VIEW "ticks_1m" CASCADE'],
            id="drop-aggregate",
        ),
        pytest.param(
            lambda: create(
                refresh_policy(
                    "ticks_1m",
                    start_offset="1 day",
                    end_offset="1 minute",
                    schedule_interval="1 minute",
                )
            ),
            [
                "SELECT public.add_continuous_aggregate_policy('ticks_1m', start_offset => "
                "INTERVAL '1 day', end_offset => INTERVAL '1 minute', schedule_interval => "
                "INTERVAL '1 minute')"
            ],
            id="refresh",
        ),
        pytest.param(
            lambda: create(refresh_policy("ticks_1m", schedule_interval="1 h", if_not_exists=True)),
            [
                "SELECT public.add_continuous_aggregate_policy('ticks_1m', start_offset => NULL, "
                "end_offset => NULL, schedule_interval => INTERVAL '1 h', if_not_exists => true)"
            ],
            id="refresh-unbounded",
        ),
        pytest.param(
            lambda: drop_if_exists(refresh_policy("ticks_1m")),
            ["SELECT public.remove_continuous_aggregate_policy('ticks_1m', true)"],
            id="drop-refresh",
        ),
    ],
)
def test_same_sql_on_both_generations(
    dialect: PostgresDialect, migration: Any, expected: list[str]
) -> None:
    assert sql(dialect, migration) == expected


# -- hypertables: by_range on 2.13+, the older signature before ---------------------------


def test_hypertable_with_dimension_builders() -> None:
    made = sql(
        COMPRESSION,
        lambda: create(
            hypertable(
                "ticks",
                "timestamp",
                chunk_time_interval="1 day",
                partition_column="symbol",
                number_partitions=4,
                if_not_exists=True,
                migrate_data=True,
            )
        ),
    )
    assert made == [
        "SELECT public.create_hypertable('ticks', public.by_range('timestamp', INTERVAL "
        "'1 day'), if_not_exists => true, migrate_data => true)",
        "SELECT public.add_dimension('ticks', public.by_hash('symbol', 4), if_not_exists => true)",
    ]


def test_hypertable_before_2_13() -> None:
    made = sql(
        LEGACY,
        lambda: create(
            hypertable(
                "ticks",
                "timestamp",
                chunk_time_interval="1 day",
                partition_column="symbol",
                number_partitions=4,
                create_default_indexes=False,
            )
        ),
    )
    assert made == [
        "SELECT public.create_hypertable('ticks', 'timestamp', chunk_time_interval => "
        "INTERVAL '1 day', partitioning_column => 'symbol', number_partitions => 4, "
        "create_default_indexes => false)"
    ]


def test_integer_time_column_interval() -> None:
    made = sql(UNQUALIFIED, lambda: create(hypertable("events", "seq", chunk_time_interval=1000)))
    assert made == ["SELECT create_hypertable('events', by_range('seq', 1000))"]


# -- compression: the columnstore API on 2.18+, the compression API before ----------------


def test_compression_columnstore() -> None:
    made = sql(
        COLUMNSTORE,
        lambda: create(compression("ticks", segment_by="symbol", order_by=[desc("timestamp")])),
    )
    assert made == [
        'ALTER TABLE "ticks" SET (timescaledb.enable_columnstore = true, '
        "timescaledb.segmentby = 'symbol', timescaledb.orderby = 'timestamp DESC')"
    ]


def test_compression_api() -> None:
    made = sql(
        COMPRESSION,
        lambda: create(compression("ticks", segment_by=["symbol", "Venue"], order_by="ts DESC")),
    )
    assert made == [
        'ALTER TABLE "ticks" SET (timescaledb.compress, timescaledb.compress_segmentby = '
        "'symbol, \"Venue\"', timescaledb.compress_orderby = 'ts DESC')"
    ]


def test_compression_on_an_aggregate() -> None:
    made = sql(COLUMNSTORE, lambda: create(compression("ticks_1m", view=True)))
    assert made == [
        'ALTER MATERIALIZED VIEW "ticks_1m" SET (timescaledb.enable_columnstore = true)'
    ]


def test_drop_compression_decompresses_first() -> None:
    assert sql(COLUMNSTORE, lambda: drop(compression("ticks"))) == [
        "DO $whimbrel$ DECLARE chunk regclass; BEGIN FOR chunk IN SELECT "
        "public.show_chunks('ticks') LOOP CALL public.convert_to_rowstore(chunk, "
        "if_columnstore => true); END LOOP; END $whimbrel$",
        'ALTER TABLE "ticks" SET (timescaledb.enable_columnstore = false)',
    ]
    assert sql(COMPRESSION, lambda: drop(compression("ticks"))) == [
        "SELECT public.decompress_chunk(chunk, if_compressed => true) "
        "FROM public.show_chunks('ticks') AS chunk",
        'ALTER TABLE "ticks" SET (timescaledb.compress = false)',
    ]


def test_compression_policy_per_generation() -> None:
    policy = compression_policy("ticks", compress_after="7 days", if_not_exists=True)
    assert sql(COLUMNSTORE, lambda: create(policy)) == [
        "CALL public.add_columnstore_policy('ticks', after => INTERVAL '7 days', "
        "if_not_exists => true)"
    ]
    assert sql(COMPRESSION, lambda: create(policy)) == [
        "SELECT public.add_compression_policy('ticks', compress_after => INTERVAL '7 days', "
        "if_not_exists => true)"
    ]
    assert sql(COLUMNSTORE, lambda: drop(compression_policy("ticks"))) == [
        "CALL public.remove_columnstore_policy('ticks')"
    ]
    assert sql(COMPRESSION, lambda: drop_if_exists(compression_policy("ticks"))) == [
        "SELECT public.remove_compression_policy('ticks', if_exists => true)"
    ]


# -- names and schemas -----------------------------------------------------------------


def test_prefix_and_extension_schema_qualify_names() -> None:
    assert sql(TENANT, lambda: create(retention_policy("Ticks", drop_after="1 day"))) == [
        "SELECT ext.add_retention_policy('tenant_a.\"Ticks\"', drop_after => INTERVAL '1 day')"
    ]
    assert sql(TENANT, lambda: create(compression("ticks"))) == [
        'ALTER TABLE "tenant_a"."ticks" SET (timescaledb.enable_columnstore = true)'
    ]


def test_without_the_extension_each_command_is_refused_with_the_fix() -> None:
    with pytest.raises(UnsupportedFeatureError, match="does not have the timescaledb extension"):
        sql(PostgresDialect(), lambda: create(retention_policy("t", drop_after="1 day")))


def test_read_features() -> None:
    assert read_features(lambda _sql: []) == ServerFeatures()
    found = read_features(lambda _sql: [("2.23.0-dev", "public")])
    assert found.timescaledb == TimescaleDB((2, 23, 0), "public")
    assert found.timescaledb_available == found.timescaledb
    # Not installed, but installable: only pg_available_extensions answers.
    installable = read_features(lambda sql: [("2.17.2",)] if "pg_available" in sql else [])
    assert installable == ServerFeatures(None, TimescaleDB((2, 17, 2)))
    assert TimescaleDB.parse("2.9").version == (2, 9, 0)
    with pytest.raises(ValueError, match="not a TimescaleDB version"):
        TimescaleDB.parse("dev")


def test_compilers_are_registered_on_postgres_only() -> None:
    """``@compiles(..., on=PostgresDialect)``: SQLite and MySQL refuse the commands."""
    from whimbrel.dialects.mysql import MySQLDialect
    from whimbrel.dialects.sqlite import SQLiteDialect
    from whimbrel.dsl.timescale import CreateHypertable, Hypertable

    command = CreateHypertable(Hypertable("ticks", "at"))
    assert PostgresDialect.handler(CreateHypertable) is not None
    for dialect in (SQLiteDialect(), MySQLDialect()):
        with pytest.raises(UnsupportedFeatureError, match=r'create\(hypertable\("ticks"\)\)'):
            dialect.compile(command)
