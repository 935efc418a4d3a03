"""``ensure-up`` / ``ensure_up()`` and ``up_one()`` / ``down_one()``."""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import Catalog, error_text, migrator, run_cli, write_table_migrations

from whimbrel.errors import MigrationsNotUp


def test_ensure_up_cli_lists_pending_then_passes(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    assert run_cli(tmp_path, db_url, "migrate", "--step", "1").returncode == 0

    pending = run_cli(tmp_path, db_url, "ensure-up")
    assert pending.returncode == 1, pending.stderr
    error = error_text(pending)
    assert "20_create_t20" in error and "30_create_t30" in error
    assert "10_create_t10" not in error
    assert "whimbrel migrate" in error
    assert Catalog(db_url).versions() == [10]  # ensure-up only looks

    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    up = run_cli(tmp_path, db_url, "ensure-up")
    assert up.returncode == 0, up.stderr
    assert "Migrations up" in up.stdout


def test_ensure_up_on_an_empty_database_lists_everything(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20])
    with migrator(tmp_path, db_url) as m:
        with pytest.raises(MigrationsNotUp) as caught:
            m.ensure_up()
        assert caught.value.pending == ["10_create_t10", "20_create_t20"]
        m.up()
        m.ensure_up()
    assert Catalog(db_url).versions() == [10, 20]


def test_up_one_returns_ok_then_already_up(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    path = tmp_path / "migrations" / "20_create_t20.py"
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up_one(20, path) == "ok"
        assert catalog.versions() == [20]
        assert catalog.user_tables() == {"t20"}
        assert m.up_one(20, path) == "already_up"
        assert m.down_one(20, path) == "ok"
        assert m.down_one(20, str(path)) == "already_down"
    assert catalog.versions() == []
    assert catalog.user_tables() == set()


def test_a_missing_migrations_folder_fails_the_gate(tmp_path: Path, db_url: str) -> None:
    """A release gate that checked nothing must not pass: exit 2, a configuration error
    (exit 1 would claim migrations are pending), naming the folder."""
    done = run_cli(tmp_path, db_url, "ensure-up")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert f"the migrations folder {tmp_path / 'migrations'} does not exist" in error
    assert "migrations_path" in error
    assert "Migrations up" not in done.stdout
