"""Bad input, through the real command: exit code, one clear paragraph, nothing half-applied.

Each case runs ``python -m whimbrel`` in a subprocess and then reads the
database catalog: a refused run must leave no table, no versions table and no
version row behind (or exactly what was there before).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write,
    write_change,
    write_table_migrations,
)

from whimbrel.errors import MigrationFileError


def _assert_untouched(url: str) -> None:
    catalog = Catalog(url)
    assert catalog.tables() == set()  # no user table, and not even the versions table
    assert catalog.applied() == []


def test_malformed_file_names_are_skipped_with_a_warning(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    folder = tmp_path / "migrations"
    write(folder, "create_things.py", "raise SystemExit('must not be loaded')\n")
    write(folder, "20_CreateThings.py", "raise SystemExit('must not be loaded')\n")
    write(folder, "0_zero.sql", "-- whimbrel:up\nCREATE TABLE zero (a int);\n")
    write(folder, "README.md", "notes, not a migration\n")
    write_change(tmp_path, 30, "nested", 'create(table("t30"))', folder="migrations/sub")

    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3, done.stderr
    for bad in ("create_things.py", "20_CreateThings.py", "0_zero.sql"):
        line = next(w for w in warnings if bad in w)
        assert "<version>_<snake_case_name>" in line  # the fix: how files are named
    assert "README.md" not in done.stderr
    catalog = Catalog(db_url)
    assert catalog.versions() == [10, 30]  # files in sub-folders count
    assert catalog.user_tables() == {"t10", "t30"}


def test_file_without_change_or_up_exits_2(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    write(tmp_path / "migrations", "20_helpers.py", "def helper():\n    return 1\n")
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_helpers.py" in error
    assert "change()" in error and "up()" in error and "def change():" in error
    _assert_untouched(db_url)


def test_syntax_error_names_file_and_line_and_exits_2(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10])
    write(
        tmp_path / "migrations",
        "20_broken.py",
        'from whimbrel.migration import *\n\ndef change():\n    create(table("x")\n\nx = 1\n',
    )
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_broken.py:4" in error
    assert "syntax" in error.lower() and "never closed" in error
    _assert_untouched(db_url)


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('with create(table("x")):\n    add("a", "string", bogus=1)', 5, ["bogus", "options"]),
        ('with create(table("x")):\n    add("a", "decimal", scale=2)', 5, ["scale", "precision"]),
        ('add("a", "string")', 4, ["add()", "inside a block"]),
        ('create(index("x", ["a"], nulls_distinct=False))', 4, ["nulls_distinct", "unique"]),
    ],
    ids=["unknown_option", "scale_without_precision", "outside_block", "nulls_distinct"],
)
def test_dsl_error_names_file_and_line_and_changes_nothing(
    tmp_path: Path, db_url: str, body: str, line: int, words: list[str]
) -> None:
    write_table_migrations(tmp_path, [10])
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    catalog = Catalog(db_url)
    before = catalog.snapshot()

    write_change(tmp_path, 20, "bad_dsl", body)
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert f"20_bad_dsl.py:{line}:" in error
    for word in words:
        assert word in error
    assert catalog.snapshot() == before
    assert catalog.versions() == [10]


def test_unreachable_database_shows_masked_url_and_exits_2(tmp_path: Path) -> None:
    write_table_migrations(tmp_path, [10])
    done = run_cli(tmp_path, "postgresql://u:secret@127.0.0.1:1/x", "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "postgresql://u:***@127.0.0.1:1/x" in error
    assert "secret" not in done.stderr + done.stdout
    assert "Check that the server is running" in error


def test_unreachable_sqlite_folder_exits_2(tmp_path: Path) -> None:
    write_table_migrations(tmp_path, [10])
    done = run_cli(tmp_path, f"sqlite:///{tmp_path}/missing/dir/x.db", "migrate")
    assert done.returncode == 2, done.stderr
    assert "does not exist" in error_text(done)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("url", ["oracle://u:secret@db/x", "no-scheme-here"])
def test_unknown_url_scheme_exits_2(tmp_path: Path, url: str) -> None:
    write_table_migrations(tmp_path, [10])
    done = run_cli(tmp_path, url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "scheme" in error and "postgresql" in error and "sqlite" in error
    assert "secret" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("migrate", "--to", "15"),
        ("migrate", "--to-exclusive", "15"),
        ("rollback", "--to", "15"),
        ("rollback", "--to-exclusive", "15"),
    ],
)
def test_target_that_matches_nothing_exits_2(
    tmp_path: Path, db_url: str, args: tuple[str, ...]
) -> None:
    write_table_migrations(tmp_path, [10, 20])
    if args[0] == "rollback":
        assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    catalog = Catalog(db_url)
    before = (catalog.snapshot(), catalog.versions())

    done = run_cli(tmp_path, db_url, *args)
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "15" in error and "whimbrel status" in error
    assert (catalog.snapshot(), catalog.versions()) == before


@pytest.mark.parametrize("clash", ["version", "name"])
def test_duplicate_migrations_exit_2_and_nothing_runs(
    tmp_path: Path, db_url: str, clash: str
) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    other = "20_other_name.py" if clash == "version" else "40_create_t20.py"
    write(tmp_path / "migrations" / "more", other, "def change():\n    pass\n")

    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_create_t20.py" in error and other in error
    assert clash in error and "rename" in error
    _assert_untouched(db_url)


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("30_bad.py", "def change(:\n    pass\n", "30_bad.py:1"),
        ("30_bad.py", "x = 1\n", "neither change() nor up()"),
        ("30_bad.py", "import no_such_module_anywhere\n", "ModuleNotFoundError"),
        ("30_bad.sql", "CREATE TABLE nope (a int);\n", "whimbrel:up"),
        ("30_bad.sql", "-- whimbrel:up transaction:maybe\nSELECT 1;\n", "transaction:false"),
    ],
    ids=["syntax", "no_change", "import_error", "sql_no_marker", "sql_bad_option"],
)
def test_bad_file_later_in_the_plan_means_nothing_earlier_ran(
    tmp_path: Path, db_url: str, filename: str, text: str, expected: str
) -> None:
    write_table_migrations(tmp_path, [10, 20])
    write(tmp_path / "migrations", filename, text)
    write_table_migrations(tmp_path, [40])

    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert filename in error and expected in error
    assert "Running" not in done.stderr
    _assert_untouched(db_url)

    # The Python API refuses the same way, with the file named on the exception.
    with migrator(tmp_path, db_url) as m, pytest.raises(MigrationFileError) as caught:
        m.up()
    assert caught.value.path is not None and caught.value.path.endswith(filename)
    _assert_untouched(db_url)
