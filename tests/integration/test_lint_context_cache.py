"""Lint's walk of the applied migrations, remembered between deploys (``lint.context_cache``)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from migration_helpers import cli_command, cli_env, run_cli, write_change

from whimbrel.lint.context_cache import ContextCache

SET_NOT_NULL = 'with alter(table("posts")):\n    modify("title", "string", null=False)'


def _age(folder: Path) -> None:
    """Let the files grow old enough to be remembered: a file changed less than
    ``RACY_S`` before the walk is not (its change time cannot be set back)."""
    time.sleep(ContextCache.RACY_S + 0.2)


def _history(project: Path, count: int) -> None:
    write_change(project, 1, "posts", 'with create(table("posts")):\n    add("title", "string")')
    write_change(
        project,
        2,
        "title_check",
        'create(constraint("posts", "title_nn", check="title IS NOT NULL", validate=False))',
    )
    write_change(project, 3, "validate", 'validate_constraint("posts", "title_nn")')
    for n in range(4, count + 1):
        write_change(project, n, f"t{n}", f'create(table("t{n}"))')


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's cache folder for this test (``run_cli`` drops WHIMBREL_* variables)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "whimbrel"


def _cache_file(cache_dir: Path, project: Path) -> Path:
    cache = ContextCache.for_folder(str(project / "migrations"), key="", cache_dir=str(cache_dir))
    assert cache.file is not None
    return Path(cache.file)


def test_a_remembered_walk_gives_the_same_findings(
    tmp_path: Path, pg_url: str, cache_dir: Path
) -> None:
    project = tmp_path / "p"
    _history(project, 20)
    _age(project / "migrations")
    assert run_cli(project, pg_url, "migrate").returncode == 0
    # Migration 21 sets NOT NULL; migration 3 validated a check, so lint says nothing.
    write_change(project, 21, "not_null", SET_NOT_NULL)
    first = run_cli(project, pg_url, "migrate", "--dry-run")
    assert first.returncode == 0, first.stderr
    assert "setting-not-null" not in first.stderr
    remembered = json.loads(_cache_file(cache_dir, project).read_text())
    assert len(remembered["files"]) == 20
    assert ["posts", "title"] in remembered["schema"]["not_null_checked"]
    again = run_cli(project, pg_url, "migrate", "--dry-run")  # from the cache this time
    assert again.returncode == 0 and "setting-not-null" not in again.stderr


def test_the_cache_is_what_is_read_and_an_edit_invalidates_it(
    tmp_path: Path, pg_url: str, cache_dir: Path
) -> None:
    project = tmp_path / "p"
    _history(project, 5)
    _age(project / "migrations")
    assert run_cli(project, pg_url, "migrate").returncode == 0
    write_change(project, 6, "not_null", SET_NOT_NULL)
    assert "setting-not-null" not in run_cli(project, pg_url, "migrate", "--dry-run").stderr
    # Plant a cache that forgot the validated check: the warning appears, so it was read.
    cache_file = _cache_file(cache_dir, project)
    data = json.loads(cache_file.read_text())
    data["schema"]["not_null_checked"] = []
    cache_file.write_text(json.dumps(data))
    assert "setting-not-null" in run_cli(project, pg_url, "migrate", "--dry-run").stderr
    # Touching an applied file (a new change time) makes the cache useless: walked afresh.
    os.utime(project / "migrations" / "3_validate.py")
    assert "setting-not-null" not in run_cli(project, pg_url, "migrate", "--dry-run").stderr


def test_without_a_cache_the_findings_are_the_same(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    env = {**cli_env(), "WHIMBREL_CACHE_DIR": "off"}

    def migrate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli_command(pg_url, "migrate", *args),
            cwd=project, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    project = tmp_path / "p"
    _history(project, 4)
    write_change(project, 5, "posts_body", 'with alter(table("posts")):\n    add("body", "text")')
    _age(project / "migrations")
    assert migrate().returncode == 0
    write_change(project, 6, "not_null", SET_NOT_NULL)
    done = migrate("--dry-run")
    assert done.returncode == 0 and "setting-not-null" not in done.stderr, done.stderr
    write_change(
        project, 7, "body_nn", 'with alter(table("posts")):\n    modify("body", "text", null=False)'
    )
    done = migrate("--dry-run")
    assert "setting-not-null" in done.stderr  # body has no validated check
    assert not (tmp_path / "xdg").exists()
