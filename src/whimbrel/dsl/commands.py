"""Commands: what a migration records, as immutable data.

A dialect compiles each command to SQL (``whimbrel.dialects``) and
``whimbrel.dsl.reverse`` inverts it for ``change()`` rollbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whimbrel.dsl.objects import ColumnOpts, ColumnType, Constraint, EnumType, Index, Table

# --- column changes (only inside create/alter blocks) -------------------------


@dataclass(frozen=True)
class AddColumn:
    name: str
    type: ColumnType
    opts: ColumnOpts = ColumnOpts()
    if_not_exists: bool = False


@dataclass(frozen=True)
class ModifyColumn:
    name: str
    type: ColumnType
    opts: ColumnOpts = ColumnOpts()
    #: ``(type, opts)`` the column had before; makes the change reversible.
    from_: tuple[ColumnType, ColumnOpts] | None = None


@dataclass(frozen=True)
class RemoveColumn:
    name: str
    #: Known type and options make the removal reversible.
    type: ColumnType | None = None
    opts: ColumnOpts = ColumnOpts()
    if_exists: bool = False


ColumnChange = AddColumn | ModifyColumn | RemoveColumn

# --- commands ----------------------------------------------------------------


@dataclass(frozen=True)
class CreateTable:
    table: Table
    columns: tuple[AddColumn, ...] = ()
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterTable:
    table: Table
    changes: tuple[ColumnChange, ...] = ()


@dataclass(frozen=True)
class DropTable:
    table: Table
    mode: str = "restrict"
    if_exists: bool = False


@dataclass(frozen=True)
class CreateIndex:
    index: Index
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropIndex:
    index: Index
    mode: str = "restrict"
    if_exists: bool = False


@dataclass(frozen=True)
class CreateConstraint:
    constraint: Constraint


@dataclass(frozen=True)
class DropConstraint:
    constraint: Constraint
    mode: str = "restrict"
    if_exists: bool = False


@dataclass(frozen=True)
class ValidateConstraint:
    """``ALTER TABLE ... VALIDATE CONSTRAINT``: check the rows of a ``NOT VALID`` constraint."""

    constraint: Constraint


@dataclass(frozen=True)
class RenameTable:
    table: Table
    to: Table


@dataclass(frozen=True)
class RenameColumn:
    table: Table
    column: str
    to: str


@dataclass(frozen=True)
class RenameIndex:
    index: Index
    to: str


# --- PostgreSQL enum types ---------------------------------------------------------


@dataclass(frozen=True)
class CreateEnum:
    enum: EnumType


@dataclass(frozen=True)
class DropEnum:
    enum: EnumType
    mode: str = "restrict"
    if_exists: bool = False


@dataclass(frozen=True)
class RenameEnum:
    enum: EnumType
    to: str


@dataclass(frozen=True)
class AddEnumValue:
    """``ALTER TYPE ... ADD VALUE``; irreversible, as PostgreSQL cannot drop a value."""

    enum: EnumType
    value: str
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = False


@dataclass(frozen=True)
class RenameEnumValue:
    enum: EnumType
    value: str
    to: str


# --- raw SQL -------------------------------------------------------------------------

#: SQL text, or a callable run at execution time (it may use ``repo()``).
Runnable = str | Callable[[], Any]


@dataclass(frozen=True)
class Execute:
    """Raw SQL or a callable; ``down`` is None when the command is irreversible.

    ``script`` marks SQL text of several statements (a section of a ``.sql``
    migration): each dialect splits it by its database's own rules (MySQL's
    ``#`` comments and backslash escapes, SQLite's trigger bodies, PostgreSQL's
    dollar quotes), so each statement runs, and is reported, on its own.
    """

    up: Runnable
    down: Runnable | None = None
    script: bool = False


@dataclass(frozen=True)
class ExecuteFile:
    """SQL read from files at run time; paths are relative to the migration."""

    up_path: str
    down_path: str | None = None


@dataclass(frozen=True)
class Nothing:
    """Runs nothing: the rollback of a command that leaves nothing to undo.

    ``validate_constraint()`` only checks existing rows; PostgreSQL cannot
    mark a constraint ``NOT VALID`` again, and there is no need to.
    """

    undoes: object


Command = (
    CreateTable
    | AlterTable
    | DropTable
    | CreateIndex
    | DropIndex
    | CreateConstraint
    | DropConstraint
    | RenameTable
    | RenameColumn
    | RenameIndex
    | ValidateConstraint
    | CreateEnum
    | DropEnum
    | RenameEnum
    | AddEnumValue
    | RenameEnumValue
    | Execute
    | ExecuteFile
    | Nothing
)


def describe(command: object) -> str:
    """A short human name for a command, used in error messages.

    >>> describe(DropTable(Table("posts")))
    'drop(table("posts"))'
    """
    match command:
        case CreateTable(table=t, if_not_exists=ine):
            return f'{"create_if_not_exists" if ine else "create"}(table("{t.name}"))'
        case AlterTable(table=t):
            return f'alter(table("{t.name}"))'
        case DropTable(table=t, if_exists=ie):
            return f'{"drop_if_exists" if ie else "drop"}(table("{t.name}"))'
        case CreateIndex(index=i):
            return f'create(index("{i.table}", name="{i.name}"))'
        case DropIndex(index=i, if_exists=ie):
            return f'{"drop_if_exists" if ie else "drop"}(index("{i.table}", name="{i.name}"))'
        case CreateConstraint(constraint=c):
            return f'create(constraint("{c.table}", "{c.name}"))'
        case DropConstraint(constraint=c, if_exists=ie):
            verb = "drop_if_exists" if ie else "drop"
            return f'{verb}(constraint("{c.table}", "{c.name}"))'
        case ValidateConstraint(constraint=c):
            return f'validate_constraint("{c.table}", "{c.name}")'
        case CreateEnum(enum=e):
            return f'create(enum("{e.name}"))'
        case DropEnum(enum=e, if_exists=ie):
            return f'{"drop_if_exists" if ie else "drop"}(enum("{e.name}"))'
        case RenameEnum(enum=e, to=to):
            return f'rename(enum("{e.name}"), to="{to}")'
        case AddEnumValue(enum=e, value=v):
            return f'add_enum_value("{e.name}", {v!r})'
        case RenameEnumValue(enum=e, value=v, to=to):
            return f'rename_enum_value("{e.name}", {v!r}, to={to!r})'
        case Nothing(undoes=undoes):
            return f"nothing to undo for {describe(undoes)}"
        case RenameTable(table=t, to=to):
            return f'rename(table("{t.name}"), to=table("{to.name}"))'
        case RenameColumn(table=t, column=c, to=to):
            return f'rename(table("{t.name}"), "{c}", to="{to}")'
        case RenameIndex(index=i, to=to):
            return f'rename(index(name="{i.name}"), to="{to}")'
        case Execute(up=up):
            text = up if isinstance(up, str) else getattr(up, "__name__", "callable")
            return f"execute({_short(text)!r})"
        case ExecuteFile(up_path=p):
            return f"execute_file({p!r})"
        case AddColumn(name=n, if_not_exists=ine):
            return f'{"add_if_not_exists" if ine else "add"}("{n}")'
        case ModifyColumn(name=n):
            return f'modify("{n}")'
        case RemoveColumn(name=n, if_exists=ie):
            return f'{"remove_if_exists" if ie else "remove"}("{n}")'
    from whimbrel.dsl import timescale  # TimescaleDB hook; imports this module

    if isinstance(command, timescale.TIMESCALE_COMMANDS):
        return timescale.describe(command)
    return type(command).__name__


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
