"""Lint's engine: lines of DSL calls, safety_assured, context from earlier files, the
migrate hook, bad input, and the type-change tables."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lint_helpers import SETUP, lint_after_setup, rules_of, write
from whimbrel.config import load_config
from whimbrel.errors import MigrationDefinitionError, UsageError
from whimbrel.lint import LintFindingsError, before_migrate, database_of, lint_paths
from whimbrel.lint.engine import parse_version
from whimbrel.lint.types import mysql_copies, pg_rewrites
from whimbrel.migrator.files import discover
from whimbrel.migrator.loader import load

RISKY = """
from whimbrel.migration import *

def up():
    create(index("posts", ["views"]))
    with alter(table("posts")):
        add("score", "integer")
        modify("views", "bigint")
        timestamps()
    execute_file("fix.sql")

def down():
    pass
"""


def test_each_finding_names_the_line_of_its_dsl_call(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write(folder, SETUP, RISKY)
    (folder / "fix.sql").write_text("UPDATE posts SET score = 0;\n")
    found = {(f.rule, f.line) for f in lint_paths([folder])}
    assert ("require-concurrent-index", 4) in found
    assert ("changing-column-type", 7) in found  # modify() inside the block, not alter()
    assert ("unbatched-data-change", 9) in found  # the execute_file() call


def test_a_sql_file_reports_the_line_of_each_statement(tmp_path: Path) -> None:
    sql = "-- whimbrel:up\n-- a comment\nSELECT 1;\n\nCREATE INDEX i ON posts (title);\n"
    findings = lint_after_setup(tmp_path, sql)
    assert [(f.rule, f.line) for f in findings] == [("require-concurrent-index", 5)]
    assert findings[0].file.endswith("2_step2.sql")


def test_safety_assured_silences_only_the_rules_it_names(tmp_path: Path) -> None:
    source = RISKY.replace("def up", 'safety_assured = ["require-concurrent-index"]\n\ndef up')
    folder = tmp_path / "migrations"
    write(folder, SETUP, source)
    (folder / "fix.sql").write_text("SELECT 1;\n")
    found = rules_of(lint_paths([folder]))
    assert "require-concurrent-index" not in found
    assert "changing-column-type" in found


def test_an_unknown_rule_in_safety_assured_is_bad_input_with_a_suggestion(tmp_path: Path) -> None:
    source = 'from whimbrel.migration import *\n\nsafety_assured = ["droping-column"]\n\n'
    source += 'def change():\n    drop(table("tags"))\n'
    with pytest.raises(MigrationDefinitionError) as caught:
        lint_after_setup(tmp_path, source)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "migrations" / "2_step2.py") + ":3: ")
    assert "unknown rule 'droping-column' (did you mean 'dropping-column'?)" in message
    assert caught.value.exit_code == 2


def test_safety_assured_must_be_a_list(tmp_path: Path) -> None:
    source = 'safety_assured = "dropping-table"\n\ndef change():\n    pass\n'
    with pytest.raises(MigrationDefinitionError, match="must be a list of rule names"):
        lint_after_setup(tmp_path, source)


def test_linting_one_file_learns_from_the_earlier_ones(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    widen = "from whimbrel.migration import *\n\ndef change():\n"
    widen += '    with alter(table("posts")):\n        modify("title", "text")\n'
    bigint = widen.replace('"title", "text"', '"views", "bigint"')
    _, second, third = write(folder, SETUP, widen, bigint)
    findings = lint_paths([second])
    assert findings == []  # varchar(255) -> text: the type is known from migration 1
    findings = lint_paths([third])
    assert [(f.rule, Path(f.file).name) for f in findings] == [
        ("changing-column-type", "3_step3.py")
    ]
    assert "from integer to bigint" in findings[0].message


def test_a_table_created_in_the_same_migration_is_not_existing(tmp_path: Path) -> None:
    source = "from whimbrel.migration import *\n\ndef change():\n"
    source += '    with create(table("events")):\n        add("at", "utc_datetime")\n'
    source += '    create(index("events", ["at"]))\n'
    source += '    with alter(table("events")):\n        add("uid", "uuid", '
    source += 'default=fragment("gen_random_uuid()"))\n'
    assert lint_after_setup(tmp_path, source) == []


def test_recording_stops_at_a_query_and_keeps_what_came_before(tmp_path: Path) -> None:
    source = """
    from whimbrel.migration import *

    def up():
        drop(table("tags"))
        rows = repo().query("SELECT count(*) FROM posts")
        if rows[0][0] > 0:
            drop(table("users"))

    def down():
        pass
    """
    findings = lint_after_setup(tmp_path, source)
    assert [(f.rule, f.line) for f in findings] == [("dropping-table", 4)]


def test_a_python_callable_in_execute_is_not_linted(tmp_path: Path) -> None:
    source = "from whimbrel.migration import *\n\ndef backfill():\n    pass\n\n"
    source += "def up():\n    execute(backfill)\n\ndef down():\n    pass\n"
    assert lint_after_setup(tmp_path, source) == []


def test_a_mistake_in_the_migration_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    source = 'from whimbrel.migration import *\n\ndef change():\n    add("x", "text")\n'
    with pytest.raises(MigrationDefinitionError, match=r"2_step2.py:4: add\(\) can only"):
        lint_after_setup(tmp_path, source)


def test_a_path_that_is_not_a_migration_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "notes.py").write_text("")
    with pytest.raises(UsageError, match="is not a migration file"):
        lint_paths([tmp_path / "notes.py"])
    with pytest.raises(UsageError, match="does not exist"):
        lint_paths([tmp_path / "missing"])


def test_findings_have_the_json_fields() -> None:
    from whimbrel.lint import Finding

    finding = Finding("dropping-table", "m.py", 3, "why", "how")
    assert finding.as_dict() == {
        "rule": "dropping-table",
        "file": "m.py",
        "line": 3,
        "message": "why",
        "fix": "how",
    }
    assert str(finding) == "m.py:3: dropping-table: why\n  fix: how"


# -- the hook migrate calls --------------------------------------------------------------------


def _planned(tmp_path: Path) -> list:
    folder = tmp_path / "migrations"
    write(
        folder,
        SETUP,
        'from whimbrel.migration import *\n\ndef change():\n    drop(table("tags"))\n',
    )
    return [load(f) for f in discover(folder)]


def test_before_migrate_warns_by_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    migrations = _planned(tmp_path)
    with caplog.at_level(logging.WARNING, logger="whimbrel"):
        logging.getLogger("whimbrel").propagate = True
        found = before_migrate(
            migrations[1:], mode="warn", database="postgresql", context=migrations[:1]
        )
    assert [f.rule for f in found] == ["dropping-table"]
    assert "dropping-table" in caplog.text


def test_before_migrate_in_error_mode_stops_with_exit_2(tmp_path: Path) -> None:
    migrations = _planned(tmp_path)
    with pytest.raises(LintFindingsError) as caught:
        before_migrate(migrations[1:], mode="error", database="sqlite", context=migrations[:1])
    assert caught.value.exit_code == 2
    assert "2_step2.py:4: dropping-table" in str(caught.value)


def test_the_lint_config_key(tmp_path: Path) -> None:
    (tmp_path / "whimbrel.toml").write_text('lint = "error"\n')
    assert load_config(cwd=tmp_path, env={}).lint == "error"
    (tmp_path / "whimbrel.toml").write_text("")
    assert load_config(cwd=tmp_path, env={}).lint == "warn"
    (tmp_path / "whimbrel.toml").write_text('lint = "strict"\n')
    with pytest.raises(UsageError, match="lint = 'strict' is not a lint mode.*\"warn\""):
        load_config(cwd=tmp_path, env={})


# -- databases, versions and types --------------------------------------------------------------


def test_the_database_comes_from_the_url_scheme() -> None:
    assert database_of("postgres://u@h/db") == "postgresql"
    assert database_of("postgresql+psycopg://u@h/db") == "postgresql"
    assert database_of("mariadb://u@h/db") == "mariadb"
    assert database_of("sqlite:///x.db") == "sqlite"


def test_a_mariadb_version_selects_the_mariadb_rules(tmp_path: Path) -> None:
    add_after = "from whimbrel.migration import *\n\ndef change():\n"
    add_after += '    with alter(table("posts")):\n        add("lead", "text", after="title")\n'
    # A mysql:// URL may reach MariaDB: the version string says which server it is.
    old_mariadb = lint_after_setup(
        tmp_path / "a", add_after, database="mysql", server_version="10.3.7-MariaDB"
    )
    new_mariadb = lint_after_setup(
        tmp_path / "b", add_after, database="mysql", server_version="10.4.2-MariaDB"
    )
    old_mysql = lint_after_setup(
        tmp_path / "c", add_after, database="mysql", server_version="8.0.28"
    )
    assert "mysql-table-rebuild" in rules_of(old_mariadb)  # 10.3: instant only as last column
    assert "mysql-table-rebuild" not in rules_of(new_mariadb)  # 10.4: instant anywhere
    assert "mysql-table-rebuild" in rules_of(old_mysql)
    assert parse_version("8.0.28") == (8, 0, 28)
    with pytest.raises(UsageError, match="is not a version"):
        parse_version("latest")


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        ("varchar(255)", "varchar(500)", False),
        ("varchar(500)", "varchar(255)", True),
        ("character varying(20)", "text", False),
        ("text", "varchar", False),
        ("text", "varchar(10)", True),
        ("numeric(10,2)", "numeric(12,2)", False),
        ("numeric(10,2)", "numeric(12,3)", True),
        ("numeric(10,2)", "numeric", False),
        ("timestamp(0)", "timestamp", False),
        ("timestamp", "timestamp(0)", True),
        ("timestamp", "timestamptz", True),
        ("cidr", "inet", False),
        ("integer", "bigint", True),
        ("INT", "integer", False),
    ],
)
def test_which_postgres_type_changes_rewrite(old: str, new: str, rewrites: bool) -> None:
    assert pg_rewrites(old, new) is rewrites


@pytest.mark.parametrize(
    ("old", "new", "copies"),
    [
        ("varchar(10)", "varchar(60)", False),  # 40 -> 240 bytes: one length byte
        ("varchar(60)", "varchar(64)", True),  # 240 -> 256 bytes: a second length byte
        ("varchar(255)", "varchar(500)", False),
        ("varchar(500)", "varchar(255)", True),
        ("int", "bigint", True),
    ],
)
def test_which_mysql_type_changes_copy(old: str, new: str, copies: bool) -> None:
    assert mysql_copies(old, new) is copies
