"""``make clean`` removes every file ``make demo`` leaves in the example project.

The demo migrates examples/blog into an SQLite file; the migration lock adds
``<db>-whimbrel.lock`` beside it. The test runs the same migration on a copy
of the example and checks that each new file is named by ``make -n clean``.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from migration_helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]


def _cleaned() -> set[str]:
    """The paths ``make clean`` would remove (it is only printed: ``-n``)."""
    done = subprocess.run(
        ["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {word for line in done.stdout.splitlines() for word in shlex.split(line)[2:]}


def test_clean_removes_what_the_demo_creates(tmp_path: Path) -> None:
    project = tmp_path / "examples" / "blog"
    shutil.copytree(ROOT / "examples" / "blog", project, ignore=shutil.ignore_patterns("*.db*"))
    before = {p for p in project.rglob("*") if "__pycache__" not in p.parts}
    done = subprocess.run(
        [sys.executable, "-m", "whimbrel", "migrate"],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    created = {
        str(p.relative_to(tmp_path))
        for p in project.rglob("*")
        if p not in before and "__pycache__" not in p.parts
    }
    assert "examples/blog/whimbrel.db-whimbrel.lock" in created  # the lock file exists
    assert created <= _cleaned(), created - _cleaned()
