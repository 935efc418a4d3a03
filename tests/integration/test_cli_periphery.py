"""Issue 9, the command's edges: secrets, URLs, config lookup, global options, help text.

Each case runs ``python -m whimbrel`` in a subprocess against a real database
(or a real SQLite file) and checks what a user sees.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from migration_helpers import (
    Catalog,
    cli_env,
    error_text,
    run_cli,
    write,
    write_change,
    write_config,
    write_table_migrations,
)

PW = "Secr3tPW"


def _whimbrel(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m whimbrel ARGS`` without an implicit --database-url."""
    return subprocess.run(
        [sys.executable, "-m", "whimbrel", *args],
        cwd=cwd,
        env={**cli_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _hostport(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


# -- secrets ---------------------------------------------------------------------------------


def test_postgres_driver_messages_quoting_the_url_are_masked(tmp_path: Path, pg_url: str) -> None:
    where = f"{_hostport(pg_url)}/nodb"
    for url in (
        f"postgresql+asyncpg://u:{PW}@{where}",  # psycopg quotes the whole URL
        f"postgresql://u:{PW}%ZZ@{where}",  # psycopg quotes the bad token
        f"postgresql://u:{PW}/x@{where}",  # an unencoded / in the password
    ):
        done = run_cli(tmp_path, url, "status")
        assert done.returncode == 2, done.stderr
        assert PW not in done.stderr + done.stdout, done.stderr
        assert "***" in error_text(done)


def test_password_as_query_parameter_is_masked(tmp_path: Path, pg_url: str) -> None:
    done = run_cli(tmp_path, f"{pg_url}?password={PW}", "status")  # trust auth: it connects
    assert done.returncode == 0, done.stderr
    assert PW not in done.stderr + done.stdout
    assert "password=***" in done.stderr


@pytest.mark.parametrize("url", [f"admin:{PW}@db/app", f"postgresql:/admin:{PW}@db/app"])
def test_malformed_urls_are_masked_in_the_error(tmp_path: Path, url: str) -> None:
    done = run_cli(tmp_path, url, "status")
    assert done.returncode == 2, done.stderr
    assert PW not in done.stderr
    error = error_text(done)
    assert "postgresql://" in error and "arangodb://" in error  # every served scheme


def test_mysql_driver_messages_are_masked(tmp_path: Path, mysql_url: str) -> None:
    url = mysql_url.replace("://root@", f"://root:{PW}@", 1)  # root has no password
    assert PW in url
    done = run_cli(tmp_path, url, "status")
    assert done.returncode == 2, done.stderr
    assert PW not in done.stderr + done.stdout


# -- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda u: u.replace(f":{urlsplit(u).port}/", ":notaport/"), "bad port 'notaport'"),
        (lambda u: u.replace(f":{urlsplit(u).port}/", ":99999/"), "bad port '99999'"),
        (lambda u: u.replace("@" + urlsplit(u).netloc.split("@")[1], "@[::1"), "IPv6"),
        (lambda u: u + "?charset=bogus", "unknown charset 'bogus'"),
    ],
)
def test_bad_mysql_urls_exit_2_with_a_clear_error(
    tmp_path: Path, mysql_url: str, change: object, words: str
) -> None:
    url = change(mysql_url)  # type: ignore[operator]
    done = run_cli(tmp_path, url, "status")
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert words in error and "unexpected" not in error


def test_empty_postgres_url_names_the_host_database_and_user(tmp_path: Path, pg_url: str) -> None:
    parts = urlsplit(pg_url)
    database = parts.path.lstrip("/")
    env = {
        "DATABASE_URL": "postgresql://",
        "PGHOST": str(parts.hostname),
        "PGPORT": str(parts.port),
        "PGUSER": str(parts.username),
        "PGDATABASE": database,
    }
    done = _whimbrel(tmp_path, "status", env=env)
    assert done.returncode == 0, done.stderr
    for shown in (f"host {parts.hostname}", f"database {database}", f"user {parts.username}"):
        assert shown in done.stderr, done.stderr


# -- config lookup ---------------------------------------------------------------------------


def test_config_in_a_parent_folder_is_found_and_named(tmp_path: Path, pg_url: str) -> None:
    write_config(tmp_path, database_url=pg_url)
    write_table_migrations(tmp_path, [10])
    sub = tmp_path / "app" / "sub"
    sub.mkdir(parents=True)
    done = _whimbrel(sub, "migrate")
    assert done.returncode == 0, done.stderr
    assert str((tmp_path / "whimbrel.toml").resolve()) in done.stderr
    assert Catalog(pg_url).versions() == [10]
    assert not (sub / "whimbrel.db").exists()


def test_no_config_anywhere_says_so(tmp_path: Path) -> None:
    done = _whimbrel(tmp_path, "status")
    assert done.returncode == 0, done.stderr
    assert "no whimbrel.toml or [tool.whimbrel] found" in done.stderr


# -- global options --------------------------------------------------------------------------


def test_quiet_after_the_command_name(tmp_path: Path, sqlite_url: str) -> None:
    loud = run_cli(tmp_path, sqlite_url, "status")
    assert "using " in loud.stderr
    for args in (("status", "-q"), ("-q", "status"), ("status", "--quiet")):
        done = run_cli(tmp_path, sqlite_url, *args)
        assert done.returncode == 0, done.stderr
        assert "using " not in done.stderr, args


def test_debug_after_the_command_name_shows_the_traceback(tmp_path: Path, sqlite_url: str) -> None:
    write_change(tmp_path, 10, "oops", "raise RuntimeError('boom')")
    done = run_cli(tmp_path, sqlite_url, "migrate", "--debug")
    assert "Traceback" in done.stderr, done.stderr


def test_database_url_and_config_after_the_command_name(tmp_path: Path, sqlite_url: str) -> None:
    config = write(tmp_path / "conf", "other.toml", 'migrations_path = "../db"\n')
    write_change(tmp_path, 10, "t", 'create(table("t10"))', folder="db")
    done = _whimbrel(tmp_path, "migrate", "--config", str(config), "--database-url", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert Catalog(sqlite_url).versions() == [10]


# -- help --------------------------------------------------------------------------------------


def test_top_level_help_does_not_cut_summaries(tmp_path: Path) -> None:
    done = _whimbrel(tmp_path, "--help", env={"COLUMNS": "80"})
    assert done.returncode == 0
    commands = done.stdout.split("Commands:")[1]
    assert "..." not in commands, commands
    for line in commands.strip().splitlines():
        assert line.rstrip().endswith("."), line  # a whole sentence


def test_gen_help_points_to_nothing_a_pip_install_lacks(tmp_path: Path) -> None:
    for args in (("gen", "--help"), ("gen", "domain", "--help"), ("gen", "outbox", "--help")):
        done = _whimbrel(tmp_path, *args, env={"COLUMNS": "80"})
        assert done.returncode == 0
        assert "docs/" not in done.stdout and ".md" not in done.stdout, done.stdout
        assert "..." not in done.stdout.split("Commands:")[-1]


def test_gen_database_url_means_the_target_database(tmp_path: Path) -> None:
    done = _whimbrel(tmp_path, "gen", "outbox", "--help")
    assert "used only to warn" in " ".join(done.stdout.split())


# -- generators --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite:///app.db", "mysql://root@127.0.0.1/app"])
def test_gen_outbox_warns_when_the_database_is_not_postgres(tmp_path: Path, url: str) -> None:
    done = run_cli(tmp_path, url, "gen", "outbox")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert any("gen_random_uuid()" in w for w in warnings), done.stderr
    if url.startswith("mysql"):
        assert any("partial indexes" in w for w in warnings), done.stderr


def test_gen_outbox_on_postgres_warns_nothing(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "postgresql://u@db/app", "gen", "outbox")
    assert done.returncode == 0, done.stderr
    assert "warning:" not in done.stderr


def test_gen_domain_and_enum_warn_on_sqlite(tmp_path: Path) -> None:
    from golden.cases import GOLDEN

    write_config(tmp_path, database_url="sqlite:///app.db")
    domain = _whimbrel(tmp_path, "gen", "domain", str(GOLDEN / "domain" / "crm.toml"))
    assert domain.returncode == 0, domain.stderr
    assert "gen_random_uuid()" in domain.stderr and "SQLite" in domain.stderr
    enum = _whimbrel(tmp_path, "gen", "migration", "create_post_status", "-t", "create_enum")
    assert enum.returncode == 0, enum.stderr
    assert "enum type" in enum.stderr


def test_gen_tenant_writes_into_tenant_migrations(tmp_path: Path, sqlite_url: str) -> None:
    for args in (("migration", "add_x"), ("outbox",)):
        done = run_cli(tmp_path, sqlite_url, "gen", *args, "--tenant")
        assert done.returncode == 0, done.stderr
        path = Path(done.stdout.splitlines()[0])
        assert path.parent == (tmp_path / "tenant_migrations").resolve()
    assert not (tmp_path / "migrations").exists()


def test_gen_unknown_template_suggests_the_closest(tmp_path: Path, sqlite_url: str) -> None:
    done = run_cli(tmp_path, sqlite_url, "gen", "migration", "x", "-t", "create_tabel")
    assert done.returncode == 2
    assert "did you mean 'create_table'?" in error_text(done)


def test_gen_with_a_bad_url_writes_nothing(tmp_path: Path) -> None:
    done = run_cli(tmp_path, f"admin:{PW}@db/app", "gen", "migration", "add_x")
    assert done.returncode == 2
    assert PW not in done.stderr and "no scheme" in error_text(done)
    assert not (tmp_path / "migrations").exists()
