"""The MySQL/MariaDB reader: one database from ``information_schema``, through PyMySQL.

Column types are ``COLUMN_TYPE`` (``varchar(255)``, ``bigint(20) unsigned``
on MariaDB), defaults ``COLUMN_DEFAULT`` as the server spells it (MariaDB
quotes string literals, MySQL does not), and a collation is reported only
where it differs from the table's. The two flavours lay out
``information_schema`` a little differently (MySQL 8 has ``EXPRESSION`` for
functional index parts; MariaDB's ``CHECK_CONSTRAINTS`` names the table), so
rows are read by column name.

Example::

    >>> read_mysql(pymysql.connect(...), "app", exclude=set()).database  # doctest: +SKIP
    'mariadb'
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from whimbrel.inspect.model import (
    Catalog,
    Check,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    View,
    by_name,
)

_WHERE = "WHERE TABLE_SCHEMA = %s"
_FOREIGN_KEYS = """
    SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA,
           k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
    FROM information_schema.KEY_COLUMN_USAGE k
    JOIN information_schema.REFERENTIAL_CONSTRAINTS r
      ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
     AND r.TABLE_NAME = k.TABLE_NAME
    WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL
    ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
_CHECKS_MARIADB = """
    SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = %s
"""
_CHECKS_MYSQL = """
    SELECT t.TABLE_NAME, t.CONSTRAINT_NAME, c.CHECK_CLAUSE
    FROM information_schema.TABLE_CONSTRAINTS t
    JOIN information_schema.CHECK_CONSTRAINTS c
      ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
    WHERE t.TABLE_SCHEMA = %s AND t.CONSTRAINT_TYPE = 'CHECK'
"""


def read_mysql(conn: Any, schema: str, exclude: set[str]) -> Catalog:
    """Snapshot the database ``schema`` through an open PyMySQL connection."""

    def rows(sql: str) -> list[dict[str, Any]]:
        with conn.cursor() as cursor:
            cursor.execute(sql, (schema,))
            names = [d[0].upper() for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    version = str(rows("SELECT VERSION() AS v FROM DUAL WHERE %s IS NOT NULL")[0]["V"])
    flavor = "mariadb" if "mariadb" in version.lower() else "mysql"
    relations = {
        r["TABLE_NAME"]: r
        for r in rows(f"SELECT * FROM information_schema.TABLES {_WHERE}")
        if r["TABLE_NAME"] not in exclude
    }
    parts = {
        "columns": rows(f"SELECT * FROM information_schema.COLUMNS {_WHERE}"),
        "statistics": rows(f"SELECT * FROM information_schema.STATISTICS {_WHERE}"),
        "foreign_keys": rows(_FOREIGN_KEYS),
        "checks": rows(_CHECKS_MARIADB if flavor == "mariadb" else _CHECKS_MYSQL),
    }
    grouped = {name: _by_table(found) for name, found in parts.items()}
    tables = [
        _table(rel, {name: grouped[name][table] for name in grouped}, schema)
        for table, rel in relations.items()
        if rel["TABLE_TYPE"] == "BASE TABLE"
    ]
    views = [
        # The server qualifies every name with the view's database; without it two
        # databases of one schema (a scratch replay and the target) compare equal.
        View(r["TABLE_NAME"], r["VIEW_DEFINITION"].replace(f"`{schema}`.", ""))
        for r in rows(f"SELECT * FROM information_schema.VIEWS {_WHERE}")
        if r["TABLE_NAME"] in relations
    ]
    return Catalog(flavor, schema, by_name(tables), by_name(views))


def _by_table(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[row["TABLE_NAME"]].append(row)
    return grouped


def _table(rel: dict[str, Any], parts: dict[str, list[dict[str, Any]]], schema: str) -> Table:
    table_collation = rel.get("TABLE_COLLATION")
    columns = sorted(parts["columns"], key=lambda r: r["ORDINAL_POSITION"])
    indexes = _indexes(parts["statistics"])
    key = indexes.pop("PRIMARY", None)
    checks = [Check(r["CONSTRAINT_NAME"], r["CHECK_CLAUSE"]) for r in parts["checks"]]
    return Table(
        rel["TABLE_NAME"],
        tuple(_column(r, table_collation) for r in columns),
        PrimaryKey("PRIMARY", key.columns) if key else None,
        by_name(list(indexes.values())),
        by_name(_foreign_keys(parts["foreign_keys"], schema)),
        by_name(checks),
        rel["TABLE_COMMENT"] or None,
    )


def _column(r: dict[str, Any], table_collation: str | None) -> Column:
    extra = (r.get("EXTRA") or "").lower()
    generated = r.get("GENERATION_EXPRESSION") or None
    collation = r.get("COLLATION_NAME")
    return Column(
        name=r["COLUMN_NAME"],
        type=r["COLUMN_TYPE"],
        nullable=r["IS_NULLABLE"] == "YES",
        default=None if generated else _default(r["COLUMN_DEFAULT"]),
        comment=r["COLUMN_COMMENT"] or None,
        collation=collation if collation and collation != table_collation else None,
        generated=generated,
        identity="auto_increment" if "auto_increment" in extra else None,
    )


def _default(value: str | None) -> str | None:
    # MariaDB reports a nullable column without a default as the text NULL.
    return None if value in (None, "NULL") else value


def _indexes(statistics: list[dict[str, Any]]) -> dict[str, Index]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(statistics, key=lambda r: (r["INDEX_NAME"], r["SEQ_IN_INDEX"])):
        grouped[row["INDEX_NAME"]].append(row)
    return {name: _index(name, found) for name, found in grouped.items()}


def _index(name: str, found: list[dict[str, Any]]) -> Index:
    first = found[0]
    return Index(
        name=name,
        columns=tuple(_index_part(r) for r in found),
        unique=not int(first["NON_UNIQUE"]),
        method=first["INDEX_TYPE"],
        comment=first.get("INDEX_COMMENT") or None,
    )


def _index_part(r: dict[str, Any]) -> str:
    text = r["COLUMN_NAME"] or f"({r.get('EXPRESSION')})"  # MySQL 8 functional part
    if r.get("SUB_PART"):
        text += f"({r['SUB_PART']})"
    return text + (" DESC" if r.get("COLLATION") == "D" else "")


def _foreign_keys(found: list[dict[str, Any]], schema: str) -> list[ForeignKey]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[row["CONSTRAINT_NAME"]].append(row)
    keys = []
    for name, rows in grouped.items():
        first = rows[0]
        keys.append(
            ForeignKey(
                name=name,
                columns=tuple(r["COLUMN_NAME"] for r in rows),
                ref_table=first["REFERENCED_TABLE_NAME"],
                ref_columns=tuple(r["REFERENCED_COLUMN_NAME"] for r in rows),
                ref_schema=None
                if first["REFERENCED_TABLE_SCHEMA"] == schema
                else first["REFERENCED_TABLE_SCHEMA"],
                on_delete=_action(first["DELETE_RULE"]),
                on_update=_action(first["UPDATE_RULE"]),
            )
        )
    return keys


def _action(rule: str) -> str | None:
    # InnoDB treats RESTRICT and NO ACTION alike but reports what was written.
    return None if rule == "NO ACTION" else rule
