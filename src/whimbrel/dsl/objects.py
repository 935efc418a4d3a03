"""Schema objects: immutable descriptions built by ``table()``, ``index()`` & co.

Building an object runs nothing; commands such as ``create`` take objects and
are recorded for the migrator to compile and run later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class _Missing:
    """Sentinel for "option not given" where ``None`` is a meaningful value."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Fragment:
    """Raw SQL used verbatim, e.g. as a default: ``default=fragment("now()")``."""

    sql: str


@dataclass(frozen=True)
class ArrayType:
    """An array column type: ``array("text")`` is ``text[]`` on PostgreSQL."""

    of: ColumnType


@dataclass(frozen=True)
class Reference:
    """A foreign-key column type; see ``whimbrel.migration.references``."""

    table: str
    column: str = "id"
    type: ColumnType = "bigserial"
    name: str | None = None
    on_delete: OnDelete = "nothing"
    on_update: str = "nothing"
    validate: bool = True
    with_: tuple[tuple[str, str], ...] = ()
    match: str | None = None
    prefix: str | None = None


ColumnType = str | ArrayType | Reference
OnDelete = str | tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class ColumnOpts:
    """Options of one column; ``default`` is ``MISSING`` when not given."""

    null: bool | None = None
    default: Any = MISSING
    size: int | None = None
    precision: int | None = None
    scale: int | None = None
    primary_key: bool = False
    comment: str | None = None
    collation: str | None = None
    generated: str | None = None
    start_value: int | None = None
    increment: int | None = None
    after: str | None = None
    #: PostgreSQL interval fields of a ``duration`` column (``"YEAR TO MONTH"``), as in Ecto.
    fields: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass(frozen=True)
class PrimaryKey:
    """The key column ``create(table(...))`` adds first (``id bigserial`` by default)."""

    name: str = "id"
    type: ColumnType = "bigserial"
    opts: ColumnOpts = field(default_factory=lambda: ColumnOpts(primary_key=True))


@dataclass(frozen=True)
class Table:
    """A table; ``primary_key`` is True (default key), False, or a ``PrimaryKey``."""

    name: str
    prefix: str | None = None
    primary_key: bool | PrimaryKey = True
    comment: str | None = None
    options: str | None = None
    modifiers: str | None = None
    engine: str | None = None


class QuotedName(str):
    """A column name always quoted in an index, whatever its characters: ``quoted("a b")``.

    A plain string that is not an identifier is an SQL expression, used verbatim
    (as in Ecto); this marks one that is a name.
    """

    __slots__ = ()


@dataclass(frozen=True)
class IndexColumn:
    """An index column with a direction: built by ``asc()``, ``desc()`` and variants."""

    expr: str
    direction: str | None = None  # "ASC" | "DESC"
    nulls: str | None = None  # "FIRST" | "LAST"


@dataclass(frozen=True)
class Index:
    """An index; see ``whimbrel.migration.index`` for the options."""

    table: str
    columns: tuple[str | IndexColumn, ...]
    name: str
    unique: bool = False
    concurrently: bool = False
    using: str | None = None
    where: str | None = None
    include: tuple[str, ...] = ()
    nulls_distinct: bool | None = None
    only: bool = False
    prefix: str | None = None
    comment: str | None = None
    options: str | None = None


@dataclass(frozen=True)
class Constraint:
    """A check or exclusion constraint on a table."""

    table: str
    name: str
    check: str | None = None
    exclude: str | None = None
    validate: bool = True
    comment: str | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class EnumType:
    """A PostgreSQL enum type: ``enum("mood", ["happy", "sad"])``.

    ``values`` may be empty where only the name matters (``drop``, ``rename``);
    a dropped enum whose values are given can be created again on rollback.
    """

    name: str
    values: tuple[str, ...] = ()
    prefix: str | None = None
    comment: str | None = None


_NON_WORD = re.compile(r"[^\w]")


def column_label(column: str | IndexColumn) -> str:
    """The text of an index column as used in default names."""
    return column.expr if isinstance(column, IndexColumn) else column


def default_index_name(table: str, columns: tuple[str | IndexColumn, ...]) -> str:
    """Ecto's default: ``<table>_<columns>_index``, non-word characters as ``_``.

    >>> default_index_name("posts", ("author_id", "lower(title)"))
    'posts_author_id_lower_title_index'
    """
    parts = [table, *(column_label(c) for c in columns), "index"]
    return "_".join(_NON_WORD.sub("_", p).rstrip("_") for p in parts)


def reference_name(table: str, column: str, ref: Reference) -> str:
    """The foreign-key constraint name: ``<table>_<column>_fkey`` unless named."""
    return ref.name or f"{table}_{column}_fkey"
