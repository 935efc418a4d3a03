"""The pytest plugin: migrated test databases and ready-made migration checks.

Installed with whimbrel (entry point ``pytest11``); nothing happens until a
test asks for a fixture or ``whimbrel_checks`` is set. See docs/testing.md.

Example ``pytest.ini``::

    [pytest]
    whimbrel_database_url = postgresql://postgres@127.0.0.1/app_test
    whimbrel_checks = up_down_up, versions, lint

Fixtures: ``whimbrel_database`` (session: one migrated database),
``whimbrel_connection`` (per test: a connection to it inside a transaction
rolled back afterwards), ``whimbrel_fresh_database`` (per test: a new migrated
database, for tests that run DDL), ``whimbrel_settings``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from whimbrel.testing import (
    DATABASE_URL_ENV,
    CheckSkipped,
    Settings,
    TestDatabase,
    migrated_database,
    parse_checks,
    run_check,
)

_OPTIONS = {
    "whimbrel_database_url": "server URL to create throwaway test databases on "
    f"(default ${DATABASE_URL_ENV}, else SQLite files)",
    "whimbrel_config": "whimbrel config file (default: pyproject.toml/whimbrel.toml in rootdir)",
    "whimbrel_diff_url": "database the diff check compares with the migrations",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("whimbrel", "whimbrel migrations")
    for name, help_text in _OPTIONS.items():
        group.addoption("--" + name.replace("_", "-"), dest=name, default=None, help=help_text)
        parser.addini(name, help_text)
    parser.addini("whimbrel_checks", "checks to run: up_down_up, versions, lint, diff")


def _setting(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name) or config.getini(name)
    return str(value) if value else None


def settings_from(config: pytest.Config) -> Settings:
    """The plugin's settings: command-line options, then ini, then the environment."""
    root = Path(str(config.rootpath))
    config_file = _setting(config, "whimbrel_config")
    return Settings(
        base_url=_setting(config, "whimbrel_database_url") or os.environ.get(DATABASE_URL_ENV),
        config_path=(root / config_file) if config_file else None,
        rootdir=root,
        diff_url=_setting(config, "whimbrel_diff_url"),
    )


@pytest.fixture(scope="session")
def whimbrel_settings(pytestconfig: pytest.Config) -> Settings:
    return settings_from(pytestconfig)


@pytest.fixture(scope="session")
def whimbrel_database(whimbrel_settings: Settings) -> Iterator[TestDatabase]:
    """One database for the session with every migration applied; dropped at the end."""
    with migrated_database(whimbrel_settings) as database:
        yield database


@pytest.fixture
def whimbrel_connection(whimbrel_database: TestDatabase) -> Iterator[Any]:
    """A DB-API connection to the session database; everything the test did is rolled back.

    DDL is rolled back too on PostgreSQL and SQLite; MySQL commits DDL at once,
    so tests that create or alter tables should use ``whimbrel_fresh_database``.
    """
    conn: Any = whimbrel_database.connect()
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def whimbrel_fresh_database(whimbrel_settings: Settings) -> Iterator[TestDatabase]:
    """A new database with every migration applied, only for this test."""
    with migrated_database(whimbrel_settings) as database:
        yield database


class CheckFailed(Exception):
    """A whimbrel check found problems; the message lists them."""


class CheckItem(pytest.Item):
    """One check from ``whimbrel_checks``, shown as ``whimbrel::<name>``."""

    def __init__(self, *, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        try:
            problems = run_check(self.check, settings_from(self.config))
        except CheckSkipped as exc:
            pytest.skip(str(exc))
        if problems:
            raise CheckFailed("\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return f"whimbrel {self.check} check failed:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"whimbrel check {self.check}"


class ChecksCollector(pytest.Collector):
    """The configured checks, collected like any test file so -k, -m and the counts work."""

    def __init__(self, *, checks: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checks = checks

    def collect(self) -> list[pytest.Item]:
        return [
            CheckItem.from_parent(self, name=name, check=name, nodeid=f"whimbrel::{name}")
            for name in self.checks
        ]


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Put the checks from ``whimbrel_checks`` first among the session's collectors."""
    report = yield
    if isinstance(collector, pytest.Session) and report.passed:
        value = collector.config.getini("whimbrel_checks")
        if value:
            try:
                names = parse_checks(str(value))
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None
            checks = ChecksCollector.from_parent(
                collector, name="whimbrel", checks=names, nodeid="whimbrel"
            )
            report.result.insert(0, checks)
    return report
