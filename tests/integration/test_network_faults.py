"""Network faults between whimbrel and PostgreSQL or MariaDB, and what the driver says.

A silent path (``netfault.SilentProxy`` on 127.0.0.1: connections stay open,
nothing comes back) must not hang whimbrel: ``connect_timeout`` bounds the
whole handshake, and with ``statement_timeout`` set whimbrel gives up a margin
after it. Keepalives cover real partitions; they are checked on the sockets.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_config,
)
from netfault import SilentProxy

from whimbrel.adapters.base import KEEPALIVE, Settings
from whimbrel.errors import DatabaseConnectionError

SERVERS = {"pg_url": 5432, "mysql_url": 3306}
#: A statement that outlives statement_timeout on each server; the comment marks it.
SLOW = {
    "pg_url": "SELECT pg_sleep(30) /* go-silent */",
    "mysql_url": "SELECT SLEEP(30) /* go-silent */",
}


@pytest.fixture(params=list(SERVERS))
def server_url(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(fixture name, URL of a fresh database) on PostgreSQL, then MariaDB/MySQL."""
    return request.param, request.getfixturevalue(request.param)


def test_a_network_gone_silent_mid_statement_gives_up_after_statement_timeout(
    tmp_path: Path, server_url: tuple[str, str]
) -> None:
    name, url = server_url
    write_config(tmp_path, statement_timeout="1s", connect_timeout=2)
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    write_change(tmp_path, 20, "slow", f'execute("{SLOW[name]}", "SELECT 1")')
    with SilentProxy(SERVERS[name], silence_after=b"go-silent") as proxy:
        started = time.monotonic()
        done = run_cli(tmp_path, proxy.url(url), "migrate", timeout=90)
        took = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    error = error_text(done)
    assert "migration 20_slow (up) failed: no answer from" in error
    assert "statement_timeout (1s) plus a margin" in error
    # 1 s + the 5 s margin (+ on MySQL the KILL's bounded connect); nowhere near 30 s.
    assert 6 <= took < 25, took
    assert Catalog(url).versions() == [10]


def test_a_server_that_never_greets_times_out_at_connect(
    tmp_path: Path, server_url: tuple[str, str]
) -> None:
    name, url = server_url
    write_config(tmp_path, connect_timeout=2)
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    with SilentProxy(SERVERS[name], greet=False) as proxy:
        started = time.monotonic()
        done = run_cli(tmp_path, proxy.url(url), "migrate", timeout=60)
        took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "cannot connect to" in error and "(connect_timeout 2s)" in error
    assert took < 15, took
    assert Catalog(url).versions() is None


def test_the_migration_connection_has_keepalives(
    tmp_path: Path, server_url: tuple[str, str]
) -> None:
    name, url = server_url
    with migrator(tmp_path, url) as m:
        adapter = m.adapter
        if name == "pg_url":  # libpq's socket (or psycopg's, with WHIMBREL_LIBPQ=0)
            fd = adapter._socket()  # type: ignore[attr-defined]
        else:
            fd = adapter.conn._sock.fileno()  # type: ignore[attr-defined]
        with socket.socket(fileno=os.dup(fd)) as sock:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
            count = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)
        assert (idle, count) == (KEEPALIVE["idle"], KEEPALIVE["count"])
        if name == "pg_url":  # the server's end of it too
            assert adapter.query("SHOW tcp_keepalives_idle") == [(str(KEEPALIVE["idle"]),)]


def test_client_timeout_follows_statement_timeout() -> None:
    assert Settings().client_timeout() is None
    assert Settings(statement_timeout="1s").client_timeout() == 6.0
    assert Settings(statement_timeout="1min").client_timeout() == 66.0
    assert Settings(statement_timeout=2000).client_timeout() == 7.0  # milliseconds


# -- passwords in driver messages, for Python callers (the CLI masks its own output) -----


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://u:Sekr1tPW@127.0.0.1:5432/postgres",
        "postgresql://u:Sekr1t%ZZ@127.0.0.1:5432/postgres",
    ],
    ids=["driver_scheme", "bad_percent"],
)
def test_postgres_connect_errors_mask_the_password(
    tmp_path: Path, pg_admin_url: str, url: str
) -> None:
    with migrator(tmp_path, url) as m, pytest.raises(DatabaseConnectionError) as caught:
        m.status()
    assert "Sekr1t" not in str(caught.value)
    assert "***" in str(caught.value)


def test_mysql_connect_errors_mask_the_password(tmp_path: Path, mysql_admin_url: str) -> None:
    """The server's "Access denied for user 'x'" quotes the user, here also the password."""
    url = "mysql://Sekr1tPW:Sekr1tPW@127.0.0.1:3306/whimbrel_nope"
    with migrator(tmp_path, url) as m, pytest.raises(DatabaseConnectionError) as caught:
        m.status()
    driver_said = str(caught.value).split(": ", 1)[1]  # after the (masked) URL
    assert "Access denied for user '***'" in driver_said
    assert "Sekr1t" not in driver_said


@pytest.mark.parametrize("command", ["status", "ensure-up", "migrate"])
def test_the_libpq_read_path_gives_up_on_a_silent_network(
    tmp_path: Path, pg_url: str, command: str
) -> None:
    """`status`, `ensure-up` and a no-op `migrate` read through libpq (not psycopg): they
    too stop at statement_timeout plus the margin, and at connect_timeout."""
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    assert run_cli(tmp_path, pg_url, "migrate").returncode == 0
    write_config(tmp_path, statement_timeout="1s", connect_timeout=2)
    with SilentProxy(5432, silence_after=b"schema_migrations") as proxy:
        started = time.monotonic()
        done = run_cli(tmp_path, proxy.url(pg_url), command, timeout=90)
        took = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "no answer from" in error_text(done)
    assert 6 <= took < 25, took
    with SilentProxy(5432, greet=False) as proxy:
        done = run_cli(tmp_path, proxy.url(pg_url), command, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "cannot connect to" in error_text(done) and "(connect_timeout 2s)" in error_text(done)
