"""Planning: which pending (up) or applied (down) migrations a run takes, in order.

Pure functions over the files, so the migrator's planning is testable without
a database.

Example::

    >>> parse_strategy("down", False, None, None, None)
    ('step', 1)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from whimbrel.errors import MigrationFileError, OutOfOrderError, TargetNotFoundError, UsageError
from whimbrel.migrator.files import MigrationFile

log = logging.getLogger("whimbrel")


def parse_strategy(
    direction: str, all_: bool, step: int | None, to: int | None, to_exclusive: int | None
) -> tuple[str, int | None]:
    """The one strategy given, as ``(kind, value)``; none means all (up) or one step (down)."""
    if direction not in ("up", "down"):
        raise UsageError(f"direction must be 'up' or 'down', got {direction!r}")
    given = [
        (k, v)
        for k, v in (
            ("all", all_ or None),
            ("step", step),
            ("to", to),
            ("to_exclusive", to_exclusive),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise UsageError(
            f"give one strategy, not {' and '.join(k for k, _ in given)}: "
            "all, step, to or to_exclusive"
        )
    if not given:
        return ("all", None) if direction == "up" else ("step", 1)
    kind, value = given[0]
    if kind == "all":
        return ("all", None)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < (1 if kind == "step" else 0)
    ):
        raise UsageError(f"{kind} must be a positive whole number, got {value!r}")
    return kind, value


def select(
    direction: str, kind: str, value: int | None, candidates: list[MigrationFile]
) -> list[MigrationFile]:
    """The candidates a strategy picks; ``candidates`` are in the order they would run."""
    if kind == "all":
        return candidates
    if kind == "step":
        return candidates[: value or 0]
    assert value is not None
    if direction == "up":
        return [
            f for f in candidates if (f.version <= value if kind == "to" else f.version < value)
        ]
    return [f for f in candidates if (f.version >= value if kind == "to" else f.version > value)]


def plan(
    direction: str,
    strategy: tuple[str, int | None],
    files: list[MigrationFile],
    applied: list[int],
    *,
    require_target: bool = True,
    strict_order: bool = False,
    folder: Path | None = None,
    versions_table: str = "schema_migrations",
    prefix: str | None = None,
    replaced: Mapping[int, int] | None = None,
) -> list[MigrationFile]:
    """The files a run takes, in the order they run.

    ``require_target`` refuses a ``to``/``to_exclusive`` that names no file
    and no applied version. Pending files older than the newest applied
    version are refused with ``strict_order``, and applied with a warning
    otherwise. A rollback whose range holds an applied version without a file
    is refused (``MigrationFileError``), naming it: passing over it would undo
    older migrations beneath its changes.

    >>> plan("down", ("step", 1), [], [])
    []
    """
    kind, value = strategy
    done = set(applied)
    if kind in ("to", "to_exclusive") and require_target:
        if value not in {f.version for f in files} | done:
            raise TargetNotFoundError(
                f"--{kind.replace('_', '-')} {value} matches no migration: run "
                "`whimbrel status` to list the versions"
            )
    if direction == "up":
        candidates = [f for f in files if f.version not in done]
        check_order(candidates, applied, strict_order, prefix)
        return select(direction, kind, value, candidates)
    replaced = replaced or {}
    if kind in ("to", "to_exclusive") and value is not None and value in replaced:
        raise TargetNotFoundError(
            f"--{kind.replace('_', '-')} {value}: version {value} was squashed into "
            f"{replaced[value]} and cannot be rolled back alone; roll back to {replaced[value]} "
            "(its down section undoes every migration it replaced)"
        )
    done -= replaced.keys()  # undone by their baseline's down section
    by_version = {f.version: f for f in files}
    gone = {v: MigrationFile(v, "", Path()) for v in done if v not in by_version}
    newest_first = [by_version.get(v) or gone[v] for v in sorted(done, reverse=True)]
    chosen = select(direction, kind, value, newest_first)
    missing = [f.version for f in chosen if f.version in gone]
    if missing:
        raise _missing_files(missing, folder, versions_table)
    return chosen


def _missing_files(missing: list[int], folder: Path | None, table: str) -> MigrationFileError:
    """The refusal of a rollback over applied versions whose files are gone."""
    listed = ", ".join(map(str, missing))
    where = f" from {folder}" if folder is not None else ""
    what = f"version {listed} is applied but its file is missing"
    if len(missing) > 1:
        what = f"versions {listed} are applied but their files are missing"
    return MigrationFileError(
        f"{what}{where}: the rollback would pass over it and undo older migrations beneath "
        "its changes. Restore the file (e.g. from version control) and run rollback again; "
        "if its changes were already undone by hand, delete its row first: "
        f"DELETE FROM {table} WHERE version IN ({listed})"
    )


def check_order(
    pending: list[MigrationFile], applied: list[int], strict: bool, prefix: str | None = None
) -> None:
    """Refuse (``strict``) or warn about pending files older than the newest applied one."""
    if not pending or not applied or pending[0].version > max(applied):
        return
    older = [f.label for f in pending if f.version < max(applied)]
    if not older:
        return
    tag = f"[{prefix}] " if prefix else ""
    verb = "is" if len(older) == 1 else "are"
    message = f"{tag}{', '.join(older)} {verb} older than the newest applied version {max(applied)}"
    if strict:
        raise OutOfOrderError(
            f"{message}; strict_version_order refuses to apply them: give the file a newer "
            "version, or turn strict_version_order off"
        )
    log.warning("%s; applying out of order", message)
