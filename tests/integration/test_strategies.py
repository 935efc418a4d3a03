"""Up, rollback and status with every strategy, on SQLite and PostgreSQL.

Four migrations (10, 20, 30, 40) each create table ``t<version>``; every case
checks what whimbrel returned *and* what the database catalog now holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from migration_helpers import Catalog, migrator, run_cli, write_table_migrations

from whimbrel.errors import MigrationFileError
from whimbrel.migrator.core import FILE_NOT_FOUND, MigrationStatus

VERSIONS = [10, 20, 30, 40]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_table_migrations(tmp_path, VERSIONS)
    return tmp_path


def _tables(versions: list[int]) -> set[str]:
    return {f"t{v}" for v in versions}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({}, VERSIONS),
        ({"all": True}, VERSIONS),
        ({"step": 2}, [10, 20]),
        ({"to": 30}, [10, 20, 30]),
        ({"to_exclusive": 30}, [10, 20]),
    ],
    ids=["default", "all", "step", "to", "to_exclusive"],
)
def test_up_strategies(
    project: Path, db_url: str, strategy: dict[str, Any], expected: list[int]
) -> None:
    with migrator(project, db_url) as m:
        assert m.up(**strategy) == expected
        assert [s.status for s in m.status()] == [
            "up" if v in expected else "down" for v in VERSIONS
        ]
    catalog = Catalog(db_url)
    assert catalog.versions() == expected
    assert catalog.user_tables() == _tables(expected)


@pytest.mark.parametrize(
    ("strategy", "rolled_back"),
    [
        ({}, [40]),
        ({"all": True}, [40, 30, 20, 10]),
        ({"step": 2}, [40, 30]),
        ({"to": 20}, [40, 30, 20]),
        ({"to_exclusive": 20}, [40, 30]),
    ],
    ids=["default", "all", "step", "to", "to_exclusive"],
)
def test_down_strategies(
    project: Path, db_url: str, strategy: dict[str, Any], rolled_back: list[int]
) -> None:
    with migrator(project, db_url) as m:
        m.up()
        assert m.down(**strategy) == rolled_back
    remaining = [v for v in VERSIONS if v not in rolled_back]
    catalog = Catalog(db_url)
    assert catalog.versions() == remaining
    assert catalog.user_tables() == _tables(remaining)


def test_run_steps_up_and_down_one_at_a_time(project: Path, db_url: str) -> None:
    catalog = Catalog(db_url)
    with migrator(project, db_url) as m:
        assert m.run("up", step=1) == [10]
        assert m.run("up", step=1) == [20]
        assert catalog.versions() == [10, 20]
        assert m.run("down") == [20]
        assert m.run("down", step=5) == [10]
        assert m.run("down") == []
    assert catalog.versions() == []
    assert catalog.user_tables() == set()


def test_up_when_nothing_is_pending_is_a_normal_outcome(project: Path, db_url: str) -> None:
    with migrator(project, db_url) as m:
        assert m.up() == VERSIONS
        assert m.up() == []
        assert m.run("up", step=1) == []
    assert Catalog(db_url).versions() == VERSIONS


def test_status_lists_every_file_and_applied_versions_without_one(
    project: Path, db_url: str
) -> None:
    with migrator(project, db_url) as m:
        assert m.status() == [MigrationStatus("down", v, f"create_t{v}") for v in VERSIONS]
        m.up(to=30)
        (project / "migrations" / "20_create_t20.py").unlink()
        assert m.status() == [
            MigrationStatus("up", 10, "create_t10"),
            MigrationStatus("up", 20, FILE_NOT_FOUND),
            MigrationStatus("up", 30, "create_t30"),
            MigrationStatus("down", 40, "create_t40"),
        ]


def test_rollback_all_refuses_to_pass_over_a_missing_file(project: Path, db_url: str) -> None:
    with migrator(project, db_url) as m:
        m.up()
        (project / "migrations" / "20_create_t20.py").unlink()
        with pytest.raises(MigrationFileError, match="version 20 is applied but its file"):
            m.down(all=True)
        assert m.down(to=30) == [40, 30]  # a range that stays above it is fine
    catalog = Catalog(db_url)
    assert catalog.versions() == [10, 20]
    assert catalog.user_tables() == {"t10", "t20"}


def test_rollback_step_refuses_a_newest_version_without_file(project: Path, db_url: str) -> None:
    with migrator(project, db_url) as m:
        m.up()
        (project / "migrations" / "40_create_t40.py").unlink()
        with pytest.raises(MigrationFileError) as caught:
            m.down()
        assert "DELETE FROM" in str(caught.value) and "WHERE version IN (40)" in str(caught.value)
        with pytest.raises(MigrationFileError):
            m.down(to=20)
    catalog = Catalog(db_url)
    assert catalog.versions() == [10, 20, 30, 40]  # nothing older was rolled back instead


# -- the same through the command line -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), VERSIONS),
        (("--all",), VERSIONS),
        (("--step", "2"), [10, 20]),
        (("-n", "1"), [10]),
        (("--to", "30"), [10, 20, 30]),
        (("--to-exclusive", "30"), [10, 20]),
    ],
    ids=["default", "all", "step", "n", "to", "to_exclusive"],
)
def test_cli_migrate_strategies(
    project: Path, db_url: str, args: tuple[str, ...], expected: list[int]
) -> None:
    done = run_cli(project, db_url, "migrate", *args)
    assert done.returncode == 0, done.stderr
    assert Catalog(db_url).versions() == expected
    assert Catalog(db_url).user_tables() == _tables(expected)


@pytest.mark.parametrize(
    ("args", "remaining"),
    [
        ((), [10, 20, 30]),
        (("--all",), []),
        (("--step", "2"), [10, 20]),
        (("--to", "20"), [10]),
        (("--to-exclusive", "20"), [10, 20]),
    ],
    ids=["default", "all", "step", "to", "to_exclusive"],
)
def test_cli_rollback_strategies(
    project: Path, db_url: str, args: tuple[str, ...], remaining: list[int]
) -> None:
    assert run_cli(project, db_url, "migrate").returncode == 0
    done = run_cli(project, db_url, "rollback", *args)
    assert done.returncode == 0, done.stderr
    assert Catalog(db_url).versions() == remaining
    assert Catalog(db_url).user_tables() == _tables(remaining)


def test_cli_migrate_twice_says_already_up_and_exits_0(project: Path, db_url: str) -> None:
    assert run_cli(project, db_url, "migrate").returncode == 0
    again = run_cli(project, db_url, "migrate")
    assert again.returncode == 0, again.stderr
    assert "Migrations already up" in again.stderr
    assert Catalog(db_url).versions() == VERSIONS


def test_cli_status_table_json_and_missing_file(project: Path, db_url: str) -> None:
    assert run_cli(project, db_url, "migrate", "--to", "30").returncode == 0
    (project / "migrations" / "30_create_t30.py").unlink()

    done = run_cli(project, db_url, "status")
    assert done.returncode == 0, done.stderr
    rows = [line.split(None, 2) for line in done.stdout.splitlines()[2:]]
    assert rows == [
        ["up", "10", "create_t10"],
        ["up", "20", "create_t20"],
        ["up", "30", FILE_NOT_FOUND],
        ["down", "40", "create_t40"],
    ]

    as_json = run_cli(project, db_url, "status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert [(r["status"], r["version"], r["name"]) for r in json.loads(as_json.stdout)] == [
        ("up", 10, "create_t10"),
        ("up", 20, "create_t20"),
        ("up", 30, FILE_NOT_FOUND),
        ("down", 40, "create_t40"),
    ]

    # Rolling back over an applied version whose file is gone would undo the older
    # migrations beneath its changes: refused (exit 2), naming it, nothing rolled back.
    rollback = run_cli(project, db_url, "rollback", "--all")
    assert rollback.returncode == 2, rollback.stderr
    assert "version 30 is applied but its file is missing" in rollback.stderr
    assert Catalog(db_url).versions() == [10, 20, 30]
