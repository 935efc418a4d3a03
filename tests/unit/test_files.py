"""Finding migration files: names, order, sub-folders, skipped files and duplicates.

And what loading one says when it imports a module beside it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from whimbrel.errors import DuplicateMigrationError, MigrationFileError
from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.migrator.loader import load


def touch(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")


def test_files_are_sorted_by_version_not_by_name_or_folder(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "20260301000000_add_tags.sql",
        "9_early.py",
        "2026/20260101000000_create_posts.py",
        "a/b/20260201000000_add_index.py",
    )
    assert discover(tmp_path) == [
        MigrationFile(9, "early", tmp_path / "9_early.py"),
        MigrationFile(
            20260101000000, "create_posts", tmp_path / "2026/20260101000000_create_posts.py"
        ),
        MigrationFile(20260201000000, "add_index", tmp_path / "a/b/20260201000000_add_index.py"),
        MigrationFile(20260301000000, "add_tags", tmp_path / "20260301000000_add_tags.sql"),
    ]


def test_label_is_version_and_name(tmp_path: Path) -> None:
    touch(tmp_path, "20260101000000_create_posts.py")
    assert [f.label for f in discover(tmp_path)] == ["20260101000000_create_posts"]


def test_missing_folder_has_no_migrations(tmp_path: Path) -> None:
    assert discover(tmp_path / "absent") == []


def test_hidden_and_cache_folders_are_not_searched(tmp_path: Path) -> None:
    touch(tmp_path, ".git/1_hidden.py", "__pycache__/2_cached.py", "3_real.py")
    assert [f.name for f in discover(tmp_path)] == ["real"]


MALFORMED = [
    "create_posts.py",  # no version
    "20260101000000_CreatePosts.py",  # not snake_case
    "20260101000000-create_posts.py",  # dash instead of underscore
    "0_zero.py",  # version must be positive
    "20260101000000_create posts.sql",  # space in the name
    "helpers.py",  # any other Python file in the folder
]


@pytest.mark.parametrize("filename", MALFORMED)
def test_malformed_names_are_skipped_with_a_warning_naming_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, filename: str
) -> None:
    touch(tmp_path, filename, "20260101000001_ok.py")
    with caplog.at_level(logging.WARNING, logger="whimbrel"):
        found = discover(tmp_path)
    assert [f.name for f in found] == ["ok"]
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert str(tmp_path / filename) in record.getMessage()
    assert "<version>_<snake_case_name>.py" in record.getMessage()


def test_other_files_are_ignored_silently(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    touch(tmp_path, "README.md", "__init__.py", "20260101000000_notes.txt", "1_ok.sql")
    with caplog.at_level(logging.WARNING, logger="whimbrel"):
        assert [f.name for f in discover(tmp_path)] == ["ok"]
    assert caplog.records == []


def test_warnings_can_be_turned_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    touch(tmp_path, "create_posts.py")
    with caplog.at_level(logging.WARNING, logger="whimbrel"):
        assert discover(tmp_path, warn=False) == []
    assert caplog.records == []


def test_duplicate_version_names_both_files(tmp_path: Path) -> None:
    touch(tmp_path, "20260101000000_create_posts.py", "old/20260101000000_create_users.sql")
    with pytest.raises(DuplicateMigrationError) as err:
        discover(tmp_path)
    message = str(err.value)
    assert "migration version 20260101000000 is used by two files" in message
    assert str(tmp_path / "20260101000000_create_posts.py") in message
    assert str(tmp_path / "old/20260101000000_create_users.sql") in message
    assert "rename one of them" in message


def test_duplicate_name_names_both_files(tmp_path: Path) -> None:
    touch(tmp_path, "20260101000000_create_posts.py", "20260202000000_create_posts.sql")
    with pytest.raises(DuplicateMigrationError) as err:
        discover(tmp_path)
    message = str(err.value)
    assert "migration name create_posts is used by two files" in message
    assert str(tmp_path / "20260101000000_create_posts.py") in message
    assert str(tmp_path / "20260202000000_create_posts.sql") in message


def test_same_version_written_differently_is_a_duplicate(tmp_path: Path) -> None:
    touch(tmp_path, "7_first.py", "007_second.py")
    with pytest.raises(DuplicateMigrationError, match="migration version 7 is used by two files"):
        discover(tmp_path)


# --- loading: a migration importing a module beside it -------------------------------------


@pytest.mark.parametrize(
    ("statement", "error"),
    [("import helpers", "No module named"), ("from . import helpers", "relative")],
)
def test_importing_a_module_beside_the_migration_says_how_to_share_code(
    tmp_path: Path, statement: str, error: str
) -> None:
    """Migration files are loaded one by one (not as a package, folder not on sys.path),
    as alembic and yoyo load theirs, so the error says where shared code goes instead."""
    (tmp_path / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    path = tmp_path / "1_uses_helpers.py"
    path.write_text(f"{statement}\n\ndef change():\n    pass\n", encoding="utf-8")
    with pytest.raises(MigrationFileError) as caught:
        load(MigrationFile(1, "uses_helpers", path))
    message = str(caught.value)
    assert f"{path}:1: loading the file raised" in message and error in message
    assert "not on sys.path: put shared code in a module of your application" in message


def test_a_missing_package_gets_no_hint_about_modules_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "1_uses_package.py"
    path.write_text("import no_such_package_anywhere\n", encoding="utf-8")
    with pytest.raises(MigrationFileError) as caught:
        load(MigrationFile(1, "uses_package", path))
    assert "No module named 'no_such_package_anywhere'" in str(caught.value)
    assert "sys.path" not in str(caught.value)


def test_a_migration_file_compares_and_hashes_by_version_name_and_path(tmp_path: Path) -> None:
    as_text = MigrationFile(20, "b", str(tmp_path / "20_b.py"))
    as_path = MigrationFile(20, "b", tmp_path / "20_b.py")
    assert as_text == as_path and hash(as_text) == hash(as_path)
    assert as_text.path == tmp_path / "20_b.py" and isinstance(as_text.path, Path)
    assert sorted([as_path, MigrationFile(10, "z", tmp_path / "10_z.py")])[0].version == 10
    assert as_path != MigrationFile(20, "b", tmp_path / "other" / "20_b.py")
    assert repr(as_text) == f"MigrationFile(version=20, name='b', path={tmp_path / '20_b.py'!r})"
