"""A simple catalog snapshot for the pytest checks: what the database's schema is.

``snapshot(adapter)`` maps one key per schema object (``"table users"``,
``"column users.email"``, ``"index users_email_index"``, …) to its definition
as the database reports it; ``diff(a, b)`` lists the keys that differ as
readable lines. The versions table and the migration journal are left out:
they record history, not schema.

This is deliberately small; ``whimbrel.inspect`` is the full inspector. The
checks call only ``take_snapshot`` and ``drift`` below, so switching them to
``whimbrel.inspect`` is a change to those two lines.

Example::

    before = snapshot(migrator.adapter)
    migrator.up(step=1); migrator.down(step=1)
    assert diff(before, snapshot(migrator.adapter)) == []
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whimbrel.adapters.base import Adapter

Snapshot = dict[str, str]

_SKIP = ("schema_migrations_progress",)


def snapshot(adapter: Adapter, source: str = "schema_migrations") -> Snapshot:
    """The schema objects of the adapter's database (all non-system schemas on PostgreSQL)."""
    reader = _READERS.get(adapter.name)
    if reader is None:
        raise NotImplementedError(f"no catalog snapshot for {adapter.name} yet")
    skip = {source, *_SKIP}
    return {k: v for k, v in reader(adapter).items() if _table_of(k) not in skip}


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """Readable lines for every object missing, added or changed between two snapshots."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f"missing {key}: {before[key]}")
        elif key not in before:
            lines.append(f"extra {key}: {after[key]}")
        elif before[key] != after[key]:
            lines.append(f"changed {key}: {before[key]} -> {after[key]}")
    return lines


def _table_of(key: str) -> str:
    """The table a key belongs to: ``column public.users.email`` -> ``users``."""
    kind, name = key.split(" ", 1)
    parts = name.split(".")
    return parts[-2] if kind in ("column", "index", "constraint", "trigger") else parts[-1]


def _pg(adapter: Adapter) -> Snapshot:
    system = "NOT IN ('pg_catalog', 'information_schema') AND {0} NOT LIKE 'pg\\_%'"
    ns = system.format("n.nspname")
    found: Snapshot = {}
    for schema, name, kind in adapter.query(
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
        f"ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname {ns}"
    ):
        found[f"{_KIND[kind]} {schema}.{name}"] = _KIND[kind]
    for schema, table, column, typ, notnull, default in adapter.query(
        "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
        "a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        f"WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') "
        f"AND n.nspname {ns}"
    ):
        null = " NOT NULL" if notnull else ""
        found[f"column {schema}.{table}.{column}"] = f"{typ}{null} DEFAULT {default}"
    for schema, table, name, definition in adapter.query(
        f"SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes n "
        f"WHERE n.schemaname {system.format('n.schemaname')}"
    ):
        found[f"index {schema}.{table}.{name}"] = definition
    for schema, table, name, definition in adapter.query(
        "SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname {ns}"
    ):
        found[f"constraint {schema}.{table}.{name}"] = definition
    for schema, name, labels in adapter.query(
        "SELECT n.nspname, t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) "
        "FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace GROUP BY 1, 2"
    ):
        found[f"type {schema}.{name}"] = labels
    return found


_KIND = {"r": "table", "p": "table", "v": "view", "m": "view", "S": "sequence"}

# Counters are data; a table that had rows has a higher AUTO_INCREMENT.
_AUTO_INCREMENT = re.compile(r" AUTO_INCREMENT=\d+")


def _mysql(adapter: Adapter) -> Snapshot:
    found: Snapshot = {}
    for name, kind in adapter.query(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = DATABASE()"
    ):
        word = "view" if kind == "VIEW" else "table"
        quoted = "`" + str(name).replace("`", "``") + "`"
        create = adapter.query(f"SHOW CREATE {word.upper()} {quoted}")[0][1]
        found[f"{word} {name}"] = _AUTO_INCREMENT.sub("", str(create))
    return found


def _sqlite(adapter: Adapter) -> Snapshot:
    rows = adapter.query(
        "SELECT type, tbl_name, name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    )
    return {
        f"{kind} {table}.{name}" if kind in ("index", "trigger") else f"{kind} {name}": " ".join(
            str(sql).split()
        )
        for kind, table, name, sql in rows
    }


_READERS: dict[str, Callable[[Adapter], Snapshot]] = {
    "postgresql": _pg,
    "mysql": _mysql,
    "sqlite": _sqlite,
}
