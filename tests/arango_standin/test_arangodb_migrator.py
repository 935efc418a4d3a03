"""ArangoDB end to end: the real CLI and ``whimbrel.Migrator`` on the stand-in (or a server).

Each test gets a fresh database (``arango_url``) and checks what the server
holds through python-arango, not through whimbrel: collections, schema rules,
indexes and the ``_migrations`` documents in ArangoXEcto's layout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import whimbrel
from whimbrel.config import load_config
from whimbrel.errors import MigrationFailedError, MigrationsNotUp

HEADER = "from whimbrel.dsl.arango import *\n\n\n"
CREATE_USERS = """
def change():
    with create(collection("users")):
        add("email", "string", null=False, required=True)
        add("age", "integer")
    create(index("users", ["email"], unique=True))
"""
ALTER_USERS = """
def change():
    with alter(collection("users")):
        add("nick", "string")
    execute('INSERT {"email": "a@b.c", "nick": "a"} INTO users',
            'FOR u IN users FILTER u.nick == "a" REMOVE u IN users')
"""
V1, V2, V3 = 20240101120000, 20240102120000, 20240103120000


def write(project: Path, version: int, name: str, body: str) -> Path:
    folder = project / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}_{name}.py"
    path.write_text(HEADER + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k != "DATABASE_URL" and not (k.startswith("WHIMBREL_") and "TEST" not in k)
    }


def command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "whimbrel", "--database-url", url, *args]


def cli(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(url, *args), cwd=project, env=env(), capture_output=True, text=True, timeout=120
    )


def error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr[done.stderr.index("whimbrel: error: ") :]


def versions(db: Any) -> list[dict[str, Any]]:
    if not db.has_collection("_migrations"):
        return []
    return sorted(db.collection("_migrations").all(), key=lambda d: d["version"])


def user_collections(db: Any) -> set[str]:
    return {c["name"] for c in db.collections() if not c["name"].startswith("_")}


def schema_fields(db: Any, name: str) -> set[str]:
    schema = db.collection(name).properties().get("schema") or {}
    return set((schema.get("rule") or {}).get("properties", {}))


def test_cli_migrate_status_rollback_and_ensure_up(
    tmp_path: Path, arango_url: str, arango_db: Any
) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    write(tmp_path, V2, "alter_users", ALTER_USERS)

    done = cli(tmp_path, arango_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert user_collections(arango_db) == {"users"}
    assert schema_fields(arango_db, "users") == {"email", "age", "nick"}
    assert "users_email_index" in {i.get("name") for i in arango_db.collection("users").indexes()}
    docs = versions(arango_db)
    assert [d["version"] for d in docs] == [V1, V2]
    assert all(set(d) >= {"_key", "version", "inserted_at"} for d in docs)  # ArangoXEcto's
    assert not arango_db.has_collection("_migrations_progress")  # dropped when empty

    status = cli(tmp_path, arango_url, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [(s["status"], s["version"]) for s in json.loads(status.stdout)] == [
        ("up", V1),
        ("up", V2),
    ]
    assert cli(tmp_path, arango_url, "ensure-up").returncode == 0

    back = cli(tmp_path, arango_url, "rollback")  # one step: the alter is undone
    assert back.returncode == 0, back.stderr
    assert schema_fields(arango_db, "users") == {"email", "age"}  # the captured rule, restored
    assert arango_db.collection("users").count() == 0  # execute()'s down ran
    assert [d["version"] for d in versions(arango_db)] == [V1]
    not_up = cli(tmp_path, arango_url, "ensure-up")
    assert not_up.returncode == 1 and "alter_users" in error(not_up)

    assert cli(tmp_path, arango_url, "migrate", "--to", str(V2)).returncode == 0
    assert schema_fields(arango_db, "users") == {"email", "age", "nick"}
    gone = cli(tmp_path, arango_url, "rollback", "--all")
    assert gone.returncode == 0, gone.stderr
    assert user_collections(arango_db) == set() and versions(arango_db) == []


def test_rollback_to_a_version(tmp_path: Path, arango_url: str, arango_db: Any) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    write(tmp_path, V2, "create_posts", 'def change():\n    create(collection("posts"))\n')
    write(tmp_path, V3, "create_tags", 'def change():\n    create(collection("tags"))\n')
    assert cli(tmp_path, arango_url, "migrate").returncode == 0
    done = cli(tmp_path, arango_url, "rollback", "--to", str(V2))
    assert done.returncode == 0, done.stderr
    assert user_collections(arango_db) == {"users"}
    assert [d["version"] for d in versions(arango_db)] == [V1]


def test_dry_run_prints_one_line_per_operation_and_changes_nothing(
    tmp_path: Path, arango_url: str, arango_db: Any
) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    done = cli(tmp_path, arango_url, "migrate", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert 'POST /_api/collection  # create the versions collection "_migrations"' in lines
    assert any(
        line.startswith('POST /_api/collection  # create document collection "users"')
        for line in lines
    )
    assert (
        'POST /_api/index?collection=users  # create persistent index "users_email_index" '
        'on "users" (email; unique)' in lines
    )
    assert f"POST /_api/document/_migrations  # record version {V1}" in lines
    assert not any(line.endswith(";") and line.startswith(("POST", "PUT")) for line in lines)
    assert user_collections(arango_db) == set() and not arango_db.has_collection("_migrations")


def test_takes_over_a_database_migrated_by_arangoxecto(
    tmp_path: Path, arango_url: str, arango_db: Any
) -> None:
    # What ArangoXEcto leaves: the system collection _migrations, one document per version.
    from whimbrel.adapters.arangodb_versions import versions_schema

    arango_db.create_collection("_migrations", system=True, schema=versions_schema("_migrations"))
    arango_db.collection("_migrations").insert(
        {"version": V1, "inserted_at": "2024-01-01T12:00:00"}
    )
    arango_db.create_collection("users")
    write(tmp_path, V1, "create_users", CREATE_USERS)  # would fail with 1207 if it ran again
    write(tmp_path, V2, "create_posts", 'def change():\n    create(collection("posts"))\n')

    done = cli(tmp_path, arango_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "create_users" not in done.stderr.split("Running", 1)[-1]
    assert [d["version"] for d in versions(arango_db)] == [V1, V2]
    assert user_collections(arango_db) == {"users", "posts"}


def test_two_migrators_at_once_apply_each_version_once(
    tmp_path: Path, arango_url: str, arango_db: Any
) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    write(tmp_path, V2, "create_posts", 'def change():\n    create(collection("posts"))\n')
    write(tmp_path, V3, "create_tags", 'def change():\n    create(collection("tags"))\n')
    runs = [
        subprocess.Popen(
            command(arango_url, "migrate"),
            cwd=tmp_path,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=180), run.communicate()[1]) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert [d["version"] for d in versions(arango_db)] == [V1, V2, V3]  # each exactly once
    assert user_collections(arango_db) == {"users", "posts", "tags"}


def test_failure_lists_completed_operations_and_a_rerun_resumes(
    tmp_path: Path, arango_url: str, arango_db: Any
) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    broken = """
    def change():
        create(collection("posts"))
        create(index("posts", ["title"]))
        execute("FOR d IN no_such_collection RETURN d")
        create(collection("tags"))
    """
    path = write(tmp_path, V2, "create_posts", broken)

    done = cli(tmp_path, arango_url, "migrate")
    assert done.returncode == 1
    message = error(done)
    assert f"{V2}_create_posts" in message
    assert "execute('FOR d IN no_such_collection RETURN d')" in message  # the command
    assert "1203" in message  # ArangoDB's own error number
    assert '1. POST /_api/collection  # create document collection "posts"' in message
    assert "2. POST /_api/index?collection=posts  # create persistent index" in message
    assert "tags" not in user_collections(arango_db)  # nothing after the failure ran
    assert [d["version"] for d in versions(arango_db)] == [V1]

    path.write_text(path.read_text().replace("no_such_collection", "users"), encoding="utf-8")
    again = cli(tmp_path, arango_url, "migrate")
    assert again.returncode == 0, again.stderr  # a second create of "posts" would be 1207
    assert "skipping operation 1" in again.stderr and "skipping operation 2" in again.stderr
    assert user_collections(arango_db) == {"users", "posts", "tags"}
    assert [d["version"] for d in versions(arango_db)] == [V1, V2]
    assert not arango_db.has_collection("_migrations_progress")


@pytest.mark.parametrize(
    ("body", "code", "expected"),
    [
        (  # duplicate collection: refused by the server, error 1207
            'def change():\n    create(collection("posts"))\n    create(collection("users"))\n',
            1,
            ['create(collection("users"))', "1207", 'create document collection "posts"'],
        ),
        (  # an index type the server does not know: refused while recording
            'def change():\n    create(collection("posts"))\n'
            '    create(index("posts", ["a"], type="hash"))\n',
            2,
            ['index("posts")', "unknown index type 'hash'", "persistent"],
        ),
        (  # a schema rule ArangoDB would reject: refused while recording
            'def change():\n    with create(collection("posts")):\n'
            '        add("code", "string", pattern="[unclosed")\n',
            2,
            ["pattern", "[unclosed"],
        ),
    ],
    ids=["duplicate-collection", "unknown-index-type", "bad-schema-rule"],
)
def test_bad_input_names_file_and_command_and_runs_nothing_else(
    tmp_path: Path, arango_url: str, arango_db: Any, body: str, code: int, expected: list[str]
) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    assert cli(tmp_path, arango_url, "migrate").returncode == 0
    write(tmp_path, V2, "bad", body)
    write(tmp_path, V3, "create_tags", 'def change():\n    create(collection("tags"))\n')

    done = cli(tmp_path, arango_url, "migrate")
    assert done.returncode == code, done.stderr
    message = error(done)
    assert f"{V2}_bad" in message
    for part in expected:
        assert part in message, message
    assert "tags" not in user_collections(arango_db)
    if code == 2:  # refused before anything ran
        assert user_collections(arango_db) == {"users"}
    assert [d["version"] for d in versions(arango_db)] == [V1]


def test_migrator_api_and_repo_hands_out_the_database(
    tmp_path: Path, arango_url: str, arango_db: Any
) -> None:
    write(tmp_path, V1, "create_users", CREATE_USERS)
    write(
        tmp_path,
        V2,
        "seed_users",
        """
        def up():
            repo().collection("users").insert({"email": "x@y.z"})

        def down():
            repo().collection("users").truncate()
        """,
    )
    config = load_config(cwd=tmp_path, env={}, overrides={"database_url": arango_url})
    assert config.migration_source == "_migrations"  # ArangoXEcto's default
    with whimbrel.Migrator(config, out=lambda _: None) as m:
        with pytest.raises(MigrationsNotUp):
            m.ensure_up()
        assert m.up() == [V1, V2]
        assert arango_db.collection("users").count() == 1
        assert [s.status for s in m.status()] == ["up", "up"]
        m.ensure_up()
        assert m.down() == [V2]
        assert arango_db.collection("users").count() == 0
        path = tmp_path / "migrations" / f"{V2}_seed_users.py"
        assert m.up_one(V2, path) == "ok" and m.up_one(V2, path) == "already_up"
        assert m.run("down", all=True) == [V2, V1]
    assert user_collections(arango_db) == set()


def test_a_failed_migration_raises_with_the_operations_that_ran(
    tmp_path: Path, arango_url: str
) -> None:
    write(
        tmp_path,
        V1,
        "half",
        'def change():\n    create(collection("a"))\n    create(collection("a"))\n',
    )
    config = load_config(cwd=tmp_path, env={}, overrides={"database_url": arango_url})
    with whimbrel.Migrator(config, out=lambda _: None) as m:
        with pytest.raises(MigrationFailedError) as failed:
            m.up()
    assert failed.value.statements_run == [
        'POST /_api/collection  # create document collection "a"'
    ]
    assert failed.value.rolled_back is False


def test_gen_migration_writes_arangodb_migrations(tmp_path: Path, arango_url: str) -> None:
    done = cli(tmp_path, arango_url, "gen", "migration", "create_posts", "-t", "create_table")
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.splitlines()[0])
    source = path.read_text()
    assert source.startswith("from whimbrel.dsl.arango import") and 'collection("posts")' in source
    index = cli(
        tmp_path, arango_url, "gen", "migration", "add_title_index_to_posts", "-t", "add_index"
    )
    assert index.returncode == 0, index.stderr
    sql_only = cli(
        tmp_path, arango_url, "gen", "migration", "add_trigger_to_posts", "-t", "add_trigger"
    )
    assert sql_only.returncode == 2 and "ArangoDB" in error(sql_only)
    migrate = cli(tmp_path, arango_url, "migrate")  # what gen writes runs as it is
    assert migrate.returncode == 0, migrate.stderr
