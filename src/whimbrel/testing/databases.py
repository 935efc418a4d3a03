"""Throwaway databases for the pytest plugin, made on the server a URL points at.

The URL given to the plugin is never migrated itself: it is where new
databases are created (``CREATE DATABASE <name>_wb<hex>``, which needs that
privilege) and dropped after the test or session. For SQLite a URL is not
needed: each database is a new file in a temporary folder.

Example::

    with throwaway("postgresql://postgres@127.0.0.1/app_test") as url:
        ...   # url names a new, empty database, dropped afterwards
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from whimbrel.errors import UsageError
from whimbrel.url import mask, scheme


def connect(url: str, *, autocommit: bool) -> Any:
    """A DB-API connection to ``url`` with the driver whimbrel uses for it."""
    kind = scheme(url)
    if kind in ("postgresql", "postgres"):
        import psycopg

        return psycopg.connect(url.replace("+psycopg", "", 1), autocommit=autocommit)
    if kind in ("mysql", "mariadb"):
        import pymysql

        parts = urlsplit(url)
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
            unix_socket=parse_qs(parts.query).get("unix_socket", [None])[0],
            autocommit=autocommit,
            charset="utf8mb4",
        )
    if kind == "sqlite":
        import sqlite3

        from whimbrel.url import sqlite_path

        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")  # as whimbrel's own connections do
        if not autocommit:
            # An explicit BEGIN: Python's implicit transactions leave DDL outside them.
            conn.execute("BEGIN")
        return conn
    raise UsageError(f"the pytest plugin supports PostgreSQL, MySQL and SQLite, not {mask(url)}")


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (user, host and options kept)."""
    parts = urlsplit(url)
    new = f"{parts.scheme}://{parts.netloc}/{quote(name, safe='')}"
    return f"{new}?{parts.query}" if parts.query else new


@contextmanager
def throwaway(base_url: str | None) -> Iterator[str]:
    """A new empty database beside ``base_url`` (SQLite file when None), dropped afterwards."""
    if base_url is None or scheme(base_url) == "sqlite":
        folder = tempfile.mkdtemp(prefix="whimbrel-test-")
        try:
            yield f"sqlite:///{folder}/test.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    base = unquote(urlsplit(base_url).path.lstrip("/")) or "whimbrel"
    name = f"{base[:40]}_wb{secrets.token_hex(4)}"
    mysql = scheme(base_url) in ("mysql", "mariadb")
    quoted = f"`{name}`" if mysql else f'"{name}"'
    create = f"CREATE DATABASE {quoted}" + (
        " CHARACTER SET utf8mb4" if mysql else " TEMPLATE template0"
    )
    _admin(base_url, create)
    try:
        yield with_database(base_url, name)
    finally:
        # FORCE (PostgreSQL 13+) ends sessions a test left open.
        _admin(base_url, f"DROP DATABASE IF EXISTS {quoted}" + ("" if mysql else " WITH (FORCE)"))


def _admin(url: str, sql: str) -> None:
    with closing(connect(url, autocommit=True)) as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        cursor.close()
