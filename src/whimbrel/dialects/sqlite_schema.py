"""Reading an SQLite ``CREATE TABLE`` statement into its parts, for the table rebuild.

SQLite keeps a table's definition only as the text of its ``CREATE TABLE``
(``sqlite_master.sql``): CHECK constraints, constraint names, collations and
AUTOINCREMENT are nowhere else. The rebuild (``whimbrel.dialects.sqlite_rebuild``)
therefore edits that text: this module splits it into column definitions and
table constraints, and a column definition into its type and constraint
clauses, keeping every piece exactly as written. Pure: no database access.

Example::

    >>> t = parse_table("t", 'CREATE TABLE t (a INTEGER NOT NULL DEFAULT 0, b TEXT, CHECK (a > 0))')
    >>> [e.name for e in t.elements]
    ['a', 'b', None]
    >>> [c.kind for c in t.column("a").clauses]
    ['not null', 'default']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*')
    | (?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    | (?P<word>[^\W\d][\w$]*)
    | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<punct>.)
    """,
    re.S | re.X,
)

#: Keywords that start a column constraint (SQLite's ``column-constraint``).
_STARTERS = frozenset(
    {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE"}
    | {"REFERENCES", "GENERATED", "AS"}
)
#: First keywords of a table constraint (after an optional ``CONSTRAINT name``).
_TABLE_CONSTRAINTS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})
_CLAUSE_KINDS = {
    "PRIMARY": "primary key",
    "NOT": "not null",
    "NULL": "null",
    "UNIQUE": "unique",
    "CHECK": "check",
    "DEFAULT": "default",
    "COLLATE": "collate",
    "REFERENCES": "references",
    "GENERATED": "generated",
    "AS": "generated",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str

    @property
    def keyword(self) -> str | None:
        """The upper-cased word, for keyword tests (None for anything but a bare word)."""
        return self.text.upper() if self.kind == "word" else None

    @property
    def name(self) -> str | None:
        """The identifier it spells, case-folded as SQLite compares names."""
        if self.kind == "word":
            return self.text.casefold()
        if self.kind == "ident":
            return unquote(self.text).casefold()
        return None


def tokenize(sql: str) -> list[Token]:
    """Every token of ``sql``, whitespace and comments included (they keep the text intact)."""
    return [Token(m.lastgroup or "punct", m.group()) for m in _TOKEN.finditer(sql)]


def unquote(identifier: str) -> str:
    """``"a""b"`` -> ``a"b``; ``[x]`` and backticks too; a bare word is returned as is."""
    if identifier[:1] == "[":
        return identifier[1:-1]
    if identifier[:1] in ('"', "`") and identifier[-1:] == identifier[:1]:
        q = identifier[0]
        return identifier[1:-1].replace(q + q, q)
    return identifier


def _significant(tokens: list[Token]) -> bool:
    return any(t.kind not in ("ws", "comment") for t in tokens)


@dataclass(frozen=True)
class _Unit:
    """A significant token, or a whole parenthesised group, at depth 0 of an element."""

    first: int
    last: int
    token: Token


def _units(tokens: list[Token]) -> list[_Unit]:
    units, depth, start = [], 0, 0
    for n, tok in enumerate(tokens):
        if tok.kind in ("ws", "comment"):
            continue
        if tok.text == "(":
            depth += 1
            if depth == 1:
                start = n
            continue
        if tok.text == ")" and depth:
            depth -= 1
            if depth == 0:
                units.append(_Unit(start, n, Token("group", "")))
            continue
        if depth == 0:
            units.append(_Unit(n, n, tok))
    return units


@dataclass(frozen=True)
class Clause:
    """One column constraint as written: ``CONSTRAINT "fk" REFERENCES "users"("id")``."""

    kind: str  # "primary key", "not null", "null", "unique", "check", "default", ...
    name: str | None  # the CONSTRAINT name, case-folded
    text: str


@dataclass(frozen=True)
class Element:
    """A column definition or a table constraint of a ``CREATE TABLE`` body."""

    text: str
    tokens: tuple[Token, ...] = field(repr=False)

    @property
    def is_column(self) -> bool:
        first = self._first
        return first.kind == "ident" or first.keyword not in _TABLE_CONSTRAINTS

    @property
    def _first(self) -> Token:
        return next(t for t in self.tokens if t.kind not in ("ws", "comment"))

    @property
    def name(self) -> str | None:
        """The column's name as written (unquoted), or None for a table constraint."""
        return unquote(self._first.text) if self.is_column else None

    @property
    def constraint_name(self) -> str | None:
        """``CONSTRAINT name`` of a table constraint, case-folded."""
        sig = [t for t in self.tokens if t.kind not in ("ws", "comment")]
        if not self.is_column and sig[0].keyword == "CONSTRAINT" and len(sig) > 1:
            return sig[1].name
        return None

    @property
    def type(self) -> str:
        """The declared type of a column (empty when it has none)."""
        units = _units(list(self.tokens))
        end = next(
            (n for n, u in enumerate(units[1:], 1) if u.token.keyword in _STARTERS), len(units)
        )
        return self._text(units, 1, end)

    @property
    def clauses(self) -> tuple[Clause, ...]:
        """The column's constraints in order, each with its kind and optional name."""
        units = _units(list(self.tokens))
        n = next(
            (i for i, u in enumerate(units[1:], 1) if u.token.keyword in _STARTERS), len(units)
        )
        out = []
        while n < len(units):
            start, name = n, None
            if units[n].token.keyword == "CONSTRAINT" and n + 1 < len(units):
                name, n = units[n + 1].token.name, n + 2
            kind = (
                _CLAUSE_KINDS.get(units[n].token.keyword or "", "other") if n < len(units) else ""
            )
            n = _clause_end(units, n, kind)
            out.append(Clause(kind, name, self._text(units, start, n)))
        return tuple(out)

    def mentions(self, column: str) -> bool:
        """Whether the column's name appears anywhere in this element."""
        return mentions(self.tokens, column)

    def _text(self, units: list[_Unit], start: int, end: int) -> str:
        if start >= end:
            return ""
        return "".join(t.text for t in self.tokens[units[start].first : units[end - 1].last + 1])


def _clause_end(units: list[_Unit], n: int, kind: str) -> int:
    """The index after the clause starting at ``units[n]``."""
    fixed = {"not null": 2, "collate": 2, "check": 2}
    if kind in fixed:
        return min(n + fixed[kind], len(units))
    if kind == "default":
        n += 1
        if n < len(units) and units[n].token.text in ("+", "-"):
            n += 1
        return min(n + 1, len(units))
    n += 1
    while n < len(units):
        kw, prev = units[n].token.keyword, units[n - 1].token.keyword
        nxt = units[n + 1].token.keyword if n + 1 < len(units) else None
        if kw in _STARTERS and not _continues(kind, kw, prev, nxt):
            break
        n += 1
    return n


def _continues(kind: str, keyword: str | None, prev: str | None, nxt: str | None) -> bool:
    """A starter keyword that still belongs to the clause (``ON DELETE SET NULL`` & co)."""
    if kind == "references":
        return (keyword in ("NULL", "DEFAULT") and prev == "SET") or (
            keyword == "NOT" and nxt == "DEFERRABLE"
        )
    return kind == "generated" and keyword == "AS"


def mentions(tokens: tuple[Token, ...] | list[Token], column: str) -> bool:
    folded = column.casefold()
    return any(t.name == folded for t in tokens)


@dataclass(frozen=True)
class TableSchema:
    """What the rebuild needs to know about a table, read from the catalog.

    ``indexes`` are ``(name, sql)`` of the indexes created with ``CREATE
    INDEX`` (those of UNIQUE/PRIMARY KEY constraints come back with the
    table); ``generated`` holds the generated columns, which cannot be
    copied; ``sequence`` is the table's AUTOINCREMENT counter, if any.
    """

    name: str
    elements: tuple[Element, ...]
    tail: str = ""
    indexes: tuple[tuple[str, str], ...] = ()
    triggers: tuple[str, ...] = ()
    generated: frozenset[str] = frozenset()
    sequence: int | None = None

    @property
    def columns(self) -> list[Element]:
        return [e for e in self.elements if e.is_column]

    def column(self, name: str) -> Element | None:
        folded = name.casefold()
        return next((e for e in self.columns if (e.name or "").casefold() == folded), None)

    @property
    def without_rowid(self) -> bool:
        words = [t.keyword for t in tokenize(self.tail) if t.kind == "word"]
        return "WITHOUT" in words and "ROWID" in words

    def rowid_alias(self) -> str | None:
        """The ``INTEGER PRIMARY KEY`` column that is the rowid, if there is one."""
        return rowid_alias(self.elements)


def rowid_alias(elements: tuple[Element, ...] | list[Element]) -> str | None:
    for e in elements:
        if not e.is_column or e.type.strip().upper() != "INTEGER":
            continue
        pk = [c for c in e.clauses if c.kind == "primary key"]
        if pk and "DESC" not in pk[0].text.upper().split():
            return e.name
    keys = [e for e in elements if not e.is_column and _table_key_columns(e) is not None]
    for key in keys:
        cols = _table_key_columns(key) or []
        column = next((c for c in elements if c.is_column and c.name == cols[0]), None)
        if len(cols) == 1 and column is not None and column.type.strip().upper() == "INTEGER":
            return column.name
    return None


def _table_key_columns(element: Element) -> list[str] | None:
    sig = [t for t in element.tokens if t.kind not in ("ws", "comment")]
    words = [t.keyword for t in sig]
    if "PRIMARY" not in words:
        return None
    inside = sig[words.index("PRIMARY") + 3 :]  # PRIMARY KEY ( ...
    names = []
    for tok in inside:
        if tok.text == ")":
            break
        if tok.kind in ("word", "ident") and tok.keyword not in ("ASC", "DESC", "COLLATE"):
            names.append(unquote(tok.text))
    return names


def has_primary_key(elements: tuple[Element, ...] | list[Element]) -> bool:
    if any(_table_key_columns(e) for e in elements if not e.is_column):
        return True
    return any(c.kind == "primary key" for e in elements if e.is_column for c in e.clauses)


def parse_table(
    name: str,
    sql: str,
    *,
    indexes: tuple[tuple[str, str], ...] = (),
    triggers: tuple[str, ...] = (),
    generated: frozenset[str] = frozenset(),
    sequence: int | None = None,
) -> TableSchema:
    """Split ``CREATE TABLE ... ( elements ) tail`` into a ``TableSchema``."""
    tokens = tokenize(sql)
    start = next(n for n, t in enumerate(tokens) if t.text == "(")
    depth, end = 0, len(tokens)
    pieces: list[list[Token]] = []
    current: list[Token] = []
    for n in range(start + 1, len(tokens)):
        tok = tokens[n]
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            if depth == 0:
                end = n
                break
            depth -= 1
        elif tok.text == "," and depth == 0:
            pieces.append(current)
            current = []
            continue
        current.append(tok)
    pieces.append(current)
    elements = tuple(
        Element("".join(t.text for t in piece).strip(), tuple(piece))
        for piece in pieces
        if _significant(piece)
    )
    tail = "".join(t.text for t in tokens[end + 1 :]).strip().rstrip(";").strip()
    return TableSchema(name, elements, tail, indexes, triggers, generated, sequence)
