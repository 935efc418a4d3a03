"""The SQLite reader: ``sqlite_master`` and the table PRAGMAs, through sqlite3.

The PRAGMAs give columns (``table_xinfo``), indexes (``index_list``,
``index_xinfo``) and foreign keys (``foreign_key_list``). What they leave
out (constraint names, check constraints, collations, generated
expressions, index expressions and predicates) is read from the
``CREATE`` statements SQLite stores verbatim, split at top-level commas by
a small tokenizer below (quotes, comments and parentheses respected).
SQLite keeps no comments, so every comment is None.

Example::

    >>> with sqlite3.connect(path) as conn:                    # doctest: +SKIP
    ...     read_sqlite(conn, exclude={"schema_migrations"}).table("posts").column_names
    ['id', 'title']
"""

from __future__ import annotations

import re
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

_TOKEN = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]"
    r"|--[^\n]*|/\*.*?\*/|[(),]|[^'\"`\[(),\s-]+|-|\s+",
    re.S,
)
_NAME = re.compile(r"""\s*("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[^\s(]+)\s*(.*)""", re.S)
_CONSTRAINT_HEAD = re.compile(r"(?is)^(CONSTRAINT\s+\S+\s+)?(CHECK|PRIMARY|FOREIGN|UNIQUE)\b")
_NO_ACTION = "NO ACTION"


def read_sqlite(conn: Any, exclude: set[str]) -> Catalog:
    """Snapshot the ``main`` database of an open sqlite3 connection."""
    master = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    tables = [
        _table(conn, name, sql, [r for r in master if r[0] == "index" and r[2] == name])
        for kind, name, _, sql in master
        if kind == "table" and name not in exclude
    ]
    views = [View(name, sql.strip()) for kind, name, _, sql in master if kind == "view"]
    return Catalog("sqlite", "main", by_name(tables), by_name(views))


def _table(conn: Any, name: str, sql: str, index_rows: list[Any]) -> Table:
    elements = split_elements(_body(sql))
    columns_sql = {unquote(_NAME.match(e)[1]): e for e in elements if not _is_constraint(e)}  # type: ignore[index]
    info = conn.execute(f"PRAGMA table_xinfo({_quote(name)})").fetchall()
    columns = tuple(_column(row, columns_sql.get(row[1], "")) for row in info)
    keys = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
    key = PrimaryKey(None, tuple(keys)) if keys else None
    sql_by_index = {r[1]: r[3] for r in index_rows}
    indexes = [
        _index(conn, row, sql_by_index.get(row[1]))
        for row in conn.execute(f"PRAGMA index_list({_quote(name)})").fetchall()
        if row[3] != "pk"
    ]
    return Table(
        name,
        columns,
        key,
        by_name(indexes),
        by_name(_foreign_keys(conn, name, elements, columns_sql)),
        by_name(_checks(elements)),
    )


def _column(row: tuple[Any, ...], definition: str) -> Column:
    _, name, type_, notnull, default, _pk, hidden = row
    generated = _after_keyword(definition, r"\bAS\s*") if hidden in (2, 3) else None
    collation = re.search(r"(?i)\bCOLLATE\s+(\S+)", definition)
    autoincrement = re.search(r"(?i)\bAUTOINCREMENT\b", definition)
    return Column(
        name=name,
        type=type_,
        nullable=not notnull,
        default=default,
        collation=unquote(collation[1]) if collation else None,
        generated=generated,
        identity="autoincrement" if autoincrement else None,
    )


def _index(conn: Any, row: tuple[Any, ...], sql: str | None) -> Index:
    _, name, unique, _origin, partial = row
    parts = split_elements(_body(sql)) if sql else []
    columns = []
    for col in conn.execute(f"PRAGMA index_xinfo({_quote(name)})").fetchall():
        seqno, cid, col_name, desc, _coll, key = col
        if not key:
            continue
        text = col_name if cid >= 0 else _strip_direction(parts[seqno]) if parts else "?"
        columns.append(text + (" DESC" if desc else ""))
    where = _where(_after_body(sql)) if sql and partial else None
    return Index(name, tuple(columns), bool(unique), where)


def _foreign_keys(
    conn: Any, table: str, elements: list[str], columns_sql: dict[str, str]
) -> list[ForeignKey]:
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in conn.execute(f"PRAGMA foreign_key_list({_quote(table)})").fetchall():
        grouped.setdefault(row[0], []).append(row)
    names = _constraint_names(elements, columns_sql)
    keys = []
    for rows in grouped.values():
        rows.sort(key=lambda r: r[1])
        columns = tuple(r[3] for r in rows)
        first = rows[0]
        keys.append(
            ForeignKey(
                name=names.get(columns),
                columns=columns,
                ref_table=first[2],
                ref_columns=tuple(r[4] for r in rows),
                on_delete=None if first[6] == _NO_ACTION else first[6],
                on_update=None if first[5] == _NO_ACTION else first[5],
                match=None if first[7] == "NONE" else first[7],
            )
        )
    return keys


def _constraint_names(elements: list[str], columns_sql: dict[str, str]) -> dict[tuple, str]:
    """Names given to foreign keys: ``CONSTRAINT n REFERENCES`` on a column, or a table clause."""
    names: dict[tuple[str, ...], str] = {}
    for column, definition in columns_sql.items():
        found = re.search(r"(?is)\bCONSTRAINT\s+(\S+)\s+REFERENCES\b", definition)
        if found:
            names[(column,)] = unquote(found[1])
    for element in elements:
        found = re.match(r"(?is)CONSTRAINT\s+(\S+)\s+FOREIGN\s+KEY\s*\(([^)]*)\)", element)
        if found:
            names[tuple(unquote(c.strip()) for c in found[2].split(","))] = unquote(found[1])
    return names


def _checks(elements: list[str]) -> list[Check]:
    """Check constraints, at table level or inline on a column (``CONSTRAINT n`` optional)."""
    checks = []
    for text in elements:
        for found in re.finditer(r"(?is)(?:\bCONSTRAINT\s+(\S+)\s+)?\bCHECK\s*\(", text):
            expression = _balanced(text, found.end() - 1)
            checks.append(Check(unquote(found[1]) if found[1] else None, expression))
    return checks


# -- reading CREATE statements ---------------------------------------------------------


def split_elements(body: str) -> list[str]:
    """``a INT, CHECK (x, y)`` -> ``["a INT", "CHECK (x, y)"]`` (top-level commas only)."""
    parts, depth, current = [], 0, ""
    for token in _TOKEN.findall(body):
        if token.startswith(("--", "/*")):
            continue
        depth += {"(": 1, ")": -1}.get(token, 0)
        if token == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += token
    return [p for p in [*parts, current.strip()] if p]


def _body(sql: str) -> str:
    """The text inside the first top-level parentheses of a CREATE statement."""
    start = sql.index("(")
    return _balanced(sql, start)


def _where(tail: str) -> str | None:
    found = re.search(r"(?is)\bWHERE\s+(.*)", tail)
    return found[1].strip().rstrip(";").strip() if found else None


def _after_body(sql: str) -> str:
    """What follows the first top-level parentheses (an index's ``WHERE ...``)."""
    start, depth = sql.index("("), 0
    for match in _TOKEN.finditer(sql, start):
        depth += {"(": 1, ")": -1}.get(match.group(), 0)
        if depth == 0:
            return sql[match.end() :]
    return ""


def _balanced(text: str, start: int) -> str:
    """The text between ``text[start] == "("`` and its matching ``)``."""
    depth = 0
    for match in _TOKEN.finditer(text, start):
        token = match.group()
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth == 0:
            return text[start + 1 : match.start()].strip()
    return text[start + 1 :].strip()


def _after_keyword(text: str, keyword: str) -> str | None:
    found = re.search(keyword, text, re.I)
    if not found:
        return None
    rest = text[found.end() :].strip()
    return _balanced(rest, 0) if rest.startswith("(") else rest.rstrip(";").strip()


def _is_constraint(element: str) -> bool:
    return bool(_CONSTRAINT_HEAD.match(element))


def _strip_direction(text: str) -> str:
    return re.sub(r"(?i)\s+(ASC|DESC)$", "", text.strip())


def unquote(name: str) -> str:
    if name[:1] in '"`' and name[-1:] == name[:1]:
        return name[1:-1].replace(name[0] * 2, name[0])
    if name[:1] == "[" and name[-1:] == "]":
        return name[1:-1]
    return name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
