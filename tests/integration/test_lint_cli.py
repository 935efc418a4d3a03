"""`whimbrel lint` as a user runs it: output, --json, exit codes 0 / 1 / 2.

Lint never connects: the database URL only chooses the rules (its scheme), so
these tests give URLs of servers that do not exist.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from migration_helpers import error_text, run_cli, write_config

PG = "postgresql://lint@127.0.0.1:9/never_connected"
MYSQL = "mysql://lint@127.0.0.1:9/never_connected"

CREATE = """from whimbrel.migration import *

def change():
    with create(table("posts")):
        add("title", "string")
        add("views", "integer")
"""
RISKY = """from whimbrel.migration import *

def change():
    create(index("posts", ["title"]))
    with alter(table("posts")):
        modify("views", "bigint")
"""


def _project(tmp_path: Path, *sources: str, folder: str = "migrations") -> Path:
    target = tmp_path / folder
    target.mkdir(parents=True, exist_ok=True)
    for n, source in enumerate(sources, 1):
        (target / f"{n}_step{n}.py").write_text(source)
    return target


def test_findings_exit_1_and_name_rule_file_and_line(tmp_path: Path) -> None:
    _project(tmp_path, CREATE, RISKY)
    done = run_cli(tmp_path, PG, "lint")
    assert done.returncode == 1, done.stderr
    risky = tmp_path.resolve() / "migrations" / "2_step2.py"
    assert f"{risky}:4: require-concurrent-index: " in done.stdout
    assert f"{risky}:6: changing-column-type: " in done.stdout
    assert "  fix: " in done.stdout
    assert "lint: 2 finding(s)" in done.stderr
    assert "rules for postgresql" in done.stderr


def test_clean_migrations_exit_0(tmp_path: Path) -> None:
    _project(tmp_path, CREATE)
    done = run_cli(tmp_path, PG, "lint")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    assert "no problems found" in done.stderr


def test_json_is_a_list_of_findings_with_five_fields(tmp_path: Path) -> None:
    folder = _project(tmp_path, CREATE, RISKY)
    done = run_cli(tmp_path, PG, "lint", str(folder / "2_step2.py"), "--json")
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)
    assert [(f["rule"], f["line"]) for f in findings] == [
        ("require-concurrent-index", 4),
        ("changing-column-type", 6),
    ]
    assert all(set(f) == {"rule", "file", "line", "message", "fix"} for f in findings)
    assert all(f["file"] == str(folder.resolve() / "2_step2.py") for f in findings)
    clean = run_cli(tmp_path, PG, "lint", str(folder / "1_step1.py"), "--json")
    assert (clean.returncode, json.loads(clean.stdout)) == (0, [])


def test_the_database_url_chooses_the_rules(tmp_path: Path) -> None:
    _project(tmp_path, CREATE, RISKY)
    done = run_cli(tmp_path, MYSQL, "lint", "--json", "--server-version", "8.0.30")
    assert done.returncode == 1, done.stderr
    assert [f["rule"] for f in json.loads(done.stdout)] == ["mysql-copy-algorithm"]


def test_safety_assured_makes_it_clean(tmp_path: Path) -> None:
    assured = RISKY.replace(
        "def change",
        'safety_assured = ["require-concurrent-index", "changing-column-type"]\n\ndef change',
    )
    _project(tmp_path, CREATE, assured)
    done = run_cli(tmp_path, PG, "lint")
    assert done.returncode == 0, done.stdout + done.stderr


def _bad(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    return error_text(done)


def test_an_unknown_rule_name_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    _project(tmp_path, CREATE, 'safety_assured = ["renaming-colum"]\n\ndef change():\n    pass\n')
    message = _bad(run_cli(tmp_path, PG, "lint"))
    assert "2_step2.py:1: safety_assured names an unknown rule 'renaming-colum'" in message
    assert "(did you mean 'renaming-column'?)" in message


def test_bad_paths_and_versions_exit_2(tmp_path: Path) -> None:
    _project(tmp_path, CREATE)
    assert "does not exist" in _bad(run_cli(tmp_path, PG, "lint", "nowhere"))
    (tmp_path / "notes.sql").write_text("SELECT 1;")
    assert "is not a migration file" in _bad(run_cli(tmp_path, PG, "lint", "notes.sql"))
    assert "is not a version" in _bad(
        run_cli(tmp_path, MYSQL, "lint", "--server-version", "newest")
    )


def test_a_broken_migration_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    _project(tmp_path, "from whimbrel.migration import *\n\ndef change():\n    remove('x')\n")
    assert "1_step1.py:4: remove() can only be used inside a block" in _bad(
        run_cli(tmp_path, PG, "lint")
    )


def test_the_configured_folders_are_the_default(tmp_path: Path) -> None:
    write_config(tmp_path, migrations_path="db/migrations")
    _project(tmp_path, CREATE, RISKY, folder="db/migrations")
    done = run_cli(tmp_path, PG, "lint", "--json")
    assert done.returncode == 1, done.stderr
    assert {Path(f["file"]).parent.name for f in json.loads(done.stdout)} == {"migrations"}


def test_a_bad_lint_setting_exits_2(tmp_path: Path) -> None:
    write_config(tmp_path, lint="loud")
    _project(tmp_path, CREATE)
    assert "lint = 'loud' is not a lint mode" in _bad(run_cli(tmp_path, PG, "lint"))
