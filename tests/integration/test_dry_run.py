"""``--dry-run`` prints the SQL and changes nothing; ``--log-sql`` logs what runs."""

from __future__ import annotations

from pathlib import Path

from migration_helpers import Catalog, migrator, run_cli, write_change

INSERT_VERSION = 'INSERT INTO "schema_migrations"'
DELETE_VERSION = 'DELETE FROM "schema_migrations"'


def _project(project: Path) -> None:
    write_change(
        project,
        10,
        "create_posts",
        """
        with create(table("posts")):
            add("title", "string")
        create(index("posts", ["title"]))
        """,
    )
    write_change(
        project,
        20,
        "add_body",
        """
        with alter(table("posts")):
            add("body", "text")
        """,
    )


def _statements(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line and not line.startswith("--")]


def test_dry_run_prints_sql_and_creates_nothing(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    done = run_cli(tmp_path, db_url, "migrate", "--dry-run")
    assert done.returncode == 0, done.stderr
    statements = _statements(done.stdout)
    # The versions table first, so the printed script replays on an empty database.
    assert statements[0].startswith('CREATE TABLE IF NOT EXISTS "schema_migrations"')
    statements = statements[1:]
    assert statements[0] == "BEGIN;"
    assert statements[1].startswith('CREATE TABLE "posts"')
    assert statements[2].startswith('CREATE INDEX "posts_title_index"')
    assert statements[3].startswith(INSERT_VERSION) and "10" in statements[3]
    assert statements[4] == "COMMIT;"
    assert statements[5] == "BEGIN;"
    assert statements[6].startswith('ALTER TABLE "posts" ADD COLUMN "body"')
    assert statements[7].startswith(INSERT_VERSION) and "20" in statements[7]
    assert statements[8] == "COMMIT;"
    assert len(statements) == 9
    assert all(s.endswith(";") for s in statements)
    assert "Migrated" not in done.stderr and "Would run 10" in done.stderr

    catalog = Catalog(db_url)
    assert catalog.tables() == set()  # not even the versions table
    assert catalog.versions() is None
    if db_url.startswith("sqlite"):
        assert not Path(db_url.split(":///", 1)[1]).exists()  # no empty file left behind


def test_dry_run_output_replays_on_an_empty_database(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    _project(tmp_path)
    done = run_cli(tmp_path, pg_url, "migrate", "--dry-run")
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(done.stdout)  # type: ignore[call-overload]
    assert Catalog(pg_url).versions() == [10, 20]


def test_dry_run_shows_only_what_is_pending(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    assert run_cli(tmp_path, db_url, "migrate", "--step", "1").returncode == 0
    catalog = Catalog(db_url)
    before = catalog.snapshot()

    done = run_cli(tmp_path, db_url, "migrate", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "CREATE TABLE" not in done.stdout
    assert 'ADD COLUMN "body"' in done.stdout
    assert catalog.snapshot() == before
    assert catalog.versions() == [10]


def test_rollback_dry_run_prints_the_reversal_and_keeps_everything(
    tmp_path: Path, db_url: str
) -> None:
    _project(tmp_path)
    assert run_cli(tmp_path, db_url, "migrate").returncode == 0
    catalog = Catalog(db_url)
    before = catalog.snapshot()

    done = run_cli(tmp_path, db_url, "rollback", "--all", "--dry-run")
    assert done.returncode == 0, done.stderr
    statements = _statements(done.stdout)
    assert 'DROP TABLE "posts"' in done.stdout
    assert sum(s.startswith(DELETE_VERSION) for s in statements) == 2
    assert statements.index('ALTER TABLE "posts" DROP COLUMN "body";') < next(
        i for i, s in enumerate(statements) if s.startswith('DROP TABLE "posts"')
    )
    assert catalog.snapshot() == before
    assert catalog.versions() == [10, 20]


def test_dry_run_through_the_api(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    printed: list[str] = []
    with migrator(tmp_path, db_url) as m:
        m.out = printed.append
        assert m.up(dry_run=True) == [10, 20]
        assert m.status()[0].status == "down"
    assert any(line.startswith(INSERT_VERSION) for line in printed)
    assert Catalog(db_url).tables() == set()


def test_log_sql_logs_each_statement_as_it_runs(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    done = run_cli(tmp_path, db_url, "migrate", "--log-sql")
    assert done.returncode == 0, done.stderr
    log = done.stderr
    assert 'CREATE TABLE "posts"' in log
    assert 'CREATE INDEX "posts_title_index"' in log
    assert 'ALTER TABLE "posts" ADD COLUMN "body"' in log
    assert log.count(INSERT_VERSION) == 2
    assert done.stdout == ""
    assert Catalog(db_url).versions() == [10, 20]

    quiet = run_cli(tmp_path, db_url, "rollback")
    assert quiet.returncode == 0, quiet.stderr
    assert "ALTER TABLE" not in quiet.stderr and DELETE_VERSION not in quiet.stderr
    assert Catalog(db_url).versions() == [10]
