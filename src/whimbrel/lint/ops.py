"""Operations: what a migration does to the schema, in one shape for DSL commands and SQL.

Lint rules read these, never commands or SQL text, so one rule catches both
``create(index("posts", ["title"]))`` and ``execute("CREATE INDEX ... ON posts")``.
``from_dsl`` turns recorded commands into operations and ``from_sql`` parses
``execute`` statements into them. Table names are compared case-folded and
without their schema: a migration names a table one way.

Example::

    >>> CreateIndexOp(table="posts", name="posts_title_index", line=4).table
    'posts'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    """Base of every operation; ``line`` is the DSL call's line in the migration file."""

    line: int | None


@dataclass(frozen=True)
class CreateTableOp(Op):
    table: str


@dataclass(frozen=True)
class DropTableOp(Op):
    table: str


@dataclass(frozen=True)
class RenameTableOp(Op):
    table: str
    to: str


@dataclass(frozen=True)
class AddColumnOp(Op):
    """``ADD COLUMN``; ``default`` is the default's SQL text when it has one."""

    table: str
    column: str
    type: str | None = None
    default: str | None = None
    #: serial / bigserial / identity: every existing row gets the next sequence value.
    sequence: bool = False
    #: ``GENERATED ALWAYS AS (...) STORED``: computed and written for every existing row.
    stored_generated: bool = False
    primary_key: bool = False
    #: MySQL ``AFTER col`` / ``FIRST``: the column is not added last.
    not_last: bool = False


@dataclass(frozen=True)
class AlterTypeOp(Op):
    """A column's type is set; ``old`` is the type it had, when known."""

    table: str
    column: str
    new: str
    old: str | None = None


@dataclass(frozen=True)
class SetNotNullOp(Op):
    table: str
    column: str


@dataclass(frozen=True)
class DropColumnOp(Op):
    table: str
    column: str


@dataclass(frozen=True)
class RenameColumnOp(Op):
    table: str
    column: str
    to: str


@dataclass(frozen=True)
class CreateIndexOp(Op):
    table: str
    name: str
    concurrently: bool = False
    unique: bool = False


@dataclass(frozen=True)
class DropIndexOp(Op):
    name: str
    concurrently: bool = False


@dataclass(frozen=True)
class ReindexOp(Op):
    concurrently: bool = False


@dataclass(frozen=True)
class AddConstraintOp(Op):
    """``ADD CONSTRAINT``; ``kind`` is check, foreign_key, unique, primary_key or exclude.

    ``validated`` is false for ``NOT VALID``; ``using_index`` for ``UNIQUE
    USING INDEX``/``PRIMARY KEY USING INDEX``, which adopt an index built before.
    """

    table: str
    name: str | None
    kind: str
    validated: bool = True
    using_index: bool = False
    check: str | None = None


@dataclass(frozen=True)
class ValidateConstraintOp(Op):
    table: str
    name: str


@dataclass(frozen=True)
class DataChangeOp(Op):
    """``UPDATE``/``DELETE``/``INSERT``/``MERGE``; ``where`` is false when it reaches every row."""

    table: str | None
    verb: str
    where: bool = True


@dataclass(frozen=True)
class CopyAlgorithmOp(Op):
    """MySQL ``ALTER TABLE ... ALGORITHM=COPY`` written out."""

    table: str


DDL_OPS = (
    CreateTableOp,
    DropTableOp,
    RenameTableOp,
    AddColumnOp,
    AlterTypeOp,
    SetNotNullOp,
    DropColumnOp,
    RenameColumnOp,
    CreateIndexOp,
    DropIndexOp,
    AddConstraintOp,
    ValidateConstraintOp,
    CopyAlgorithmOp,
)


def table_of(op: Op) -> str | None:
    """The table an operation works on, if it names one."""
    return getattr(op, "table", None)
