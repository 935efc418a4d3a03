"""Splitting SQL scripts into statements: one scanner, configured per dialect.

Each statement of a ``.sql`` migration (``ExecuteScript``) runs on its own,
so that a failure outside a transaction can report exactly which statements
ran. The scanner skips quoted strings and identifiers and comments; what
differs between databases is a ``Splitter`` setting:

- PostgreSQL: dollar quotes (``$body$ ... $body$``) and ``E'...'`` escape strings;
- MySQL/MariaDB: backslash escapes in every string, ``#`` comments, ``--``
  comments only when followed by a space, backtick identifiers;
- SQLite: a ``;`` ends a statement only where SQLite's own tokenizer
  (``sqlite3.complete_statement``) says it is complete, which keeps trigger
  bodies (``BEGIN ...; ...; END``) whole.

``sqlparse`` was judged against tests/unit/test_sqlsplit.py and not taken: it
knows neither MySQL's backslash escapes nor SQLite's completeness rule, so one
scanner with these three settings is smaller and more correct.

A function body in SQL-standard ``BEGIN ATOMIC ... END`` form holds bare
semicolons in PostgreSQL: wrap it in a dollar-quoted body or put it in a file
of its own (``execute_file``).

>>> POSTGRES.split("CREATE TABLE a (x text DEFAULT ';'); /* two; */ SELECT 1;")
["CREATE TABLE a (x text DEFAULT ';')", '/* two; */ SELECT 1']
>>> MYSQL.split("INSERT INTO t VALUES ('a;b\\\\'c'); # note; here\\nSELECT 1")
["INSERT INTO t VALUES ('a;b\\\\'c')", '# note; here\\nSELECT 1']
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Splitter:
    """The script rules of one database (see the module docstring)."""

    dollar_quotes: bool = False
    #: Backslash escapes in every quoted string (MySQL), not only in ``E'...'``.
    backslash_escapes: bool = False
    hash_comments: bool = False
    #: ``--`` starts a comment only when a space or tab follows (MySQL).
    dash_comment_needs_space: bool = False
    #: Whether the text up to a ``;`` is a complete statement (SQLite's tokenizer).
    complete: Callable[[str], bool] | None = None

    def split(self, sql: str) -> list[str]:
        """The statements of ``sql`` without their terminating semicolons."""
        statements: list[str] = []
        start, i, n = 0, 0, len(sql)
        while i < n:
            if sql[i] == ";":
                if self.complete is None or self.complete(sql[start : i + 1]):
                    statements.append(sql[start:i])
                    start = i + 1
                i += 1
            else:
                i = self.skip(sql, i)
        statements.append(sql[start:])
        return [s.strip() for s in statements if self.has_code(s)]

    def skip(self, sql: str, i: int) -> int:
        """The index after the token starting at ``i`` (a quote, comment or one character)."""
        ch, nxt = sql[i], sql[i + 1 : i + 2]
        if ch == "-" and nxt == "-" and self._dash_comment(sql, i):
            return _line_end(sql, i)
        if ch == "#" and self.hash_comments:
            return _line_end(sql, i)
        if ch == "/" and nxt == "*":
            end = sql.find("*/", i + 2)
            return len(sql) if end < 0 else end + 2
        if ch in "'\"`":
            backslash = ch != "`" and (
                self.backslash_escapes or (ch == "'" and _is_escape_string(sql, i))
            )
            return _after_quote(sql, i, ch, backslash=backslash)
        if ch == "$" and self.dollar_quotes:
            match = _DOLLAR.match(sql, i)
            if match and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                end = sql.find(match.group(0), match.end())
                return len(sql) if end < 0 else end + len(match.group(0))
        return i + 1

    def has_code(self, statement: str) -> bool:
        """False for pieces holding only white space and comments."""
        i = 0
        while i < len(statement):
            if statement[i].isspace():
                i += 1
            elif self._comment_at(statement, i):
                i = self.skip(statement, i)
            else:
                return True
        return False

    def _comment_at(self, sql: str, i: int) -> bool:
        if sql.startswith("--", i) and self._dash_comment(sql, i):
            return True
        return sql.startswith("/*", i) or (self.hash_comments and sql[i] == "#")

    def _dash_comment(self, sql: str, i: int) -> bool:
        return not self.dash_comment_needs_space or sql[i + 2 : i + 3] in (" ", "\t", "\n", "")


def _line_end(sql: str, i: int) -> int:
    end = sql.find("\n", i)
    return len(sql) if end < 0 else end + 1


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


POSTGRES = Splitter(dollar_quotes=True)
MYSQL = Splitter(backslash_escapes=True, hash_comments=True, dash_comment_needs_space=True)
SQLITE = Splitter(complete=sqlite3.complete_statement)

#: The standard rules (PostgreSQL's), for dialects that set none of their own.
split_sql = POSTGRES.split
has_code = POSTGRES.has_code
split_mysql = MYSQL.split
split_sqlite = SQLITE.split
