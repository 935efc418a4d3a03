"""What the migrator reads without changing anything: ``status`` rows and "nothing to do".

``Migrator.status()``/``status_all()``/``ensure_up()`` and the first step of
``up()`` read the versions table, the checksums beside it and the file names,
through ``Migrator.adapter``: on PostgreSQL libpq itself, without psycopg's
import (``whimbrel.adapters.libpq``), and without the migration lock.

Example::

    with Migrator.from_config() as m:
        rows(m, None, edits=True)      # what `whimbrel status` prints
        settled(m, {})                 # True: `migrate` has nothing to do
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whimbrel.errors import PrefixesQueryError
from whimbrel.migrator import squashed
from whimbrel.migrator.checksums import Checksums
from whimbrel.migrator.versions import Versions

if TYPE_CHECKING:
    from whimbrel.migrator.core import Migrator

log = logging.getLogger("whimbrel")

FILE_NOT_FOUND = "** FILE NOT FOUND **"


@dataclass(frozen=True)
class MigrationStatus:
    """One row of ``status()``: ``status`` is ``"up"`` or ``"down"``."""

    status: str
    version: int
    name: str
    prefix: str | None = None
    #: Applied, but the file changed since (its checksum differs): ``migrate`` refuses.
    edited: bool = False
    #: Applied, and replaced by this squash baseline since (``whimbrel squash``).
    squashed_into: int | None = None


def rows(m: Migrator, prefix: str | None, *, edits: bool) -> list[MigrationStatus]:
    """``Migrator.status(prefix)``: every file up or down, plus applied versions without a file."""
    files = m._files(prefix)
    applied = set(m._applied(prefix))
    edited: set[int] = set()
    if edits:
        checksums = Checksums(m.adapter, m.config.migration_source)
        verdict = checksums.compare(files, applied, prefix, adopt=False)
        edited = {f.version for f in verdict.edited}
    found = [
        MigrationStatus(
            "up" if f.version in applied else "down",
            f.version,
            f.name,
            prefix,
            f.version in edited,
        )
        for f in files
    ]
    known = {f.version for f in files}
    replaced = squashed.covered(files) if applied - known else {}
    found += [
        MigrationStatus("up", v, _gone_name(v, replaced), prefix, squashed_into=replaced.get(v))
        for v in applied - known
    ]
    return sorted(found, key=lambda s: s.version)


def settled(m: Migrator, strategy: dict[str, Any]) -> bool:
    """Whether ``m.up(**strategy)`` has nothing to do, found by reading alone.

    True when every file of the global and tenant folders is applied with its
    checksum recorded and unchanged, so no lock is taken and nothing is written
    (the driver is not even imported on PostgreSQL: see ``Migrator.adapter``). A
    run that would do anything (a pending file, a checksum to adopt or refuse, a
    missing versions table to create, a failing ``prefixes_query``, any option
    but ``all``) is left to ``run``, which checks it all again under the lock.
    Reading without the lock is safe: a version row commits with its migration,
    so "all applied" stays true.
    """
    if {k for k, v in strategy.items() if v} - {"all"}:
        return False
    try:
        prefixes = m.known_prefixes()
    except PrefixesQueryError:
        return False
    versions = Versions(m.adapter, m.config.migration_source)
    checksums = Checksums(m.adapter, m.config.migration_source)
    for prefix in [None, *prefixes]:
        files = m._files(prefix)
        applied = set(versions.applied(prefix))
        if any(f.version not in applied for f in files):
            return False
        if not applied and not versions.exists(prefix):  # the run creates the table
            return False
        verdict = checksums.compare(files, applied, prefix)
        if verdict.adopt or verdict.edited:
            return False
    for prefix in [None, *prefixes]:
        log.info("%sMigrations already up", f"[{prefix}] " if prefix else "")
    return True


def _gone_name(version: int, replaced: dict[int, int]) -> str:
    """The name ``status`` shows for an applied version without a file."""
    if version in replaced:
        return f"(squashed into {replaced[version]})"
    return FILE_NOT_FOUND
