"""PostgreSQL through libpq (``whimbrel.adapters.libpq``) against psycopg, on the real server.

``LibpqAdapter`` is what a PostgreSQL URL connects with; ``WHIMBREL_LIBPQ=0``
(or no loadable libpq) gives ``PostgresAdapter`` on psycopg's connection.
Values sent and read back must be what psycopg sends and reads, errors must
read the same, and what psycopg does for Ctrl-C, cancels and notices libpq
must do too. Tests marked with ``session`` run on both.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migration_helpers import Catalog, cli_command, cli_env, migrator, write_change, write_up_down
from psycopg.types.json import Jsonb

from whimbrel.adapters import adapter_for
from whimbrel.adapters.base import Adapter, Settings
from whimbrel.adapters.libpq import LibpqAdapter
from whimbrel.adapters.postgres import PostgresAdapter
from whimbrel.errors import DatabaseError, MigrationFailedError

SESSIONS = {"libpq": LibpqAdapter, "psycopg": PostgresAdapter}


@pytest.fixture(params=list(SESSIONS))
def session(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which PostgreSQL session ``adapter_for`` (and so the migrator) connects with."""
    monkeypatch.setenv("WHIMBREL_LIBPQ", "1" if request.param == "libpq" else "0")
    return str(request.param)


@pytest.fixture
def adapter(pg_url: str, session: str) -> Iterator[Adapter]:
    chosen = adapter_for(pg_url, Settings())
    assert type(chosen) is SESSIONS[session]
    chosen.connect()
    with closing(chosen):
        yield chosen


@pytest.fixture
def libpq(pg_url: str) -> Iterator[LibpqAdapter]:
    opened = LibpqAdapter.open(pg_url, Settings())
    assert opened is not None, "libpq (psycopg_binary.libs or libpq.so.5) should load here"
    with closing(opened):
        yield opened


VALUES: list[Any] = [
    None,
    True,
    0,
    -(2**15),
    2**31,
    2**63 - 1,
    2**70,
    1.5,
    float("inf"),
    "héllo ' \" \\ %s",
    "",
    Decimal("1.10"),
    Decimal("NaN"),
    dt.date(2024, 2, 29),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    dt.time(23, 59, 1),
    dt.timedelta(days=3, seconds=7),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    b"\x00ab\\\xff",
    [1, 2, 3],
    ["a", None],
    Jsonb({"a": [1, "x"]}),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_a_value_goes_and_comes_back_as_with_psycopg(
    libpq: LibpqAdapter, pg_url: str, value: Any
) -> None:
    """Sent as a parameter and selected back: the same Python value and the same server
    type as psycopg gives (the type shows what the server inferred from what was sent),
    or, where psycopg's query fails (a type the server cannot infer), the same error."""
    sql = "SELECT %s, pg_typeof(%s)::text"

    def outcome(query: Any) -> Any:
        try:
            return query(sql, (value, value))
        except (psycopg.Error, DatabaseError) as exc:
            return getattr(exc, "sqlstate", None)

    with psycopg.connect(pg_url) as conn:
        expected = outcome(lambda q, p: conn.execute(q, p).fetchall())
    got = outcome(libpq.query)
    if isinstance(value, (float, Decimal)) and value != value:  # NaN equals nothing
        assert got[0][1] == expected[0][1] and str(got[0][0]) == str(expected[0][0]) == "NaN"
    else:
        assert got == expected


@given(
    st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=False),
        st.text(alphabet=st.characters(blacklist_characters="\x00")),
        st.booleans(),
        st.none(),
    )
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_simple_value_round_trips(libpq: LibpqAdapter, value: Any) -> None:
    """None, bool, int, float and str are sent without psycopg: any of them comes back equal."""
    assert libpq.query("SELECT %s", (value,)) == [(value,)]


def test_result_types_psycopg_knows_come_back_as_psycopg_gives_them(
    libpq: LibpqAdapter, pg_url: str
) -> None:
    sql = (
        "SELECT 1.50::numeric, 2.5::float8, '2024-01-02 03:04'::timestamp, "
        "'2024-01-02 03:04+00'::timestamptz, '{1,2}'::int[], '{\"a\": 1}'::jsonb, "
        "'\\x00ff'::bytea, 'x'::varchar, 'y'::char(3), 'public'::name, NULL::jsonb, "
        "'1 day'::interval, '12345678-1234-5678-1234-567812345678'::uuid"
    )
    with psycopg.connect(pg_url) as conn:
        expected = conn.execute(sql).fetchall()
    assert libpq.query(sql) == expected


def test_named_placeholders_and_literal_percent_signs(adapter: Adapter) -> None:
    assert adapter.query(
        "SELECT %(a)s::int + %(b)s::int, %(a)s::int, 'x%%y'", {"a": 1, "b": 2}
    ) == [(3, 1, "x%y")]
    # without parameters nothing is a placeholder: the text goes as it is
    assert adapter.query("SELECT '100%'") == [("100%",)]


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT %s, %s", (1,)),
        ("SELECT %s", (1, 2)),
        ("SELECT %(a)s", {"b": 1}),
        ("SELECT %d", (1,)),
        ("SELECT %s", "x"),
    ],
    ids=["too-few", "too-many", "missing-name", "bad-placeholder", "a-string-as-parameters"],
)
def test_a_query_and_its_parameters_that_do_not_match_are_a_database_error(
    adapter: Adapter, sql: str, params: Any
) -> None:
    with pytest.raises(DatabaseError):
        adapter.query(sql, params)
    assert adapter.query("SELECT 1") == [(1,)]  # nothing was sent: the session is fine


def test_errors_read_the_same_on_both_sessions(pg_url: str) -> None:
    """Message, detail, hint, position and SQLSTATE: what psycopg's diagnostics give."""
    sql = "SELECT nosuchcolumn FROM pg_class"
    texts = []
    for cls in SESSIONS.values():
        with closing(cls(pg_url, Settings())) as one:
            one.connect()
            with pytest.raises(DatabaseError) as caught:
                one.execute(sql)
            texts.append((str(caught.value), caught.value.sqlstate, caught.value.statement))
    assert texts[0] == texts[1]
    assert texts[0][1] == "42703" and "at character 8" in texts[0][0]


def test_a_nul_character_is_refused_before_anything_is_sent(adapter: Adapter) -> None:
    with pytest.raises(DatabaseError, match="NUL"):
        adapter.query("SELECT %s", ("a\x00b",))
    assert adapter.query("SELECT 1") == [(1,)]


def test_cancel_from_another_thread_stops_the_running_statement(adapter: Adapter) -> None:
    timer = threading.Timer(0.5, adapter.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(DatabaseError) as caught:
        adapter.execute("SELECT pg_sleep(30)")
    assert caught.value.sqlstate == "57014"  # query_canceled
    assert time.monotonic() - started < 10
    assert adapter.query("SELECT 2") == [(2,)]


def test_server_notices_do_not_reach_standard_error(
    libpq: LibpqAdapter, capfd: pytest.CaptureFixture[str]
) -> None:
    """libpq prints notices to stderr unless told otherwise; psycopg keeps them quiet."""
    libpq.execute("DROP TABLE IF EXISTS no_such_table_for_a_notice")
    assert "NOTICE" not in capfd.readouterr().err


def test_copy_is_refused_without_leaving_the_run_waiting(libpq: LibpqAdapter) -> None:
    libpq.execute("CREATE TEMP TABLE copied (n int)")
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="COPY is not supported"):
        libpq.execute("COPY copied FROM STDIN")
    assert time.monotonic() - started < 10


def test_a_data_migration_with_parameters_applies_and_rolls_back(
    tmp_path: Path, pg_url: str, session: str
) -> None:
    """repo().execute with dates, Decimal and JSON, and repo().query reading them back."""
    write_change(
        tmp_path,
        10,
        "events",
        """
        with create(table("events")):
            add("at", "timestamp")
            add("amount", "decimal", precision=8, scale=2)
            add("payload", "jsonb")
        """,
    )
    write_up_down(
        tmp_path,
        20,
        "seed",
        """
        import datetime, decimal
        from psycopg.types.json import Jsonb
        repo().execute(
            "INSERT INTO events (at, amount, payload) VALUES (%s, %s, %s)",
            (datetime.datetime(2024, 5, 6, 7, 8), decimal.Decimal("12.50"), Jsonb({"k": [1]})),
        )
        rows = repo().query("SELECT at, amount, payload FROM events")
        when, amount = datetime.datetime(2024, 5, 6, 7, 8), decimal.Decimal("12.50")
        assert rows == [(when, amount, {"k": [1]})], rows
        """,
        'execute("DELETE FROM events")',
    )
    with migrator(tmp_path, pg_url) as m:
        assert type(m.adapter) is SESSIONS[session]
        assert m.up() == [10, 20]
        assert m.adapter.query("SELECT amount FROM events") == [(Decimal("12.50"),)]
        assert m.down(to=20) == [20]
        assert m.adapter.query("SELECT count(*) FROM events") == [(0,)]
    assert Catalog(pg_url).versions() == [10]


def test_a_failing_batch_names_the_same_statement_on_both_sessions(
    tmp_path: Path, pg_url: str, session: str
) -> None:
    write_change(
        tmp_path,
        10,
        "bad",
        """
        create(table("fine"))
        execute("CREATE TABLE fine (id int)")
        execute("SELECT 1")
        """,
    )
    with migrator(tmp_path, pg_url) as m, pytest.raises(MigrationFailedError) as caught:
        m.up()
    text = str(caught.value)
    assert 'relation "fine" already exists' in text
    assert "CREATE TABLE fine (id int)" in text
    assert Catalog(pg_url).user_tables() == set()


def test_sigterm_under_psycopg_cancels_the_statement_too(tmp_path: Path, pg_url: str) -> None:
    """The signal case of test_failures runs on the default (libpq) session; this is the
    same on psycopg's (WHIMBREL_LIBPQ=0)."""
    write_change(tmp_path, 10, "slow", 'execute("SELECT pg_sleep(60)")')
    process = subprocess.Popen(
        cli_command(pg_url, "migrate"),
        cwd=tmp_path,
        env={**cli_env(), "WHIMBREL_LIBPQ": "0"},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "Running 10" in line:
            break
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    process.stderr.close()
    assert _sessions(pg_url, "query LIKE 'SELECT pg_sleep(60)%'") == 0
    assert Catalog(pg_url).versions() in (None, [])


def test_a_session_ended_by_the_server_is_an_error_not_a_hang(
    adapter: Adapter, pg_url: str
) -> None:
    """pg_terminate_backend while a statement runs (an admin, a failover): the wait ends
    with a DatabaseError at once and the adapter knows its session is gone."""
    pid = adapter.session_id()

    def terminate() -> None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    timer = threading.Timer(0.5, terminate)
    timer.start()
    started = time.monotonic()
    with pytest.raises(DatabaseError):
        adapter.execute("SELECT pg_sleep(30)")
    timer.join()
    assert time.monotonic() - started < 10
    assert adapter._closed()  # type: ignore[attr-defined]
    adapter.release_lock(None, "schema_migrations")  # nothing to release: no error either


def test_a_setting_the_server_refuses_leaves_no_session_open(pg_url: str, session: str) -> None:
    bad = adapter_for(pg_url, Settings(lock_timeout="not-a-duration"))
    with pytest.raises(DatabaseError, match="lock_timeout"):
        bad.connect()
    assert _sessions(pg_url, "application_name = 'whimbrel'") == 0


def _sessions(pg_url: str, where: str) -> int:
    """Sessions on this test's database (other than the asking one) matching ``where``."""
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM pg_stat_activity WHERE {where} "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])
