"""Helpers for the TimescaleDB integration tests: the seed's migration, the catalog.

The catalog is read from ``timescaledb_information.*`` directly (never through
whimbrel), filtered to the test's own schema: the first entry of the URL's
search_path (see tests/tsdb.py).

Example::

    write_change(tmp_path, 1, "ticks", SEED_CHANGE)
    with migrator(tmp_path, tsdb_url) as m:
        m.up()
    assert TimescaleCatalog(tsdb_url).hypertables() == {"ticks": 2}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import whimbrel.adapters.postgres as pg_adapter
from tsdb import connect
from whimbrel.adapters.timescale import ServerFeatures, TimescaleDB

#: The seed's continuous aggregate, as written in its template.
SEED_QUERY = """
    SELECT
      time_bucket('1 minute', timestamp) AS bucket,
      symbol,
      first(price, timestamp) AS open,
      max(price) AS high,
      min(price) AS low,
      last(price, timestamp) AS close,
      sum(volume) AS volume
    FROM ticks
    GROUP BY bucket, symbol
"""

#: The seed's hypertable template in whimbrel's DSL (its `id` key dropped: see the docs).
SEED_CHANGE = f'''
with create(table("ticks", primary_key=False)):
    add("timestamp", "utc_datetime_usec", null=False)
    add("symbol", "string", null=False)
    add("price", "decimal", precision=20, scale=8, null=False)
    add("volume", "decimal", precision=20, scale=8, null=False)
    add("data", "map")
    timestamps(updated_at=False)
create(hypertable("ticks", "timestamp", chunk_time_interval="1 day", if_not_exists=True))
create(index("ticks", ["timestamp", "symbol"]))
create(index("ticks", ["symbol", "timestamp"]))
create(continuous_aggregate("ticks_1min", """{SEED_QUERY}"""))
create(refresh_policy("ticks_1min", start_offset="1 day", end_offset="1 minute",
                      schedule_interval="1 minute"))
create(compression("ticks", segment_by="symbol", order_by=desc("timestamp")))
create(compression_policy("ticks", compress_after="7 days"))
create(retention_policy("ticks", drop_after="90 days"))
'''

#: TimescaleDB versions whose SQL the tests run on the server (which accepts all three).
GENERATIONS = {
    "columnstore": None,  # the server's own version (2.18+: the columnstore API)
    "compression": (2, 17, 0),  # compression API, create_hypertable(by_range(...))
    "legacy": (2, 12, 0),  # compression API, create_hypertable(t, col, chunk_time_interval)
}


@contextmanager
def api_generation(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    """Make whimbrel compile for another TimescaleDB version than the server reports."""
    version = GENERATIONS[name]
    if version is not None:
        real = pg_adapter.read_features

        def older(query: Any) -> ServerFeatures:
            found = real(query).timescaledb
            assert found is not None, "the test server has no timescaledb extension"
            return ServerFeatures(TimescaleDB(version, found.schema))

        monkeypatch.setattr(pg_adapter, "read_features", older)
    yield


def schema_of(url: str) -> str:
    """The test's schema: the first entry of the URL's search_path option."""
    options = unquote(parse_qs(urlsplit(url).query)["options"][0])
    return options.split("search_path=", 1)[1].split(",", 1)[0]


class TimescaleCatalog:
    """``timescaledb_information`` views, restricted to the test's schema."""

    def __init__(self, url: str):
        self.url = url
        self.schema = schema_of(url)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = connect(self.url)
        try:
            cursor = conn.execute(sql, tuple(params))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def tables(self) -> set[str]:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
        return {r[0] for r in self.rows(sql, (self.schema,))}

    def hypertables(self) -> dict[str, int]:
        """Hypertable name -> number of dimensions."""
        sql = (
            "SELECT hypertable_name, num_dimensions FROM timescaledb_information.hypertables "
            "WHERE hypertable_schema = %s"
        )
        return {r[0]: r[1] for r in self.rows(sql, (self.schema,))}

    def dimensions(self, table: str) -> list[tuple[Any, ...]]:
        """(column, type, interval, partitions) per dimension, in order."""
        sql = (
            "SELECT column_name, dimension_type, time_interval, num_partitions "
            "FROM timescaledb_information.dimensions "
            "WHERE hypertable_schema = %s AND hypertable_name = %s ORDER BY dimension_number"
        )
        return self.rows(sql, (self.schema, table))

    def aggregates(self) -> dict[str, bool]:
        """Continuous aggregate name -> materialized_only."""
        sql = (
            "SELECT view_name, materialized_only "
            "FROM timescaledb_information.continuous_aggregates WHERE view_schema = %s"
        )
        return {r[0]: r[1] for r in self.rows(sql, (self.schema,))}

    def jobs(self) -> dict[str, tuple[int, dict[str, Any]]]:
        """Policy name -> (job id, config) for jobs on the schema's hypertables and aggregates."""
        sql = """
            SELECT j.proc_name, j.job_id, j.config
            FROM timescaledb_information.jobs j
            LEFT JOIN timescaledb_information.continuous_aggregates c
              ON c.materialization_hypertable_schema = j.hypertable_schema
             AND c.materialization_hypertable_name = j.hypertable_name
            WHERE j.hypertable_schema = %s OR c.view_schema = %s
        """
        return {r[0]: (r[1], r[2]) for r in self.rows(sql, (self.schema, self.schema))}

    def compression_settings(self, table: str) -> list[tuple[Any, ...]]:
        """(column, segmentby position, orderby position, orderby asc) per configured column."""
        sql = (
            "SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc "
            "FROM timescaledb_information.compression_settings "
            "WHERE hypertable_schema = %s AND hypertable_name = %s ORDER BY attname"
        )
        return self.rows(sql, (self.schema, table))

    def chunks(self, table: str) -> list[tuple[Any, ...]]:
        """(chunk name, is_compressed, range_end) per chunk."""
        sql = (
            "SELECT chunk_name, is_compressed, range_end FROM timescaledb_information.chunks "
            "WHERE hypertable_schema = %s AND hypertable_name = %s ORDER BY range_start"
        )
        return self.rows(sql, (self.schema, table))

    def is_empty(self) -> bool:
        """No table (bar whimbrel's own), hypertable, aggregate or job left in the schema."""
        leftovers = {t for t in self.tables() if not t.startswith("schema_migrations")}
        made = self.hypertables() or self.aggregates() or self.jobs()
        return not leftovers and not made
