"""Testing support: the pytest plugin's settings, databases and ready-made checks.

The plugin (``whimbrel.pytest_plugin``, registered through the ``pytest11``
entry point) is documented in docs/testing.md. This module holds what it
shares with users who prefer explicit test functions::

    # tests/test_migrations.py
    from whimbrel.testing import test_whimbrel_up_down_up, test_whimbrel_versions  # noqa: F401
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from whimbrel.testing import checks
from whimbrel.testing.checks import CheckSkipped
from whimbrel.testing.databases import throwaway

if TYPE_CHECKING:
    from whimbrel.migrator.core import Migrator

#: Where the plugin takes the server URL from when neither option nor ini sets it.
DATABASE_URL_ENV = "WHIMBREL_TEST_DATABASE_URL"


@dataclass(frozen=True)
class Settings:
    """What the plugin was told: a server to make test databases on, and the project."""

    #: Server URL test databases are created beside; None means SQLite files.
    base_url: str | None
    #: whimbrel config file (None: pyproject.toml / whimbrel.toml in ``rootdir``).
    config_path: Path | None
    rootdir: Path
    #: A database whose schema the ``diff`` check compares with the migrations.
    diff_url: str | None = None

    def migrator(self, url: str) -> Migrator:
        """A Migrator for this project on ``url`` (the project's other settings kept)."""
        from whimbrel.config import load_config
        from whimbrel.migrator.core import Migrator

        config = load_config(self.config_path, cwd=self.rootdir, overrides={"database_url": url})
        return Migrator(config)


@dataclass(frozen=True)
class TestDatabase:
    """A migrated test database: its URL and a way to get a Migrator on it."""

    __test__ = False  # not a test class, despite the name

    url: str
    settings: Settings

    def migrator(self) -> Migrator:
        return self.settings.migrator(self.url)

    def connect(self) -> object:
        """A new DB-API connection (autocommit off) with the driver for the URL."""
        from whimbrel.testing.databases import connect

        return connect(self.url, autocommit=False)


@contextmanager
def migrated_database(settings: Settings) -> Iterator[TestDatabase]:
    """A new database with every migration applied, dropped afterwards."""
    with throwaway(settings.base_url) as url:
        with settings.migrator(url) as m:
            m.up()
        yield TestDatabase(url, settings)


def parse_checks(value: str) -> list[str]:
    """``"up_down_up, versions lint"`` -> the names, refusing unknown ones."""
    names = [n for n in re.split(r"[\s,]+", value) if n]
    unknown = [n for n in names if n not in checks.CHECKS]
    if unknown:
        raise ValueError(
            f"whimbrel_checks: unknown check {', '.join(unknown)}; "
            f"choose from {', '.join(checks.CHECKS)}"
        )
    return names


def run_check(name: str, settings: Settings) -> list[str]:
    """Run one named check; returns its problems, raises ``CheckSkipped`` when it cannot run."""
    if name == "up_down_up":
        with throwaway(settings.base_url) as url:
            return checks.up_down_up(settings.migrator, url)
    config = settings.migrator("sqlite:///:memory:").config
    folders = [config.migrations_path, config.tenant_migrations_path]
    if name == "versions":
        return _versions(folders)
    if name == "lint":
        return checks.lint([str(f) for f in folders if f.is_dir()])
    if settings.diff_url is None:
        raise CheckSkipped(
            "set whimbrel_diff_url (or --whimbrel-diff-url) to the database to compare"
        )
    with throwaway(settings.base_url) as url:
        return checks.diff(settings.migrator, url, settings.diff_url)


def _versions(folders: list[Path]) -> list[str]:
    from whimbrel.errors import DuplicateMigrationError
    from whimbrel.migrator.files import discover

    problems = []
    for folder in dict.fromkeys(folders):
        try:
            problems += checks.versions(discover(folder, warn=False))
        except DuplicateMigrationError as exc:
            problems.append(str(exc))
    return problems


def _check_test(name: str):  # type: ignore[no-untyped-def]
    def test(whimbrel_settings: Settings) -> None:
        import pytest

        try:
            problems = run_check(name, whimbrel_settings)
        except CheckSkipped as exc:
            pytest.skip(str(exc))
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    test.__name__ = f"test_whimbrel_{name}"
    test.__doc__ = f"whimbrel's {name} check (see docs/testing.md)."
    return test


test_whimbrel_up_down_up = _check_test("up_down_up")
test_whimbrel_versions = _check_test("versions")
test_whimbrel_lint = _check_test("lint")
test_whimbrel_diff = _check_test("diff")

__all__ = [
    "CheckSkipped",
    "Settings",
    "TestDatabase",
    "migrated_database",
    "parse_checks",
    "run_check",
    "test_whimbrel_diff",
    "test_whimbrel_lint",
    "test_whimbrel_up_down_up",
    "test_whimbrel_versions",
]
