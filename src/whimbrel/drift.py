"""``whimbrel diff``: does the database's schema match what its migrations build?

The migrations are replayed into a scratch database (PostgreSQL and
MySQL/MariaDB: a throwaway database created on the same server and dropped
afterwards; SQLite: a file in a temporary folder) and its catalog
(``whimbrel.inspect``) is compared with the target database's: tables,
columns, types, nullability, defaults, indexes, constraints, views and enum
types. The target is only read.

Example::

    import whimbrel
    from whimbrel.drift import drift

    with whimbrel.Migrator.from_config() as m:
        report = drift(m)
    for line in report.lines:       # [] when the schemas match
        print(line)                 # e.g. 'table "users": column "email": nullable False -> True'

A line reads from the migrations' schema to the database's: ``+ table "t"``
is only in the database, ``- index "i"`` only in the migrations.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whimbrel.errors import UsageError
from whimbrel.inspect import Catalog, diff, inspect
from whimbrel.url import mask, scheme

if TYPE_CHECKING:
    from whimbrel.migrator.core import Migrator

__all__ = ["DriftReport", "ScratchDatabaseError", "drift", "scratch_database"]


class ScratchDatabaseError(UsageError):
    """The scratch database could not be created (usually a missing privilege)."""


@dataclass(frozen=True)
class DriftReport:
    """The drift lines plus both catalogs (``expected`` from the migrations)."""

    lines: list[str]
    expected: Catalog
    actual: Catalog

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"drift": [...], "expected": {...}, "actual": {...}}``."""
        return {
            "drift": self.lines,
            "expected": dataclasses.asdict(self.expected),
            "actual": dataclasses.asdict(self.actual),
        }


def drift(migrator: Migrator, scratch_url: str | None = None) -> DriftReport:
    """Replay ``migrator``'s migrations into a scratch database and compare with its database.

    ``scratch_url`` names an empty database to use instead of a throwaway one
    (it is migrated, not dropped).
    """
    source = migrator.config.migration_source
    if scratch_url is not None:
        expected = _replayed(migrator, scratch_url)
    else:
        with scratch_database(migrator.config.database_url) as url:
            expected = _replayed(migrator, url)
    actual = inspect(migrator.config.database_url, versions_table=source)
    return DriftReport(diff(expected, actual), expected, actual)


def _replayed(migrator: Migrator, url: str) -> Catalog:
    from whimbrel.migrator.core import Migrator as Base

    # The replay only builds the expected catalog: lint has nothing to say to it
    # (`whimbrel lint` and `migrate` say it where it matters).
    config = dataclasses.replace(migrator.config, database_url=url, lint="off")
    logger = logging.getLogger("whimbrel")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))  # the replay's "== Running" lines are noise
    try:
        with Base(config, out=lambda _line: None) as scratch:
            scratch.up()
    finally:
        logger.setLevel(level)
    return inspect(url, versions_table=config.migration_source)


@contextmanager
def scratch_database(target_url: str) -> Iterator[str]:
    """A new empty database beside ``target_url`` (a temp SQLite file for SQLite), dropped after.

    A server that refuses ``CREATE DATABASE`` raises ``ScratchDatabaseError``
    naming the privilege to grant.
    """
    from whimbrel.testing.databases import throwaway

    kind = scheme(target_url)
    base = None if kind == "sqlite" else target_url
    try:
        context = throwaway(base)
        url = context.__enter__()
    except Exception as exc:  # noqa: BLE001 - any driver error here means "cannot create"
        raise ScratchDatabaseError(_cannot_create(target_url, exc)) from exc
    try:
        yield url
    finally:
        context.__exit__(None, None, None)


def _cannot_create(url: str, exc: Exception) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if scheme(url) in ("mysql", "mariadb"):
        grant = "GRANT CREATE, DROP ON *.* TO the user"
    else:
        grant = "ALTER ROLE <user> CREATEDB"
    return (
        f"cannot create a scratch database beside {mask(url)} to replay the migrations into: "
        f"{reason}. Let the user create databases ({grant}), or pass --scratch-url with an "
        "empty database to use instead"
    )
