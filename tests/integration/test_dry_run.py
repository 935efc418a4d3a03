"""``--dry-run`` prints the SQL and changes nothing; ``--log-sql`` logs what runs.

Identifiers are quoted as each database quotes them (``q``); where DDL is not
transactional (MySQL) no BEGIN/COMMIT surrounds a migration.
"""

from __future__ import annotations

from pathlib import Path

from backends import has, q
from migration_helpers import Catalog, migrator, run_cli, write_change


def insert_version(url: str) -> str:
    return f"INSERT INTO {q(url, 'schema_migrations')}"


def delete_version(url: str) -> str:
    return f"DELETE FROM {q(url, 'schema_migrations')}"


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
    assert statements[0].startswith(f"CREATE TABLE IF NOT EXISTS {q(db_url, 'schema_migrations')}")
    posts = q(db_url, "posts")
    expected = [
        [f"CREATE TABLE {posts}", f"CREATE INDEX {q(db_url, 'posts_title_index')}"],
        [f"ALTER TABLE {posts} ADD COLUMN {q(db_url, 'body')}"],
    ]
    rest, n = statements[1:], 0
    for version, ddl in zip((10, 20), expected, strict=True):
        if has(db_url, "transactional_ddl"):
            assert rest[n] == "BEGIN;"
            n += 1
        for start in ddl:
            assert rest[n].startswith(start), (start, rest)
            n += 1
        assert rest[n].startswith(insert_version(db_url)) and str(version) in rest[n]
        n += 1
        if has(db_url, "transactional_ddl"):
            assert rest[n] == "COMMIT;"
            n += 1
    assert len(rest) == n
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
    assert f"ADD COLUMN {q(db_url, 'body')}" in done.stdout
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
    posts = q(db_url, "posts")
    assert f"DROP TABLE {posts}" in done.stdout
    assert sum(s.startswith(delete_version(db_url)) for s in statements) == 2
    assert statements.index(f"ALTER TABLE {posts} DROP COLUMN {q(db_url, 'body')};") < next(
        i for i, s in enumerate(statements) if s.startswith(f"DROP TABLE {posts}")
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
    assert any(line.startswith(insert_version(db_url)) for line in printed)
    assert Catalog(db_url).tables() == set()


def test_dry_run_of_a_migration_without_the_lock_takes_no_lock(tmp_path: Path, db_url: str) -> None:
    """``disable_migration_lock`` gives back a lock a dry run never took: it must not take one."""
    write_change(
        tmp_path, 10, "unlocked", 'create(table("t"))', flags="disable_migration_lock = True"
    )
    with migrator(tmp_path, db_url) as dry:
        assert dry.up(dry_run=True) == [10]
        with migrator(tmp_path, db_url, migration_lock_wait=1) as other:
            assert other.up() == [10]  # LockTimeoutError while the dry run held the lock
    assert Catalog(db_url).versions() == [10]


def test_log_sql_logs_each_statement_as_it_runs(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path)
    done = run_cli(tmp_path, db_url, "migrate", "--log-sql")
    assert done.returncode == 0, done.stderr
    log, posts = done.stderr, q(db_url, "posts")
    assert f"CREATE TABLE {posts}" in log
    assert f"CREATE INDEX {q(db_url, 'posts_title_index')}" in log
    assert f"ALTER TABLE {posts} ADD COLUMN {q(db_url, 'body')}" in log
    assert log.count(insert_version(db_url)) == 2
    assert done.stdout == ""
    assert Catalog(db_url).versions() == [10, 20]

    quiet = run_cli(tmp_path, db_url, "rollback")
    assert quiet.returncode == 0, quiet.stderr
    assert "ALTER TABLE" not in quiet.stderr and delete_version(db_url) not in quiet.stderr
    assert Catalog(db_url).versions() == [10]
