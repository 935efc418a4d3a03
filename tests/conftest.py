"""Fixtures for tests against real databases.

Discovery and creation live in tests/dbs.py; this file only adds pytest concerns:
scope (servers are found once per session, or once per xdist worker), laziness
(no fixture requested, no probe), and the policy for a missing server: fail in CI,
skip elsewhere.

`dbs` is importable because pytest's default "prepend" import mode puts this
file's directory (tests/) on sys.path before importing it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from dbs import ALL_BACKENDS as ALL_BACKENDS  # re-exported for tests that list backends
from dbs import (
    MYSQL,
    POSTGRES,
    DatabaseNames,
    DatabaseUnavailable,
    Server,
    discover_mysql,
    discover_postgres,
    fresh_database,
    in_ci,
    selected_backends,
)
from tsdb import discover_timescale, fresh_schema

# Which URL fixture serves each backend, and which fixtures need a server (for marks).
URL_FIXTURES = {"sqlite": "sqlite_url", "postgres": "pg_url", "mysql": "mysql_url"}
SERVER_FIXTURES = {
    "postgres": {"pg_admin_url", "pg_url"},
    "mysql": {"mysql_admin_url", "mysql_url"},
    "timescale": {"timescale_server", "tsdb_url"},
}


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """whimbrel's caches (checksums, lint context) in this run's temp folder, not in
    ~/.cache: the CLI runs in subprocesses, which inherit XDG_CACHE_HOME (and not
    WHIMBREL_* variables, which ``cli_env`` leaves out)."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


def _unavailable(reason: str) -> NoReturn:
    """CI must not go green by skipping; on a laptop a missing server isn't the test's fault."""
    if in_ci():
        pytest.fail(
            f"{reason}\n(CI is set: a missing database is an error, not a skip)", pytrace=False
        )
    pytest.skip(reason)


def _discover_or_give_up(discover: Callable[[], Server]) -> Server:
    try:
        return discover()
    except DatabaseUnavailable as exc:
        reason = str(exc)
    _unavailable(reason)  # outside `except`, so the report isn't a chained traceback


def _serve(discover: Callable[[], Server]) -> Iterator[Server]:
    """Body of a session server fixture: discover once, stop at session end if we started it.

    A failure is raised from a session fixture, so pytest caches it: an unreachable
    server is probed once per session, not once per test.
    """
    server = _discover_or_give_up(discover)
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they need, so `-m "not mysql"` deselects them unprobed.

    tryfirst: the marks must exist before pytest's own -m filtering runs.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend_param = callspec.params.get("db_url") if callspec else None
        for backend, fixtures in SERVER_FIXTURES.items():
            if backend == backend_param or fixtures.intersection(getattr(item, "fixturenames", ())):
                item.add_marker(backend)


@pytest.fixture(scope="session")
def db_names() -> DatabaseNames:
    """Source of unique database names for this session (and xdist worker)."""
    return DatabaseNames()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    yield from _serve(discover_postgres)


@pytest.fixture(scope="session")
def mysql_server() -> Iterator[Server]:
    yield from _serve(discover_mysql)


@pytest.fixture(scope="session")
def pg_admin_url(postgres_server: Server) -> str:
    """Server-level PostgreSQL URL; for creating databases, not for running tests in."""
    return postgres_server.admin_url


@pytest.fixture(scope="session")
def mysql_admin_url(mysql_server: Server) -> str:
    """Server-level MySQL/MariaDB URL; for creating databases, not for running tests in."""
    return mysql_server.admin_url


@pytest.fixture
def pg_url(pg_admin_url: str, db_names: DatabaseNames) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped (WITH FORCE) after the test."""
    with fresh_database(POSTGRES, pg_admin_url, db_names.new()) as url:
        yield url


@pytest.fixture
def mysql_url(mysql_admin_url: str, db_names: DatabaseNames) -> Iterator[str]:
    """URL of a new, empty MySQL/MariaDB database (utf8mb4), dropped after the test."""
    with fresh_database(MYSQL, mysql_admin_url, db_names.new()) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a not-yet-created SQLite file in the test's own tmp_path.

    tmp_path is absolute, so this has four slashes: sqlite:////tmp/.../test.db.
    """
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture(params=selected_backends())
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database on each backend in $WHIMBREL_TEST_BACKENDS (default sqlite,postgres,mysql).

    Lets an integration test be written once; the test id says which backend ran.
    """
    url: str = request.getfixturevalue(URL_FIXTURES[request.param])
    return url


@pytest.fixture(scope="session")
def timescale_server() -> Iterator[Server]:
    """$WHIMBREL_TEST_TIMESCALE_URL, else a PGlite TimescaleDB started once per session/worker."""
    yield from _serve(discover_timescale)


@pytest.fixture
def tsdb_url(timescale_server: Server, db_names: DatabaseNames) -> Iterator[str]:
    """URL of the TimescaleDB server with a new schema first on search_path, dropped after.

    The server has one database (PGlite), so a schema is what each test owns.
    """
    with fresh_schema(timescale_server.admin_url, db_names.new()) as url:
        yield url
