"""The check of the whole plan: every refusal of every planned file, before anything runs.

``Migrator`` records and compiles each planned file before the first one runs
(``runner.record``). This module makes that check report all at once: each
file's definition error (a refused option, an irreversible ``change()``) is
collected, and so is a concurrent index build inside a transaction where the
database refuses one (PostgreSQL's ``CREATE INDEX CONCURRENTLY``), which would
otherwise fail only when its migration runs, after the earlier ones applied.
One ``MigrationDefinitionError`` (exit code 2) then lists every problem with
its file and fix.

Example::

    checked = check_plan(migrations, lambda m: record(m, "up", ...), caps, "up")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from whimbrel.dsl.commands import CreateIndex, DropIndex
from whimbrel.errors import MigrationDefinitionError

if TYPE_CHECKING:
    from whimbrel.adapters.base import Capabilities
    from whimbrel.migrator.loader import Migration
    from whimbrel.migrator.runner import Recording


def check_plan(
    migrations: Sequence[Migration],
    record: Callable[[Migration], Recording],
    capabilities: Capabilities,
    direction: str,
) -> list[tuple[Migration, Recording]]:
    """Record every migration; raise one error naming every refusal of the plan."""
    checked: list[tuple[Migration, Recording]] = []
    problems: list[MigrationDefinitionError] = []
    for m in migrations:
        try:
            recording = record(m)
        except MigrationDefinitionError as exc:
            problems.append(exc)
            continue
        checked.append((m, recording))
        problems += concurrent_in_transaction(m, recording, capabilities, direction)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        kinds = {type(p) for p in problems}
        kind = kinds.pop() if len(kinds) == 1 else MigrationDefinitionError
        raise kind(
            f"{len(problems)} problems in the planned migrations; nothing was run:\n{listed}"
        )
    return checked


def concurrent_in_transaction(
    m: Migration, recording: Recording, capabilities: Capabilities, direction: str
) -> list[MigrationDefinitionError]:
    """``concurrently=True`` in a migration that runs in a transaction, where that fails."""
    if not capabilities.concurrent_index_needs_no_transaction or not m.transactional(direction):
        return []
    return [
        MigrationDefinitionError(
            f"index {command.index.name!r} is "
            f"{'created' if isinstance(command, CreateIndex) else 'dropped'} concurrently "
            "inside the migration's transaction, which PostgreSQL refuses: set "
            "`disable_ddl_transaction = True` at the top of the migration",
            path=str(m.file.path),
        )
        for command, _ in recording.steps
        if isinstance(command, CreateIndex | DropIndex) and command.index.concurrently
    ]
