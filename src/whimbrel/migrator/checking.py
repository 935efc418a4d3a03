"""What a run checks before its first write: every planned file loaded, linted,
recorded and compiled.

A syntax error, a DSL mistake, a missing ``execute_file`` or an irreversible
``change()`` in the last file of the plan stops the run before the first file
runs, and so does what ``PlanCheck`` refuses across files (TimescaleDB
commands: extension, targets, keys, transactions). The recordings are kept for
the run, so nothing is recorded twice (lint records once more, running nothing).

Example::

    checked = check(migrator, planned_files, "up", None)  # [(Migration, Recording)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.migrator.loader import Migration, load

if TYPE_CHECKING:
    from whimbrel.dsl.recorder import DslDefaults
    from whimbrel.migrator.core import Migrator
    from whimbrel.migrator.runner import Recording


def check(
    m: Migrator, planned: list[MigrationFile], direction: str, prefix: str | None
) -> list[tuple[Migration, Recording]]:
    """Load, lint (going up), record and compile ``planned`` in ``prefix``; raise on the
    first problem, with nothing written."""
    from whimbrel.migrator.precheck import check_plan
    from whimbrel.migrator.runner import record
    from whimbrel.migrator.timescale import PlanCheck

    adapter = m.adapter
    dialect, defaults = adapter.dialect(prefix), m._defaults()
    database = adapter.database_config()
    migrations = [load_once(m, f) for f in planned]
    if direction == "up":
        lint(m, migrations, prefix, defaults)
    plan_check = PlanCheck(adapter, dialect, prefix)  # commands checked across files
    return check_plan(
        migrations,
        lambda migration: record(
            migration,
            direction,
            dialect,
            prefix=prefix,
            defaults=defaults,
            check=plan_check.for_migration(migration, direction),
            database=database,
        ),
        adapter.capabilities,
        direction,
    )


def load_once(m: Migrator, file: MigrationFile) -> Migration:
    """``load(file)``, once per public call: every tenant plans the same tenant files,
    so 1,000 prefixes compile and run each file's module once, not 1,000 times (the
    recordings stay per prefix). ``up(jobs=N)``'s workers share the cache."""
    cache = m._loaded
    if cache is None:
        return load(file)
    with m._load_lock:  # workers wait for the one loading (loading holds the GIL anyway)
        found = cache.get(str(file.path))
        if found is None:
            found = cache[str(file.path)] = load(file)
    return found


def lint(
    m: Migrator, migrations: list[Migration], prefix: str | None, defaults: DslDefaults
) -> None:
    """Lint the planned migrations before the first runs (config ``lint``: warn or error).

    The applied migrations of the folder are walked as context (a check
    validated by an earlier migration counts), without being reported.
    Each file is linted once per run, not once per tenant; ``lint = "off"``
    skips it.
    """
    if m.config.lint == "off":
        return
    # Workers of ``up(jobs=N)`` share the lock and the set: one lints, the others
    # wait; a file is marked only once linted, so with lint = "error" a failing
    # file stops every tenant that reaches it, never only the first.
    with m._lint_lock:
        fresh = [migration for migration in migrations if migration.file.path not in m._linted]
        if fresh:
            _lint_fresh(m, fresh, migrations, prefix, defaults)
            m._linted.update(migration.file.path for migration in fresh)


def _lint_fresh(
    m: Migrator,
    fresh: list[Migration],
    migrations: list[Migration],
    prefix: str | None,
    defaults: DslDefaults,
) -> None:
    from whimbrel.lint import before_migrate, database_of
    from whimbrel.lint.context_cache import ContextCache, cache_key

    planned = {migration.file.path for migration in migrations}
    applied = set(m._applied(prefix))
    # The plan already warned about misnamed files; the context read stays quiet.
    folder = m._folder(prefix)
    files = discover(folder, warn=False)
    earlier = [f for f in files if f.version in applied and f.path not in planned]
    database = database_of(m.config.database_url)
    server_version = getattr(m.adapter, "server_version", None) or None
    key = cache_key(database, server_version, defaults)
    before_migrate(
        fresh,
        mode=m.config.lint,
        database=database,
        defaults=defaults,
        context_files=earlier,
        cache=ContextCache.for_folder(str(folder), key=key),
        server_version=server_version,
    )
