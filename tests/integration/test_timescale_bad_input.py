"""TimescaleDB mistakes are refused before the first migration of a run: exit 2, one paragraph.

Each case puts a good migration first, so "nothing applied" proves the check
ran over the whole plan before anything was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_up_down,
)
from timescale_helpers import TimescaleCatalog

from whimbrel.dialects.features import ServerFeatures, TimescaleDB

GOOD_FIRST = 'create(table("first"))'

TICKS = """
with create(table("ticks", primary_key=False)):
    add("at", "utc_datetime", null=False)
    add("symbol", "string")
"""


def refused(project: Path, url: str, *args: str) -> str:
    done = run_cli(project, url, *args)
    assert done.returncode == 2, done.stderr
    return error_text(done)


@pytest.mark.timescale
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            """
            with create(table("ticks")):
                add("timestamp", "utc_datetime_usec", null=False)
            create(hypertable("ticks", "timestamp"))
            """,
            'the primary key of table "ticks" (id) does not include the time column',
            id="seed-primary-key",
        ),
        pytest.param(
            TICKS + 'create(unique_index("ticks", ["symbol"]))\ncreate(hypertable("ticks", "at"))',
            'unique index "ticks_symbol_index" on (symbol) does not include the time column',
            id="unique-index-before",
        ),
        pytest.param(
            TICKS + 'create(hypertable("ticks", "at"))\ncreate(unique_index("ticks", ["symbol"]))',
            'does not include the time column "at" of hypertable "ticks"',
            id="unique-index-after",
        ),
        pytest.param(
            TICKS
            + 'create(hypertable("ticks", "at"))\n'
            + 'create(continuous_aggregate("t1", "SELECT symbol, count(*) FROM ticks '
            + 'GROUP BY symbol"))',
            "must GROUP BY a time_bucket(...)",
            id="aggregate-without-time-bucket",
        ),
        pytest.param(
            TICKS + 'create(retention_policy("ticks", drop_after="90 days"))',
            '"ticks" is not a hypertable or a continuous aggregate',
            id="policy-on-plain-table",
        ),
        pytest.param(
            TICKS + 'create(hypertable("ticks", "at"))\n'
            'create(refresh_policy("ticks", schedule_interval="1 hour"))',
            '"ticks" is not a continuous aggregate',
            id="refresh-policy-on-hypertable",
        ),
        pytest.param(
            TICKS
            + 'create(hypertable("ticks", "at"))\n'
            + 'create(continuous_aggregate("t1", "SELECT time_bucket(\'1 hour\', at) AS b, '
            + 'count(*) FROM ticks GROUP BY b", with_data=True))',
            "set `disable_ddl_transaction = True`",
            id="with-data-in-transaction",
        ),
    ],
)
def test_refused_before_anything_runs(
    tsdb_url: str, tmp_path: Path, body: str, expected: str
) -> None:
    write_change(tmp_path, 1, "first", GOOD_FIRST)
    path = write_change(tmp_path, 2, "ticks", body)
    message = refused(tmp_path, tsdb_url, "migrate")
    assert str(path) in message
    assert expected in message
    assert TimescaleCatalog(tsdb_url).tables() == set()


@pytest.mark.timescale
def test_hypertable_on_an_existing_table_refuses_rollback(tsdb_url: str, tmp_path: Path) -> None:
    write_change(tmp_path, 1, "ticks", TICKS)
    write_change(tmp_path, 2, "hyper", 'create(hypertable("ticks", "at"))')
    assert run_cli(tmp_path, tsdb_url, "migrate").returncode == 0
    message = refused(tmp_path, tsdb_url, "rollback", "--all")
    assert 'cannot reverse migration command create(hypertable("ticks"))' in message
    assert "define up() and down() instead of change()" in message
    catalog = TimescaleCatalog(tsdb_url)
    assert catalog.hypertables() == {"ticks": 1}
    assert catalog.value("SELECT count(*) FROM schema_migrations") == 2


@pytest.mark.timescale
def test_status_and_dry_run(tsdb_url: str, tmp_path: Path) -> None:
    write_up_down(
        tmp_path,
        1,
        "ticks",
        TICKS + 'create(hypertable("ticks", "at", chunk_time_interval="1 day"))\n'
        'create(retention_policy("ticks", drop_after="90 days"))',
        'drop(table("ticks"))',
    )
    done = run_cli(tmp_path, tsdb_url, "migrate", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "create_hypertable('ticks', " in done.stdout
    assert "add_retention_policy('ticks', drop_after => INTERVAL '90 days');" in done.stdout
    assert TimescaleCatalog(tsdb_url).tables() == set()
    status = run_cli(tmp_path, tsdb_url, "status")
    assert status.returncode == 0 and "down" in status.stdout and "ticks" in status.stdout


@pytest.mark.postgres
def test_plain_postgresql_refuses_timescaledb_commands(pg_url: str, tmp_path: Path) -> None:
    write_change(tmp_path, 1, "first", GOOD_FIRST)
    write_change(tmp_path, 2, "ticks", TICKS + 'create(hypertable("ticks", "at"))')
    message = refused(tmp_path, pg_url, "migrate")
    assert 'create(hypertable("ticks")) needs TimescaleDB' in message
    assert 'run execute("CREATE EXTENSION IF NOT EXISTS timescaledb") earlier' in message
    assert Catalog(pg_url).user_tables() == set()


@pytest.mark.postgres
def test_create_extension_in_the_plan_needs_a_server_that_has_it(
    pg_url: str, tmp_path: Path
) -> None:
    """The local PostgreSQL has no TimescaleDB to install: the plan is refused up front."""
    write_change(tmp_path, 1, "ext", 'execute("CREATE EXTENSION IF NOT EXISTS timescaledb")')
    write_change(tmp_path, 2, "ticks", TICKS + 'create(hypertable("ticks", "at"))')
    message = refused(tmp_path, pg_url, "migrate")
    assert '2_ticks.py: create(hypertable("ticks"))' in message
    assert "(it has no TimescaleDB to install)" in message
    assert Catalog(pg_url).user_tables() == set()


@pytest.mark.postgres
def test_create_extension_earlier_in_the_plan_provides_it(pg_url: str, tmp_path: Path) -> None:
    """An execute("CREATE EXTENSION ... timescaledb") before the hypertable provides it.

    The local PostgreSQL cannot install TimescaleDB, so the server is told it could
    (2.17.0, what pg_available_extensions would say) and the run is a dry run: the
    plan is accepted and compiled for that version (unqualified functions, as the
    extension's schema is not known before it exists).
    """
    write_change(
        tmp_path,
        1,
        "ticks",
        'execute("CREATE EXTENSION IF NOT EXISTS timescaledb")\n'
        + TICKS
        + 'create(hypertable("ticks", "at", chunk_time_interval="1 day"))\n'
        'create(compression("ticks", segment_by="symbol"))',
    )
    write_change(tmp_path, 2, "policy", 'create(retention_policy("ticks", drop_after="90 days"))')
    lines: list[str] = []
    with migrator(tmp_path, pg_url) as m:
        m.out = lines.append
        assert m.adapter.server_features.timescaledb is None  # type: ignore[attr-defined]
        m.adapter.server_features = ServerFeatures(None, TimescaleDB((2, 17, 0)))  # type: ignore[attr-defined]
        assert m.run("up", dry_run=True) == [1, 2]
    printed = "\n".join(lines)
    assert "CREATE EXTENSION IF NOT EXISTS timescaledb" in printed
    assert "SELECT create_hypertable('ticks', by_range('at', INTERVAL '1 day'))" in printed
    assert "timescaledb.compress, timescaledb.compress_segmentby = 'symbol'" in printed
    assert "SELECT add_retention_policy('ticks', drop_after => INTERVAL '90 days')" in printed
    assert Catalog(pg_url).user_tables() == set()


def test_sqlite_refuses_timescaledb_commands(sqlite_url: str, tmp_path: Path) -> None:
    write_change(tmp_path, 1, "ticks", TICKS + 'create(hypertable("ticks", "at"))')
    message = refused(tmp_path, sqlite_url, "migrate")
    assert "is a TimescaleDB command, and the database is sqlite" in message
