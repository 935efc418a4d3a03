"""Tenants: ``tenant_migrations/`` applied once per PostgreSQL schema ("prefix").

Global migrations run first, then each tenant's schema is created and gets its
own versions table; rollbacks undo the tenants before the global migrations
(a tenant table here references a global one, so the wrong order would fail).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import backend, has
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write,
    write_change,
    write_config,
)

import whimbrel
from whimbrel.errors import ConfigError, MigrationFailedError

TENANTS = ["tenant_a", "tenant_b"]


def _project(project: Path, prefixes: list[str] | None = None) -> None:
    if prefixes is not None:
        write_config(project, prefixes=prefixes)
    write_change(
        project,
        10,
        "create_accounts",
        """
        with create(table("accounts")):
            add("name", "string")
        """,
    )
    write_change(
        project,
        100,
        "create_orders",
        """
        with create(table("orders", prefix=prefix())):
            add("account_id", references("accounts", prefix="public"))
        create(index("orders", ["account_id"], prefix=prefix()))
        """,
        folder="tenant_migrations",
    )
    write_change(
        project,
        200,
        "create_items",
        'create(table("items", prefix=prefix()))',
        folder="tenant_migrations",
    )


def test_up_runs_global_then_every_tenant(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [10, 100, 200, 100, 200]
        assert m.up() == []
    assert set(TENANTS) <= catalog.schemas()
    assert catalog.user_tables() == {"accounts"}
    assert catalog.versions() == [10]
    for tenant in TENANTS:
        assert catalog.user_tables(tenant) == {"orders", "items"}
        assert catalog.indexes("orders", tenant) == {"orders_account_id_index"}
        assert catalog.versions(tenant) == [100, 200]


def test_down_to_rolls_back_tenants_first(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        m.up()
        assert m.down(to=200) == [200, 200]
        for tenant in TENANTS:
            assert catalog.versions(tenant) == [100]
        assert catalog.versions() == [10]
        # accounts is referenced from every tenant's orders: global-first would fail.
        assert m.down(to=10) == [100, 100, 10]
    assert catalog.user_tables() == set()
    for tenant in TENANTS:
        assert catalog.user_tables(tenant) == set()
        assert catalog.versions(tenant) == []
    assert catalog.versions() == []


def test_up_to_a_tenant_version_as_down_to_one(tmp_path: Path, pg_url: str) -> None:
    """``--to`` may name a version only the tenants have, for migrate as for rollback."""
    _project(tmp_path, TENANTS)
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        assert m.up(to=100) == [10, 100, 100]
        for tenant in TENANTS:
            assert catalog.versions(tenant) == [100]
    done = run_cli(tmp_path, pg_url, "migrate", "--to", "200")
    assert done.returncode == 0, done.stderr
    for tenant in TENANTS:
        assert catalog.versions(tenant) == [100, 200]


def test_run_one_prefix_and_status_prefix(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        m.run("up")
        assert m.run("up", prefix="tenant_a", step=1) == [100]
        assert [(s.status, s.version, s.prefix) for s in m.status("tenant_a")] == [
            ("up", 100, "tenant_a"),
            ("down", 200, "tenant_a"),
        ]
    assert catalog.versions("tenant_a") == [100]
    assert "tenant_b" not in catalog.schemas()

    done = run_cli(tmp_path, pg_url, "status", "--prefix", "tenant_a")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    assert rows == [
        ["tenant_a", "up", "100", "create_orders"],
        ["tenant_a", "down", "200", "create_items"],
    ]

    done = run_cli(tmp_path, pg_url, "migrate", "--prefix", "tenant_b")
    assert done.returncode == 0, done.stderr
    assert catalog.versions("tenant_b") == [100, 200]
    assert catalog.versions("tenant_a") == [100]


def test_cli_migrate_and_rollback_cover_tenants(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    catalog = Catalog(pg_url)
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert [catalog.versions(t) for t in [None, *TENANTS]] == [[10], [100, 200], [100, 200]]

    status = run_cli(tmp_path, pg_url, "status")
    assert status.returncode == 0, status.stderr
    assert sum("tenant_a" in line for line in status.stdout.splitlines()) == 2

    done = run_cli(tmp_path, pg_url, "rollback", "--all")
    assert done.returncode == 0, done.stderr
    assert [catalog.versions(t) for t in [None, *TENANTS]] == [[], [], []]


class _AppMigrator(whimbrel.Migrator):
    seen: list[BaseException]

    def known_prefixes(self) -> list[str]:
        return ["tenant_x"]

    def handle_migrator_exception(self, exc: BaseException) -> None:
        self.seen.append(exc)


def test_subclass_prefixes_and_exception_hook(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path)  # no prefixes in the config: the subclass names them
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url, cls=_AppMigrator) as m:
        assert isinstance(m, _AppMigrator)
        m.seen = []
        assert m.up() == [10, 100, 200]
        assert catalog.versions("tenant_x") == [100, 200]
        assert m.seen == []

        write_change(
            tmp_path, 300, "broken", 'execute("SELECT nope()")', folder="tenant_migrations"
        )
        with pytest.raises(MigrationFailedError) as caught:
            m.up()
        assert m.seen == [caught.value]  # called once, with the exception, then re-raised
    assert catalog.versions("tenant_x") == [100, 200]


def test_prefixes_query_over_a_table_a_global_migration_creates(
    tmp_path: Path, pg_url: str
) -> None:
    _project(tmp_path)
    write(tmp_path, "whimbrel.toml", 'prefixes_query = "SELECT name FROM tenants"\n')
    write_change(
        tmp_path,
        20,
        "create_tenants",
        """
        with create(table("tenants", primary_key=False)):
            add("name", "string")
        execute("INSERT INTO tenants VALUES ('tenant_q')", "DELETE FROM tenants")
        """,
    )
    done = run_cli(tmp_path, pg_url, "ensure-up")
    assert done.returncode == 1, done.stderr
    error = error_text(done)
    assert "prefixes_query 'SELECT name FROM tenants' failed" in error
    assert 'relation "tenants" does not exist' in error and "whimbrel migrate" in error

    # Global migrations first, then the tenants they list; 200 is a tenant version only.
    assert run_cli(tmp_path, pg_url, "migrate", "--to", "200").returncode == 0
    assert Catalog(pg_url).versions("tenant_q") == [100, 200]


def _without_schemas(url: str) -> None:
    if has(url, "schemas"):
        pytest.skip(f"{backend(url)} has schemas: the cases above cover its tenants")


def test_prefix_without_schemas_is_a_config_error(tmp_path: Path, db_url: str) -> None:
    _without_schemas(db_url)
    _project(tmp_path)
    with migrator(tmp_path, db_url) as m, pytest.raises(ConfigError, match="tenant_a"):
        m.run("up", prefix="tenant_a")
    assert Catalog(db_url).tables() == set()

    done = run_cli(tmp_path, db_url, "migrate", "--prefix", "tenant_a")
    assert done.returncode == 2, done.stderr
    assert "schemas" in error_text(done)
    assert Catalog(db_url).tables() == set()


def test_configured_prefixes_without_schemas_refused_before_anything_runs(
    tmp_path: Path, db_url: str
) -> None:
    _without_schemas(db_url)
    _project(tmp_path, TENANTS)
    for args in (["migrate"], ["status"], ["rollback"], ["ensure-up"]):
        done = run_cli(tmp_path, db_url, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "tenant_a" in error_text(done)
    assert Catalog(db_url).user_tables() == set()
    assert Catalog(db_url).applied() == []


def test_tenant_lines_and_results_name_the_prefix(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path, TENANTS)
    write_change(tmp_path, 30, "create_notes", 'create(table("notes"))')
    with migrator(tmp_path, pg_url) as m:
        ran = m.up()
        assert ran == [10, 30, 100, 200, 100, 200]  # still compares as versions
        assert [(r.prefix, r.version) for r in ran] == [
            (None, 10),
            (None, 30),
            ("tenant_a", 100),
            ("tenant_a", 200),
            ("tenant_b", 100),
            ("tenant_b", 200),
        ]
        back = m.down()
        assert [(r.prefix, r.version) for r in back] == [
            ("tenant_a", 200),
            ("tenant_b", 200),
            (None, 30),
        ]
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("== ")]
    assert lines, done.stderr
    tenant_lines = [line for line in lines if "200" in line]  # only tenants have 200
    assert len(tenant_lines) == 4, lines  # Running and Migrated, per tenant
    assert all("[tenant_a]" in line or "[tenant_b]" in line for line in tenant_lines)
    assert not any("[tenant" in line for line in lines if " 30 " in line)
    done = run_cli(tmp_path, pg_url, "rollback")
    assert done.returncode == 0, done.stderr
    running = [line for line in done.stderr.splitlines() if "Running" in line]
    assert running == [
        "== [tenant_a] Running 200 create_items (down)",
        "== [tenant_b] Running 200 create_items (down)",
        "== Running 30 create_notes (down)",
    ]


def _tenants_table_project(project: Path, query: str) -> None:
    _project(project)
    write(project, "whimbrel.toml", f'prefixes_query = "{query}"\n')
    write_change(
        project,
        20,
        "create_tenants",
        """
        with create(table("tenants", primary_key=False)):
            add("name", "string")
        execute("INSERT INTO tenants VALUES ('tenant_q')", "DELETE FROM tenants")
        """,
    )


def test_a_failing_prefixes_query_shows_the_global_state_on_a_fresh_database(
    tmp_path: Path, pg_url: str
) -> None:
    _tenants_table_project(tmp_path, "SELECT name FROM tenants")
    status = run_cli(tmp_path, pg_url, "status")
    assert status.returncode == 0, status.stderr
    assert "create_accounts" in status.stdout and "create_tenants" in status.stdout
    assert "tenants not listed: prefixes_query 'SELECT name FROM tenants' failed" in (status.stderr)
    assert 'relation "tenants" does not exist' in status.stderr

    dry = run_cli(tmp_path, pg_url, "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert 'CREATE TABLE "tenants"' in dry.stdout
    assert "tenants not listed" in dry.stderr

    gate = run_cli(tmp_path, pg_url, "ensure-up")
    assert gate.returncode == 1, gate.stderr
    error = error_text(gate)
    assert "10_create_accounts, 20_create_tenants" in error and "tenants not listed" in error
    assert Catalog(pg_url).versions() is None  # none of them wrote anything


def test_a_prefixes_query_failing_after_the_global_migrations_exits_2(
    tmp_path: Path, pg_url: str
) -> None:
    _tenants_table_project(tmp_path, "SELECT nom FROM tenants")
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 2, done.stderr
    assert "prefixes_query 'SELECT nom FROM tenants' failed" in error_text(done)
    assert Catalog(pg_url).versions() == [10, 20]  # the global ones ran first
    for command in ("status", "ensure-up"):
        done = run_cli(tmp_path, pg_url, command)
        assert done.returncode == 2, (command, done.stderr)
        assert 'column "nom" does not exist' in error_text(done)
