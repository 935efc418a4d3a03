"""Just enough SQL reading to check a continuous aggregate's query before it runs.

TimescaleDB refuses a continuous aggregate whose GROUP BY has no
``time_bucket`` on the hypertable's time column, but only when the view is
created. The check here reads the top level of the query (outside
parentheses, strings and quoted names): the select list and the GROUP BY
list. A GROUP BY item passes when it is a ``time_bucket(...)`` call, or names
(by alias or position) a select item that is one.

Example::

    >>> group_by_has_time_bucket(
    ...     "SELECT time_bucket('1 minute', ts) AS bucket, max(v) FROM t GROUP BY bucket")
    True
    >>> group_by_has_time_bucket("SELECT symbol, max(v) FROM t GROUP BY symbol")
    False
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"\b(select|from|where|group\s+by|having|window|order\s+by|limit)\b", re.I)
_BUCKET = re.compile(r"^(?:\w+\.)?time_bucket(?:_ng)?\s*\(", re.I)
_ALIAS = re.compile(r'(?:\bAS\s+)?("(?:[^"]|"")+"|\w+)\s*$', re.I)


def top_level(sql: str) -> str:
    """``sql`` with everything inside parentheses, strings and quotes blanked out."""
    out, depth, quote = [], 0, ""
    for ch in sql:
        if quote:
            out.append(" ")
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
            out.append(" " if depth else ch)
        elif ch == "(":
            depth += 1
            out.append(ch if depth == 1 else " ")
        elif ch == ")":
            depth -= 1
            out.append(ch if depth == 0 else " ")
        else:
            out.append(ch if depth == 0 else " ")
    return "".join(out)


def clauses(sql: str) -> dict[str, str]:
    """The original text of each top-level clause of the first SELECT, by keyword."""
    flat = top_level(sql)
    found: dict[str, str] = {}
    marks = [
        (m.start(), m.end(), " ".join(m.group(1).split()).lower()) for m in _CLAUSE.finditer(flat)
    ]
    for n, (_, end, name) in enumerate(marks):
        stop = marks[n + 1][0] if n + 1 < len(marks) else len(sql)
        found.setdefault(name, sql[end:stop].strip().rstrip(";"))
    return found


def split_items(text: str) -> list[str]:
    """Items of a comma-separated list, ignoring commas inside parentheses or quotes."""
    flat = top_level(text)
    items, start = [], 0
    for pos, ch in enumerate(flat):
        if ch == ",":
            items.append(text[start:pos].strip())
            start = pos + 1
    items.append(text[start:].strip())
    return [item for item in items if item]


def _name(item: str) -> str:
    return item.strip().strip('"').lower()


def group_by_has_time_bucket(query: str) -> bool:
    """Whether the query groups by a ``time_bucket(...)`` (directly, by alias or position)."""
    parts = clauses(query)
    if "group by" not in parts:
        return False
    select = split_items(parts.get("select", ""))
    buckets: set[str] = set()
    for n, item in enumerate(select, 1):
        if _BUCKET.match(item):
            alias = _ALIAS.search(item)
            if alias is not None and not item.rstrip().endswith(")"):
                buckets.add(_name(alias.group(1)))
            buckets.add(str(n))
    return any(
        _BUCKET.match(item) or _name(item) in buckets for item in split_items(parts["group by"])
    )
