"""TimescaleDB commands on a real TimescaleDB: applied, read back from the catalog, rolled back.

Each case runs the SQL of every API generation whimbrel writes (the server,
2.18+, still accepts the older compression API and create_hypertable form),
so both compilers are checked against the server, not only against strings.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from migration_helpers import migrator, write_change, write_up_down
from timescale_helpers import (
    GENERATIONS,
    SEED_CHANGE,
    TimescaleCatalog,
    api_generation,
)

pytestmark = pytest.mark.timescale

EVERY_COMMAND = '''
with create(table("readings", primary_key=False)):
    add("at", "utc_datetime_usec", null=False)
    add("sensor", "string", null=False)
    add("value", "float")
create(hypertable("readings", "at", chunk_time_interval="1 day",
                  partition_column="sensor", number_partitions=2))
create(continuous_aggregate("readings_hourly", """
    SELECT time_bucket('1 hour', at) AS hour, sensor, avg(value) AS value
    FROM readings GROUP BY hour, sensor""", materialized_only=True))
create(refresh_policy("readings_hourly", start_offset="3 days", end_offset="1 hour",
                      schedule_interval="30 minutes"))
create(compression("readings", segment_by="sensor", order_by=desc("at")))
create(compression_policy("readings", compress_after="14 days"))
create(retention_policy("readings", drop_after="60 days"))
'''


@pytest.mark.parametrize("generation", list(GENERATIONS))
def test_every_command_applied_and_rolled_back(
    tsdb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generation: str
) -> None:
    write_change(tmp_path, 1, "readings", EVERY_COMMAND)
    catalog = TimescaleCatalog(tsdb_url)
    with api_generation(monkeypatch, generation), migrator(tmp_path, tsdb_url) as m:
        assert m.up() == [1]

        assert catalog.hypertables() == {"readings": 2}
        assert catalog.dimensions("readings") == [
            ("at", "Time", timedelta(days=1), None),
            ("sensor", "Space", None, 2),
        ]
        assert catalog.aggregates() == {"readings_hourly": True}
        jobs = catalog.jobs()
        assert set(jobs) == {
            "policy_refresh_continuous_aggregate",
            "policy_compression",
            "policy_retention",
        }
        refresh = jobs["policy_refresh_continuous_aggregate"][1]
        assert (refresh["start_offset"], refresh["end_offset"]) == ("3 days", "01:00:00")
        assert jobs["policy_compression"][1]["compress_after"] == "14 days"
        assert jobs["policy_retention"][1]["drop_after"] == "60 days"
        assert catalog.compression_settings("readings") == [
            ("at", None, 1, False),
            ("sensor", 1, None, None),
        ]

        assert m.down() == [1]
    assert catalog.is_empty()


@pytest.mark.parametrize("generation", ["columnstore", "compression"])
def test_seed_pattern_end_to_end(
    tsdb_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generation: str
) -> None:
    """The seed's template: rows in, aggregate refreshed and read, compression and retention run."""
    write_change(tmp_path, 1, "ticks", SEED_CHANGE)
    catalog = TimescaleCatalog(tsdb_url)
    with api_generation(monkeypatch, generation), migrator(tmp_path, tsdb_url) as m:
        assert m.up() == [1]
        # 120 days of one price a minute... an hour, for two symbols: chunks old and new.
        catalog.rows(
            """
            INSERT INTO ticks (timestamp, symbol, price, volume, inserted_at)
            SELECT t, s, 100 + extract(hour FROM t), 1, now()
            FROM generate_series(now() - interval '120 days', now(), interval '1 hour') AS t,
                 unnest(ARRAY['AAA', 'BBB']) AS s
            """
        )
        catalog.rows("CALL refresh_continuous_aggregate('ticks_1min', NULL, NULL)")
        buckets, volume = catalog.rows(
            "SELECT count(*), sum(volume) FROM ticks_1min WHERE symbol = 'AAA'"
        )[0]
        assert buckets == catalog.value("SELECT count(*) FROM ticks WHERE symbol = 'AAA'")
        assert volume == buckets
        assert catalog.value("SELECT max(high) - min(low) FROM ticks_1min") == 23

        jobs = catalog.jobs()
        before = len(catalog.chunks("ticks"))
        catalog.rows(f"CALL run_job({jobs['policy_compression'][0]})")
        chunks = catalog.chunks("ticks")
        compressed = [c for c in chunks if c[1]]
        assert compressed, "the compression job compressed nothing"
        newest = max(end for _, _, end in compressed)
        assert newest <= catalog.value("SELECT now() - interval '6 days'")

        catalog.rows(f"CALL run_job({jobs['policy_retention'][0]})")
        kept = catalog.chunks("ticks")
        assert len(kept) < before
        oldest = catalog.value("SELECT min(timestamp) FROM ticks")
        assert oldest >= catalog.value("SELECT (now() - interval '91 days')::timestamp")

        # Rolling back decompresses the compressed chunks before switching compression off.
        assert m.down() == [1]
    assert catalog.is_empty()


def test_with_data_runs_outside_a_transaction(tsdb_url: str, tmp_path: Path) -> None:
    write_change(tmp_path, 1, "readings", EVERY_COMMAND.split("create(refresh_policy")[0])
    write_change(
        tmp_path,
        2,
        "readings_daily",
        '''
        create(continuous_aggregate("readings_daily", """
            SELECT time_bucket('1 day', at) AS day, count(*) AS n FROM readings GROUP BY day
        """, with_data=True))
        ''',
        flags="disable_ddl_transaction = True\n",
    )
    catalog = TimescaleCatalog(tsdb_url)
    with migrator(tmp_path, tsdb_url) as m:
        assert m.up(to=1) == [1]
        catalog.rows(
            "INSERT INTO readings SELECT t, 'x', 1 FROM "
            "generate_series(now() - interval '3 days', now(), interval '1 hour') t"
        )
        assert m.up() == [2]
        # WITH DATA filled the view as it was created.
        assert catalog.value("SELECT sum(n) FROM readings_daily") == 73
        assert m.down(to=1) == [2, 1]
    assert catalog.is_empty()


def test_if_not_exists_options_rerun_cleanly(tsdb_url: str, tmp_path: Path) -> None:
    body = """
        with create(table("m", primary_key=False)):
            add("at", "utc_datetime", null=False)
        create(hypertable("m", "at"))
        create(compression("m"))
    """
    again = """
        create(hypertable("m", "at", if_not_exists=True))
        create(compression_policy("m", compress_after="7 days"))
        create(compression_policy("m", compress_after="7 days", if_not_exists=True))
        create(retention_policy("m", drop_after="30 days"))
        create(retention_policy("m", drop_after="30 days", if_not_exists=True))
    """
    write_change(tmp_path, 1, "m", body)
    write_up_down(
        tmp_path,
        2,
        "again",
        again,
        'drop(retention_policy("m"))\ndrop(compression_policy("m"))',
    )
    catalog = TimescaleCatalog(tsdb_url)
    with migrator(tmp_path, tsdb_url) as m:
        assert m.up() == [1, 2]
        assert set(catalog.jobs()) == {"policy_compression", "policy_retention"}
        assert m.down(to=1) == [2, 1]
    assert catalog.is_empty()


def test_hypertable_template_applies_and_rolls_back(tsdb_url: str, tmp_path: Path) -> None:
    from migration_helpers import run_cli

    done = run_cli(
        tmp_path, tsdb_url, "gen", "migration", "create_ticks_hypertable", "-t", "hypertable"
    )
    assert done.returncode == 0, done.stderr
    catalog = TimescaleCatalog(tsdb_url)
    with migrator(tmp_path, tsdb_url) as m:
        assert len(m.up()) == 1
        assert catalog.hypertables() == {"ticks": 1}
        assert catalog.aggregates() == {"ticks_1min": True}
        assert set(catalog.jobs()) == {
            "policy_refresh_continuous_aggregate",
            "policy_compression",
            "policy_retention",
        }
        assert len(m.down()) == 1
    assert catalog.is_empty()
