"""Schema dumps: ``whimbrel dump`` and ``whimbrel load`` (Ecto's ``structure.sql``).

A dump is the database's schema as its own tool writes it (``pg_dump
--schema-only``, ``mysqldump --no-data``; for SQLite the ``CREATE`` statements
kept in ``sqlite_master``) followed by one ``INSERT`` per versions table
(``migration_source``, global and each tenant prefix) listing the applied
versions. Loading it into an empty database and then migrating gives the same
database as running every migration, only faster.

Example::

    import whimbrel
    from whimbrel import structure

    with whimbrel.Migrator.from_config() as m:
        result = structure.dump(m)           # <config dir>/structure.sql
        print(result.path, result.versions)

    with whimbrel.Migrator.from_config(database_url="postgresql://…/fresh") as m:
        structure.load(m, "structure.sql")   # refuses a database that has tables
        m.up()                                # then the migrations newer than the dump

PostgreSQL and MySQL need their client programs (``pg_dump``/``psql``,
``mysqldump``/``mysql`` or the ``mariadb-*`` names); a missing one is a
``ClientToolError`` (exit 2) saying how to install it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from whimbrel.errors import DatabaseError, UsageError
from whimbrel.structure import clients
from whimbrel.structure.clients import ClientToolError

if TYPE_CHECKING:
    from whimbrel.adapters.base import Adapter
    from whimbrel.migrator.core import Migrator

DEFAULT_FILE = "structure.sql"

_F = TypeVar("_F", bound=Any)

__all__ = [
    "ClientToolError",
    "DEFAULT_FILE",
    "DatabaseNotEmptyError",
    "DumpResult",
    "default_path",
    "dump",
    "load",
]


class DatabaseNotEmptyError(UsageError):
    """``load`` found objects in the target database."""


@dataclass(frozen=True)
class DumpResult:
    """What ``dump`` wrote: the file and how many version rows it lists."""

    path: Path
    versions: int


def default_path(migrator: Migrator) -> Path:
    """``structure.sql`` beside the configuration file (or in the working directory)."""
    return migrator.config.root / DEFAULT_FILE


def dump(migrator: Migrator, path: str | Path | None = None) -> DumpResult:
    """Write the schema and the applied versions to ``path`` (default ``default_path``)."""
    target = Path(path) if path is not None else default_path(migrator)
    adapter = migrator.adapter
    schema = _engine(_SCHEMA, adapter)(adapter)
    inserts, count = _version_inserts(migrator)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(schema.rstrip("\n") + "\n\n" + inserts)
    return DumpResult(target, count)


def load(migrator: Migrator, path: str | Path) -> None:
    """Load a dump into the migrator's database, which must be empty.

    Raises ``DatabaseNotEmptyError`` (exit 2) naming what it found otherwise;
    a file that does not exist is a ``UsageError``.
    """
    source = Path(path)
    if not source.is_file():
        raise UsageError(
            f"dump file {str(source)!r} does not exist: write one with `whimbrel dump`"
        )
    adapter = migrator.adapter
    found = _engine(_FOUND, adapter)(adapter)
    if found:
        listed = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise DatabaseNotEmptyError(
            f"refusing to load {str(source)!r} into {adapter.display_url}: it is not empty "
            f"(found {listed}); load into a new, empty database"
        )
    _LOAD[adapter.name](adapter, source)


def _engine(table: dict[str, _F], adapter: Adapter) -> _F:
    try:
        return table[adapter.name]
    except KeyError:
        raise UsageError(
            f"dump and load support PostgreSQL, MySQL/MariaDB and SQLite, not {adapter.name}"
        ) from None


# -- versions ---------------------------------------------------------------------------


def _version_inserts(migrator: Migrator) -> tuple[str, int]:
    """``INSERT INTO <versions table> (version) VALUES ...;`` per prefix that has one."""
    adapter, source = migrator.adapter, migrator.config.migration_source
    prefixes: list[str | None] = [None]
    if adapter.capabilities.schemas:
        prefixes += migrator.known_prefixes()
    blocks, count = [], 0
    for prefix in prefixes:
        if not adapter.table_exists(source, prefix):
            continue
        rows = adapter.query(adapter.select_versions_sql(prefix, source))
        versions = [int(row[0]) for row in rows]
        if not versions:
            continue
        count += len(versions)
        table = adapter.versions_table(_explicit(adapter, prefix), source)
        column = f"{adapter.quote_char}version{adapter.quote_char}"
        values = ",\n".join(f"({v})" for v in versions)
        blocks.append(f"INSERT INTO {table} ({column}) VALUES\n{values};\n")
    return "\n".join(blocks), count


def _explicit(adapter: Adapter, prefix: str | None) -> str | None:
    """pg_dump empties search_path in its script, so PostgreSQL names need their schema."""
    if prefix is None and adapter.name == "postgresql":
        return str(adapter.query("SELECT current_schema()")[0][0])
    return prefix


# -- PostgreSQL -------------------------------------------------------------------------


def _pg_major(adapter: Adapter) -> int:
    return int(adapter.query("SHOW server_version_num")[0][0]) // 10000


def _pg_schema(adapter: Adapter) -> str:
    tool = clients.find_pg_tool("pg_dump", _pg_major(adapter))
    url, env = clients.pg_connection(adapter.url)
    return clients.run(
        [str(tool.path), "--schema-only", "--no-owner", "--no-privileges", f"--dbname={url}"], env
    )


def _pg_found(adapter: Adapter) -> list[str]:
    rows = adapter.query(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1"
    )
    schemas = adapter.query(
        "SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
        "AND nspname NOT IN ('information_schema', 'public') ORDER BY 1"
    )
    types = adapter.query(
        "SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype IN ('e', 'd') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    return [str(r[0]) for r in rows + schemas + types]


def _pg_load(adapter: Adapter, path: Path) -> None:
    tool = clients.find_pg_tool("psql", _pg_major(adapter))
    url, env = clients.pg_connection(adapter.url)
    # One transaction: a failing statement leaves the database as empty as it was.
    command = [str(tool.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    clients.run([*command, f"--dbname={url}", "-f", str(path)], env)


# -- MySQL / MariaDB --------------------------------------------------------------------

# AUTO_INCREMENT counters are data, not schema; leaving them in makes dumps of
# the same schema differ.
_AUTO_INCREMENT = re.compile(r" AUTO_INCREMENT=\d+")


def _mysql_names(adapter: Adapter, mysql: str, mariadb: str) -> list[str]:
    return [mariadb, mysql] if getattr(adapter, "flavor", None) == "mariadb" else [mysql, mariadb]


def _mysql_schema(adapter: Adapter) -> str:
    tool = clients.find_mysql_tool(_mysql_names(adapter, "mysqldump", "mariadb-dump"))
    args, database, env = clients.mysql_arguments(adapter.url)
    options = ["--no-data", "--routines", "--skip-comments", "--no-tablespaces"]
    out = clients.run([str(tool.path), *args, *options, database], env)
    return _AUTO_INCREMENT.sub("", out)


def _mysql_found(adapter: Adapter) -> list[str]:
    rows = adapter.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
        "UNION ALL SELECT CONCAT('routine ', routine_name) FROM information_schema.routines "
        "WHERE routine_schema = DATABASE() ORDER BY 1"
    )
    return [str(r[0]) for r in rows]


def _mysql_load(adapter: Adapter, path: Path) -> None:
    tool = clients.find_mysql_tool(_mysql_names(adapter, "mysql", "mariadb"))
    args, database, env = clients.mysql_arguments(adapter.url)
    clients.run([str(tool.path), *args, f"--database={database}"], env, stdin_path=path)


# -- SQLite -----------------------------------------------------------------------------

# Tables first, then what refers to them; sqlite_* objects are SQLite's own.
_SQLITE_ORDER = "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END"


def _sqlite_schema(adapter: Adapter) -> str:
    rows = adapter.query(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' "
        f"ESCAPE '\\' ORDER BY {_SQLITE_ORDER}, rowid"
    )
    statements = "".join(f"{row[0]};\n" for row in rows)
    return f"-- SQLite schema dumped by whimbrel from sqlite_master\n\n{statements}"


def _sqlite_found(adapter: Adapter) -> list[str]:
    rows = adapter.query(
        "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY rowid"
    )
    return [str(r[0]) for r in rows]


def _sqlite_load(adapter: Adapter, path: Path) -> None:
    adapter.execute("SELECT 1")  # opens (and creates) the file
    conn: sqlite3.Connection = adapter.conn  # type: ignore[attr-defined]
    try:
        # executescript commits first and then runs the text as is, so the
        # explicit BEGIN makes the whole file one transaction.
        conn.executescript("BEGIN;\n" + path.read_text() + "\nCOMMIT;")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise DatabaseError(f"loading {str(path)!r} failed: {exc}; nothing was loaded") from exc


_SCHEMA = {"postgresql": _pg_schema, "mysql": _mysql_schema, "sqlite": _sqlite_schema}
_FOUND = {"postgresql": _pg_found, "mysql": _mysql_found, "sqlite": _sqlite_found}
_LOAD = {"postgresql": _pg_load, "mysql": _mysql_load, "sqlite": _sqlite_load}
