"""Reversal: how ``change()`` is undone, as in Ecto.

Each command says what undoes it (``Command.reverse()``, in
``whimbrel.dsl.commands``); ``reverse_all`` turns a recorded list into the
rollback list or raises ``IrreversibleMigrationError`` naming the first
command that cannot be undone and the fix.

Example::

    >>> from whimbrel.dsl.objects import Table
    >>> reverse(CreateTable(Table("posts")))
    DropTable(table=Table(name='posts', ...), mode='restrict', if_exists=False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from whimbrel.dsl.commands import AlterTable, ColumnChange, Command, RemoveColumn
from whimbrel.errors import IrreversibleMigrationError


def reverse(command: Command) -> Command | None:
    """The command that undoes ``command``, or None when it is irreversible."""
    return command.reverse()


def reverse_change(change: ColumnChange) -> ColumnChange | None:
    """Invert one column change inside ``alter``; None when it has no inverse."""
    return change.reverse()


def irreversible_part(command: Command) -> Command:
    """The innermost command that makes ``command`` irreversible (for messages)."""
    if isinstance(command, AlterTable) and command.table.comment is None:
        for change in command.changes:
            if change.reverse() is None:
                return change
    return command


def reverse_all(commands: Sequence[Command]) -> list[Command]:
    """The rollback of a recorded ``change()``: each command inverted, in reverse order."""
    undone: list[Command] = []
    for command in reversed(commands):
        inverse = command.reverse()
        if inverse is None:
            part = irreversible_part(command)
            hint, reason = part.reversal_hint(), part.irreversible_reason()
            fix = f"{hint}, or " if hint else ""
            why = f": {reason}" if reason else ""
            raise IrreversibleMigrationError(
                f"cannot reverse migration command {part.describe()}{why}: {fix}"
                "define up() and down() instead of change()"
            )
        undone.append(inverse)
    return undone


def forward_change(commands: Sequence[Command]) -> list[Command]:
    """``change()`` going up: mark each reversible ``remove(col, type)`` as ``restorable``.

    Its rollback re-adds only the column, so when it runs the dialect checks
    that ``DROP COLUMN`` takes no index or constraint along (``ColumnDrop``).

    >>> from whimbrel.dsl.objects import Table
    >>> [c] = forward_change([AlterTable(Table("t"), (RemoveColumn("k", "integer"),))])
    >>> c.changes[0].restorable
    True
    """
    marked: list[Command] = []
    for command in commands:
        if isinstance(command, AlterTable):
            changes = tuple(
                replace(ch, restorable=True)
                if isinstance(ch, RemoveColumn) and ch.reverse() is not None
                else ch
                for ch in command.changes
            )
            command = replace(command, changes=changes)
        marked.append(command)
    return marked
