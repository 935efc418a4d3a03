"""The recorder: where DSL calls land while a migration function runs.

The migrator opens a recorder around ``change()``/``up()``/``down()``; the DSL
functions find it through a context variable (as Ecto's runner lives in the
migration process), append commands, and the migrator compiles and runs what
was recorded when the function returns or calls ``flush()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    ColumnChange,
    Command,
    CreateTable,
    describe,
)
from whimbrel.dsl.objects import ColumnOpts, ColumnType, PrimaryKey
from whimbrel.errors import MigrationDefinitionError, MigrationFileError

if TYPE_CHECKING:
    from whimbrel.config import Config


@dataclass(frozen=True)
class DslDefaults:
    """Project-wide DSL defaults (``migration_primary_key`` & co. in the config)."""

    primary_key: PrimaryKey = PrimaryKey()
    #: Type of ``references()`` columns; None follows the primary key's type.
    foreign_key_type: ColumnType | None = None
    foreign_key_column: str = "id"
    timestamps: dict[str, Any] = field(default_factory=dict)

    @property
    def reference_type(self) -> ColumnType:
        return self.foreign_key_type or self.primary_key.type


def dsl_defaults(config: Config) -> DslDefaults:
    """The DSL defaults a project's configuration sets (key type, foreign keys, timestamps).

    The one place they are read: the migrator records with them and lint
    records the same commands.

    Example::

        dsl_defaults(load_config()).primary_key.name   # "id" unless configured
    """
    key = dict(config.migration_primary_key)
    pk = PrimaryKey(
        key.pop("name", "id"),
        key.pop("type", "bigserial"),
        ColumnOpts(**{**key, "primary_key": True}),
    )
    fk = config.migration_foreign_key
    return DslDefaults(
        pk, fk.get("type"), fk.get("column", "id"), dict(config.migration_timestamps)
    )


class Block:
    """The ``with create(table(...)):`` / ``with alter(table(...)):`` block.

    The command is recorded when ``create``/``alter`` is called, so that
    ``create(table("t"))`` without ``with`` makes a table with only its key;
    leaving the block replaces it with the version holding the block's changes.
    """

    def __init__(self, recorder: Recorder, position: int, command: CreateTable | AlterTable):
        self._recorder = recorder
        self._position = position
        self.command = command
        self.changes: list[ColumnChange] = []
        self.entered = False

    @property
    def kind(self) -> str:
        return "create" if isinstance(self.command, CreateTable) else "alter"

    def __enter__(self) -> None:
        if self._recorder.block is not None:
            raise MigrationDefinitionError(
                f"cannot nest {describe(self.command)} inside another block: "
                "close the first block before opening the next"
            )
        self.entered = True
        self._recorder.block = self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._recorder.block = None
        if exc_type is not None:
            return
        if isinstance(self.command, CreateTable):
            # Recorder.change() lets only add() into a create block.
            added = tuple(ch for ch in self.changes if isinstance(ch, AddColumn))
            columns = self.command.columns + added
            final: CreateTable | AlterTable = CreateTable(
                self.command.table, columns, self.command.if_not_exists
            )
        else:
            final = AlterTable(self.command.table, tuple(self.changes))
        self._recorder.commands[self._position] = final


class Recorder:
    """Collects the commands of one migration run.

    ``backward`` is true while ``change()`` is recorded for a rollback: the
    commands are then reversed as a whole, so ``flush()`` is refused.
    """

    def __init__(
        self,
        *,
        direction: str = "up",
        backward: bool = False,
        prefix: str | None = None,
        defaults: DslDefaults | None = None,
        on_flush: Callable[[list[Command]], None] | None = None,
        repo: Any = None,
        source: Path | None = None,
    ):
        self.direction = direction
        self.backward = backward
        self.prefix = prefix
        self.defaults = defaults or DslDefaults()
        self.commands: list[Command] = []
        self.block: Block | None = None
        self._blocks: list[Block] = []
        self._on_flush = on_flush
        self.repo = repo
        #: The migration file; ``execute_file()`` paths are relative to its folder.
        self.source = source

    def read_relative(self, relative: str) -> str:
        """The text of a file beside the migration (``execute_file``), read now.

        Reading while recording lets the check of the whole plan find a missing
        file before the first migration runs.
        """
        folder = self.source.parent if self.source is not None else Path.cwd()
        path = folder / relative
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise MigrationFileError(
                f"execute_file({relative!r}): cannot read {path}: {reason}; paths are "
                "relative to the migration file",
                path=str(self.source) if self.source is not None else None,
            ) from None

    def record(self, command: Command) -> None:
        """Queue a command; refused inside a block."""
        self._outside_block(describe(command))
        self.commands.append(command)

    def open_block(self, command: CreateTable | AlterTable) -> Block:
        """Queue a create/alter command and return its (optional) block."""
        self._outside_block(describe(command))
        block = Block(self, len(self.commands), command)
        self.commands.append(command)
        self._blocks.append(block)
        return block

    def change(self, change: ColumnChange, *, allowed_in: tuple[str, ...]) -> None:
        """Queue a column change into the open block."""
        name = describe(change).split("(")[0]
        if self.block is None:
            raise MigrationDefinitionError(
                f"{name}() can only be used inside a block: "
                f'write it under `with alter(table("...")):` or `with create(table("...")):`'
            )
        if self.block.kind not in allowed_in:
            raise MigrationDefinitionError(
                f"{name}() cannot be used inside {describe(self.block.command)}: "
                f"use it inside `with {allowed_in[0]}(table(...)):`"
            )
        self.block.changes.append(change)

    def take(self) -> list[Command]:
        """Hand over everything queued so far and start a new queue."""
        for block in self._blocks:
            if block.kind == "alter" and not block.entered:
                raise MigrationDefinitionError(
                    f"{describe(block.command)} needs a block: "
                    f'write `with alter(table("{block.command.table.name}")):` '
                    "and put add()/modify()/remove() under it"
                )
        commands, self.commands, self._blocks = self.commands, [], []
        return commands

    def flush(self) -> None:
        """Run what was queued so far (``flush()`` in a migration)."""
        if self.backward:
            raise MigrationDefinitionError(
                "flush() and repo() inside change() cannot be rolled back automatically: "
                "define up() and down() instead of change()"
            )
        # Inside a block the table is half-built (and its slot would be handed over).
        self._outside_block("flush()")
        commands = self.take()
        if commands and self._on_flush is not None:
            self._on_flush(commands)

    def _outside_block(self, what: str) -> None:
        if self.block is not None:
            raise MigrationDefinitionError(
                f"cannot run {what} inside {describe(self.block.command)}: "
                "only add(), modify(), remove() and timestamps() go inside a block; "
                "move the command after the block"
            )


_current: ContextVar[Recorder | None] = ContextVar("whimbrel_recorder", default=None)


def current() -> Recorder:
    """The recorder of the migration being run; an error outside a migration."""
    recorder = _current.get()
    if recorder is None:
        raise MigrationDefinitionError(
            "migration commands can only be called while whimbrel runs a migration: "
            "call them from change(), up() or down(), not at import time"
        )
    return recorder


def current_or_none() -> Recorder | None:
    return _current.get()


def current_defaults() -> DslDefaults:
    """The running migration's project defaults; the built-in ones outside a migration."""
    recorder = _current.get()
    return recorder.defaults if recorder is not None else DslDefaults()


@contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    """Make ``recorder`` the target of DSL calls for the duration of the block."""
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)
