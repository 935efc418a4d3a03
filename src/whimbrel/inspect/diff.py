"""Drift between two catalog snapshots, as readable lines.

Objects are matched by name (foreign keys and checks without a name by their
columns or expression), so a column that came back at another position is
not drift. Each line says where, what, and the two values:

    >>> from whimbrel.inspect.model import Catalog, Column, Table
    >>> a = Catalog("sqlite", "main", (Table("t", (Column("n", "TEXT"),)),))
    >>> b = Catalog("sqlite", "main", (Table("t", (Column("n", "INTEGER"),)),))
    >>> diff(a, b)
    ['table "t": column "n": type TEXT -> INTEGER']
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from whimbrel.inspect.model import Catalog, Table

#: A table's named parts: (attribute, label in drift lines).
_PARTS = (
    ("columns", "column"),
    ("indexes", "index"),
    ("foreign_keys", "foreign key"),
    ("checks", "constraint"),
)


def diff(a: Catalog, b: Catalog) -> list[str]:
    """What changes from ``a`` to ``b``: ``+`` only in b, ``-`` only in a, ``x -> y`` changed.

    An empty list means the two schemas are the same.
    """
    lines: list[str] = []
    lines += _collection("table", a.tables, b.tables, _table)
    lines += _collection("view", a.views, b.views, _fields)
    lines += _collection("enum type", a.enums, b.enums, _fields)
    return lines


def _key(item: Any) -> str:
    return str(getattr(item, "key", None) or item.name)


def _collection(label: str, old: Any, new: Any, compare: Any) -> list[str]:
    before = {_key(item): item for item in old}
    after = {_key(item): item for item in new}
    lines = [f'- {label} "{k}"' for k in before if k not in after]
    lines += [f'+ {label} "{k}"' for k in after if k not in before]
    for k in before.keys() & after.keys():
        lines += [f'{label} "{k}": {line}' for line in compare(before[k], after[k])]
    return sorted(lines)


def _table(old: Table, new: Table) -> list[str]:
    lines = _fields(old, new, skip={"name", *(part for part, _ in _PARTS)})
    for part, label in _PARTS:
        lines += _collection(label, getattr(old, part), getattr(new, part), _fields)
    return lines


def _fields(old: Any, new: Any, skip: frozenset[str] | set[str] = frozenset({"name"})) -> list[str]:
    return [
        f"{f.name} {_show(getattr(old, f.name))} -> {_show(getattr(new, f.name))}"
        for f in fields(old)
        if f.name not in skip and getattr(old, f.name) != getattr(new, f.name)
    ]


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if hasattr(value, "__dataclass_fields__"):
        return ", ".join(f"{f.name}={_show(getattr(value, f.name))}" for f in fields(value))
    return str(value)
