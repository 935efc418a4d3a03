"""Settings and module flags: strict_version_order, disable_migration_lock, migration_lock."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from backends import backend
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write_change,
    write_config,
    write_table_migrations,
)

from whimbrel.errors import OutOfOrderError


def _out_of_order_project(project: Path, url: str) -> None:
    """10 and 30 applied; then 20 (older than 30) and 40 appear."""
    write_table_migrations(project, [10, 30])
    with migrator(project, url) as m:
        assert m.up() == [10, 30]
    write_table_migrations(project, [20, 40])


def test_strict_version_order_refuses_before_anything_runs(tmp_path: Path, db_url: str) -> None:
    _out_of_order_project(tmp_path, db_url)
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url, strict_version_order=True) as m:
        with pytest.raises(OutOfOrderError) as caught:
            m.up()
    message = str(caught.value)
    assert "20_create_t20" in message and "30" in message
    assert "40" not in message.split("version 30")[0]  # 40 is newer: not blamed
    assert catalog.versions() == [10, 30]  # not even 40 ran
    assert catalog.user_tables() == {"t10", "t30"}


def test_strict_version_order_via_cli_exits_2(tmp_path: Path, db_url: str) -> None:
    """A refusal before anything ran, fixed in the files: exit 2, as docs/cli.md says."""
    _out_of_order_project(tmp_path, db_url)
    write_config(tmp_path, strict_version_order=True)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_create_t20" in error and "strict_version_order" in error
    assert Catalog(db_url).versions() == [10, 30]


def test_without_strict_order_an_older_version_applies_with_a_warning(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _out_of_order_project(tmp_path, db_url)
    # On the "whimbrel" logger itself: the CLI, if run in this process, stops propagation.
    logger = logging.getLogger("whimbrel")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="whimbrel"):
            with migrator(tmp_path, db_url) as m:
                assert m.up() == [20, 40]
    finally:
        logger.removeHandler(caplog.handler)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("20_create_t20" in w and "out of order" in w for w in warnings), warnings
    assert Catalog(db_url).versions() == [10, 20, 30, 40]


def test_without_strict_order_cli_warns_and_exits_0(tmp_path: Path, db_url: str) -> None:
    _out_of_order_project(tmp_path, db_url)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "20_create_t20" in done.stderr
    assert Catalog(db_url).versions() == [10, 20, 30, 40]


def test_disable_migration_lock_migration_runs(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    write_change(
        tmp_path,
        20,
        "unlocked",
        """
        with create(table("unlocked")):
            add("c", "integer")
        create(index("unlocked", ["c"]))
        """,
        flags="\ndisable_migration_lock = True\n",
    )
    write_table_migrations(tmp_path, [30])
    catalog = Catalog(db_url)
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10, 20, 30]
        assert m.down(all=True) == [30, 20, 10]
        assert m.up() == [10, 20, 30]
        # The session is still open, and every session lock it took was given back.
        if backend(db_url) == "postgres":
            held = (
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            assert catalog.scalar(held) == 0
        elif backend(db_url) == "mysql":
            name = f"whimbrel:{urlsplit(db_url).path.lstrip('/')}::schema_migrations"
            assert catalog.scalar(f"SELECT IS_USED_LOCK('{name}')") is None
    assert catalog.versions() == [10, 20, 30]
    assert catalog.indexes("unlocked") == {"unlocked_c_index"}


def test_disable_migration_lock_with_disable_ddl_transaction(tmp_path: Path, pg_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    write_change(
        tmp_path,
        20,
        "concurrent_unlocked",
        """
        with alter(table("t10")):
            add("c", "integer")
        create(index("t10", ["c"], concurrently=True))
        """,
        flags="\ndisable_ddl_transaction = True\ndisable_migration_lock = True\n",
    )
    done = run_cli(tmp_path, pg_url, "migrate")
    assert done.returncode == 0, done.stderr
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10, 20]
    assert catalog.indexes("t10") == {"t10_c_index"}


def test_migration_lock_off_still_migrates(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20])
    with migrator(tmp_path, db_url, migration_lock=False) as m:
        assert m.up() == [10, 20]
        assert m.down() == [20]
    assert Catalog(db_url).versions() == [10]


def test_disable_migration_lock_is_warned_about_once_per_run(tmp_path: Path, db_url: str) -> None:
    """One warning naming every unlocked file, not one line per file (or per index)."""
    write_table_migrations(tmp_path, [10])
    unlocked = [20, 30, 40]
    for version in unlocked:
        write_change(
            tmp_path,
            version,
            f"unlocked_{version}",
            f"""
            with alter(table("t10")):
                add("c{version}", "integer")
            create(index("t10", ["c{version}"]))
            create(index("t10", ["c{version}", "id"]))
            """,
            flags="\ndisable_migration_lock = True\n",
        )
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    lines = [
        line
        for line in done.stderr.splitlines()
        # lint's own findings on these indexes may mention the flag too: not counted here
        if line.startswith("warning:") and "migration lock released" in line
    ]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("warning: 3 migration(s) run with the migration lock released")
    for version in unlocked:
        assert f"{version}_unlocked_{version}.py" in lines[0]
    assert Catalog(db_url).versions() == [10, *unlocked]
