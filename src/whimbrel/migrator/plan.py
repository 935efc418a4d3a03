"""Strategies: which pending (up) or applied (down) migrations a run takes.

Pure functions over the files, so the migrator's planning is testable without
a database.

Example::

    >>> parse_strategy("down", False, None, None, None)
    ('step', 1)
"""

from __future__ import annotations

from whimbrel.errors import UsageError
from whimbrel.migrator.files import MigrationFile


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
