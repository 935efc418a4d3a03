"""The reversal table: how ``change()`` is undone, as in Ecto.

``reverse(command)`` returns the inverse command, or ``None`` when there is
none; ``reverse_all`` turns a recorded list into the rollback list or raises
``IrreversibleMigrationError`` naming the first command that cannot be undone.

Example::

    >>> from whimbrel.dsl.objects import Table
    >>> reverse(CreateTable(Table("posts")))
    DropTable(table=Table(name='posts', ...), mode='restrict', if_exists=False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import singledispatch

from whimbrel.dsl.commands import (
    AddColumn,
    AddEnumValue,
    AlterTable,
    ColumnChange,
    CreateConstraint,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropTable,
    Execute,
    ExecuteFile,
    ModifyColumn,
    Nothing,
    RemoveColumn,
    RenameColumn,
    RenameEnum,
    RenameEnumValue,
    RenameIndex,
    RenameTable,
    ValidateConstraint,
    describe,
)
from whimbrel.errors import IrreversibleMigrationError


@singledispatch
def reverse(command: object) -> object | None:
    """The command that undoes ``command``, or None when it is irreversible."""
    return None


@reverse.register
def _(c: CreateTable) -> object:
    return DropTable(c.table, if_exists=c.if_not_exists)


@reverse.register
def _(c: CreateIndex) -> object:
    return DropIndex(c.index, if_exists=c.if_not_exists)


@reverse.register
def _(c: DropIndex) -> object:
    return CreateIndex(c.index, if_not_exists=c.if_exists)


@reverse.register
def _(c: CreateConstraint) -> object:
    return DropConstraint(c.constraint)


@reverse.register
def _(c: RenameTable) -> object:
    return RenameTable(c.to, c.table)


@reverse.register
def _(c: RenameColumn) -> object:
    return RenameColumn(c.table, c.to, c.column)


@reverse.register
def _(c: RenameIndex) -> object:
    return RenameIndex(replace(c.index, name=c.to), c.index.name)


@reverse.register
def _(c: ValidateConstraint) -> object:
    # Validating checks rows and changes nothing a rollback could restore.
    return Nothing(c)


@reverse.register
def _(c: Nothing) -> object:
    return c.undoes


@reverse.register
def _(c: CreateEnum) -> object:
    return DropEnum(c.enum)


@reverse.register
def _(c: DropEnum) -> object | None:
    # Only a plain drop of an enum whose values are known can be recreated as it was:
    # CASCADE also dropped the columns using it, IF EXISTS may have dropped nothing.
    if c.mode != "restrict" or c.if_exists or not c.enum.values:
        return None
    return CreateEnum(c.enum)


@reverse.register
def _(c: RenameEnum) -> object:
    return RenameEnum(replace(c.enum, name=c.to), c.enum.name)


@reverse.register
def _(c: RenameEnumValue) -> object:
    return RenameEnumValue(c.enum, c.to, c.value)


@reverse.register
def _(c: Execute) -> object | None:
    return None if c.down is None else Execute(c.down, c.up, c.script)


@reverse.register
def _(c: ExecuteFile) -> object | None:
    return None if c.down_path is None else ExecuteFile(c.down_path, c.up_path)


@reverse.register
def _(c: AlterTable) -> object | None:
    # PostgreSQL keeps no earlier comment to go back to (Ecto sets it again on rollback).
    if c.table.comment is not None:
        return None
    changes = [reverse_change(ch) for ch in reversed(c.changes)]
    if any(ch is None for ch in changes):
        return None
    return AlterTable(c.table, tuple(ch for ch in changes if ch is not None))


def reverse_change(change: ColumnChange) -> ColumnChange | None:
    """Invert one column change inside ``alter``; None when it has no inverse."""
    match change:
        case AddColumn(if_not_exists=False):
            return RemoveColumn(change.name, change.type, change.opts)
        case RemoveColumn(type=t, if_exists=False) if t is not None:
            return AddColumn(change.name, t, change.opts)
        case ModifyColumn(from_=(from_type, from_opts)):
            if change.opts.comment is not None and from_opts.comment is None:
                return None  # the old comment is unknown, so it cannot be put back
            return ModifyColumn(change.name, from_type, from_opts, (change.type, change.opts))
    return None


def irreversible_part(command: object) -> object:
    """The innermost command that makes ``command`` irreversible (for messages)."""
    if isinstance(command, AlterTable) and command.table.comment is None:
        for change in command.changes:
            if reverse_change(change) is None:
                return change
    return command


def _hint(part: object) -> str:
    """What to change so that ``part`` can be reversed, when there is such a change."""
    match part:
        case AlterTable(table=t) if t.comment is not None:
            return (
                f"set the comment with execute(\"COMMENT ON TABLE {t.name} IS '...'\", "
                f'"COMMENT ON TABLE {t.name} IS NULL")'
            )
        case ModifyColumn(from_=(_, from_opts)) if from_opts.comment is None:
            return (
                'give from_ the old comment ("" for none), e.g. '
                'modify("col", "text", comment="new", from_=("string", {"comment": ""}))'
            )
        case ModifyColumn():
            return 'give modify() the old type, e.g. modify("col", "text", from_="string")'
        case RemoveColumn(if_exists=False):
            return 'give remove() the column type, e.g. remove("col", "string")'
        case Execute():
            return "give execute() a down side too: execute(up_sql, down_sql)"
        case ExecuteFile():
            return "give execute_file() a down file too: execute_file(up_path, down_path)"
        case DropEnum(mode="restrict", if_exists=False):
            return 'give drop() the values, e.g. drop(enum("mood", ["happy", "sad"]))'
    from whimbrel.dsl.timescale import irreversible_hint  # TimescaleDB hook

    return irreversible_hint(part)


def _reason(part: object) -> str:
    """Why ``part`` has no inverse, when that is not obvious."""
    if isinstance(part, AlterTable) and part.table.comment is not None:
        return "the table comment it sets cannot be restored, as the old one is not known"
    if isinstance(part, AddEnumValue):
        return (
            "PostgreSQL cannot remove a value from an enum type, so a down() has to "
            "recreate the type without it"
        )
    return ""


def reverse_all(commands: Sequence[object]) -> list[object]:
    """The rollback of a recorded ``change()``: each command inverted, in reverse order."""
    undone: list[object] = []
    for command in reversed(commands):
        inverse = reverse(command)
        if inverse is None:
            part = irreversible_part(command)
            hint, reason = _hint(part), _reason(part)
            fix = f"{hint}, or " if hint else ""
            why = f": {reason}" if reason else ""
            raise IrreversibleMigrationError(
                f"cannot reverse migration command {describe(part)}{why}: {fix}"
                "define up() and down() instead of change()"
            )
        undone.append(inverse)
    return undone
