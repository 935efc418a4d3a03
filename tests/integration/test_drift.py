"""``whimbrel diff`` (``whimbrel.drift``) on the three real databases."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from migration_helpers import error_text, migrator, run_cli
from test_structure import write_project

from dbs import MYSQL, POSTGRES, DatabaseNames, fresh_database
from whimbrel import structure
from whimbrel.drift import drift
from whimbrel.testing.databases import connect


@pytest.fixture
def other_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/other.db"
        return
    names: DatabaseNames = request.getfixturevalue("db_names")
    if db_url.startswith("postgresql"):
        engine, admin = POSTGRES, request.getfixturevalue("pg_admin_url")
    else:
        engine, admin = MYSQL, request.getfixturevalue("mysql_admin_url")
    with fresh_database(engine, admin, names.new()) as url:
        yield url


def execute(url: str, sql: str) -> None:
    with closing(connect(url, autocommit=True)) as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        cursor.close()


def test_a_dump_loaded_into_a_fresh_database_has_no_drift(
    tmp_path: Path, db_url: str, other_url: str
) -> None:
    write_project(tmp_path)
    with migrator(tmp_path, db_url) as m:
        m.up()
        dumped = structure.dump(m, tmp_path / "s.sql")
    with migrator(tmp_path, other_url) as m:
        structure.load(m, dumped.path)
        report = drift(m)
    assert report.lines == []
    assert report.expected.table_names == report.actual.table_names == {"posts", "users"}
    done = run_cli(tmp_path, other_url, "diff")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "the database matches the migrations" in done.stderr


def test_a_hand_made_alter_is_detected_and_named(tmp_path: Path, db_url: str) -> None:
    write_project(tmp_path)
    with migrator(tmp_path, db_url) as m:
        m.up()
    execute(db_url, "CREATE TABLE audit (id INTEGER PRIMARY KEY)")
    execute(db_url, "ALTER TABLE posts ADD COLUMN extra INTEGER")
    done = run_cli(tmp_path, db_url, "diff")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert '+ table "audit"' in lines
    assert 'table "posts": + column "extra"' in lines
    assert len(lines) == 2, lines
    as_json = run_cli(tmp_path, db_url, "diff", "--json")
    assert as_json.returncode == 1
    payload = json.loads(as_json.stdout)
    assert payload["drift"] == lines
    assert "audit" not in [t["name"] for t in payload["expected"]["tables"]]


def test_a_dropped_index_and_changed_nullability_are_named(tmp_path: Path, db_url: str) -> None:
    write_project(tmp_path)
    with migrator(tmp_path, db_url) as m:
        m.up()
        index = next(i.name for i in drift(m).actual.table("users").indexes if i.unique)
    if db_url.startswith("mysql"):
        execute(db_url, f"DROP INDEX `{index}` ON users")
        execute(db_url, "ALTER TABLE posts MODIFY title VARCHAR(255) NULL")
    elif db_url.startswith("postgresql"):
        execute(db_url, f'DROP INDEX "{index}"')
        execute(db_url, "ALTER TABLE posts ALTER COLUMN title DROP NOT NULL")
    else:
        execute(db_url, f'DROP INDEX "{index}"')
    with migrator(tmp_path, db_url) as m:
        lines = drift(m).lines
    assert f'table "users": - index "{index}"' in lines
    if not db_url.startswith("sqlite"):
        assert 'table "posts": column "title": nullable False -> True' in lines


def test_a_missing_migration_table_shows_as_removed(tmp_path: Path, db_url: str) -> None:
    write_project(tmp_path)
    with migrator(tmp_path, db_url) as m:
        m.up(to=20)
    done = run_cli(tmp_path, db_url, "diff")
    assert done.returncode == 1
    assert done.stdout.splitlines() == ['table "posts": - column "body"']


def test_no_permission_to_create_the_scratch_database_is_exit_2(
    tmp_path: Path, pg_url: str
) -> None:
    write_project(tmp_path)
    role = f"whimbrel_nocreatedb_{secrets.token_hex(3)}"
    execute(pg_url, f"DROP ROLE IF EXISTS {role}")
    execute(pg_url, f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        url = pg_url.replace("postgres@", f"{role}@", 1)
        assert role in url
        done = run_cli(tmp_path, url, "diff")
        assert done.returncode == 2, done.stderr
        text = error_text(done)
        assert "cannot create a scratch database" in text
        assert "CREATEDB" in text and "--scratch-url" in text
    finally:
        execute(pg_url, f"DROP ROLE IF EXISTS {role}")


def test_the_replay_does_not_lint(tmp_path: Path, db_url: str) -> None:
    """Lint speaks at `migrate` and `lint`; the scratch replay of `diff` stays quiet."""
    write_project(tmp_path)
    (tmp_path / "migrations" / "900_rename_title.py").write_text(
        "from whimbrel.migration import *\n\n"
        "def change():\n"
        '    rename(table("posts"), "title", to="headline")\n'
    )
    migrated = run_cli(tmp_path, db_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "renaming-column" in migrated.stderr  # lint warns here...
    done = run_cli(tmp_path, db_url, "diff")
    assert done.returncode == 0, done.stderr
    assert "renaming-column" not in done.stderr and "warning" not in done.stderr  # ...not here
