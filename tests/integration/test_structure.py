"""``whimbrel dump`` / ``whimbrel load`` (``whimbrel.structure``) on the three real databases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from migration_helpers import (
    Catalog,
    cli_env,
    error_text,
    migrator,
    run_cli,
    write_change,
)

from dbs import MYSQL, POSTGRES, DatabaseNames, fresh_database
from whimbrel import structure
from whimbrel.errors import UsageError
from whimbrel.structure import clients


def write_project(project: Path) -> None:
    write_change(
        project,
        10,
        "create_users",
        """
        with create(table("users")):
            add("email", "string", null=False)
            timestamps()
        create(unique_index("users", ["email"]))
        """,
    )
    write_change(
        project,
        20,
        "create_posts",
        """
        with create(table("posts")):
            add("title", "string", null=False)
            add("author_id", references("users", on_delete="delete_all"), null=False)
        create(index("posts", ["author_id"]))
        """,
    )
    write_change(project, 30, "add_body", 'with alter(table("posts")):\n    add("body", "text")')


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


def normalized(text: str) -> str:
    """A dump without what legitimately differs between two databases of one schema."""
    text = re.sub(r"\\(un)?restrict \S+", "", text)  # pg_dump's per-run random key
    return re.sub(r"whimbrel_t_\w+", "DB", text)


def test_dump_then_load_gives_the_same_schema_and_versions(
    tmp_path: Path, db_url: str, other_url: str
) -> None:
    write_project(tmp_path)
    with migrator(tmp_path, db_url) as m:
        m.up()
        result = structure.dump(m, tmp_path / "a.sql")
    assert result.versions == 3
    text = result.path.read_text()
    assert "users" in text and "posts" in text
    inserts = r"INSERT INTO \S*schema_migrations\S* \S+ VALUES\n\(10\),\n\(20\),\n\(30\);"
    assert re.search(inserts, text)

    with migrator(tmp_path, other_url) as m:
        structure.load(m, result.path)
        assert [s.status for s in m.status()] == ["up", "up", "up"]
        structure.dump(m, tmp_path / "b.sql")
    assert Catalog(other_url).applied() == [10, 20, 30]
    assert Catalog(other_url).snapshot() == Catalog(db_url).snapshot()
    assert normalized((tmp_path / "b.sql").read_text()) == normalized(text)


def test_load_an_older_dump_then_migrate_the_rest(
    tmp_path: Path, db_url: str, other_url: str
) -> None:
    write_project(tmp_path)
    with migrator(tmp_path, db_url) as m:
        m.up(to=20)
        structure.dump(m, tmp_path / "at20.sql")
        m.up()
    with migrator(tmp_path, other_url) as m:
        structure.load(m, tmp_path / "at20.sql")
        assert m.up() == [30]
    assert Catalog(other_url).snapshot() == Catalog(db_url).snapshot()
    assert Catalog(other_url).applied() == [10, 20, 30]


def test_cli_dump_default_file_and_load_refuses_a_non_empty_database(
    tmp_path: Path, db_url: str, other_url: str
) -> None:
    write_project(tmp_path)
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    done = run_cli(tmp_path, db_url, "dump")
    assert done.returncode == 0, done.stderr
    default = tmp_path / structure.DEFAULT_FILE
    assert done.stdout.strip() == f"Wrote {default} (3 versions)"

    loaded = run_cli(tmp_path, other_url, "load", str(default))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == f"Loaded {default}"

    again = run_cli(tmp_path, other_url, "load", str(default))
    assert again.returncode == 2
    error = error_text(again)
    assert "not empty" in error and "users" in error and "empty database" in error
    assert Catalog(other_url).applied() == [10, 20, 30]  # untouched


def test_load_of_a_missing_file_is_a_usage_error(tmp_path: Path, sqlite_url: str) -> None:
    done = run_cli(tmp_path, sqlite_url, "load", "nope.sql")
    assert done.returncode == 2
    assert "'nope.sql' does not exist" in error_text(done)


def test_a_broken_dump_loads_nothing(tmp_path: Path, db_url: str) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE kept_out (id integer);\nTHIS IS NOT SQL;\n")
    with migrator(tmp_path, db_url) as m:
        with pytest.raises(Exception, match="(?i)syntax|THIS"):
            structure.load(m, bad)
    if not db_url.startswith("mysql"):  # MySQL commits each CREATE TABLE at once
        assert Catalog(db_url).user_tables() == set()


def test_a_missing_client_tool_is_named_with_the_fix(tmp_path: Path, mysql_url: str) -> None:
    write_project(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**cli_env(), "PATH": str(empty)}
    done = subprocess.run(
        [sys.executable, "-m", "whimbrel", "--database-url", mysql_url, "dump"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "mysqldump" in error and "mariadb-dump" in error and "apt-get install" in error
    assert not os.path.exists(tmp_path / structure.DEFAULT_FILE)


def test_pg_dump_older_than_the_server_is_refused_by_name() -> None:
    with pytest.raises(clients.ClientToolError) as caught:
        clients.find_pg_tool("pg_dump", server_major=99, env={})
    message = str(caught.value)
    assert "at least version 99" in message and "postgresql-client-99" in message
    assert caught.value.exit_code == 2


def test_the_newest_server_gets_a_pg_dump_that_is_new_enough(pg_url: str) -> None:
    tool = clients.find_pg_tool("pg_dump", server_major=15, env={})
    assert tool.major >= 15 and tool.path.name == "pg_dump"


def test_passwords_go_through_the_environment_not_argv() -> None:
    url, env = clients.pg_connection("postgresql://app:s3cr%40t@db.example:5433/app?sslmode=off")
    assert url == "postgresql://app@db.example:5433/app?sslmode=off"
    assert env == {"PGPASSWORD": "s3cr@t"}
    args, database, env = clients.mysql_arguments("mysql://app:pw0rd@db:3307/shop")
    assert "pw0rd" not in " ".join(args) and database == "shop"
    assert env == {"MYSQL_PWD": "pw0rd"}


def test_a_failing_client_names_the_command_without_the_password() -> None:
    script = 'echo "denied for $MYSQL_PWD" >&2; exit 3'
    with pytest.raises(Exception) as caught:
        clients.run(["sh", "-c", script], {"MYSQL_PWD": "hunter22"})
    message = str(caught.value)
    assert "exit 3" in message and "denied for ***" in message and "hunter22" not in message


def test_dump_refuses_an_unsupported_database() -> None:
    class Fake:
        name = "arangodb"

    with pytest.raises(UsageError, match="not arangodb"):
        structure._engine(structure._SCHEMA, Fake())  # type: ignore[arg-type]
