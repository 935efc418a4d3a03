"""Ready-made checks of a project's migrations, used by the pytest plugin.

Each check takes what it needs and returns a list of problems (empty when it
passes) or raises ``CheckSkipped`` with the reason; the plugin turns problems
into a test failure. They can also be called from any test or script.

Example::

    problems = up_down_up(lambda url: whimbrel.Migrator.from_config(database_url=url),
                          "sqlite:////tmp/scratch.db")
    assert problems == [], "\\n".join(problems)

Catalogs are read and compared with ``whimbrel.inspect``; ``lint`` is
``whimbrel.lint.lint_paths`` and ``diff`` is ``whimbrel.drift``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from whimbrel.inspect import Catalog, inspect
from whimbrel.inspect import diff as drift

if TYPE_CHECKING:
    from whimbrel.config import Config
    from whimbrel.migrator.core import Migrator
    from whimbrel.migrator.files import MigrationFile

MigratorFactory = Callable[[str], "Migrator"]

#: Names accepted in the ``whimbrel_checks`` ini option.
CHECKS = ("up_down_up", "versions", "lint", "diff")


def take_snapshot(m: Migrator) -> Catalog:
    """The catalog of the migrator's database, whimbrel's own tables left out."""
    return inspect(m.config.database_url, versions_table=m.config.migration_source)


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
        before = take_snapshot(m)
        m.up(step=1)
        after = take_snapshot(m)
        step = "down"
        m.down(step=1)
        problems = _differs(file, "down did not undo up", before, take_snapshot(m))
        if problems:
            return problems
        step = "up again"
        m.up(step=1)
        return _differs(file, "up again gave another schema", after, take_snapshot(m))
    except WhimbrelError as exc:
        return [f"{file.label}: {step} failed: {exc}"]


def _differs(file: MigrationFile, what: str, want: Catalog, got: Catalog) -> list[str]:
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


def lint(paths: Sequence[str], config: Config) -> list[str]:
    """Findings of ``whimbrel.lint`` for ``paths``, with the rules of the configured database."""
    from whimbrel.lint import database_of, lint_paths
    from whimbrel.lint.engine import dsl_defaults

    if not paths:
        return []
    findings = lint_paths(
        list(paths), database=database_of(config.database_url), defaults=dsl_defaults(config)
    )
    return [str(finding) for finding in findings]


def diff(factory: MigratorFactory, scratch_url: str, target_url: str) -> list[str]:
    """Migrate the empty database ``scratch_url`` and compare its schema with ``target_url``'s."""
    from whimbrel.drift import drift as replay

    with factory(target_url) as target:
        return replay(target, scratch_url).lines
