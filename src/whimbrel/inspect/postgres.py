"""The PostgreSQL reader: one schema from ``pg_catalog``, through psycopg.

Types come from ``format_type`` (``character varying(255)``, ``text[]``),
defaults and predicates from ``pg_get_expr``, check and exclusion
definitions from ``pg_get_constraintdef``: exactly what PostgreSQL would
print, so a snapshot taken before a migration and after its rollback compare
equal only when the schema really is the same.

Example::

    >>> with psycopg.connect(url) as conn:                     # doctest: +SKIP
    ...     read_postgres(conn, "public", exclude={"schema_migrations"}).table_names
    {'posts'}
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

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
    by_name,
)

_ACTIONS = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_MATCH = {"f": "FULL", "p": "PARTIAL", "s": None}
_KINDS = {"c": "check", "x": "exclude"}
_IDENTITY = {"a": "always", "d": "by default", "": None}

_RELATIONS = """
    SELECT c.oid, c.relname, c.relkind, obj_description(c.oid, 'pg_class')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
"""
_COLUMNS = """
    SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum),
           CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
           a.attgenerated, a.attidentity
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
    WHERE n.nspname = %s AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attrelid, a.attnum
"""
# Key columns are listed with indkey; expressions come from pg_get_indexdef(oid, k, true).
_INDEXES = """
    SELECT x.indrelid, i.relname, x.indisunique, pg_get_expr(x.indpred, x.indrelid, true),
           am.amname, x.indnkeyatts,
           ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
                 FROM generate_series(1, x.indnatts) AS k ORDER BY k),
           ARRAY(SELECT CASE WHEN o & 1 = 1 THEN ' DESC' ELSE '' END
                        || CASE WHEN o & 1 = 1 AND o & 2 = 0 THEN ' NULLS LAST'
                                WHEN o & 1 = 0 AND o & 2 = 2 THEN ' NULLS FIRST' ELSE '' END
                 FROM unnest(x.indoption::int2[]) WITH ORDINALITY AS u(o, k) ORDER BY k),
           obj_description(i.oid, 'pg_class'), x.indnullsnotdistinct
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    WHERE n.nspname = %s
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                      WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'x'))
"""
_CONSTRAINTS = """
    SELECT k.conrelid, k.conname, k.contype, k.convalidated, pg_get_constraintdef(k.oid, true),
           obj_description(k.oid, 'pg_constraint'),
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(num, pos)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num
                 ORDER BY u.pos),
           rn.nspname, rc.relname,
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(num, pos)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num
                 ORDER BY u.pos),
           k.confdeltype, k.confupdtype, k.confmatchtype,
           ARRAY(SELECT a.attname FROM unnest(k.confdelsetcols) AS u(num)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num)
    FROM pg_constraint k
    JOIN pg_namespace n ON n.oid = k.connamespace
    LEFT JOIN pg_class rc ON rc.oid = k.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE n.nspname = %s AND k.contype IN ('p', 'f', 'c', 'x') AND k.conrelid <> 0
"""
_ENUMS = """
    SELECT t.typname,
           ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
                 ORDER BY e.enumsortorder),
           obj_description(t.oid, 'pg_type')
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = %s AND t.typtype = 'e'
"""


def read_postgres(conn: Any, schema: str, exclude: set[str]) -> Catalog:
    """Snapshot ``schema`` through an open psycopg connection, without tables in ``exclude``."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return list(conn.execute(sql, (schema,)).fetchall())

    version = int(conn.execute("SELECT current_setting('server_version_num')").fetchone()[0])
    relations = {r[0]: r for r in rows(_RELATIONS) if r[1] not in exclude}
    columns = _group(rows(_COLUMNS), relations, _column)
    indexes = _group(rows(_for_version(_INDEXES, version)), relations, _index)
    constraints = [r for r in rows(_for_version(_CONSTRAINTS, version)) if r[0] in relations]
    tables = [
        _table(rel, columns[oid], indexes[oid], [k for k in constraints if k[0] == oid], schema)
        for oid, rel in relations.items()
        if rel[2] in ("r", "p")
    ]
    views = [
        View(rel[1], _view_definition(conn, oid), rel[3])
        for oid, rel in relations.items()
        if rel[2] in ("v", "m")
    ]
    enums = [EnumType(r[0], tuple(r[1]), r[2]) for r in rows(_ENUMS)]
    return Catalog("postgresql", schema, by_name(tables), by_name(views), by_name(enums))


def _for_version(sql: str, version: int) -> str:
    """Before PostgreSQL 15 there are no NULLS NOT DISTINCT indexes and no SET NULL (cols)."""
    if version >= 150000:
        return sql
    return sql.replace("x.indnullsnotdistinct", "false").replace("k.confdelsetcols", "NULL::int2[]")


def _group(rows: list[tuple[Any, ...]], relations: dict[Any, Any], make: Any) -> dict[Any, list]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        if row[0] in relations:
            grouped[row[0]].append(make(row))
    return grouped


def _column(r: tuple[Any, ...]) -> Column:
    generated = r[4] if r[7] else None
    default = None if r[7] else r[4]
    return Column(r[1], r[2], not r[3], default, r[5], r[6], generated, _IDENTITY[r[8]])


def _index(r: tuple[Any, ...]) -> Index:
    keys, parts, directions = r[5], list(r[6]), list(r[7])
    columns = tuple(part + directions[n] for n, part in enumerate(parts[:keys]))
    return Index(
        name=r[1],
        columns=columns,
        unique=r[2],
        where=r[3],
        method=r[4],
        include=tuple(parts[keys:]),
        comment=r[8],
        nulls_distinct=not r[9],
    )


def _table(rel: Any, columns: list, indexes: list, constraints: list, schema: str) -> Table:
    key, fks, checks = None, [], []
    for k in constraints:
        if k[2] == "p":
            key = PrimaryKey(k[1], tuple(k[6]))
        elif k[2] == "f":
            fks.append(_foreign_key(k, schema))
        else:
            checks.append(Check(k[1], _expression(k[4]), _KINDS[k[2]], k[3], k[5]))
    return Table(
        rel[1], tuple(columns), key, by_name(indexes), by_name(fks), by_name(checks), rel[3]
    )


def _expression(definition: str) -> str:
    """``CHECK ((a > 0)) NOT VALID`` -> ``(a > 0)``; ``EXCLUDE USING ...`` -> ``USING ...``."""
    text = definition.removesuffix(" NOT VALID")
    if text.startswith("CHECK (") and text.endswith(")"):
        return text[len("CHECK (") : -1]
    return text.removeprefix("EXCLUDE ")


def _foreign_key(k: tuple[Any, ...], schema: str) -> ForeignKey:
    on_delete = _ACTIONS[k[10]]
    if k[13]:  # ON DELETE SET NULL (col, ...) / SET DEFAULT (col, ...) of PostgreSQL 15
        on_delete = f"{on_delete} ({', '.join(k[13])})"
    return ForeignKey(
        name=k[1],
        columns=tuple(k[6]),
        ref_table=k[8],
        ref_columns=tuple(k[9]),
        ref_schema=None if k[7] == schema else k[7],
        on_delete=on_delete,
        on_update=_ACTIONS[k[11]],
        match=_MATCH[k[12]],
        validated=k[3],
    )


def _view_definition(conn: Any, oid: int) -> str:
    row = conn.execute("SELECT pg_get_viewdef(%s::oid, true)", (oid,)).fetchone()
    return str(row[0]).strip()
