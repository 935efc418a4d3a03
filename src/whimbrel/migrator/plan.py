"""Planning: which pending (up) or applied (down) migrations a run takes, in order.

Pure functions over the files, so the migrator's planning is testable without
a database.

Example::

    >>> parse_strategy("down", False, None, None, None)
    ('step', 1)
"""

from __future__ import annotations

import logging

from whimbrel.errors import OutOfOrderError, TargetNotFoundError, UsageError
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
) -> list[MigrationFile]:
    """The files a run takes, in the order they run.

    ``require_target`` refuses a ``to``/``to_exclusive`` that names no file
    and no applied version. Pending files older than the newest applied
    version are refused with ``strict_order``, and applied with a warning
    otherwise.

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
        check_order(candidates, applied, strict_order)
    else:
        candidates = [f for f in reversed(files) if f.version in done]
    return select(direction, kind, value, candidates)


def check_order(pending: list[MigrationFile], applied: list[int], strict: bool) -> None:
    """Refuse (``strict``) or warn about pending files older than the newest applied one."""
    if not pending or not applied or pending[0].version > max(applied):
        return
    older = [f.label for f in pending if f.version < max(applied)]
    if not older:
        return
    message = (
        f"{', '.join(older)} {'is' if len(older) == 1 else 'are'} older than the newest "
        f"applied version {max(applied)}"
    )
    if strict:
        raise OutOfOrderError(
            f"{message}; strict_version_order refuses to apply them: give the file a newer "
            "version, or turn strict_version_order off"
        )
    log.warning("%s; applying out of order", message)
