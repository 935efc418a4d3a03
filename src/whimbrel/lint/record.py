"""Recording a migration for lint: its commands for ``up``, each with its line in the file.

Lint records a migration the way the migrator does (``Migration.record``), but
with a recorder that also notes, for every DSL call, the line of the
migration file that made it: the first frame of the call stack in that file.
``repo().execute(sql)`` is recorded as a data change instead of being run,
and ``repo().query()`` ends the recording there, as in the migrator's
precheck, since what follows may depend on rows lint cannot read.

Example::

    recorded = record_up(load(file), defaults)
    recorded.steps[0].line   # 5: the line of `create(index(...))`
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from whimbrel.dsl.commands import AlterTable, ColumnChange, Command, CreateTable
from whimbrel.dsl.recorder import Block, DslDefaults, Recorder
from whimbrel.errors import MigrationDefinitionError, MigrationFileError
from whimbrel.migrator.loader import Migration


@dataclass(frozen=True)
class RepoSQL:
    """``repo().execute(sql)`` inside a migration: a data change, in order with the DDL."""

    sql: str


@dataclass(frozen=True)
class Step:
    """One recorded command (or ``RepoSQL``), the line that recorded it, and for a
    ``create``/``alter`` block the line of each ``add``/``modify``/``remove`` in it."""

    command: object
    line: int | None
    change_lines: tuple[int | None, ...] = ()


@dataclass
class Recorded:
    """What lint knows of one migration: its steps for ``up`` and its flags."""

    migration: Migration
    steps: list[Step] = field(default_factory=list)
    #: Stopped at ``repo().query()``: the rest of ``up`` depends on the database.
    partial: bool = False


class _Stop(Exception):
    """``repo().query()`` was reached while recording for lint."""


class _LintRepo:
    """``repo()`` while linting: statements are recorded, never run."""

    def __init__(self, recorder: SiteRecorder):
        self._recorder = recorder

    def execute(self, sql: str, params: Any = None) -> None:
        self._recorder.flush()
        self._recorder.add_step(RepoSQL(sql) if isinstance(sql, str) else None)

    def query(self, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        self._recorder.flush()
        raise _Stop

    def __getattr__(self, name: str) -> Any:
        # The driver's own handle (ArangoDB's python-arango database) reads and writes
        # as it likes: lint stops there, as at a query.
        if name.startswith("_"):
            raise AttributeError(name)
        self._recorder.flush()
        raise _Stop


class SiteRecorder(Recorder):
    """A ``Recorder`` that notes the line of the migration file behind each command."""

    def __init__(self, path: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.path = path
        self.steps: list[Step] = []
        self._lines: list[int | None] = []  # parallel to self.commands
        self._positions: dict[int, int] = {}  # id(block) -> its slot in self.commands
        self._change_lines: dict[int, list[int | None]] = {}  # slot -> lines of its changes
        self.repo = _LintRepo(self)

    def caller_line(self) -> int | None:
        """The line of the innermost frame in the migration file (the DSL call)."""
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                return frame.f_lineno
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def record(self, command: Command) -> None:
        super().record(command)
        self._lines.append(self.caller_line())

    def open_block(self, command: CreateTable | AlterTable) -> Block:
        slot = len(self.commands)
        block = super().open_block(command)
        self._lines.append(self.caller_line())
        self._positions[id(block)] = slot
        return block

    def change(self, change: ColumnChange, *, allowed_in: tuple[str, ...]) -> None:
        block = self.block
        super().change(change, allowed_in=allowed_in)
        slot = self._positions.get(id(block), -1)
        self._change_lines.setdefault(slot, []).append(self.caller_line())

    def take(self) -> list[Command]:
        lines, changes = self._lines, self._change_lines
        commands = super().take()
        self._lines, self._positions, self._change_lines = [], {}, {}
        for slot, (command, line) in enumerate(zip(commands, lines, strict=True)):
            self.steps.append(Step(command, line, tuple(changes.get(slot, ()))))
        return commands

    def add_step(self, command: object | None) -> None:
        if command is not None:
            self.steps.append(Step(command, self.caller_line()))


def record_up(migration: Migration, defaults: DslDefaults | None = None) -> Recorded:
    """Record ``up`` (or ``change()``) of a loaded migration, with lines, running nothing."""
    path = str(migration.file.path)
    # flush() hands commands on after take() has kept them as steps; nothing runs.
    recorder = SiteRecorder(
        path,
        direction="up",
        defaults=defaults,
        on_flush=lambda _: None,
        source=migration.file.path,
    )
    result = Recorded(migration)
    try:
        migration.record("up", recorder)
    except _Stop:
        result.partial = True
    except MigrationDefinitionError:
        raise
    except Exception as exc:
        line = _line_in(exc, path)
        raise MigrationFileError(
            f"recording up for lint raised {type(exc).__name__}: {exc}", path=path, line=line
        ) from exc
    result.steps = recorder.steps
    return result


def _line_in(exc: BaseException, path: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
