"""The pytest plugin, run as a user runs it: pytest in a subprocess on examples/pytest_project.

Each backend gets the example's own pass, and a copy whose last migration has a
broken ``down()`` that the ``up_down_up`` check must catch and name.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from migration_helpers import cli_env

from whimbrel.migrator.files import MigrationFile
from whimbrel.testing import checks, parse_checks
from whimbrel.testing.catalog import diff

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest_project"
LAST = "20260101100200_add_pages_to_books.py"


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def server_url(request: pytest.FixtureRequest) -> str | None:
    """Where the example's test databases go: None (SQLite files) or a server's admin URL."""
    if request.param == "sqlite":
        return None
    fixture = "pg_admin_url" if request.param == "postgres" else "mysql_admin_url"
    request.applymarker(getattr(pytest.mark, request.param))
    url: str = request.getfixturevalue(fixture)
    if request.param == "mysql" and url.endswith("/"):
        url += "mysql"  # throwaway names derive from the URL's database
    return url


def run_pytest(project: Path, url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in cli_env().items() if not k.startswith(("PYTEST_", "WHIMBREL_TEST_"))}
    options = ["--whimbrel-database-url", url] if url else []
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *options, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def outcome(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    last = done.stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|error)", last)}


def test_the_example_project_passes(tmp_path: Path, server_url: str | None) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    done = run_pytest(project, server_url)
    assert done.returncode == 0, done.stdout + done.stderr
    # 3 tests + up_down_up + versions pass; lint skips until whimbrel.lint exists.
    lint_available = _lint_available()
    assert outcome(done) == ({"passed": 6} if lint_available else {"passed": 5, "skipped": 1})
    if not lint_available:
        assert "whimbrel.lint is not available" in done.stdout


def test_a_broken_down_is_caught_by_up_down_up(tmp_path: Path, server_url: str | None) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    last = project / "migrations" / LAST
    last.write_text(last.read_text().replace('remove("pages")', 'add("spare", "integer")'))
    done = run_pytest(project, server_url, "-k", "up_down_up")
    assert done.returncode == 1, done.stdout + done.stderr
    assert outcome(done) == {"failed": 1}
    report = done.stdout
    assert "whimbrel up_down_up check failed" in report
    assert "20260101100200_add_pages_to_books: down did not undo up" in report
    assert re.search(r"(extra|changed) (column|table) \S*books\S*", report), report
    assert "spare" in report
    assert "Traceback" not in report


def test_unknown_check_names_are_refused(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    ini = project / "pytest.ini"
    ini.write_text(ini.read_text().replace("versions, lint", "versions, lnt"))
    done = run_pytest(project, None)
    assert done.returncode == 4  # pytest's usage error
    assert "unknown check lnt" in done.stderr and "up_down_up, versions, lint, diff" in done.stderr


def test_the_diff_check_names_the_drift(tmp_path: Path, sqlite_url: str) -> None:
    """whimbrel_diff_url: a database migrated and then altered by hand is reported."""
    import sqlite3

    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project)
    target = tmp_path / "test.db"
    assert (
        subprocess.run(
            [sys.executable, "-m", "whimbrel", "--database-url", sqlite_url, "-q", "migrate"],
            cwd=project,
            env=cli_env(),
            check=False,
        ).returncode
        == 0
    )
    clean = run_pytest(
        project, None, "-o", f"whimbrel_diff_url={sqlite_url}", "-o", "whimbrel_checks=diff"
    )
    assert outcome(clean) == {"passed": 4}, clean.stdout
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE INDEX by_hand ON books (pages)")
    drifted = run_pytest(
        project,
        None,
        "-o",
        f"whimbrel_diff_url={sqlite_url}",
        "-o",
        "whimbrel_checks=diff",
        "-k",
        "diff",
    )
    assert outcome(drifted) == {"failed": 1}, drifted.stdout
    assert "extra index books.by_hand: CREATE INDEX by_hand ON books (pages)" in drifted.stdout


def test_versions_check() -> None:
    def f(version: int, name: str) -> MigrationFile:
        return MigrationFile(version, name, Path(f"{version}_{name}.py"))

    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert checks.versions([f(20260101000000, "a"), f(20260102000000, "b")], now) == []
    problems = checks.versions([f(3, "a"), f(20260101000000, "b"), f(20990101000000, "c")], now)
    assert problems == [
        "not YYYYMMDDHHMMSS like the others: 3_a; rename with a timestamp",
        "20990101000000_c is dated in the future (now 20260601000000): fix its timestamp",
    ]
    assert parse_checks("up_down_up,versions  lint") == ["up_down_up", "versions", "lint"]


def test_snapshot_diff_lines() -> None:
    assert diff({"table a": "x", "index a.i": "p"}, {"table a": "y", "table b": "z"}) == [
        "missing index a.i: p",
        "changed table a: x -> y",
        "extra table b: z",
    ]


def _lint_available() -> bool:
    """Whether the lint check can run (whimbrel.lint with lint_paths, written elsewhere)."""
    try:
        import whimbrel.lint as lint  # type: ignore[import-not-found]
    except ImportError:
        return False
    return hasattr(lint, "lint_paths")
