"""What whimbrel says when a migration's own Python code fails, or its file is gone.

Recording (``change()``/``up()`` called before anything runs) and running are
two moments: an exception while recording is a bad migration file (exit 2,
file and line, Python's "Did you mean" kept); one while running is a failed
migration (exit 1) that says which one and what became of its transaction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import has
from migration_helpers import (
    HEADER,
    Catalog,
    error_text,
    migrator,
    run_cli,
    write,
    write_change,
    write_table_migrations,
)

from whimbrel.errors import MigrationFailedError, MigrationFileError


def test_a_typo_while_recording_names_file_line_and_the_hint(tmp_path: Path, db_url: str) -> None:
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    write(
        tmp_path / "migrations",
        "20_typo.py",
        HEADER + '\ndef change():\n    create(table("ok"))\n    craete(table("typo"))\n',
    )
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "20_typo.py:5:" in error  # HEADER, blank line, def, create, craete
    assert "change() raised NameError: name 'craete' is not defined" in error
    assert "Did you mean: 'create'?" in error
    assert "unexpected" not in done.stderr
    assert Catalog(db_url).user_tables() == set()  # checked before the first file ran


def test_a_runtime_error_while_recording_up_is_a_bad_file(tmp_path: Path, db_url: str) -> None:
    write(
        tmp_path / "migrations",
        "10_raises.py",
        HEADER + '\ndef up():\n    raise RuntimeError("not ready")\n\ndef down():\n    pass\n',
    )
    with migrator(tmp_path, db_url) as m, pytest.raises(MigrationFileError) as caught:
        m.up()
    assert str(caught.value).endswith("10_raises.py:4: up() raised RuntimeError: not ready")
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_an_exception_at_run_time_names_the_migration_and_its_rollback(
    tmp_path: Path, db_url: str
) -> None:
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    write(
        tmp_path / "migrations",
        "20_boom.py",
        HEADER
        + "\ndef boom():\n    raise RuntimeError('boom')\n\n"
        + 'def up():\n    create(table("second"))\n    execute(boom)\n\ndef down():\n    pass\n',
    )
    done = run_cli(tmp_path, db_url, "migrate")
    assert done.returncode == 1, done.stderr
    error = error_text(done)
    assert "migration 20_boom (up) failed:" in error
    assert "20_boom.py:4: raised RuntimeError: boom" in error
    catalog = Catalog(db_url)
    assert catalog.versions() == [10]
    if has(db_url, "transactional_ddl"):
        assert "nothing was applied: the transaction, with the version row, was rolled back" in (
            error
        )
        assert catalog.user_tables() == {"first"}
    else:  # MySQL: what ran stays, and says so
        assert "stay applied" in error and "CREATE TABLE `second`" in error
        assert catalog.user_tables() == {"first", "second"}


def test_an_exception_at_run_time_through_the_api(tmp_path: Path, sqlite_url: str) -> None:
    write(
        tmp_path / "migrations",
        "10_boom.py",
        HEADER + '\ndef up():\n    execute(lambda: {}["missing"])\n\ndef down():\n    pass\n',
    )
    with migrator(tmp_path, sqlite_url) as m, pytest.raises(MigrationFailedError) as caught:
        m.up()
    assert caught.value.version == 10 and caught.value.rolled_back
    assert "KeyError: 'missing'" in str(caught.value)
    assert isinstance(caught.value.__cause__, KeyError)


def test_rollback_refuses_when_the_newest_applied_file_is_gone(tmp_path: Path, db_url: str) -> None:
    write_table_migrations(tmp_path, [10, 20, 30])
    with migrator(tmp_path, db_url) as m:
        m.up()
    (tmp_path / "migrations" / "30_create_t30.py").unlink()
    done = run_cli(tmp_path, db_url, "rollback")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "version 30 is applied but its file is missing" in error
    assert str(tmp_path / "migrations") in error
    assert Catalog(db_url).versions() == [10, 20, 30]  # 20 was not rolled back instead
    assert Catalog(db_url).user_tables() == {"t10", "t20", "t30"}
