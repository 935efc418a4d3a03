"""``whimbrel squash --to V`` on the three real databases.

The project has 30 migrations (101 to 130): tables, defaults, indexes,
foreign keys, a view, an enum type on PostgreSQL, a column added and one
dropped again, an ``up()``-only Python migration and a ``.sql`` one. It is
squashed at its 20th (120). A database migrated before the squash must be
untouched and see no missing file; a new database must get, from the
baseline and the 10 later migrations, the schema the original 30 build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from migration_helpers import (
    Catalog,
    error_text,
    migrator,
    run_cli,
    write,
    write_change,
    write_config,
    write_up_down,
)
from test_drift import other_url  # noqa: F401 - the fixture, for a second database

from dbs import POSTGRES, DatabaseNames, fresh_database
from whimbrel.inspect import diff, inspect
from whimbrel.migrator.checksums import Checksums, file_checksum
from whimbrel.structure import clients
from whimbrel.structure.squash import SquashError, squash

VERSIONS = list(range(101, 131))
TO = 120
LATER = list(range(121, 131))
BASELINE = f"{TO}_squashed.sql"


def write_thirty(project: Path, url: str) -> None:
    """The 30 migrations described in the module docstring."""
    pg = url.startswith("postgresql")
    write_change(
        project,
        101,
        "create_users",
        """
        with create(table("users")):
            add("email", "string", null=False)
            add("active", "boolean", default=True)
            timestamps()
        create(unique_index("users", ["email"]))
        """,
    )
    write_change(
        project,
        102,
        "create_posts",
        """
        with create(table("posts")):
            add("title", "string", null=False)
            add("score", "integer", default=0, null=False)
            add("author_id", references("users", on_delete="delete_all"), null=False)
        """,
    )
    write_change(project, 103, "index_posts", 'create(index("posts", ["author_id", "score"]))')
    write_change(
        project,
        104,
        "post_titles_view",
        'execute("CREATE VIEW post_titles AS SELECT id, title FROM posts", '
        '"DROP VIEW post_titles")',
    )
    if pg:
        mood = """
        execute("CREATE TYPE mood AS ENUM ('happy', 'sad')", "DROP TYPE mood")
        with alter(table("users")):
            add("mood", "mood", default=fragment("'happy'"), null=False)
        """
    else:
        mood = 'with alter(table("users")):\n    add("mood", "string", default="happy")'
    write_change(project, 105, "add_mood", mood)
    for version in range(106, 116):  # ten tables, each pointing at users and at the one before
        before = (
            f'\n    add("t{version - 1}_id", references("t{version - 1}"))' if version > 106 else ""
        )
        write_change(
            project,
            version,
            f"create_t{version}",
            f'with create(table("t{version}")):\n'
            f'    add("label", "string", default="none", null=False)\n'
            f'    add("n", "integer", default={version})\n'
            f'    add("user_id", references("users", on_delete="nilify_all")){before}',
        )
    write_up_down(  # up() only: irreversible, yet it replays
        project, 116, "index_t110_n", 'create(index("t110", ["n"]))'
    )
    write_change(
        project, 117, "add_posts_body", 'with alter(table("posts")):\n    add("body", "text")'
    )
    write_change(
        project,
        118,
        "drop_t106_n",
        'with alter(table("t106")):\n    remove("n", "integer", default=106)',
    )
    write(
        project / "migrations",
        "119_create_tags.sql",
        """
        -- whimbrel:up
        CREATE TABLE tags (id integer PRIMARY KEY, name varchar(50) NOT NULL DEFAULT 'new');
        CREATE UNIQUE INDEX tags_name_index ON tags (name);
        -- whimbrel:down
        DROP TABLE tags;
        """,
    )
    write_change(project, 120, "index_users_active", 'create(index("users", ["active"]))')
    for version in LATER:
        write_change(
            project,
            version,
            f"create_l{version}",
            f'with create(table("l{version}")):\n'
            f'    add("post_id", references("posts", on_delete="delete_all"))\n'
            f'    add("note", "string", size=40, default="-")',
        )


def files(project: Path) -> list[str]:
    """Every file under migrations/, relative to it, sorted."""
    folder = project / "migrations"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def squashed_project(project: Path, url: str) -> None:
    """Write the project, migrate ``url`` with the 30 originals, squash at 120 through the CLI."""
    write_thirty(project, url)
    migrate_and_squash(project, url)


def migrate_and_squash(project: Path, url: str) -> None:
    """Migrate ``url`` with the project's 30 migrations, then squash at 120 through the CLI."""
    done = run_cli(project, url, "migrate")
    assert done.returncode == 0, done.stderr
    squashed = run_cli(project, url, "squash", "--to", str(TO))
    assert squashed.returncode == 0, squashed.stderr
    lines = squashed.stdout.splitlines()
    assert len(lines) == 21, squashed.stdout
    assert (
        lines[0]
        == "moved migrations/101_create_users.py -> migrations/squashed/101_create_users.py"
    )
    assert lines[-1] == (
        f"Wrote migrations/{BASELINE}: baseline of 20 migrations (101 to 120), "
        "checked against a replay of them"
    )


def test_a_database_migrated_before_the_squash_is_untouched(tmp_path: Path, db_url: str) -> None:
    write_thirty(tmp_path, db_url)
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    before = inspect(db_url)
    originals = files(tmp_path)

    squashed = run_cli(tmp_path, db_url, "squash", "--to", str(TO))
    assert squashed.returncode == 0, squashed.stderr
    assert files(tmp_path) == sorted(
        [BASELINE, *(f"squashed/{name}" for name in originals[:20]), *originals[20:]]
    )
    text = (tmp_path / "migrations" / BASELINE).read_text()
    assert text.startswith(
        "-- whimbrel:squashes 101 102 103 104 105 106 107 108 109 110\n"
        "-- whimbrel:squashes 111 112 113 114 115 116 117 118 119 120\n"
    )
    assert "\n-- whimbrel:up\n" in text and "\n-- whimbrel:down\n" in text

    migrate = run_cli(tmp_path, db_url, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "Migrations already up" in migrate.stderr
    status = run_cli(tmp_path, db_url, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert "FILE NOT FOUND" not in status.stdout
    assert "edited" not in run_cli(tmp_path, db_url, "status").stdout
    ensure = run_cli(tmp_path, db_url, "ensure-up")
    assert ensure.returncode == 0, ensure.stdout + ensure.stderr
    drift = run_cli(tmp_path, db_url, "diff")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert inspect(db_url) == before
    assert Catalog(db_url).applied() == VERSIONS
    with migrator(tmp_path, db_url) as m:
        rows = m.status()
        recorded = Checksums(m.adapter, "schema_migrations").recorded(None)
    assert [r.name for r in rows if r.version < TO] == [f"(squashed into {TO})"] * 19
    assert {r.squashed_into for r in rows} == {TO, None}
    assert recorded[TO] == file_checksum(tmp_path / "migrations" / BASELINE)  # re-recorded


def test_a_new_database_gets_the_schema_of_the_original_thirty(
    tmp_path: Path,
    db_url: str,
    other_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    squashed_project(tmp_path, db_url)  # db_url holds the replay of the original 30

    migrate = run_cli(tmp_path, other_url, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert f"== Migrated {TO} " in migrate.stderr
    assert Catalog(other_url).applied() == [TO, *LATER]
    assert diff(inspect(db_url), inspect(other_url)) == []
    drift = run_cli(tmp_path, other_url, "diff")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    status = run_cli(tmp_path, other_url, "status")
    assert status.stdout.count("up  ") == 11 and "squashed into" not in status.stdout


def test_rollback_undoes_the_baseline_and_the_versions_it_replaced(
    tmp_path: Path,
    db_url: str,
    other_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    squashed_project(tmp_path, db_url)
    assert run_cli(tmp_path, other_url, "migrate").returncode == 0
    for url in (db_url, other_url):  # migrated before the squash, and after it
        done = run_cli(tmp_path, url, "rollback", "--all")
        assert done.returncode == 0, done.stderr
        assert Catalog(url).applied() == []
        assert inspect(url).tables == inspect(url).views == ()
    for url in (db_url, other_url):
        again = run_cli(tmp_path, url, "migrate")
        assert again.returncode == 0, again.stderr
        assert Catalog(url).applied() == [TO, *LATER]
    assert diff(inspect(db_url), inspect(other_url)) == []


def test_rollback_cannot_stop_inside_the_squashed_versions(tmp_path: Path, db_url: str) -> None:
    squashed_project(tmp_path, db_url)
    done = run_cli(tmp_path, db_url, "rollback", "--to", "110")
    assert done.returncode == 2
    assert f"squashed into {TO}" in error_text(done) and f"roll back to {TO}" in error_text(done)
    assert Catalog(db_url).applied() == VERSIONS


def test_dry_run_prints_the_baseline_and_the_moves_and_changes_nothing(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_thirty(tmp_path, sqlite_url)
    originals = files(tmp_path)
    done = run_cli(tmp_path, sqlite_url, "squash", "--to", str(TO), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"-- migrations/{BASELINE} (dry run: nothing written)\n")
    assert 'CREATE TABLE "users"' in done.stdout
    assert (
        "would move migrations/119_create_tags.sql -> migrations/squashed/119_create_tags.sql"
        in done.stdout
    )
    assert done.stdout.rstrip().endswith("checked against a replay of them")
    assert files(tmp_path) == originals


def test_delete_removes_the_replaced_files(tmp_path: Path, sqlite_url: str) -> None:
    write_thirty(tmp_path, sqlite_url)
    done = run_cli(tmp_path, sqlite_url, "squash", "--to", "105", "--delete")
    assert done.returncode == 0, done.stderr
    assert "migrations/101_create_users.py (deleted)" in done.stdout
    assert not (tmp_path / "migrations" / "squashed").exists()
    assert files(tmp_path)[0] == "105_squashed.sql" and len(files(tmp_path)) == 26


def test_a_second_squash_keeps_the_versions_of_the_first(tmp_path: Path, sqlite_url: str) -> None:
    squashed_project(tmp_path, sqlite_url)
    done = run_cli(tmp_path, sqlite_url, "squash", "--to", "125")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "migrations" / "125_squashed.sql").read_text()
    assert "-- whimbrel:squashes 101 102" in text and " 125\n" in text
    assert (tmp_path / "migrations" / "squashed" / BASELINE).is_file()
    status = run_cli(tmp_path, sqlite_url, "status")
    assert status.stdout.count("(squashed into 125)") == 24
    assert run_cli(tmp_path, sqlite_url, "ensure-up").returncode == 0


def test_an_edited_baseline_is_still_an_edit(tmp_path: Path, sqlite_url: str) -> None:
    squashed_project(tmp_path, sqlite_url)
    assert run_cli(tmp_path, sqlite_url, "migrate").returncode == 0  # records its checksum
    baseline = tmp_path / "migrations" / BASELINE
    baseline.write_text(
        baseline.read_text().replace("-- whimbrel:down", "SELECT 1;\n-- whimbrel:down")
    )
    done = run_cli(tmp_path, sqlite_url, "migrate")
    assert done.returncode == 2
    assert "changed since it ran" in error_text(done)


def test_a_partly_migrated_database_cannot_run_the_baseline(
    tmp_path: Path,
    sqlite_url: str,
    other_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    write_thirty(tmp_path, sqlite_url)
    assert run_cli(tmp_path, other_url, "migrate", "--to", "110").returncode == 0
    squashed_project_files(tmp_path, sqlite_url)
    done = run_cli(tmp_path, other_url, "migrate")
    assert done.returncode == 2
    error = error_text(done)
    assert "applied 10 of the migrations squashed into 120" in error
    assert "migrate --to 120" in error
    assert Catalog(other_url).applied() == list(range(101, 111))


def squashed_project_files(project: Path, url: str) -> None:
    """Squash an already written project at 120 (``url`` is the database squash reads)."""
    done = run_cli(project, url, "squash", "--to", str(TO))
    assert done.returncode == 0, done.stderr


# -- bad input: exit 2, no file touched -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "Missing option '--to'"),
        (("--to", "999"), "--to 999 matches no migration"),
        (("--to", "500"), "--to 500 is a tenant migration"),
    ],
)
def test_bad_arguments_are_refused_before_any_file_moves(
    tmp_path: Path, sqlite_url: str, args: tuple[str, ...], expected: str
) -> None:
    write_thirty(tmp_path, sqlite_url)
    write_change(
        tmp_path, 500, "tenant_items", 'create(table("items"))', folder="tenant_migrations"
    )
    originals = files(tmp_path)
    done = run_cli(tmp_path, sqlite_url, "squash", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr
    assert files(tmp_path) == originals


def test_a_database_at_a_version_inside_the_range_is_refused(tmp_path: Path, db_url: str) -> None:
    write_thirty(tmp_path, db_url)
    assert run_cli(tmp_path, db_url, "migrate", "--to", "110").returncode == 0
    originals = files(tmp_path)
    done = run_cli(tmp_path, db_url, "squash", "--to", str(TO))
    assert done.returncode == 2
    error = error_text(done)
    assert "applied 10 of the 20 migrations up to 120 but not 111, 112" in error
    assert "whimbrel migrate --to 120" in error
    assert files(tmp_path) == originals


def test_a_name_already_in_the_squashed_folder_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    write_thirty(tmp_path, sqlite_url)
    write(tmp_path / "migrations" / "squashed", "103_index_posts.py", "# an earlier squash's\n")
    originals = files(tmp_path)
    done = run_cli(tmp_path, sqlite_url, "squash", "--to", str(TO))
    assert done.returncode == 2
    assert "squashed/103_index_posts.py already exists" in error_text(done)
    assert files(tmp_path) == originals


def test_squashing_only_the_baseline_again_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    squashed_project(tmp_path, sqlite_url)
    done = run_cli(tmp_path, sqlite_url, "squash", "--to", str(TO))
    assert done.returncode == 2
    assert "nothing more to squash" in error_text(done)


def test_a_missing_pg_dump_is_named_before_anything_runs(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_thirty(tmp_path, pg_url)
    originals = files(tmp_path)
    monkeypatch.setattr(clients, "pg_candidates", lambda name, env=None: [])
    with migrator(tmp_path, pg_url) as m, pytest.raises(clients.ClientToolError) as caught:
        squash(m, TO)
    assert "pg_dump not found" in str(caught.value) and caught.value.exit_code == 2
    assert files(tmp_path) == originals


def test_a_baseline_that_would_build_another_schema_is_refused(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_thirty(tmp_path, sqlite_url)
    originals = files(tmp_path)
    from whimbrel.structure import baseline

    real = baseline.read

    def lossy(adapter, source):  # type: ignore[no-untyped-def]
        schema = real(adapter, source)
        return baseline.Schema(
            schema.up.replace('CREATE INDEX "users_active_index"', "--"), schema.down
        )

    monkeypatch.setattr(baseline, "read", lossy)
    with migrator(tmp_path, sqlite_url) as m, pytest.raises(SquashError) as caught:
        squash(m, TO)
    message = str(caught.value)
    assert 'table "users": - index "users_active_index"' in message
    assert "Nothing was changed" in message
    assert files(tmp_path) == originals


def test_tenant_projects_squash_their_global_folder(tmp_path: Path, pg_url: str) -> None:
    write_thirty(tmp_path, pg_url)
    write_change(
        tmp_path, 500, "tenant_items", 'create(table("items"))', folder="tenant_migrations"
    )
    write_config(tmp_path, prefixes=["tenant_a"])
    assert run_cli(tmp_path, pg_url, "migrate").returncode == 0
    done = run_cli(tmp_path, pg_url, "squash", "--to", str(TO))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "migrations" / BASELINE).read_text()
    assert "tenant_a" not in text and "items" not in text
    assert run_cli(tmp_path, pg_url, "ensure-up").returncode == 0


PG_EXTRAS = """
-- whimbrel:up
CREATE SCHEMA reporting;
CREATE TABLE reporting.totals (id serial PRIMARY KEY, total numeric);
CREATE SEQUENCE invoice_numbers START 1000;
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, qty positive_int)
  PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE MATERIALIZED VIEW user_emails AS SELECT email FROM users;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at = now();  -- public.users is not qualified here: kept as written
  RETURN NEW;
END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE ids (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
-- whimbrel:down
DROP TABLE ids;
DROP TRIGGER users_touch ON users;
DROP FUNCTION touch();
DROP MATERIALIZED VIEW user_emails;
DROP TABLE events;
DROP DOMAIN positive_int;
DROP SEQUENCE invoice_numbers;
DROP SCHEMA reporting CASCADE;
"""


@pytest.fixture
def other_pg_url(pg_admin_url: str, db_names: DatabaseNames) -> Iterator[str]:
    """A second empty PostgreSQL database."""
    with fresh_database(POSTGRES, pg_admin_url, db_names.new()) as url:
        yield url


def test_postgres_functions_triggers_schemas_and_partitions_are_kept_and_dropped(
    tmp_path: Path, pg_url: str, other_pg_url: str
) -> None:
    write_thirty(tmp_path, pg_url)
    write(tmp_path / "migrations", "119_create_tags.sql", PG_EXTRAS)  # in place of the tags
    migrate_and_squash(tmp_path, pg_url)
    text = (tmp_path / "migrations" / BASELINE).read_text()
    assert "public." not in text.replace("public.users is not qualified", "")
    assert "CREATE TABLE reporting.totals" in text
    assert not re.search(r"(?m)^(SET |SELECT pg_catalog|\\restrict|--.*PostgreSQL)", text)
    assert 'DROP SCHEMA IF EXISTS "reporting" CASCADE;' in text
    assert run_cli(tmp_path, other_pg_url, "migrate").returncode == 0
    assert diff(inspect(pg_url), inspect(other_pg_url)) == []
    assert diff(inspect(pg_url, "reporting"), inspect(other_pg_url, "reporting")) == []
    assert (
        Catalog(other_pg_url).scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'users_touch'")
        == 1
    )
    done = run_cli(tmp_path, other_pg_url, "rollback", "--all")
    assert done.returncode == 0, done.stderr
    left = Catalog(other_pg_url).scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
        "AND left(c.relname, 17) <> 'schema_migrations'"
    )
    assert left == 0
    assert "reporting" not in Catalog(other_pg_url).schemas()
