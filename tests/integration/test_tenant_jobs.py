"""``migrate --jobs N`` / ``up(jobs=N)``: tenant prefixes migrated N at a time.

Global migrations first, then the tenants on N connections at once, each under
its own lock; the result is in prefix order. A failing tenant stops new ones
from starting (the running ones finish); every failure names its prefix.
Prefixes are PostgreSQL schemas: elsewhere ``jobs`` is ignored with a note.
No timing here: the speed-up is measured in bench/ (``--only tenants``).
"""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from backends import has
from migration_helpers import (
    Catalog,
    cli_command,
    cli_env,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_config,
)

import whimbrel
from whimbrel.errors import MigrationFailedError, TenantsFailedError, UsageError

TENANTS = [f"tenant_{i:02}" for i in range(1, 21)]
TENANT_VERSIONS = [100, 200, 300]


def _project(project: Path, prefixes: list[str], gate: Path | None = None) -> None:
    """One global migration, three per tenant; 300 writes one ledger row per tenant.

    With ``gate``, 300 waits (while it is recorded, holding its tenant's lock) until
    that file exists, except in tenant_01 (and for lint, which records it with no
    prefix): the test opens the gate once tenant_01 has
    failed, so the tenants running beside it cannot finish first.
    """
    write_config(project, prefixes=prefixes)
    write_change(
        project,
        10,
        "create_ledger",
        """
        with create(table("ledger", primary_key=False)):
            add("tenant", "string")
        """,
    )
    write_change(
        project,
        100,
        "create_orders",
        'create(table("orders", prefix=prefix()))',
        folder="tenant_migrations",
    )
    write_change(
        project,
        200,
        "create_items",
        """
        with create(table("items", prefix=prefix())):
            add("name", "string")
        """,
        folder="tenant_migrations",
    )
    wait = (
        f"""
        import os, time
        deadline = time.monotonic() + 60
        while prefix() not in (None, "tenant_01") and not os.path.exists({str(gate)!r}):
            assert time.monotonic() < deadline, "the test never opened the gate"
            time.sleep(0.05)
        """
        if gate is not None
        else ""
    )
    write_change(
        project,
        300,
        "record_tenant",
        wait
        + """
        execute(
            f"INSERT INTO public.ledger (tenant) VALUES ('{prefix()}')",
            f"DELETE FROM public.ledger WHERE tenant = '{prefix()}'",
        )""",
        folder="tenant_migrations",
    )


def _expected(prefixes: list[str]) -> list[tuple[str | None, int]]:
    return [(None, 10)] + [(p, v) for p in prefixes for v in TENANT_VERSIONS]


def _ledger(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT tenant, count(*) FROM ledger GROUP BY tenant").fetchall()
    return {tenant: count for tenant, count in rows}


def _assert_all_applied(url: str, prefixes: list[str]) -> None:
    catalog = Catalog(url)
    assert catalog.versions() == [10]
    for prefix in prefixes:
        assert catalog.versions(prefix) == TENANT_VERSIONS, prefix
        assert catalog.user_tables(prefix) == {"orders", "items"}, prefix
    assert _ledger(url) == dict.fromkeys(prefixes, 1)  # each migration ran exactly once


def test_api_jobs_applies_every_tenant_in_prefix_order_as_jobs_1(
    tmp_path: Path, pg_url: str
) -> None:
    _project(tmp_path, TENANTS)
    with migrator(tmp_path, pg_url) as m:
        parallel = m.up(jobs=4)
        assert [(r.prefix, r.version) for r in parallel] == _expected(TENANTS)
        _assert_all_applied(pg_url, TENANTS)
        assert m.up(jobs=4) == []

        m.down(all=True)
        assert Catalog(pg_url).versions() == []
        sequential = m.up()  # jobs=1, the default
    assert [(r.prefix, r.version) for r in sequential] == [(r.prefix, r.version) for r in parallel]
    _assert_all_applied(pg_url, TENANTS)


@pytest.mark.parametrize("jobs", [1, 4])
def test_a_tenant_file_is_loaded_once_per_run_not_once_per_tenant(
    tmp_path: Path, pg_url: str, jobs: int
) -> None:
    """The tenants share the tenant folder's files: each module runs once per call (its
    recording still runs per prefix, with that prefix)."""
    _project(tmp_path, TENANTS)
    loads = tmp_path / "loads.txt"
    path = tmp_path / "tenant_migrations" / "200_create_items.py"
    path.write_text(
        f"open({str(loads)!r}, 'a').write('loaded\\n')\n" + path.read_text(), encoding="utf-8"
    )
    with migrator(tmp_path, pg_url) as m:
        assert len(m.up(jobs=jobs)) == 1 + len(TENANTS) * len(TENANT_VERSIONS)
        _assert_all_applied(pg_url, TENANTS)
        assert loads.read_text().count("loaded") == 1, loads.read_text()
        m.down(all=True)
    assert loads.read_text().count("loaded") == 2  # down is another call: one more load


def test_cli_jobs_applies_every_tenant_with_whole_lines(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    done = run_cli(tmp_path, pg_url, "migrate", "--jobs", "4")
    assert done.returncode == 0, done.stderr
    _assert_all_applied(pg_url, TENANTS)
    # Lines from the workers are whole: each one is a known line, never two glued.
    lines = [line for line in done.stderr.splitlines() if line.startswith("== ")]
    whole = re.compile(r"^== (\[tenant_\d\d\] )?(Running \d+ \w+ \(up\)|Migrated \d+ in [\d.]+s)$")
    assert [line for line in lines if not whole.match(line)] == []
    assert len(lines) == 2 * (1 + 3 * len(TENANTS))  # Running and Migrated, every migration
    for tenant in TENANTS:
        assert sum(line.startswith(f"== [{tenant}] ") for line in lines) == 6

    status = run_cli(tmp_path, pg_url, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert '"down"' not in status.stdout


def test_jobs_from_the_config_key(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS[:5])
    (tmp_path / "whimbrel.toml").write_text((tmp_path / "whimbrel.toml").read_text() + "jobs = 3\n")
    with migrator(tmp_path, pg_url) as m:
        assert m.config.jobs == 3
        assert [(r.prefix, r.version) for r in m.up()] == _expected(TENANTS[:5])
    _assert_all_applied(pg_url, TENANTS[:5])


def _break(url: str, *prefixes: str) -> None:
    """A table ``items`` already in these schemas: their migration 200 fails there."""
    Catalog(url).execute(
        *[f'CREATE SCHEMA "{p}"' for p in prefixes],
        *[f'CREATE TABLE "{p}".items (id int)' for p in prefixes],
    )


def test_a_failing_tenant_stops_new_ones_and_the_running_finish(
    tmp_path: Path, pg_url: str
) -> None:
    """jobs=2: tenant_01 (broken) and tenant_02 start together; tenant_02 finishes, no
    other tenant starts, and the error names tenant_01 (exit 1)."""
    prefixes = TENANTS[:6]
    gate = tmp_path / "go"
    _project(tmp_path, prefixes, gate)
    _break(pg_url, "tenant_01")
    process = subprocess.Popen(
        cli_command(pg_url, "migrate", "--jobs", "2"),
        cwd=tmp_path,
        env=cli_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "[tenant_01] failed: no further tenant starts; 1 running finish first" in line:
            gate.touch()
            break
    assert process.wait(timeout=60) == 1, "".join(seen)
    stderr = "".join(seen) + process.stderr.read()
    process.stderr.close()
    error = stderr[stderr.index("whimbrel: error:") :]
    assert "tenant_01" in error and "items" in error
    assert "1 tenant(s) finished, 4 not started" in error, error

    catalog = Catalog(pg_url)
    assert catalog.versions() == [10]
    assert catalog.versions("tenant_01") == [100]  # 200 failed and was rolled back
    assert catalog.versions("tenant_02") == TENANT_VERSIONS  # it had started: it finished
    for prefix in prefixes[2:]:
        assert catalog.versions(prefix) is None, prefix  # never started
    assert _ledger(pg_url) == {"tenant_02": 1}

    # Fixed, the next run finishes the rest.
    catalog.execute('DROP TABLE "tenant_01".items')
    done = run_cli(tmp_path, pg_url, "migrate", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    _assert_all_applied(pg_url, prefixes)


class _Reporting(whimbrel.Migrator):
    seen: list[BaseException]

    def handle_migrator_exception(self, exc: BaseException) -> None:
        self.seen.append(exc)


def test_every_failure_is_reported_with_its_prefix(tmp_path: Path, pg_url: str) -> None:
    prefixes = TENANTS[:5]
    _project(tmp_path, prefixes)
    _break(pg_url, "tenant_01", "tenant_02")
    with migrator(tmp_path, pg_url, cls=_Reporting) as m:
        m.seen = []
        with pytest.raises(TenantsFailedError) as caught:
            m.up(jobs=2)
        assert m.seen == [caught.value]  # the hook: once, for the whole run
    error = caught.value
    assert isinstance(error, MigrationFailedError) and error.exit_code == 1
    assert list(error.failures) == ["tenant_01", "tenant_02"]
    assert all(isinstance(e, MigrationFailedError) for e in error.failures.values())
    assert error.not_started == ["tenant_03", "tenant_04", "tenant_05"]
    assert "2 tenants failed: tenant_01, tenant_02" in str(error)
    assert "[tenant_01] " in str(error) and "[tenant_02] " in str(error)
    for prefix in prefixes[2:]:
        assert Catalog(pg_url).versions(prefix) is None

    done = run_cli(tmp_path, pg_url, "migrate", "--jobs", "2")
    assert done.returncode == 1, done.stderr
    assert "2 tenants failed: tenant_01, tenant_02" in error_text(done)


class _GateOpener(logging.Handler):
    """Opens the gate when the run says tenant_01 failed."""

    def __init__(self, gate: Path) -> None:
        super().__init__()
        self.gate = gate

    def emit(self, record: logging.LogRecord) -> None:
        if "[tenant_01] failed" in record.getMessage():
            self.gate.touch()


def test_one_failure_keeps_its_class_and_names_the_prefix(tmp_path: Path, pg_url: str) -> None:
    prefixes = TENANTS[:4]
    gate = tmp_path / "go"
    _project(tmp_path, prefixes, gate)
    _break(pg_url, "tenant_01")
    opener = _GateOpener(gate)
    logging.getLogger("whimbrel").addHandler(opener)
    try:
        with migrator(tmp_path, pg_url) as m, pytest.raises(MigrationFailedError) as caught:
            m.up(jobs=3)
    finally:
        logging.getLogger("whimbrel").removeHandler(opener)
    assert not isinstance(caught.value, TenantsFailedError)
    assert "tenant_01" in str(caught.value)
    assert any("tenant 'tenant_01' failed" in note for note in caught.value.__notes__)
    assert [Catalog(pg_url).versions(p) for p in prefixes] == [
        [100],
        TENANT_VERSIONS,
        TENANT_VERSIONS,
        None,
    ]


def test_two_processes_with_jobs_apply_each_migration_once(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    command = cli_command(pg_url, "migrate", "--jobs", "4")
    processes = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    _assert_all_applied(pg_url, TENANTS)


@pytest.mark.parametrize("value", ["0", "-3"])
def test_bad_jobs_values_exit_2_with_the_fix(tmp_path: Path, db_url: str, value: str) -> None:
    _project(tmp_path, [])
    done = run_cli(tmp_path, db_url, "migrate", "--jobs", value)
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert f"jobs = {value}" in error and "1 or more" in error
    assert Catalog(db_url).versions() is None  # nothing ran


def test_bad_jobs_elsewhere_exit_2(tmp_path: Path, sqlite_url: str) -> None:
    _project(tmp_path, [])
    done = run_cli(tmp_path, sqlite_url, "migrate", "--jobs", "many")
    assert done.returncode == 2 and "'many' is not a valid integer" in done.stderr
    done = run_cli(tmp_path, sqlite_url, "migrate", "--prefix", "t", "--jobs", "0")
    assert done.returncode == 2 and "jobs = 0" in error_text(done)
    with migrator(tmp_path, sqlite_url) as m, pytest.raises(UsageError, match="1 or more"):
        m.up(jobs=0)

    (tmp_path / "whimbrel.toml").write_text("jobs = 0\n")
    done = run_cli(tmp_path, sqlite_url, "migrate")
    assert done.returncode == 2 and "jobs = 0" in error_text(done)
    (tmp_path / "whimbrel.toml").write_text('jobs = "4"\n')
    done = run_cli(tmp_path, sqlite_url, "migrate")
    assert done.returncode == 2 and "'jobs' must be a int" in error_text(done)
    assert Catalog(sqlite_url).versions() is None


def test_without_schemas_jobs_is_ignored_with_a_note(tmp_path: Path, db_url: str) -> None:
    if has(db_url, "schemas"):
        pytest.skip("this database has schemas: the cases above run its tenants at once")
    _project(tmp_path, [])
    done = run_cli(tmp_path, db_url, "migrate", "--jobs", "4")
    assert done.returncode == 0, done.stderr
    assert "jobs = 4 ignored:" in done.stderr and "has no schemas" in done.stderr
    assert Catalog(db_url).versions() == [10]

    # Tenants themselves are still refused there, before anything runs (exit 2).
    write_config(tmp_path, prefixes=["tenant_01"])
    done = run_cli(tmp_path, db_url, "migrate", "--jobs", "4")
    assert done.returncode == 2, done.stderr
    assert "tenant_01" in error_text(done)


def test_dry_run_with_jobs_prints_tenants_in_order(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS[:4])
    sequential = run_cli(tmp_path, pg_url, "migrate", "--dry-run")
    parallel = run_cli(tmp_path, pg_url, "migrate", "--dry-run", "--jobs", "4")
    assert sequential.returncode == parallel.returncode == 0, parallel.stderr
    assert parallel.stdout == sequential.stdout
    assert "ignored by --dry-run" in parallel.stderr
    assert Catalog(pg_url).versions() is None


def _advisory_locks(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_sigterm_stops_new_tenants_and_rolls_the_running_back(tmp_path: Path, pg_url: str) -> None:
    prefixes = TENANTS[:6]
    _project(tmp_path, prefixes)
    slow = tmp_path / "slow"  # migration 200 sleeps only while this file exists
    slow.touch()
    write_change(
        tmp_path,
        200,
        "create_items",
        f'create(table("items", prefix=prefix()))\n'
        f'if __import__("os").path.exists({str(slow)!r}):\n'
        '    execute("SELECT pg_sleep(60)")',
        folder="tenant_migrations",
    )
    process = subprocess.Popen(
        cli_command(pg_url, "migrate", "--jobs", "2"),
        cwd=tmp_path,
        env=cli_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    running = 0
    for line in process.stderr:
        running += "Running 200" in line
        if running == 2:
            break
    time.sleep(1)  # both workers into their sleeping statement
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    stderr = process.stderr.read()
    process.stderr.close()
    assert "whimbrel: stopped by SIGTERM (exit 143)" in stderr, stderr
    assert "interrupted: 0 tenant(s) done, 2 stopping" in stderr, stderr
    for prefix in ("tenant_01", "tenant_02"):  # each worker's statement was cancelled
        assert f"[{prefix}] stopped: migration 200_create_items in {prefix} (up)" in stderr
    assert stderr.count("the transaction, with the version row, was rolled back") == 2, stderr

    catalog = Catalog(pg_url)
    assert [catalog.versions(p) for p in prefixes] == [[100], [100], None, None, None, None]
    assert catalog.user_tables("tenant_01") == {"orders"}
    assert _advisory_locks(pg_url) == 0

    slow.unlink()
    done = run_cli(tmp_path, pg_url, "migrate", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    _assert_all_applied(pg_url, prefixes)


def test_terminal_progress_counts_tenants_and_lines_stay_whole(tmp_path: Path, pg_url: str) -> None:
    """On a pty: the line counts tenants; workers' own log lines ("already up") each
    come on a line of their own, the progress line cleared before them."""
    from test_progress import run_in_pty

    prefixes = TENANTS[:8]
    _project(tmp_path, prefixes)
    assert run_cli(tmp_path, pg_url, "migrate", "--to", "10").returncode == 0  # the ledger
    for prefix in prefixes[:4]:  # these four log "Migrations already up" from the workers
        assert run_cli(tmp_path, pg_url, "migrate", "--prefix", prefix).returncode == 0
    text = run_in_pty(cli_command(pg_url, "migrate", "--jobs", "3"), tmp_path)
    assert "\r\x1b[K8/8 tenants in " in text, text
    assert re.search(r"\r\x1b\[K\[8/8\] \[tenant_0\d\] done  ", text), text
    already = [line for line in text.split("\r\n") if "] Migrations already up" in line]
    assert sorted(line.split("\r\x1b[K")[-1] for line in already) == [
        f"[{p}] Migrations already up" for p in prefixes[:4]
    ]
    _assert_all_applied(pg_url, prefixes)
