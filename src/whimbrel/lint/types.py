"""Column types as lint compares them: which type changes rewrite the table.

Types reach lint as SQL text, from a dialect (``"varchar(255)"`` for the DSL's
``"string"``) or from a parsed ``ALTER COLUMN ... TYPE``. They are reduced to a
name and its numbers, spelled one way.

Example::

    >>> parse_type("character varying(40)")
    ('varchar', (40,))
    >>> pg_rewrites("varchar(40)", "text")
    False
    >>> pg_rewrites("integer", "bigint")
    True
"""

from __future__ import annotations

import re

_SYNONYMS = {
    "character varying": "varchar",
    "decimal": "numeric",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "bit varying": "varbit",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "bool": "boolean",
    "float8": "double precision",
    "character": "bpchar",
    "char": "bpchar",
}
_TYPE = re.compile(
    r"^\s*(?P<name>[a-z_][a-z0-9_ ]*?)\s*(?:\((?P<params>[\d,\s]*)\))?"
    r"\s*(?P<tz>with(?:out)? time zone)?\s*(?P<array>(?:\[\])*)\s*$"
)
#: Types whose number is a fractional-second precision; none given means 6.
_PRECISION_TYPES = ("timestamp", "timestamptz", "time", "timetz", "interval")


def parse_type(sql: str) -> tuple[str, tuple[int, ...]]:
    """``(name, numbers)`` of an SQL type, synonyms folded; unknown text is kept whole."""
    text = " ".join(sql.lower().replace('"', "").split())
    match = _TYPE.match(text)
    if match is None:
        return text, ()
    name = match["name"].strip()
    if match["tz"]:
        name = f"{name} {match['tz']}"
    name = _SYNONYMS.get(name, name)
    params = tuple(int(p) for p in (match["params"] or "").replace(" ", "").split(",") if p)
    return name + match["array"], params


def same_type(old: str, new: str) -> bool:
    return parse_type(old) == parse_type(new)


def pg_rewrites(old: str, new: str) -> bool:
    """Whether PostgreSQL rewrites the table to change a column from ``old`` to ``new``.

    No rewrite (the new type is binary coercible and accepts every old value):
    the same type; a longer or unlimited ``varchar``/``varbit``; ``varchar``
    to ``text`` and ``text`` to unlimited ``varchar``; a ``numeric`` with more
    precision and the same scale, or unconstrained; more (or default)
    fractional-second precision of ``timestamp``/``timestamptz``/``time``/
    ``interval``; ``cidr`` to ``inet``. ``timestamp`` to ``timestamptz``
    rewrites unless the session time zone is UTC (PostgreSQL 12+), which lint
    cannot know, so it counts as a rewrite.
    """
    (o, op), (n, np) = parse_type(old), parse_type(new)
    if (o, op) == (n, np):
        return False
    if o == n and o in ("varchar", "varbit"):
        return not (not np or (op and np[0] >= op[0]))
    if (o, n) == ("varchar", "text") or ((o, n) == ("text", "varchar") and not np):
        return False
    if o == n == "numeric":
        return not (not np or (len(op) == 2 and len(np) == 2 and np[1] == op[1] and np[0] >= op[0]))
    if o == n and o in _PRECISION_TYPES:
        return (np[0] if np else 6) < (op[0] if op else 6)
    return (o, n) != ("cidr", "inet")


def mysql_copies(old: str, new: str, bytes_per_char: int = 4) -> bool:
    """Whether MySQL/MariaDB InnoDB needs ``ALGORITHM=COPY`` to change ``old`` to ``new``.

    Changing a column's data type is COPY-only; the documented exception is a
    longer ``VARCHAR`` whose length prefix keeps its size (1 byte up to 255
    bytes, 2 bytes above), counted in bytes of the character set: utf8mb4
    (MySQL 8's default, 4 bytes a character) unless told otherwise.
    """
    (o, op), (n, np) = parse_type(old), parse_type(new)
    if (o, op) == (n, np):
        return False
    if o == n == "varchar" and op and np and np[0] >= op[0]:
        return (op[0] * bytes_per_char > 255) != (np[0] * bytes_per_char > 255)
    return True
