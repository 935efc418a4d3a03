"""``pip install whimbrel`` runs SQLite with no server driver; a server URL names its extra.

Each case runs in a fresh interpreter whose import system refuses psycopg and
pymysql, as on a machine where only the base package is installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BLOCKER = textwrap.dedent(
    """
    import sys

    class Blocker:
        # Refuse the drivers as if they were not installed.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("psycopg", "pymysql", "psycopg_binary"):
                raise ImportError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Blocker())
    from whimbrel.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_migration(tmp_path: Path) -> None:
    (tmp_path / "whimbrel.toml").write_text('migrations_path = "migrations"\n')
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20260101000000_create_posts.py").write_text(
        "from whimbrel.migration import *\n\n\n"
        "def change():\n"
        '    with create(table("posts")):\n'
        '        add("title", "string")\n'
    )


def test_sqlite_migrates_without_any_driver(tmp_path: Path) -> None:
    write_migration(tmp_path)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    done = run_cli(tmp_path, "migrate", "--database-url", url)
    assert done.returncode == 0, done.stderr
    status = run_cli(tmp_path, "status", "--database-url", url)
    assert status.returncode == 0, status.stderr
    assert "up" in status.stdout and "create_posts" in status.stdout


def test_a_postgres_url_names_the_extra(tmp_path: Path) -> None:
    write_migration(tmp_path)
    url = "postgresql://postgres@127.0.0.1:5432/nowhere"
    done = run_cli(tmp_path, "migrate", "--database-url", url)
    assert done.returncode == 2
    assert "pip install 'whimbrel[postgres]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_mysql_url_names_the_extra(tmp_path: Path) -> None:
    write_migration(tmp_path)
    url = "mysql://root@127.0.0.1:3306/nowhere"
    done = run_cli(tmp_path, "status", "--database-url", url)
    assert done.returncode == 2
    assert "pip install 'whimbrel[mysql]'" in done.stderr
