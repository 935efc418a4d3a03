"""``migration_lock = "table"``: a lease row that works without a shared session (poolers).

The lease is tested through separate connections that share no session, and
through a real PgBouncer in transaction pooling mode started on a free port
(``.ci/run`` installs pgbouncer; without it that test skips locally).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from migration_helpers import (
    Catalog,
    cli_command,
    cli_env,
    migrator,
    write_change,
    write_config,
    write_table_migrations,
)

from whimbrel.adapters import Settings, adapter_for
from whimbrel.errors import ConfigError, LockTimeoutError
from whimbrel.migrator.lease import LeaseLock

LOCK = "schema_migrations_lock"


def _lease(url: str, **settings: float) -> LeaseLock:
    adapter = adapter_for(url, Settings(**settings))  # type: ignore[arg-type]
    adapter.connect()
    return LeaseLock(adapter, adapter.settings)


@pytest.mark.parametrize("backend", ["pg", "mysql"])
def test_two_sessions_exclude_each_other_and_hand_over(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url" if backend == "pg" else "mysql_url")
    first, second = _lease(url), _lease(url, lock_wait=0.5)
    with first.held(None, "schema_migrations"):
        assert Catalog(url).scalar(f"SELECT count(*) FROM {LOCK}") == 1
        with pytest.raises(LockTimeoutError):
            with second.held(None, "schema_migrations"):
                pass
    with second.held(None, "schema_migrations"):  # released: the other session takes it
        pass
    assert Catalog(url).scalar(f"SELECT count(*) FROM {LOCK}") == 0
    first.adapter.close()
    second.adapter.close()


def test_an_expired_lease_of_a_dead_holder_is_taken_over(pg_url: str) -> None:
    lease = _lease(pg_url, lock_wait=5)
    Catalog(pg_url).execute(
        f"CREATE TABLE {LOCK} (name varchar(255) PRIMARY KEY, holder varchar(64) NOT NULL, "
        "expires_at timestamp(3) NOT NULL)",
        f"INSERT INTO {LOCK} VALUES ('{lease.adapter.lock_name(None, 'schema_migrations')}', "
        "'dead', (now() AT TIME ZONE 'utc') - interval '1 second')",
    )
    with lease.held(None, "schema_migrations"):
        holder = Catalog(pg_url).scalar(f"SELECT holder FROM {LOCK}")
        assert holder == lease.token
    lease.adapter.close()


def test_the_holder_renews_its_lease(pg_url: str) -> None:
    lease = _lease(pg_url)
    lease.ttl = 1.5
    with lease.held(None, "schema_migrations"):
        time.sleep(2.5)  # longer than the TTL: only renewal keeps it
        live = f"SELECT count(*) FROM {LOCK} WHERE expires_at > (now() AT TIME ZONE 'utc')"
        assert Catalog(pg_url).scalar(live) == 1
    lease.adapter.close()


def test_concurrent_migrate_processes_apply_each_version_once(tmp_path: Path, pg_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    write_change(
        tmp_path,
        40,
        "count",
        'create(table("runs"))\nexecute("INSERT INTO runs DEFAULT VALUES", "SELECT 1")',
    )
    write_config(tmp_path, migration_lock="table")
    processes = [
        subprocess.Popen(
            cli_command(pg_url, "migrate"),
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in processes]
    assert all(code == 0 for code, _ in results), results
    migrated = [line for _, err in results for line in err.splitlines() if "== Migrated" in line]
    assert len(migrated) == 4
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10, 20, 30, 40]
    assert catalog.scalar("SELECT count(*) FROM runs") == 1
    assert catalog.scalar(f"SELECT count(*) FROM {LOCK}") == 0


def test_the_table_lock_is_refused_on_sqlite(tmp_path: Path, sqlite_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    with migrator(tmp_path, sqlite_url, migration_lock="table") as m:
        with pytest.raises(ConfigError, match="migration_lock = true"):
            m.up()


# -- through a real PgBouncer in transaction pooling mode ---------------------------------

PGBOUNCER = shutil.which("pgbouncer") or next(
    (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pgbouncer_url(pg_url: str) -> Iterator[str]:
    """``pg_url`` through a PgBouncer in transaction mode, started on a free loopback port."""
    if PGBOUNCER is None:
        if os.environ.get("CI"):
            pytest.fail(
                "pgbouncer is not installed: .ci/run installs it (apt-get install pgbouncer)"
            )
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    # Not under pytest's tmp folder (mode 700): pgbouncer drops root to nobody, who must
    # read its config and write its log and pid file here.
    folder = Path(tempfile.mkdtemp(prefix="whimbrel-pgbouncer-"))
    folder.chmod(0o777)
    parts = urlsplit(pg_url)
    port = _free_port()
    (folder / "users.txt").write_text(f'"{parts.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={parts.hostname} port={parts.port}\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\npool_mode = transaction\nunix_socket_dir =\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
        "ignore_startup_parameters = extra_float_digits,options,application_name\n"
    )
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    subprocess.run([PGBOUNCER, "-d", *user, str(folder / "pgbouncer.ini")], check=True)
    pid = folder / "pgbouncer.pid"
    deadline = time.monotonic() + 10
    while not pid.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{port}", 1)
    finally:
        os.kill(int(pid.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)


def test_concurrent_migrate_through_pgbouncer_transaction_mode(
    tmp_path: Path, pg_url: str, pgbouncer_url: str
) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    write_change(
        tmp_path,
        40,
        "count",
        'create(table("runs"))\nexecute("INSERT INTO runs DEFAULT VALUES", "SELECT 1")',
    )
    write_config(tmp_path, migration_lock="table")
    processes = [
        subprocess.Popen(
            cli_command(pgbouncer_url, "migrate"),
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [(p.wait(120), p.stderr.read() if p.stderr else "") for p in processes]
    assert all(code == 0 for code, _ in results), results
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10, 20, 30, 40]
    assert catalog.scalar("SELECT count(*) FROM runs") == 1
    assert catalog.scalar(f"SELECT count(*) FROM {LOCK}") == 0
