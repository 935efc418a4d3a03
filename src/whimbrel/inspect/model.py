"""The catalog snapshot: plain, frozen, comparable, JSON-serializable data.

Every reader (PostgreSQL, SQLite, MySQL/MariaDB) fills the same classes, with
values as the database reports them (types, defaults and expressions are not
translated between databases), so two snapshots of the same database compare
equal exactly when its schema is the same. Collections are tuples sorted by
name, so equality does not depend on the order a catalog query returned rows.

Example::

    >>> t = Table("posts", columns=(Column("id", "bigint", nullable=False),),
    ...           primary_key=PrimaryKey("posts_pkey", ("id",)))
    >>> Catalog("postgresql", "public", tables=(t,)).table("posts").column("id").type
    'bigint'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    """A column. ``identity`` is how the database numbers it (``"by default"``,
    ``"always"``, ``"auto_increment"``, ``"autoincrement"``); ``generated`` the
    expression of a generated column; ``collation`` only when it is not the
    default of the column's type or table."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None
    collation: str | None = None
    generated: str | None = None
    identity: str | None = None


@dataclass(frozen=True)
class PrimaryKey:
    name: str | None  # SQLite keys have no name
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    """An index that backs no primary key or exclusion constraint.

    ``columns`` holds names or expressions, with `` DESC`` / `` NULLS FIRST``
    / a MySQL prefix length ``(10)`` as the database reports them.
    """

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    method: str | None = None
    include: tuple[str, ...] = ()
    comment: str | None = None
    nulls_distinct: bool = True


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key. Actions are SQL words (``CASCADE``, ``SET NULL (a)``...);
    ``NO ACTION`` is written as None. ``ref_schema`` is None in the same schema."""

    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    ref_schema: str | None = None
    on_delete: str | None = None
    on_update: str | None = None
    match: str | None = None
    validated: bool = True

    @property
    def key(self) -> str:
        """The name, or ``(col, ...)`` where the database keeps none (SQLite)."""
        return self.name or "(" + ", ".join(self.columns) + ")"


@dataclass(frozen=True)
class Check:
    """A check (``kind="check"``) or exclusion (``"exclude"``) constraint."""

    name: str | None
    expression: str
    kind: str = "check"
    validated: bool = True
    comment: str | None = None

    @property
    def key(self) -> str:
        return self.name or f"CHECK ({self.expression})"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    comment: str | None = None

    def column(self, name: str) -> Column:
        return _named(self.columns, name, f'column of table "{self.name}"')

    def index(self, name: str) -> Index:
        return _named(self.indexes, name, f'index of table "{self.name}"')

    def foreign_key(self, key: str) -> ForeignKey:
        return _one({fk.key: fk for fk in self.foreign_keys}, key, f'foreign key of "{self.name}"')

    def check(self, key: str) -> Check:
        return _one({c.key: c for c in self.checks}, key, f'constraint of "{self.name}"')

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class View:
    name: str
    definition: str
    comment: str | None = None


@dataclass(frozen=True)
class EnumType:
    """A PostgreSQL enum type with its labels in sort order."""

    name: str
    labels: tuple[str, ...]
    comment: str | None = None


@dataclass(frozen=True)
class Catalog:
    """One schema of one database: ``database`` is ``postgresql``, ``sqlite``,
    ``mysql`` or ``mariadb``; ``schema`` the PostgreSQL schema, the MySQL
    database or ``main``."""

    database: str
    schema: str
    tables: tuple[Table, ...] = ()
    views: tuple[View, ...] = ()
    enums: tuple[EnumType, ...] = ()

    def table(self, name: str) -> Table:
        return _named(self.tables, name, "table")

    def view(self, name: str) -> View:
        return _named(self.views, name, "view")

    def enum(self, name: str) -> EnumType:
        return _named(self.enums, name, "enum type")

    @property
    def table_names(self) -> set[str]:
        return {t.name for t in self.tables}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **dumps: Any) -> str:
        return json.dumps(self.to_dict(), **dumps)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        """The inverse of ``to_dict`` (and of ``json.loads(to_json())``)."""
        return _build(cls, data)


def _named(items: tuple[Any, ...], name: str, what: str) -> Any:
    return _one({item.name: item for item in items}, name, what)


def _one(by_key: dict[str, T], key: str, what: str) -> T:
    try:
        return by_key[key]
    except KeyError:
        known = ", ".join(sorted(by_key)) or "none"
        raise KeyError(f"no {what} {key!r}; there are: {known}") from None


_NESTED: dict[tuple[str, str], type] = {
    ("Catalog", "tables"): Table,
    ("Catalog", "views"): View,
    ("Catalog", "enums"): EnumType,
    ("Table", "columns"): Column,
    ("Table", "indexes"): Index,
    ("Table", "foreign_keys"): ForeignKey,
    ("Table", "checks"): Check,
}


def _build(cls: type[T], data: dict[str, Any]) -> T:
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        nested = _NESTED.get((cls.__name__, f.name))
        if nested is not None:
            value = tuple(_build(nested, item) for item in value)
        elif f.name == "primary_key" and value is not None:
            value = PrimaryKey(value["name"], tuple(value["columns"]))
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return cls(**values)


def by_name(items: list[T]) -> tuple[T, ...]:
    """Items sorted by their key, so snapshots compare regardless of query order."""
    return tuple(sorted(items, key=lambda item: str(getattr(item, "key", None) or item.name)))  # type: ignore[attr-defined]


__all__ = [
    "Catalog",
    "Check",
    "Column",
    "EnumType",
    "ForeignKey",
    "Index",
    "PrimaryKey",
    "Table",
    "View",
    "by_name",
]
