"""A database's schema as the two sections of a SQL migration: what creates it, what drops it.

``whimbrel squash`` reads a scratch database that its migrations were
replayed into and writes this as one baseline migration. whimbrel's own
tables (the versions table and its ``_checksums``, ``_progress``, ``_lock``
side tables) are left out, and so is what only one server run needs:

- PostgreSQL: ``pg_dump --schema-only --no-owner --no-privileges`` without
  its ``SET``/``set_config`` session lines, ``\\restrict`` keys and comments,
  and without the ``public.`` (the current schema's) qualification it puts
  on every name, so the baseline, like the migrations, creates its objects
  in the schema the migration runs in. Text inside dollar-quoted bodies is
  kept as written.
- MySQL/MariaDB: the server's own ``SHOW CREATE TABLE``/``VIEW``/``TRIGGER``/
  ``PROCEDURE``/``FUNCTION`` (what ``mysqldump`` prints, without its
  ``/*!...*/`` session wrappers, view stand-in tables and ``DEFINER``s),
  tables ordered so each comes after those its foreign keys name, views
  after the views they read, ``AUTO_INCREMENT=`` counters removed.
- SQLite: the ``CREATE`` statements kept in ``sqlite_master``.

The down section drops, newest first, every object of the schema (``IF
EXISTS``; on PostgreSQL with ``CASCADE``): views, tables, sequences,
functions, types, extensions and schemas the migrations created.

Example::

    schema = baseline.read(adapter, "schema_migrations")
    print(schema.up)       # CREATE TABLE users (...);  CREATE INDEX ...
    print(schema.down)     # DROP VIEW IF EXISTS ...;   DROP TABLE IF EXISTS users CASCADE;
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whimbrel.dialects.quoting import quote
from whimbrel.errors import UsageError
from whimbrel.structure import clients

if TYPE_CHECKING:
    from whimbrel.adapters.base import Adapter

__all__ = ["Schema", "read", "whimbrel_tables"]


@dataclass(frozen=True)
class Schema:
    """SQL text that creates the schema, and SQL text that drops it again."""

    up: str
    down: str


def whimbrel_tables(source: str) -> list[str]:
    """The versions table ``source`` and its side tables (checksums, journal, lease lock)."""
    return [source, *(source + suffix for suffix in ("_checksums", "_progress", "_lock"))]


def read(adapter: Adapter, source: str) -> Schema:
    """The schema of ``adapter``'s database (its current schema) as baseline sections."""
    readers: dict[str, Callable[[Adapter, list[str]], Schema]] = {
        "postgresql": _postgres,
        "mysql": _mysql,
        "sqlite": _sqlite,
    }
    if adapter.name not in readers:
        raise UsageError(
            f"squash supports PostgreSQL, MySQL/MariaDB and SQLite, not {adapter.name}"
        )
    return readers[adapter.name](adapter, whimbrel_tables(source))


def _statements(statements: Iterable[str]) -> str:
    return "".join(f"{s.rstrip().rstrip(';')};\n" for s in statements)


def _parents_first(names: Sequence[str], refers: Iterable[tuple[str, str]]) -> list[str]:
    """``names`` in their order, moved so each comes after the names it refers to.

    A cycle (two tables whose foreign keys name each other) keeps the given
    order; the caller then runs the statements without checks (MySQL) or
    does not need the order at all (SQLite, PostgreSQL's pg_dump).
    """
    graph: dict[str, set[str]] = {name: set() for name in names}
    for child, parent in refers:
        if child in graph and parent in graph and child != parent:
            graph[child].add(parent)
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        return list(names)


# -- PostgreSQL -------------------------------------------------------------------------

_PG_NOISE = re.compile(
    r"^(?:\\(?:un)?restrict\b.*|SET \w+ = .*;|SELECT pg_catalog\.set_config\(.*\);|--.*)$"
)
_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")


def _pg_segments(text: str) -> list[tuple[bool, str]]:
    """``(inside a dollar-quoted body?, text)`` pieces of a pg_dump script."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    while True:
        start = _DOLLAR.search(text, at)
        if start is None:
            pieces.append((False, text[at:]))
            return pieces
        end = text.find(start.group(), start.end())
        if end < 0:
            pieces.append((False, text[at:]))
            return pieces
        pieces += [
            (False, text[at : start.start()]),
            (True, text[start.start() : end + len(start.group())]),
        ]
        at = end + len(start.group())


def clean_pg_dump(text: str, schema: str) -> str:
    """pg_dump's script without session noise and without ``<schema>.`` qualification."""
    unqualify = re.compile(
        rf"(?<![\w.\"$])(?:{re.escape(schema)}|{re.escape(quote(schema))})\.(?=[\w\"])"
    )
    out = []
    for inside, piece in _pg_segments(text):
        if inside:
            out.append(piece)
            continue
        lines = [line for line in piece.split("\n") if not _PG_NOISE.match(line)]
        out.append(unqualify.sub("", "\n".join(lines)))
    cleaned = "".join(out)
    cleaned = re.sub(r"(?m)^COMMENT ON SCHEMA public IS .*;\n", "", cleaned)
    return re.sub(r"\n{3,}", "\n\n", cleaned).strip() + "\n"


def _pg_major(adapter: Adapter) -> int:
    return int(adapter.query("SHOW server_version_num")[0][0]) // 10000


def pg_dump_tool(adapter: Adapter) -> clients.Tool:
    """The pg_dump for this server (``ClientToolError``, exit 2, naming it when missing)."""
    return clients.find_pg_tool("pg_dump", _pg_major(adapter))


def _postgres(adapter: Adapter, excluded: list[str]) -> Schema:
    schema = str(adapter.query("SELECT current_schema()")[0][0])
    url, env = clients.pg_connection(adapter.url)
    leave_out = [f"--exclude-table={quote(schema)}.{quote(name)}" for name in excluded]
    options = ["--schema-only", "--no-owner", "--no-privileges", *leave_out]
    dumped = clients.run([str(pg_dump_tool(adapter).path), *options, f"--dbname={url}"], env)
    return Schema(clean_pg_dump(dumped, schema), _statements(_pg_drops(adapter, schema, excluded)))


_PG_USER = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
#: Not a member of an extension (its objects go with ``DROP EXTENSION``).
_PG_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
)
#: Not a sequence a column owns (serial, identity): it goes with its table.
_PG_NOT_OWNED = (
    "NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
    "AND d.deptype IN ('a', 'i')))"
)
_PG_RELATION_KINDS = {
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "f": "FOREIGN TABLE",
    "r": "TABLE",
    "p": "TABLE",
    "S": "SEQUENCE",
}
_PG_ROUTINE_KINDS = {"f": "FUNCTION", "p": "PROCEDURE", "a": "AGGREGATE", "w": "FUNCTION"}


def _pg_drops(adapter: Adapter, schema: str, excluded: list[str]) -> list[str]:
    """DROP ... IF EXISTS ... CASCADE for every object the migrations made, newest first."""

    def name(nsp: str, obj: str) -> str:
        return quote(obj) if nsp == schema else f"{quote(nsp)}.{quote(obj)}"

    relations = adapter.query(
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('v', 'm', 'f', 'r', 'p', 'S') AND {_PG_USER} "
        f"AND {_PG_NOT_EXTENSION.format(oid='c.oid')} AND {_PG_NOT_OWNED} ORDER BY c.oid DESC"
    )
    drops: list[str] = []
    for kind in _PG_RELATION_KINDS:  # views first, then tables, then free sequences
        for nsp, rel, relkind in relations:
            if relkind == kind and not (nsp == schema and rel in excluded):
                drops.append(f"DROP {_PG_RELATION_KINDS[kind]} IF EXISTS {name(nsp, rel)} CASCADE")
    routines = adapter.query(
        "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        f"WHERE {_PG_USER} AND {_PG_NOT_EXTENSION.format(oid='p.oid')} ORDER BY p.oid DESC"
    )
    drops += [
        f"DROP {_PG_ROUTINE_KINDS.get(kind, 'FUNCTION')} IF EXISTS {name(nsp, fn)}({args}) CASCADE"
        for nsp, fn, args, kind in routines
    ]
    types = adapter.query(
        "SELECT n.nspname, t.typname, t.typtype FROM pg_type t "
        "JOIN pg_namespace n ON n.oid = t.typnamespace "
        f"WHERE {_PG_USER} AND {_PG_NOT_EXTENSION.format(oid='t.oid')} AND (t.typtype IN "
        "('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c "
        "WHERE c.oid = t.typrelid) = 'c')) ORDER BY t.oid DESC"
    )
    drops += [
        f"DROP {'DOMAIN' if kind == 'd' else 'TYPE'} IF EXISTS {name(nsp, typ)} CASCADE"
        for nsp, typ, kind in types
        if kind != "m"  # a multirange goes with its range
    ]
    extensions = adapter.query(
        "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY oid DESC"
    )
    drops += [f"DROP EXTENSION IF EXISTS {quote(str(ext))} CASCADE" for (ext,) in extensions]
    schemas = adapter.query(
        "SELECT nspname FROM pg_namespace n WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN "
        "('information_schema', 'public') AND nspname <> current_schema() "
        f"AND {_PG_NOT_EXTENSION.format(oid='n.oid')} ORDER BY oid DESC"
    )
    drops += [f"DROP SCHEMA IF EXISTS {quote(str(nsp))} CASCADE" for (nsp,) in schemas]
    return drops


# -- MySQL / MariaDB --------------------------------------------------------------------

_AUTO_INCREMENT = re.compile(r" AUTO_INCREMENT=\d+")
_DEFINER = re.compile(r"\bDEFINER=(?:`[^`]*`|\S+)@(?:`[^`]*`|\S+) ")
_VIEW_DEFAULTS = re.compile(r"^CREATE (?:ALGORITHM=UNDEFINED )?(?:SQL SECURITY DEFINER )?")


def _bq(name: str) -> str:
    return quote(name, "`")


def _mysql(adapter: Adapter, excluded: list[str]) -> Schema:
    rows = adapter.query(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = DATABASE() ORDER BY create_time, table_name"
    )
    tables = [str(n) for n, kind in rows if kind == "BASE TABLE" and n not in excluded]
    views = [str(n) for n, kind in rows if kind == "VIEW"]
    refers = [
        (str(child), str(parent))
        for child, parent in adapter.query(
            "SELECT table_name, referenced_table_name FROM "
            "information_schema.referential_constraints WHERE constraint_schema = DATABASE()"
        )
    ]
    tables = _parents_first(tables, refers)
    up = [
        _AUTO_INCREMENT.sub("", str(adapter.query(f"SHOW CREATE TABLE {_bq(t)}")[0][1]))
        for t in tables
    ]
    view_sql = {v: _mysql_view(adapter, v) for v in views}
    views = _parents_first(
        views, [(v, w) for v in views for w in views if _bq(w) in view_sql[v].split(" AS ", 1)[-1]]
    )
    up += [view_sql[v] for v in views]
    routines = adapter.query(
        "SELECT routine_type, routine_name FROM information_schema.routines "
        "WHERE routine_schema = DATABASE() ORDER BY created, routine_name"
    )
    up += [_mysql_show(adapter, str(kind), str(name)) for kind, name in routines]
    triggers = adapter.query(
        "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() "
        "ORDER BY event_object_table, action_order"
    )
    up += [_mysql_show(adapter, "TRIGGER", str(name)) for (name,) in triggers]
    down = [f"DROP VIEW IF EXISTS {_bq(v)}" for v in reversed(views)]
    down += [f"DROP TABLE IF EXISTS {_bq(t)}" for t in reversed(tables)]
    down += [f"DROP {kind} IF EXISTS {_bq(str(name))}" for kind, name in reversed(routines)]
    return Schema(_statements(up), _statements(down))


def _mysql_view(adapter: Adapter, view: str) -> str:
    """``SHOW CREATE VIEW`` without the defaults and the database before every name."""
    database = str(adapter.query("SELECT DATABASE()")[0][0])
    text = str(adapter.query(f"SHOW CREATE VIEW {_bq(view)}")[0][1])
    text = text.replace(f"{_bq(database)}.", "")
    return _VIEW_DEFAULTS.sub("CREATE ", _DEFINER.sub("", text, count=1), count=1)


def _mysql_show(adapter: Adapter, kind: str, name: str) -> str:
    """``SHOW CREATE TRIGGER|PROCEDURE|FUNCTION`` without its ``DEFINER``."""
    return _DEFINER.sub("", str(adapter.query(f"SHOW CREATE {kind} {_bq(name)}")[0][2]), count=1)


# -- SQLite -----------------------------------------------------------------------------


def _sqlite(adapter: Adapter, excluded: list[str]) -> Schema:
    rows = [
        (str(kind), str(name), str(table), str(sql))
        for kind, name, table, sql in adapter.query(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
        )
        if table not in excluded
    ]
    tables = [name for kind, name, _, _ in rows if kind == "table"]
    refers = [
        (t, str(row[2]))
        for t in tables
        for row in adapter.query(f"PRAGMA foreign_key_list({quote(t)})")
    ]
    tables = _parents_first(tables, refers)
    sql = {(kind, name): text for kind, name, _, text in rows}
    up = [sql[("table", t)] for t in tables]
    for kind in ("index", "view", "trigger"):
        up += [text for k, _, _, text in rows if k == kind]
    views = [name for kind, name, _, _ in rows if kind == "view"]
    down = [f"DROP VIEW IF EXISTS {quote(v)}" for v in reversed(views)]
    down += [f"DROP TABLE IF EXISTS {quote(t)}" for t in reversed(tables)]
    return Schema(_statements(up), _statements(down))
