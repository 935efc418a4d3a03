"""Commands: what a migration records, as immutable data.

Every command is a frozen dataclass deriving from ``Command``. What a command
knows about itself is a method of its class: ``describe()`` (its name in
messages), ``reverse()`` (the command that undoes it in a ``change()``
rollback, or None), ``reversal_hint()`` and ``irreversible_reason()`` (for
the message when it has no inverse). How a database runs it is not: each
dialect registers one compiler per command type with ``@compiles``
(``whimbrel.dialects.base``), so a new command family (TimescaleDB
hypertables, ArangoDB collections) is a module of new ``Command``
subclasses plus the compilers of the dialects that support them.

Example::

    >>> DropTable(Table("posts")).describe()
    'drop(table("posts"))'
    >>> CreateTable(Table("posts")).reverse()
    DropTable(table=Table(name='posts', ...), mode='restrict', if_exists=False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from whimbrel.dsl.objects import ColumnOpts, ColumnType, Constraint, EnumType, Index, Table


@dataclass(frozen=True)
class Command:
    """Base of every recorded command; subclasses are frozen dataclasses."""

    def describe(self) -> str:
        """A short human name for the command, used in error messages."""
        return type(self).__name__

    def reverse(self) -> Command | None:
        """The command that undoes this one, or None when it is irreversible."""
        return None

    def reversal_hint(self) -> str:
        """What to change so that the command can be reversed ("" when nothing helps)."""
        return ""

    def irreversible_reason(self) -> str:
        """Why the command has no inverse, when that is not obvious."""
        return ""


# --- column changes (only inside create/alter blocks) -------------------------


@dataclass(frozen=True)
class AddColumn(Command):
    name: str
    type: ColumnType
    opts: ColumnOpts = ColumnOpts()
    if_not_exists: bool = False

    def describe(self) -> str:
        return f'{"add_if_not_exists" if self.if_not_exists else "add"}("{self.name}")'

    def reverse(self) -> RemoveColumn | None:
        return None if self.if_not_exists else RemoveColumn(self.name, self.type, self.opts)


@dataclass(frozen=True)
class ModifyColumn(Command):
    name: str
    type: ColumnType
    opts: ColumnOpts = ColumnOpts()
    #: ``(type, opts)`` the column had before; makes the change reversible.
    from_: tuple[ColumnType, ColumnOpts] | None = None

    def describe(self) -> str:
        return f'modify("{self.name}")'

    def reverse(self) -> ModifyColumn | None:
        if self.from_ is None:
            return None
        from_type, from_opts = self.from_
        if self.opts.comment is not None and from_opts.comment is None:
            return None  # the old comment is unknown, so it cannot be put back
        return ModifyColumn(self.name, from_type, from_opts, (self.type, self.opts))

    def reversal_hint(self) -> str:
        if self.from_ is not None and self.from_[1].comment is None:
            return (
                'give from_ the old comment ("" for none), e.g. '
                'modify("col", "text", comment="new", from_=("string", {"comment": ""}))'
            )
        return 'give modify() the old type, e.g. modify("col", "text", from_="string")'


@dataclass(frozen=True)
class RemoveColumn(Command):
    name: str
    #: Known type and options make the removal reversible.
    type: ColumnType | None = None
    opts: ColumnOpts = ColumnOpts()
    if_exists: bool = False
    #: Recorded by ``change()`` going up: its rollback re-adds the bare column, so the
    #: removal is refused when the column carries indexes or constraints (``ColumnDrop``).
    restorable: bool = False

    def describe(self) -> str:
        return f'{"remove_if_exists" if self.if_exists else "remove"}("{self.name}")'

    def reverse(self) -> AddColumn | None:
        if self.if_exists or self.type is None:
            return None
        return AddColumn(self.name, self.type, self.opts)

    def reversal_hint(self) -> str:
        return (
            "" if self.if_exists else 'give remove() the column type, e.g. remove("col", "string")'
        )


ColumnChange = AddColumn | ModifyColumn | RemoveColumn

# --- tables, indexes, constraints ----------------------------------------------


@dataclass(frozen=True)
class CreateTable(Command):
    table: Table
    columns: tuple[AddColumn, ...] = ()
    if_not_exists: bool = False

    def describe(self) -> str:
        verb = "create_if_not_exists" if self.if_not_exists else "create"
        return f'{verb}(table("{self.table.name}"))'

    def reverse(self) -> DropTable:
        return DropTable(self.table, if_exists=self.if_not_exists)


@dataclass(frozen=True)
class AlterTable(Command):
    table: Table
    changes: tuple[ColumnChange, ...] = ()

    def describe(self) -> str:
        return f'alter(table("{self.table.name}"))'

    def reverse(self) -> AlterTable | None:
        # PostgreSQL keeps no earlier comment to go back to (Ecto sets it again on rollback).
        if self.table.comment is not None:
            return None
        changes = [ch.reverse() for ch in reversed(self.changes)]
        if any(ch is None for ch in changes):
            return None
        return AlterTable(self.table, tuple(ch for ch in changes if ch is not None))

    def reversal_hint(self) -> str:
        if self.table.comment is None:
            return ""
        t = self.table.name
        return (
            f"set the comment with execute(\"COMMENT ON TABLE {t} IS '...'\", "
            f'"COMMENT ON TABLE {t} IS NULL")'
        )

    def irreversible_reason(self) -> str:
        if self.table.comment is None:
            return ""
        return "the table comment it sets cannot be restored, as the old one is not known"


@dataclass(frozen=True)
class DropTable(Command):
    table: Table
    mode: str = "restrict"
    if_exists: bool = False

    def describe(self) -> str:
        return f'{"drop_if_exists" if self.if_exists else "drop"}(table("{self.table.name}"))'


@dataclass(frozen=True)
class CreateIndex(Command):
    index: Index
    if_not_exists: bool = False

    def describe(self) -> str:
        return f'create(index("{self.index.table}", name="{self.index.name}"))'

    def reverse(self) -> DropIndex:
        return DropIndex(self.index, if_exists=self.if_not_exists)


@dataclass(frozen=True)
class DropIndex(Command):
    index: Index
    mode: str = "restrict"
    if_exists: bool = False

    def describe(self) -> str:
        verb = "drop_if_exists" if self.if_exists else "drop"
        return f'{verb}(index("{self.index.table}", name="{self.index.name}"))'

    def reverse(self) -> CreateIndex:
        return CreateIndex(self.index, if_not_exists=self.if_exists)


@dataclass(frozen=True)
class CreateConstraint(Command):
    constraint: Constraint

    def describe(self) -> str:
        return f'create(constraint("{self.constraint.table}", "{self.constraint.name}"))'

    def reverse(self) -> DropConstraint:
        return DropConstraint(self.constraint)


@dataclass(frozen=True)
class DropConstraint(Command):
    constraint: Constraint
    mode: str = "restrict"
    if_exists: bool = False

    def describe(self) -> str:
        verb = "drop_if_exists" if self.if_exists else "drop"
        return f'{verb}(constraint("{self.constraint.table}", "{self.constraint.name}"))'


@dataclass(frozen=True)
class ValidateConstraint(Command):
    """``ALTER TABLE ... VALIDATE CONSTRAINT``: check the rows of a ``NOT VALID`` constraint."""

    constraint: Constraint

    def describe(self) -> str:
        return f'validate_constraint("{self.constraint.table}", "{self.constraint.name}")'

    def reverse(self) -> Nothing:
        # Validating checks rows and changes nothing a rollback could restore.
        return Nothing(self)


@dataclass(frozen=True)
class RenameTable(Command):
    table: Table
    to: Table

    def describe(self) -> str:
        return f'rename(table("{self.table.name}"), to=table("{self.to.name}"))'

    def reverse(self) -> RenameTable:
        return RenameTable(self.to, self.table)


@dataclass(frozen=True)
class RenameColumn(Command):
    table: Table
    column: str
    to: str

    def describe(self) -> str:
        return f'rename(table("{self.table.name}"), "{self.column}", to="{self.to}")'

    def reverse(self) -> RenameColumn:
        return RenameColumn(self.table, self.to, self.column)


@dataclass(frozen=True)
class RenameIndex(Command):
    index: Index
    to: str

    def describe(self) -> str:
        return f'rename(index(name="{self.index.name}"), to="{self.to}")'

    def reverse(self) -> RenameIndex:
        return RenameIndex(replace(self.index, name=self.to), self.index.name)


# --- PostgreSQL enum types ---------------------------------------------------------


@dataclass(frozen=True)
class CreateEnum(Command):
    enum: EnumType

    def describe(self) -> str:
        return f'create(enum("{self.enum.name}"))'

    def reverse(self) -> DropEnum:
        return DropEnum(self.enum)


@dataclass(frozen=True)
class DropEnum(Command):
    enum: EnumType
    mode: str = "restrict"
    if_exists: bool = False

    def describe(self) -> str:
        return f'{"drop_if_exists" if self.if_exists else "drop"}(enum("{self.enum.name}"))'

    def reverse(self) -> CreateEnum | None:
        # Only a plain drop of an enum whose values are known can be recreated as it was:
        # CASCADE also dropped the columns using it, IF EXISTS may have dropped nothing.
        if self.mode != "restrict" or self.if_exists or not self.enum.values:
            return None
        return CreateEnum(self.enum)

    def reversal_hint(self) -> str:
        if self.mode != "restrict" or self.if_exists:
            return ""
        return 'give drop() the values, e.g. drop(enum("mood", ["happy", "sad"]))'


@dataclass(frozen=True)
class RenameEnum(Command):
    enum: EnumType
    to: str

    def describe(self) -> str:
        return f'rename(enum("{self.enum.name}"), to="{self.to}")'

    def reverse(self) -> RenameEnum:
        return RenameEnum(replace(self.enum, name=self.to), self.enum.name)


@dataclass(frozen=True)
class AddEnumValue(Command):
    """``ALTER TYPE ... ADD VALUE``; irreversible, as PostgreSQL cannot drop a value."""

    enum: EnumType
    value: str
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = False

    def describe(self) -> str:
        return f'add_enum_value("{self.enum.name}", {self.value!r})'

    def irreversible_reason(self) -> str:
        return (
            "PostgreSQL cannot remove a value from an enum type, so a down() has to "
            "recreate the type without it"
        )


@dataclass(frozen=True)
class RenameEnumValue(Command):
    enum: EnumType
    value: str
    to: str

    def describe(self) -> str:
        return f'rename_enum_value("{self.enum.name}", {self.value!r}, to={self.to!r})'

    def reverse(self) -> RenameEnumValue:
        return RenameEnumValue(self.enum, self.to, self.value)


# --- raw SQL and code: execute() in its kinds -------------------------------------------

#: SQL text, or a callable run at execution time (it may use ``repo()``).
Runnable = str | Callable[[], Any]


def execute_command(up: Runnable, down: Runnable | None = None) -> Execute | ExecuteCallable:
    """The ``execute()`` kind for ``up``: SQL text or a Python callable.

    >>> execute_command("SELECT 1")
    Execute(up='SELECT 1', down=None)
    """
    return Execute(up, down) if isinstance(up, str) else ExecuteCallable(up, down)


@dataclass(frozen=True)
class Execute(Command):
    """One SQL statement, sent as written; ``down`` is None when it is irreversible.

    SQLite and MySQL cannot send several statements in one call, so their
    dialects split the text as they split an ``ExecuteScript``.
    """

    up: str
    down: Runnable | None = None

    def describe(self) -> str:
        return f"execute({_short(self.up)!r})"

    def reverse(self) -> Command | None:
        return None if self.down is None else execute_command(self.down, self.up)

    def reversal_hint(self) -> str:
        return "give execute() a down side too: execute(up_sql, down_sql)"


@dataclass(frozen=True)
class ExecuteScript(Command):
    """SQL text of several statements (a section of a ``.sql`` migration).

    Each dialect splits it by its database's own rules (MySQL's ``#``
    comments and backslash escapes, SQLite's trigger bodies, PostgreSQL's
    dollar quotes), so each statement runs, and is reported, on its own.
    """

    up: str
    down: str | None = None

    def describe(self) -> str:
        return f"execute({_short(self.up)!r})"

    def reverse(self) -> ExecuteScript | None:
        return None if self.down is None else ExecuteScript(self.down, self.up)


@dataclass(frozen=True)
class ExecuteCallable(Command):
    """A Python function run when the migration runs (not compiled); it may use ``repo()``."""

    up: Callable[[], Any]
    down: Runnable | None = None

    def describe(self) -> str:
        return f"execute({getattr(self.up, '__name__', 'callable')!r})"

    def reverse(self) -> Command | None:
        return None if self.down is None else execute_command(self.down, self.up)

    def reversal_hint(self) -> str:
        return "give execute() a down side too: execute(up_sql, down_sql)"


@dataclass(frozen=True)
class ExecuteFile(Command):
    """SQL read from files when the migration is recorded; paths are relative to the migration.

    Reading at recording time means the check of the whole plan, before the
    first migration runs, already finds a missing file. The text is sent as
    one ``Execute`` statement.
    """

    up_path: str
    down_path: str | None = None
    up_sql: str = ""
    down_sql: str | None = None

    def describe(self) -> str:
        return f"execute_file({self.up_path!r})"

    def reverse(self) -> ExecuteFile | None:
        if self.down_path is None or self.down_sql is None:
            return None
        return ExecuteFile(self.down_path, self.up_path, self.down_sql, self.up_sql)

    def reversal_hint(self) -> str:
        return "give execute_file() a down file too: execute_file(up_path, down_path)"


@dataclass(frozen=True)
class RepoExecute(Command):
    """``repo().execute(sql, params)``: a data change, run in order with the DDL.

    Recorded (rather than run on the spot) so that the check of the whole plan
    and the run share one recording; never part of a ``change()`` rollback.
    """

    sql: str
    params: Any = None

    def describe(self) -> str:
        return f"repo().execute({_short(self.sql)!r})"


@dataclass(frozen=True)
class Nothing(Command):
    """Runs nothing: the rollback of a command that leaves nothing to undo.

    ``validate_constraint()`` only checks existing rows; PostgreSQL cannot
    mark a constraint ``NOT VALID`` again, and there is no need to.
    """

    undoes: Command

    def describe(self) -> str:
        return f"nothing to undo for {self.undoes.describe()}"

    def reverse(self) -> Command:
        return self.undoes


def describe(command: Command) -> str:
    """A short human name for a command, used in error messages.

    >>> describe(DropTable(Table("posts")))
    'drop(table("posts"))'
    """
    return command.describe()


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
