"""Read a database's schema into a comparable snapshot, and compare two snapshots.

``inspect`` reads one schema straight from the database's own catalog
(PostgreSQL ``pg_catalog``, SQLite ``sqlite_master`` and PRAGMAs,
MySQL/MariaDB ``information_schema``), never from whimbrel's records, and
returns a ``Catalog``: frozen dataclasses holding tables with their columns
(type as the database reports it, nullability, default, comment, collation,
generated expression, identity), primary key, indexes, foreign keys, check
and exclusion constraints, plus views and (PostgreSQL) enum types. It is
JSON-serializable (``to_json``/``Catalog.from_dict``) and two snapshots are
equal exactly when the schemas are. ``diff`` lists the drift as lines.

whimbrel's own tables (the versions table, its ``_progress`` journal and its
``_checksums`` and ``_lock`` side tables) are left out unless ``include_whimbrel=True``.

Example::

    >>> from whimbrel.inspect import diff, inspect
    >>> before = inspect("sqlite:///app.db")                    # doctest: +SKIP
    >>> ... run a migration ...
    >>> diff(before, inspect("sqlite:///app.db"))               # doctest: +SKIP
    ['+ table "posts"']

Options:

- ``schema``: the PostgreSQL schema (default ``public``); on MySQL the
  database (default the URL's); SQLite has only ``main``.
- ``versions_table``: the name of the versions table (``migration_source``,
  default ``schema_migrations``), to leave it and its journal out.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from whimbrel.errors import ConfigError, DatabaseConnectionError
from whimbrel.inspect.diff import diff
from whimbrel.inspect.model import (
    Catalog,
    Check,
    Column,
    EnumType,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    View,
)
from whimbrel.url import mask, scheme, sqlite_path

__all__ = [
    "Catalog",
    "Check",
    "Column",
    "EnumType",
    "ForeignKey",
    "Index",
    "PrimaryKey",
    "Table",
    "View",
    "diff",
    "inspect",
]

DEFAULT_VERSIONS_TABLE = "schema_migrations"


def inspect(
    source: str | Any,
    schema: str | None = None,
    *,
    versions_table: str = DEFAULT_VERSIONS_TABLE,
    include_whimbrel: bool = False,
) -> Catalog:
    """A snapshot of one schema, from a database URL or an open driver connection.

    ``source`` is a URL (``postgresql://``, ``sqlite:///``, ``mysql://``,
    ``mariadb://``), a psycopg, sqlite3 or PyMySQL connection, or a connected
    whimbrel adapter (``Migrator.adapter``). A SQLite file
    that does not exist reads as an empty catalog and is not created.
    """
    side = ("_progress", "_checksums", "_lock")  # journal, checksums, lease lock
    exclude = set() if include_whimbrel else {versions_table, *(versions_table + s for s in side)}
    if isinstance(source, str):
        return _inspect_url(source, schema, exclude)
    return _inspect_connection(source, schema, exclude)


def _inspect_connection(conn: Any, schema: str | None, exclude: set[str]) -> Catalog:
    from whimbrel.adapters.base import Adapter

    if isinstance(conn, Adapter):  # a connected whimbrel adapter: its driver's connection
        if conn.name == "postgresql":  # libpq or psycopg underneath: read through query()
            from whimbrel.inspect.postgres import read_postgres

            return read_postgres(_QueryConnection(conn), schema or "public", exclude)
        conn = conn.conn  # type: ignore[attr-defined]
    module = type(conn).__module__.split(".", 1)[0]
    if isinstance(conn, sqlite3.Connection):
        from whimbrel.inspect.sqlite import read_sqlite

        return read_sqlite(conn, exclude)
    if module == "psycopg":
        from whimbrel.inspect.postgres import read_postgres

        return read_postgres(conn, schema or "public", exclude)
    if module == "pymysql":
        from whimbrel.inspect.mysql import read_mysql

        return read_mysql(conn, schema or _mysql_database(conn), exclude)
    raise ConfigError(
        f"cannot inspect a {type(conn).__module__}.{type(conn).__name__}: pass a database URL, "
        "or a psycopg, sqlite3 or PyMySQL connection"
    )


class _QueryConnection:
    """A whimbrel adapter as the part of a DB-API connection the PostgreSQL reader uses:
    ``execute(sql, params)`` answering ``fetchall()`` and ``fetchone()``."""

    def __init__(self, adapter: Any):
        self._adapter = adapter

    def execute(self, sql: str, params: Any = None) -> _Rows:
        return _Rows(self._adapter.query(sql, params))


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]):
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None


def _inspect_url(url: str, schema: str | None, exclude: set[str]) -> Catalog:
    kind = scheme(url)
    if kind == "sqlite":
        return _inspect_sqlite(url, exclude)
    if kind in ("postgresql", "postgres"):
        conn = _connect_postgres(url)
    elif kind in ("mysql", "mariadb"):
        conn = _connect_mysql(url)
    else:
        raise ConfigError(
            f"cannot inspect {mask(url)}: the catalog reader knows postgresql://, sqlite:/// "
            "and mysql:// (or mariadb://) URLs"
        )
    with closing(conn):
        return _inspect_connection(conn, schema, exclude)


def _inspect_sqlite(url: str, exclude: set[str]) -> Catalog:
    from whimbrel.inspect.sqlite import read_sqlite

    path = sqlite_path(url)
    if path == ":memory:" or not Path(path).exists():
        return Catalog("sqlite", "main")  # nothing to read; do not create the file
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return read_sqlite(conn, exclude)


def _connect_postgres(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url.replace("+psycopg://", "://", 1), autocommit=True)
    except psycopg.Error as exc:
        raise _unreachable(url, exc) from exc


def _connect_mysql(url: str) -> Any:
    try:
        import pymysql
    except ImportError:
        raise ConfigError(
            f"{mask(url)} needs the PyMySQL driver: pip install 'whimbrel[mysql]'"
        ) from None
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
            unix_socket=query.get("unix_socket"),
            charset=query.get("charset", "utf8mb4"),
            autocommit=True,
        )
    except pymysql.MySQLError as exc:
        raise _unreachable(url, exc) from exc


def _mysql_database(conn: Any) -> str:
    with conn.cursor() as cursor:
        cursor.execute("SELECT DATABASE()")
        name = cursor.fetchone()[0]
    if not name:
        raise ConfigError("the MySQL connection has no current database: pass schema=")
    return str(name)


def _unreachable(url: str, exc: Exception) -> DatabaseConnectionError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseConnectionError(
        f"cannot connect to {mask(url)} to read its catalog: {reason}. Check that the server "
        "is running and the URL is right"
    )
