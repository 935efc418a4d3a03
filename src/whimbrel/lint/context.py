"""What lint knows while it walks migrations: per migration, and across them in order.

``Schema`` carries facts from one migration to the next (column types, which
``col IS NOT NULL`` checks are validated); ``Context`` holds one migration's
facts: the target database, whether it runs in a transaction, which tables it
created itself (those are new and empty, so building on them is safe).

Example::

    ctx = Context("postgresql", transactional=True, schema=Schema())
    ctx.existing("posts")   # True until the migration creates "posts"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whimbrel.lint.ops import (
    AddColumnOp,
    AddConstraintOp,
    AlterTypeOp,
    CreateTableOp,
    DropColumnOp,
    DropTableOp,
    Op,
    RenameColumnOp,
    RenameTableOp,
    ValidateConstraintOp,
)

_NOT_NULL_CHECK = re.compile(r'^\(*\s*[`"]?(\w+)[`"]?\s+is\s+not\s+null\s*\)*$', re.IGNORECASE)


def not_null_column(check: str | None) -> str | None:
    """The column of a ``col IS NOT NULL`` check, else None.

    >>> not_null_column('"email" IS NOT NULL')
    'email'
    """
    match = _NOT_NULL_CHECK.match(check or "")
    return match[1].lower() if match else None


@dataclass
class Schema:
    """Facts that outlive a migration: column types and validated not-null checks."""

    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    #: (table, column) whose ``IS NOT NULL`` check was validated by an earlier migration.
    not_null_checked: set[tuple[str, str]] = field(default_factory=set)
    #: (table, constraint) -> column of a ``NOT VALID`` not-null check awaiting validation.
    unvalidated_checks: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class Context:
    """One migration being linted."""

    database: str
    transactional: bool
    schema: Schema
    server_version: tuple[int, ...] | None = None
    created: set[str] = field(default_factory=set)
    #: (table, constraint) added ``NOT VALID`` by this migration.
    not_valid_here: set[tuple[str, str]] = field(default_factory=set)
    #: Not-null checks validated by this migration; they count once it has committed.
    validated_here: set[tuple[str, str]] = field(default_factory=set)

    def existing(self, table: str | None) -> bool:
        """Whether ``table`` existed before this migration (and so may hold rows)."""
        return table is not None and table not in self.created

    def old_type(self, op: AlterTypeOp) -> str | None:
        return op.old or self.schema.columns.get((op.table, op.column))

    def not_null_ready(self, table: str, column: str) -> bool:
        """A validated ``col IS NOT NULL`` check exists, so SET NOT NULL skips its scan."""
        key = (table, column)
        if key in self.schema.not_null_checked:
            return True
        # Validated in this migration: its scan ran under this transaction's locks,
        # unless the migration runs outside a transaction.
        return key in self.validated_here and not self.transactional

    def learn(self, op: Op) -> None:
        """Update what is known after ``op`` ran (called after the rules saw it)."""
        handler = _LEARN.get(type(op))
        if handler is not None:
            handler(self, op)

    def commit(self) -> None:
        """The migration is done: what it validated now holds for the next ones."""
        self.schema.not_null_checked |= self.validated_here


def _create_table(ctx: Context, op: CreateTableOp) -> None:
    ctx.created.add(op.table)


def _drop_table(ctx: Context, op: DropTableOp) -> None:
    ctx.created.discard(op.table)
    for key in [k for k in ctx.schema.columns if k[0] == op.table]:
        del ctx.schema.columns[key]


def _rename_table(ctx: Context, op: RenameTableOp) -> None:
    if op.table in ctx.created:
        ctx.created.add(op.to)
    for (table, column), type_ in list(ctx.schema.columns.items()):
        if table == op.table:
            ctx.schema.columns[(op.to, column)] = type_


def _add_column(ctx: Context, op: AddColumnOp) -> None:
    if op.type is not None:
        ctx.schema.columns[(op.table, op.column)] = op.type


def _alter_type(ctx: Context, op: AlterTypeOp) -> None:
    ctx.schema.columns[(op.table, op.column)] = op.new


def _drop_column(ctx: Context, op: DropColumnOp) -> None:
    ctx.schema.columns.pop((op.table, op.column), None)


def _rename_column(ctx: Context, op: RenameColumnOp) -> None:
    type_ = ctx.schema.columns.pop((op.table, op.column), None)
    if type_ is not None:
        ctx.schema.columns[(op.table, op.to)] = type_


def _add_constraint(ctx: Context, op: AddConstraintOp) -> None:
    column = not_null_column(op.check) if op.kind == "check" else None
    if op.name and not op.validated:
        ctx.not_valid_here.add((op.table, op.name))
    if column is None:
        return
    if op.validated:
        ctx.validated_here.add((op.table, column))
    elif op.name:
        ctx.schema.unvalidated_checks[(op.table, op.name)] = column


def _validate(ctx: Context, op: ValidateConstraintOp) -> None:
    column = ctx.schema.unvalidated_checks.pop((op.table, op.name), None)
    if column is not None:
        ctx.validated_here.add((op.table, column))


_LEARN: dict[type[Op], Callable[[Context, Any], None]] = {
    CreateTableOp: _create_table,
    DropTableOp: _drop_table,
    RenameTableOp: _rename_table,
    AddColumnOp: _add_column,
    AlterTypeOp: _alter_type,
    DropColumnOp: _drop_column,
    RenameColumnOp: _rename_column,
    AddConstraintOp: _add_constraint,
    ValidateConstraintOp: _validate,
}
