"""Catalog plans every database shares: what a statement needs to know about the table now.

A dialect stays pure, so where the SQL depends on the table as it is when the
migration runs it returns a ``CatalogStep`` holding one of these plans; the
adapter reads the table with ``whimbrel.inspect`` and calls ``expand(table)``
(``Adapter.run_step``). ``table`` is the ``whimbrel.inspect.Table`` (None when
the table does not exist).

- ``ColumnDrop``: before ``DROP COLUMN``. In a ``change()`` migration going
  up, the rollback re-adds only the column, so the indexes, foreign keys and
  checks that ``DROP COLUMN`` would take with it would be lost for good and a
  later rollback would fail on them: refuse, naming each one and the fix. On
  MySQL/MariaDB also drop the column's foreign keys first (``DROP COLUMN``
  of a foreign-key column is error 1553/1828 there).
- ``IndexDrop`` (MySQL/MariaDB): InnoDB needs an index for every foreign
  key and silently drops the one it made once a user index covers the key;
  dropping that user index is then error 1553. The plan drops it and adds
  back the index InnoDB had (named after the foreign key) in one statement.
- ``ForeignKeyIndexDrop`` (MySQL/MariaDB): ``DROP FOREIGN KEY`` keeps the
  index InnoDB made for the key; the plan drops it too when it is there.

Example::

    >>> plan = IndexDrop("posts", None, "posts_author_id_index", "DROP INDEX ...", quote=str)
    >>> plan.expand(None)
    ['DROP INDEX ...']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whimbrel.errors import UnsupportedFeatureError


@dataclass(frozen=True)
class ColumnDrop:
    """The checks before ``DROP COLUMN`` of ``table.column``."""

    table: str
    prefix: str | None
    column: str
    #: ``change()`` going up: its rollback re-adds the bare column, so nothing may go with it.
    restorable: bool
    #: The foreign key the removal itself names (``remove(col, references(...))``).
    own_foreign_key: str | None = None
    #: MySQL: the statement dropping a foreign key by name (None: the database drops it).
    drop_foreign_key: Callable[[str], str] | None = None
    may_rebuild: bool = False

    def preview(self) -> str:
        what = []
        if self.restorable:
            what.append("refuse if indexes or constraints would go with it")
        if self.drop_foreign_key is not None:
            what.append("drop its foreign keys first")
        return f'-- before dropping column "{self.table}"."{self.column}": {", ".join(what)}'

    def expand(self, table: Any) -> list[str]:
        if table is None:
            return []
        if self.restorable:
            lost = self.lost_with_column(table)
            if lost:
                raise UnsupportedFeatureError(self.refusal(lost))
        if self.drop_foreign_key is None:
            return []
        return [
            self.drop_foreign_key(fk.name)
            for fk in table.foreign_keys
            if self.column in fk.columns and fk.name and fk.name != self.own_foreign_key
        ]

    def lost_with_column(self, table: Any) -> list[str]:
        """What ``DROP COLUMN`` takes along that re-adding the column does not restore."""
        own = self._own_key(table)
        lost = [
            f'index "{i.name}"'
            for i in table.indexes
            if i.name not in own and any(_mentions(part, self.column) for part in i.columns)
        ]
        lost += [
            f'foreign key "{fk.key}"'
            for fk in table.foreign_keys
            if self.column in fk.columns and fk.key not in own
        ]
        lost += [
            f'check "{k.key}"'
            for k in table.checks
            if k.kind == "check" and _mentions(k.expression, self.column)
        ]
        return lost

    def _own_key(self, table: Any) -> set[str]:
        """The removal's own foreign key, and the index MySQL made for it (its name)."""
        if self.own_foreign_key is None:
            return set()
        own = {self.own_foreign_key}
        # SQLite keeps no constraint names: the key is known by its columns there.
        own |= {
            fk.key for fk in table.foreign_keys if fk.name is None and fk.columns == (self.column,)
        }
        return own

    def refusal(self, lost: list[str]) -> str:
        drops = ", ".join(lost)
        return (
            f'remove("{self.column}", ...) in change() would drop {drops} of table '
            f'"{self.table}" with the column, and rolling back re-adds only the column, so an '
            "earlier migration's rollback would then fail: drop them first in this change() "
            f'(e.g. drop(index("{self.table}", ["{self.column}"])) before the remove, so the '
            "rollback recreates them), or write up() and down() instead of change()"
        )


@dataclass(frozen=True)
class IndexDrop:
    """MySQL ``DROP INDEX`` that keeps an index for every foreign key it served."""

    table: str
    prefix: str | None
    name: str
    #: The plain statement, when no foreign key needs the index.
    sql: str
    quote: Callable[[str], str]
    #: ``ALTER TABLE t DROP INDEX i`` + what follows the actions (``, LOCK=NONE``).
    alter_head: str = ""
    alter_tail: str = ""
    may_rebuild: bool = False

    def preview(self) -> str:
        return self.sql

    def expand(self, table: Any) -> list[str]:
        if table is None:
            return [self.sql]
        dropped = next((i for i in table.indexes if i.name == self.name), None)
        if dropped is None:
            return [self.sql]
        others = [i for i in table.indexes if i.name != self.name]
        keys = [table.primary_key.columns] if table.primary_key else []
        kept = [_names(i.columns) for i in others] + keys
        adds = []
        for fk in table.foreign_keys:
            cols = fk.columns
            if _covers(_names(dropped.columns), cols) and not any(_covers(k, cols) for k in kept):
                adds.append(
                    f"ADD INDEX {self.quote(fk.name or self.name)} ({_quoted(cols, self.quote)})"
                )
                kept.append(cols)
        if not adds:
            return [self.sql]
        return [f"{self.alter_head}, {', '.join(adds)}{self.alter_tail}"]


@dataclass(frozen=True)
class ForeignKeyIndexDrop:
    """After MySQL's ``DROP FOREIGN KEY``: drop the index InnoDB made for it, if it is there."""

    table: str
    prefix: str | None
    name: str
    sql: str
    may_rebuild: bool = False

    def preview(self) -> str:
        return f"-- then {self.sql}, if InnoDB made that index for the foreign key"

    def expand(self, table: Any) -> list[str]:
        if table is None or all(i.name != self.name for i in table.indexes):
            return []
        return [self.sql]


def _names(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Index parts as plain column names (``body(10)`` -> ``body``, ``x DESC`` -> ``x``)."""
    return tuple(re.split(r"[\s(]", part.strip("`"), maxsplit=1)[0] for part in parts)


def _covers(index: tuple[str, ...], columns: tuple[str, ...]) -> bool:
    """An index serves a foreign key when the key's columns are its leading columns."""
    return tuple(index[: len(columns)]) == tuple(columns)


def _quoted(columns: tuple[str, ...], quote: Callable[[str], str]) -> str:
    return ", ".join(quote(c) for c in columns)


def _mentions(expression: str, column: str) -> bool:
    """Whether ``column`` appears in an index part or a check as a whole word."""
    return re.search(rf"(?<![\w$]){re.escape(column)}(?![\w$])", expression) is not None


#: The plans ``Adapter.run_step`` expands from the inspected table.
TABLE_PLANS = (ColumnDrop, IndexDrop, ForeignKeyIndexDrop)
