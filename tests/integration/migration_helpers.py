"""Helpers for the integration tests: write migration files, run whimbrel, read the catalog.

Every test builds its own project in ``tmp_path`` (a ``migrations/`` folder and,
when needed, a ``whimbrel.toml``) and points it at the fresh database from the
``db_url``/``pg_url`` fixture. whimbrel is driven either through the Python API
(``migrator``) or as a real command in a subprocess (``run_cli``); effects are
checked by reading the database catalog directly (``Catalog``), never through
whimbrel itself.

Example::

    write_change(tmp_path, 10, "create_posts", 'create(table("posts"))')
    with migrator(tmp_path, db_url) as m:
        assert m.up() == [10]
    assert "posts" in Catalog(db_url).tables()
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg

import whimbrel
from dbs import MYSQL
from whimbrel.config import load_config

VERSIONS = "schema_migrations"
#: The progress journal of a failed migration where DDL is not transactional (MySQL).
PROGRESS = "schema_migrations_progress"
#: The side table of applied migrations' checksums (whimbrel.migrator.checksums).
CHECKSUMS = "schema_migrations_checksums"
CLI_TIMEOUT_S = 120
HEADER = "from whimbrel.migration import *\n"


# -- writing a project -----------------------------------------------------------------


def write(folder: Path, filename: str, text: str) -> Path:
    """Write ``text`` (dedented) to ``folder/filename``, creating the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _function(name: str, body: str) -> str:
    return f"\ndef {name}():\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def write_change(
    project: Path,
    version: int,
    name: str,
    body: str,
    *,
    flags: str = "",
    folder: str = "migrations",
) -> Path:
    """A migration file whose ``change()`` holds ``body``; ``flags`` go at module level."""
    text = HEADER + textwrap.dedent(flags) + _function("change", body)
    return write(project / folder, f"{version}_{name}.py", text)


def write_up_down(
    project: Path,
    version: int,
    name: str,
    up: str,
    down: str | None = None,
    *,
    flags: str = "",
    folder: str = "migrations",
) -> Path:
    """A migration file with ``up()`` and (unless None) ``down()``."""
    text = HEADER + textwrap.dedent(flags) + _function("up", up)
    if down is not None:
        text += _function("down", down)
    return write(project / folder, f"{version}_{name}.py", text)


def write_table_migrations(project: Path, versions: Sequence[int]) -> None:
    """One migration per version, each creating the table ``t<version>``."""
    for version in versions:
        write_change(project, version, f"create_t{version}", f'create(table("t{version}"))')


def write_config(project: Path, **settings: Any) -> Path:
    """A ``whimbrel.toml`` with the given top-level settings (str, bool, int, list of str)."""
    lines = []
    for key, value in settings.items():
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int | float):
            rendered = str(value)
        elif isinstance(value, str):
            rendered = f'"{value}"'
        else:
            rendered = "[" + ", ".join(f'"{v}"' for v in value) + "]"
        lines.append(f"{key} = {rendered}")
    return write(project, "whimbrel.toml", "\n".join(lines) + "\n")


# -- running whimbrel ------------------------------------------------------------------


def migrator(
    project: Path,
    url: str,
    cls: type[whimbrel.Migrator] | None = None,
    **overrides: Any,
) -> whimbrel.Migrator:
    """A Migrator for the project in ``project`` (its whimbrel.toml, if any) on ``url``.

    The environment is ignored (``env={}``), so a developer's DATABASE_URL or
    WHIMBREL_* settings cannot leak into a test.
    """
    config = load_config(cwd=project, env={}, overrides={"database_url": url, **overrides})
    return (cls or whimbrel.Migrator)(config, out=lambda _line: None)


def cli_env() -> dict[str, str]:
    """This process's environment minus anything that configures whimbrel."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL"
        and not (key.startswith("WHIMBREL_") and not key.startswith("WHIMBREL_TEST_"))
    }


def cli_command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "whimbrel", "--database-url", url, *args]


def run_cli(
    project: Path, url: str, *args: str, timeout: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """``python -m whimbrel --database-url URL ARGS...`` run in ``project``."""
    return subprocess.run(
        cli_command(url, *args),
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def error_text(done: subprocess.CompletedProcess[str]) -> str:
    """The ``whimbrel: error:`` paragraph of a failed command's stderr.

    Asserts the contract for errors: exactly one paragraph (no blank line), no
    traceback. Informational lines before it (``using ...``) are dropped.
    """
    stderr = done.stderr
    assert "Traceback" not in stderr, stderr
    assert "whimbrel: error: " in stderr, stderr
    paragraph = stderr[stderr.index("whimbrel: error: ") :].rstrip("\n")
    assert "\n\n" not in paragraph, paragraph
    return paragraph


# -- reading the catalog ---------------------------------------------------------------


class Catalog:
    """What the database holds, read straight from its catalog (not through whimbrel).

    ``schema`` is a PostgreSQL schema; None means ``public`` (SQLite has no schemas,
    and a MySQL/MariaDB catalog is the URL's database). A SQLite file that does not
    exist reads as empty and is not created.
    """

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite:")
        self.mysql = url.startswith(("mysql:", "mariadb:"))

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.sqlite:
            path = self.url.split("://", 1)[1][1:]
            if not Path(path).exists():
                return []
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                return list(conn.execute(sql, tuple(params)).fetchall())
        if self.mysql:
            with closing(MYSQL.connect(self.url)) as conn, closing(conn.cursor()) as cursor:
                cursor.execute(sql, tuple(params) or None)
                return list(cursor.fetchall())
        with psycopg.connect(self.url, autocommit=True) as conn:
            return list(conn.execute(sql, tuple(params)).fetchall())  # type: ignore[arg-type]

    def execute(self, *statements: str) -> None:
        """Run statements directly (setting up a case), outside whimbrel."""
        if self.mysql:
            with closing(MYSQL.connect(self.url)) as conn, closing(conn.cursor()) as cursor:
                for sql in statements:
                    cursor.execute(sql)
        elif self.sqlite:
            with closing(sqlite3.connect(self.url.split("://", 1)[1][1:])) as lite, lite:
                for sql in statements:
                    lite.execute(sql)
        else:
            with psycopg.connect(self.url, autocommit=True) as conn:
                for sql in statements:
                    conn.execute(sql.encode())

    def tables(self, schema: str | None = None) -> set[str]:
        if self.sqlite:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            return {r[0] for r in self._rows(sql)}
        if self.mysql:
            sql = (
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
            )
            return {r[0] for r in self._rows(sql)}
        sql = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE'"
        )
        return {r[0] for r in self._rows(sql, (schema or "public",))}

    def user_tables(self, schema: str | None = None) -> set[str]:
        """Tables other than whimbrel's: versions, progress journal, checksums, any source."""
        return {
            t
            for t in self.tables(schema) - {VERSIONS}
            if not t.endswith(("_progress", "_checksums"))
        }

    def columns(self, table: str, schema: str | None = None) -> list[str]:
        if self.sqlite:
            return [r[1] for r in self._rows(f'PRAGMA table_info("{table}")')]
        sql = (
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = {} AND table_name = %s ORDER BY ordinal_position"
        )
        if self.mysql:
            return [r[0] for r in self._rows(sql.format("DATABASE()"), (table,))]
        return [r[0] for r in self._rows(sql.format("%s"), (schema or "public", table))]

    def indexes(self, table: str, schema: str | None = None) -> set[str]:
        """Named indexes of ``table``, without primary keys and SQLite's automatic ones."""
        if self.sqlite:
            sql = (
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND name NOT LIKE 'sqlite_autoindex_%'"
            )
            return {r[0] for r in self._rows(sql, (table,))}
        if self.mysql:
            sql = (
                "SELECT DISTINCT index_name FROM information_schema.statistics "
                "WHERE table_schema = DATABASE() AND table_name = %s AND index_name <> 'PRIMARY'"
            )
            return {r[0] for r in self._rows(sql, (table,))}
        sql = (
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = %s AND t.relname = %s AND NOT x.indisprimary"
        )
        return {r[0] for r in self._rows(sql, (schema or "public", table))}

    def schemas(self) -> set[str]:
        assert not self.sqlite
        return {r[0] for r in self._rows("SELECT nspname FROM pg_namespace")}

    def versions(self, schema: str | None = None, source: str = VERSIONS) -> list[int] | None:
        """Applied versions in order, or None when the versions table does not exist."""
        if source not in self.tables(schema):
            return None
        qualified = f'"{schema}"."{source}"' if schema else f'"{source}"'
        if self.mysql:
            qualified = f"`{source}`"
        return [int(r[0]) for r in self._rows(f"SELECT version FROM {qualified} ORDER BY 1")]

    def applied(self, schema: str | None = None) -> list[int]:
        """Applied versions; an absent versions table counts as none."""
        return self.versions(schema) or []

    def scalar(self, sql: str) -> Any:
        rows = self._rows(sql)
        assert len(rows) == 1, rows
        return rows[0][0]

    def snapshot(self, schema: str | None = None) -> dict[str, tuple[list[str], set[str]]]:
        """Every table with its columns and indexes, to check that nothing changed."""
        return {t: (self.columns(t, schema), self.indexes(t, schema)) for t in self.tables(schema)}


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def is_mysql(url: str) -> bool:
    return url.startswith(("mysql:", "mariadb:"))
