"""Splitting SQL scripts into statements: `split_sql` (.sql migrations) and `split_sqlite`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whimbrel.dialects.sqlsplit import split_sql, split_sqlite

SPLIT_SQL: list[tuple[str, list[str]]] = [
    ("SELECT 1", ["SELECT 1"]),
    ("SELECT 1;", ["SELECT 1"]),
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("  SELECT 1 ;\n\n SELECT 2  ", ["SELECT 1", "SELECT 2"]),
    ("", []),
    (" ;; ; ", []),
    # quotes
    ("INSERT INTO t VALUES ('a;b'); SELECT 2", ["INSERT INTO t VALUES ('a;b')", "SELECT 2"]),
    ("SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", "SELECT 2"]),
    ("SELECT ''; SELECT ''''", ["SELECT ''", "SELECT ''''"]),
    (
        'SELECT "odd;name", "say ""a;b"""; SELECT 2',
        ['SELECT "odd;name", "say ""a;b"""', "SELECT 2"],
    ),
    ("SELECT `a;b` FROM t; SELECT 2", ["SELECT `a;b` FROM t", "SELECT 2"]),
    # standard strings: a backslash is an ordinary character
    ("SELECT 'C:\\'; SELECT 2", ["SELECT 'C:\\'", "SELECT 2"]),
    # E'' strings: a backslash escapes the next character, a quote included
    ("SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b'", "SELECT 2"]),
    ("SELECT e'\\\\'; SELECT 2", ["SELECT e'\\\\'", "SELECT 2"]),
    ("SELECT E'x''y;z'; SELECT 2", ["SELECT E'x''y;z'", "SELECT 2"]),
    # ...but only a lone E is a prefix: here the word ends in e
    ("SELECT type'x\\'; SELECT 2", ["SELECT type'x\\'", "SELECT 2"]),
    # dollar quotes
    (
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT 2",
        [
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
            "SELECT 2",
        ],
    ),
    (
        "DO $body$ BEGIN PERFORM 'x;'; PERFORM $$;$$; END $body$; SELECT 2",
        ["DO $body$ BEGIN PERFORM 'x;'; PERFORM $$;$$; END $body$", "SELECT 2"],
    ),
    ("SELECT $a$ ; $b$ ; $a$; SELECT 2", ["SELECT $a$ ; $b$ ; $a$", "SELECT 2"]),
    # $1 is a parameter and a$b$ part of a name, not dollar quotes
    ("SELECT $1; SELECT a$b$; SELECT 3", ["SELECT $1", "SELECT a$b$", "SELECT 3"]),
    # comments
    ("SELECT 1; -- one; two\nSELECT 2", ["SELECT 1", "-- one; two\nSELECT 2"]),
    ("SELECT 1 /* a; b */; SELECT 2", ["SELECT 1 /* a; b */", "SELECT 2"]),
    ("SELECT '--not a comment;'; SELECT 2", ["SELECT '--not a comment;'", "SELECT 2"]),
    ("SELECT '/*'; SELECT '*/'", ["SELECT '/*'", "SELECT '*/'"]),
    # trailing and comment-only pieces are dropped
    ("SELECT 1; -- the end", ["SELECT 1"]),
    ("SELECT 1; /* the; end */", ["SELECT 1"]),
    ("-- only a comment;\n/* and; another */", []),
    # unterminated quotes and comments swallow the rest rather than split inside them
    ("SELECT 'open; SELECT 2", ["SELECT 'open; SELECT 2"]),
    ("SELECT 1 /* open; SELECT 2", ["SELECT 1 /* open; SELECT 2"]),
]


@pytest.mark.parametrize(("sql", "statements"), SPLIT_SQL)
def test_split_sql(sql: str, statements: list[str]) -> None:
    assert split_sql(sql) == statements


_text = st.text(alphabet=st.sampled_from(list("ab ;'\"-/*$\\\n")), max_size=20)


def _quoted_literal(text: str) -> str:
    return "INSERT INTO t VALUES ('" + text.replace("'", "''") + "')"


def _quoted_identifier(text: str) -> str:
    return 'SELECT "' + text.replace('"', '""') + '" FROM t'


def _dollar_quoted(text: str) -> str:
    while "$q$" in text:  # the body must not hold its own closing tag
        text = text.replace("$q$", "")
    return "SELECT $q$" + text + "$q$"


_statement = st.one_of(
    _text.map(_quoted_literal),
    _text.map(_quoted_identifier),
    _text.map(_dollar_quoted),
    st.integers(min_value=0, max_value=10**6).map(lambda n: f"SELECT {n}"),
)


@given(st.lists(_statement, min_size=1, max_size=8))
def test_joined_statements_split_back_into_the_same_statements(statements: list[str]) -> None:
    assert split_sql(";\n".join(statements)) == statements
    assert split_sql(";\n".join(statements) + ";\n") == statements


SPLIT_SQLITE: list[tuple[str, list[str]]] = [
    ("SELECT 1", ["SELECT 1"]),
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    (
        "CREATE TABLE a (x); INSERT INTO a VALUES (';')",
        ["CREATE TABLE a (x)", "INSERT INTO a VALUES (';')"],
    ),
    ("SELECT 'it''s;'; SELECT \"a;b\"", ["SELECT 'it''s;'", 'SELECT "a;b"']),
    # A trigger body holds semicolons; SQLite's tokenizer knows it ends at END;
    (
        "CREATE TRIGGER tr AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM b; END; "
        "SELECT 2",
        [
            "CREATE TRIGGER tr AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM b; END",
            "SELECT 2",
        ],
    ),
    ("SELECT 1; -- done; really", ["SELECT 1"]),
    ("SELECT 1; /* a; b */", ["SELECT 1"]),
    ("-- note; here\n;SELECT 1;", ["SELECT 1"]),
    ("", []),
]


@pytest.mark.parametrize(("sql", "statements"), SPLIT_SQLITE)
def test_split_sqlite(sql: str, statements: list[str]) -> None:
    assert split_sqlite(sql) == statements
