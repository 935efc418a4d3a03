"""Splitting SQL scripts into statements, for ``.sql`` migrations.

Each statement runs on its own so that a failure outside a transaction can
report exactly which statements ran. The scanner knows quoted strings
(``'...'``, ``E'...'``), quoted identifiers (``"..."``, MySQL backticks),
``--`` and ``/* */`` comments, and PostgreSQL dollar quotes (``$body$ ... $body$``).
A function body in SQL-standard ``BEGIN ATOMIC ... END`` form holds bare
semicolons: wrap such a statement in a dollar-quoted body or put it in its
own file.

>>> split_sql("CREATE TABLE a (x text DEFAULT ';'); /* two; */ SELECT 1;")
["CREATE TABLE a (x text DEFAULT ';')", '/* two; */ SELECT 1']
"""

from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_sql(sql: str) -> list[str]:
    """The statements of ``sql`` without their terminating semicolons."""
    statements: list[str] = []
    start, i, n = 0, 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == ";":
            statements.append(sql[start:i])
            start = i + 1
            i += 1
        else:
            i = _skip(sql, i)
    statements.append(sql[start:])
    return [s.strip() for s in statements if has_code(s)]


def _skip(sql: str, i: int) -> int:
    """The index after the token starting at ``i`` (a quote, comment or one character)."""
    ch, nxt = sql[i], sql[i + 1 : i + 2]
    if ch == "-" and nxt == "-":
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    if ch == "/" and nxt == "*":
        end = sql.find("*/", i + 2)
        return len(sql) if end < 0 else end + 2
    if ch in "'\"`":
        return _after_quote(sql, i, ch, backslash=ch == "'" and _is_escape_string(sql, i))
    if ch == "$":
        match = _DOLLAR.match(sql, i)
        if match and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            end = sql.find(match.group(0), match.end())
            return len(sql) if end < 0 else end + len(match.group(0))
    return i + 1


def _is_escape_string(sql: str, i: int) -> bool:
    return (
        i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
    )


def _after_quote(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote:
            if sql[j + 1 : j + 2] == quote:  # doubled quote inside the literal
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def has_code(statement: str) -> bool:
    """False for pieces holding only white space and comments."""
    i = 0
    while i < len(statement):
        if statement[i].isspace():
            i += 1
        elif statement.startswith(("--", "/*"), i):
            i = _skip(statement, i)
        else:
            return True
    return False
