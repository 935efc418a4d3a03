"""Ready-made checks of a project's migrations, used by the pytest plugin.

Each check takes what it needs and returns a list of problems (empty when it
passes) or raises ``CheckSkipped`` with the reason; the plugin turns problems
into a test failure. They can also be called from any test or script.

Example::

    problems = up_down_up(lambda url: whimbrel.Migrator.from_config(database_url=url),
                          "sqlite:////tmp/scratch.db")
    assert problems == [], "\\n".join(problems)

``take_snapshot``/``drift`` are the two places that read and compare a
catalog: point them at ``whimbrel.inspect`` to use the full inspector.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from whimbrel.testing import catalog

if TYPE_CHECKING:
    from whimbrel.migrator.core import Migrator
    from whimbrel.migrator.files import MigrationFile

MigratorFactory = Callable[[str], "Migrator"]

#: Names accepted in the ``whimbrel_checks`` ini option.
CHECKS = ("up_down_up", "versions", "lint", "diff")

take_snapshot = catalog.snapshot  # the one line to switch to whimbrel.inspect
drift = catalog.diff  # and its diff


class CheckSkipped(Exception):
    """The check cannot run here; the message says why."""


def up_down_up(factory: MigratorFactory, url: str) -> list[str]:
    """Apply each migration, roll it back, apply it again; the catalog must match each time.

    ``url`` must name an empty database. Stops at the first migration whose
    ``down`` does not restore the catalog before it, whose second ``up``
    differs from the first, or that fails, and returns that problem: later
    migrations would run on a schema that is already wrong.
    """
    with factory(url) as m:
        source = m.config.migration_source
        for file in m.pending():
            problems = _round_trip(m, file, source)
            if problems:
                return problems
    return []


def _round_trip(m: Migrator, file: MigrationFile, source: str) -> list[str]:
    from whimbrel.errors import WhimbrelError

    step = "up"
    try:
        before = take_snapshot(m.adapter, source)
        m.up(step=1)
        after = take_snapshot(m.adapter, source)
        step = "down"
        m.down(step=1)
        problems = _differs(file, "down did not undo up", before, take_snapshot(m.adapter, source))
        if problems:
            return problems
        step = "up again"
        m.up(step=1)
        return _differs(
            file, "up again gave another schema", after, take_snapshot(m.adapter, source)
        )
    except WhimbrelError as exc:
        return [f"{file.label}: {step} failed: {exc}"]


def _differs(
    file: MigrationFile, what: str, want: catalog.Snapshot, got: catalog.Snapshot
) -> list[str]:
    lines = drift(want, got)
    if not lines:
        return []
    detail = "\n".join(f"    {line}" for line in lines)
    return [f"{file.label}: {what}; fix its down() (or change()):\n{detail}"]


def versions(files: Sequence[MigrationFile], now: dt.datetime | None = None) -> list[str]:
    """Versions are unique, in one format, and not in the future.

    A 14-digit timestamp from a wrong clock sorts after every migration written
    later; mixing small integers with timestamps makes the order accidental.
    """
    problems = []
    seen: dict[int, str] = {}
    for file in files:
        if file.version in seen:
            problems.append(f"{file.label} and {seen[file.version]} share version {file.version}")
        seen[file.version] = file.label
    stamped = [f for f in files if len(str(f.version)) == 14]
    if stamped and len(stamped) != len(files):
        odd = ", ".join(f.label for f in files if len(str(f.version)) != 14)
        problems.append(f"not YYYYMMDDHHMMSS like the others: {odd}; rename with a timestamp")
    limit = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")
    for file in stamped:
        if str(file.version) > limit:
            problems.append(f"{file.label} is dated in the future (now {limit}): fix its timestamp")
    return problems


def lint(paths: Sequence[str]) -> list[str]:
    """Findings of ``whimbrel.lint`` (skipped with the reason while that module is absent)."""
    try:
        module = importlib.import_module("whimbrel.lint")
    except ImportError as exc:
        raise CheckSkipped(f"whimbrel.lint is not available ({exc})") from exc
    # Hook for the lead: whimbrel.lint is written in parallel; its entry point
    # is expected to be lint_paths(paths) -> findings with a str() form.
    run = getattr(module, "lint_paths", None)
    if run is None:
        raise CheckSkipped("whimbrel.lint has no lint_paths(paths); wire the check to its API")
    return [str(finding) for finding in run(list(paths))]


def diff(factory: MigratorFactory, scratch_url: str, target_url: str) -> list[str]:
    """Migrate an empty scratch database and compare its schema with ``target_url``'s."""
    with factory(scratch_url) as m:
        m.up()
        want = take_snapshot(m.adapter, m.config.migration_source)
    with factory(target_url) as t:
        got = take_snapshot(t.adapter, t.config.migration_source)
    return drift(want, got)
