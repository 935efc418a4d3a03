"""The adapter contract: the small surface the migrator needs from a database.

An adapter connects, runs statements, opens and closes transactions, holds
the migration lock, and translates its driver's errors into
``whimbrel.errors``. What differs between databases is declared in
``Capabilities`` rather than tested by URL anywhere else. Drivers are
imported inside ``connect()`` so ``import whimbrel`` needs none of them.
"""

from __future__ import annotations

import importlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from whimbrel.dialects.quoting import qualified, quote, string_literal
from whimbrel.errors import LockTimeoutError, MissingDriverError, UnsupportedFeatureError
from whimbrel.url import MASK, mask, server_parts

log = logging.getLogger("whimbrel")

if TYPE_CHECKING:
    from whimbrel.dialects.base import Dialect
    from whimbrel.dialects.steps import AdapterStep, Statement


@dataclass(frozen=True)
class Capabilities:
    """What a database can do, as flags the migrator and the tests consult.

    - ``transactional_ddl``: DDL can be rolled back, so a migration and its
      version row commit or vanish together.
    - ``session_lock``: the migration lock is held by the session across
      transactions (advisory lock, GET_LOCK); without it the lock is the
      migration's own write transaction and versions are re-read inside it.
    - ``schemas``: prefixes are schemas that can be created (tenants).
    - ``concurrent_index``: ``concurrently=True`` builds an index without blocking writes.
    - ``concurrent_index_needs_no_transaction``: such a build refuses to run inside a
      transaction and waits for every open snapshot (PostgreSQL), so the runner
      warns about ``concurrently=True`` in a transaction or without the lock.
    - ``journal_outside_transaction``: a ``disable_ddl_transaction`` migration's
      statements are journaled so a failed one resumes. Off on SQLite, whose table
      rebuild takes a write transaction of its own that the journal's writes would
      already have opened (a known gap: such a migration is not resumable there).
    - ``checksums``: applied migrations' file checksums are kept in a side table
      (``whimbrel.migrator.checksums``); ArangoDB has no such collection yet.
    - ``batches``: ``execute_batch`` sends several statements as one query, in one
      round trip (PostgreSQL's simple query protocol), so the executor sends a
      transactional migration's BEGIN, statements, version row and COMMIT together
      (``whimbrel.migrator.executor``).

    Without ``transactional_ddl`` the migrator journals every statement of a
    migration as it completes (``whimbrel.migrator.journal``), so a failure
    reports what ran and a re-run resumes after it.

    Example::

        >>> adapter_class("mysql://db/app").capabilities.transactional_ddl
        False
    """

    transactional_ddl: bool = True
    session_lock: bool = True
    schemas: bool = True
    concurrent_index: bool = False
    concurrent_index_needs_no_transaction: bool = False
    checksums: bool = True
    journal_outside_transaction: bool = True
    batches: bool = False


def import_driver(module: str, extra: str, url: str) -> Any:
    """Import a database driver, or say which extra installs it.

    Drivers are optional extras (``whimbrel[postgres]``, ``whimbrel[mysql]``) so
    that ``pip install whimbrel`` is enough for SQLite.

    Example::

        psycopg = import_driver("psycopg", "postgres", "postgresql://db/app")
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDriverError(
            f"{mask(url)} needs the {module} driver, which is not installed: "
            f"pip install 'whimbrel[{extra}]'"
        ) from None


@dataclass(frozen=True)
class Settings:
    """Connection-level settings from the configuration."""

    lock_timeout: str | None = None
    statement_timeout: str | None = None
    #: Seconds to wait for the migration lock; None waits as long as it takes.
    lock_wait: float | None = None
    lock_poll_interval: float = 0.1
    #: Seconds for the whole connection handshake: TCP, the server's greeting, authentication.
    connect_timeout: float = 10.0

    def client_timeout(self, statements: int = 1) -> float | None:
        """How long to wait for any answer from the server, when ``statement_timeout`` is set.

        The server stops a statement at ``statement_timeout`` and answers at once, unless
        the network between has gone silent: then its answer never arrives, and without
        a limit of our own whimbrel would wait for good. The margin leaves time for the
        server to stop the statement (a big ALTER can take a while to roll back).
        ``statements`` sent together in one query (``Adapter.execute_batch``) may each
        run up to ``statement_timeout`` before the answer comes, so the limit scales.

        >>> Settings(statement_timeout="10s").client_timeout()
        15.0
        >>> Settings(statement_timeout="1s").client_timeout(statements=6)
        11.0
        """
        if self.statement_timeout is None:
            return None
        from whimbrel.config import seconds

        limit = seconds(self.statement_timeout, "statement_timeout") * statements
        return limit + max(CLIENT_MARGIN_S, limit * 0.1)


@dataclass(frozen=True)
class DatabaseConfig:
    """The database a migration runs on: what ``repo().config()`` returns (Ecto's
    ``Repo.config()``), read from the live connection where the URL leaves parts out.

    ``scheme`` is ``postgresql``, ``mysql`` or ``sqlite`` (``database`` is then the
    file). The password is there for code that asks for it (``.password``) and
    never printed: ``repr()`` and ``str()`` show ``***``.

    Example::

        def up():
            db = repo().config()
            execute(f'ALTER DATABASE "{db.database}" SET timezone TO \'UTC\'')
    """

    scheme: str
    host: str | None
    port: int | None
    database: str
    user: str | None
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("scheme", "host", "port", "database", "user")
        )
        return (
            f"DatabaseConfig({shown}, password={MASK!r})"
            if self.password
            else (f"DatabaseConfig({shown})")
        )

    def __str__(self) -> str:
        user = f"{self.user}{':' + MASK if self.password else ''}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{user}{self.host or ''}{port}/{self.database}"


#: Least time the client waits beyond ``statement_timeout`` before it gives up.
CLIENT_MARGIN_S = 5.0
#: TCP keepalives on the migration connection: a peer gone without a word (a real
#: partition, a crashed host) is noticed after about idle + interval * count seconds.
KEEPALIVE = {"idle": 30, "interval": 10, "count": 3}


def no_answer(seconds: float, settings: Settings, url: str, statements: int = 1) -> str:
    """The message for a statement whose answer did not come within the client's limit."""
    each = ""
    if statements > 1:
        each = f" ({statements} statements sent together: statement_timeout for each)"
    return (
        f"no answer from {mask(url)} for {seconds:g}s, statement_timeout "
        f"({settings.statement_timeout}) plus a margin{each}: the network to the server has gone "
        "silent or the server is stuck, so whimbrel gave up and closed the connection. "
        "Check the network and the server, then run whimbrel again"
    )


class Adapter(ABC):
    """Base of every database adapter; see ``PostgresAdapter`` for a full one."""

    name: ClassVar[str] = "base"
    schemes: ClassVar[tuple[str, ...]] = ()
    #: "module:Class" of the dialect compiler, imported only when a migration runs.
    dialect_path: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    quote_char: ClassVar[str] = '"'
    #: SQL for "now, in UTC" as the versions table stores it.
    now_utc: ClassVar[str] = "CURRENT_TIMESTAMP"
    version_columns: ClassVar[str] = "bigint PRIMARY KEY, {inserted_at} timestamp(0)"
    #: "module:Class" of the progress journal kept where DDL is not transactional.
    journal_path: ClassVar[str] = "whimbrel.migrator.journal:Journal"
    #: ``migration_source`` when the configuration names none.
    default_source: ClassVar[str] = "schema_migrations"
    #: The progress journal's SQL columns (``whimbrel.migrator.journal``).
    progress_columns: ClassVar[str] = (
        "{version} bigint NOT NULL, {direction} varchar(4) NOT NULL, {step} integer NOT NULL, "
        "{statement_hash} char(64) NOT NULL, {statement} text NOT NULL, {done_at} timestamp(0), "
        "{session_id} bigint, PRIMARY KEY ({version}, {direction}, {step})"
    )

    def __init__(self, url: str, settings: Settings | None = None):
        self.url = url
        self.settings = settings or Settings()

    @classmethod
    def session_class(cls) -> type[Adapter]:
        """The class that connects for this database: the adapter itself, unless it has a
        lighter way to talk to the server (PostgreSQL: ``whimbrel.adapters.libpq``)."""
        return cls

    @property
    def display_url(self) -> str:
        return mask(self.url)

    def dialect(self, prefix: str | None = None) -> Dialect:
        """The compiler for this database, with ``prefix`` as the default schema."""
        module, cls = self.dialect_path.split(":")
        return getattr(importlib.import_module(module), cls)(prefix)  # type: ignore[no-any-return]

    def journal_class(self) -> Any:
        """The progress journal class (``open``, ``already_ran``, ``record``, ``finish``...)."""
        module, cls = self.journal_path.split(":")
        return getattr(importlib.import_module(module), cls)

    def native(self) -> Any:
        """The driver's own handle, for ``repo()`` attributes beyond execute/query."""
        raise UnsupportedFeatureError(
            f"repo() on {self.name} offers execute() and query() only: use those"
        )

    # -- versions querier (``whimbrel.migrator.versions`` says when; these say how) -----

    def applied_versions(self, prefix: str | None, source: str) -> list[int]:
        """Applied versions, oldest first; an absent table means none (nothing is created)."""
        if not self.table_exists(source, prefix):
            return []
        return [int(row[0]) for row in self.query(self.select_versions_sql(prefix, source))]

    def versions_setup(self, prefix: str | None, source: str) -> list[Statement]:
        """The statements that create the tenant schema and the versions table, if missing."""
        if self.table_exists(source, prefix):
            return []
        schema = [self.create_schema_sql(prefix)] if prefix is not None else []
        return [*schema, self.create_versions_table_sql(prefix, source)]

    def version_record(
        self, prefix: str | None, source: str, version: int, direction: str
    ) -> Statement:
        """The statement that marks ``version`` applied (up) or rolled back (down)."""
        if direction == "up":
            return self.insert_version_sql(prefix, source, version)
        return self.delete_version_sql(prefix, source, version)

    # -- versions table: Ecto's schema_migrations(version bigint PK, inserted_at) -----

    def versions_table(self, prefix: str | None, source: str) -> str:
        return qualified(source, prefix, self.quote_char)

    def create_versions_table_sql(self, prefix: str | None, source: str) -> str:
        q = self.quote_char
        columns = self.version_columns.format(inserted_at=quote("inserted_at", q))
        table = self.versions_table(prefix, source)
        return f"CREATE TABLE IF NOT EXISTS {table} ({quote('version', q)} {columns})"

    def select_versions_sql(self, prefix: str | None, source: str) -> str:
        column = quote("version", self.quote_char)
        return f"SELECT {column} FROM {self.versions_table(prefix, source)} ORDER BY 1"

    def insert_version_sql(self, prefix: str | None, source: str, version: int) -> str:
        q = self.quote_char
        return (
            f"INSERT INTO {self.versions_table(prefix, source)} ({quote('version', q)}, "
            f"{quote('inserted_at', q)}) VALUES ({int(version)}, {self.now_utc})"
        )

    def replace_row_sql(self, table: str, names: Sequence[str], values: Sequence[str]) -> str:
        """One statement that inserts a row, replacing any row with the same key (the first
        of ``names``): PostgreSQL's ``ON CONFLICT ... DO UPDATE`` here; SQLite and MySQL say
        it their own way. ``values`` are SQL literals.

        Example::

            adapter.replace_row_sql('"t"', ["k", "v"], ["1", "'a'"])
            # INSERT INTO "t" ("k", "v") VALUES (1, 'a')
            #   ON CONFLICT ("k") DO UPDATE SET "v" = EXCLUDED."v"
        """
        q = self.quote_char
        columns = [quote(n, q) for n in names]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
        return (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"
        )

    def delete_version_sql(self, prefix: str | None, source: str, version: int) -> str:
        column = quote("version", self.quote_char)
        return f"DELETE FROM {self.versions_table(prefix, source)} WHERE {column} = {int(version)}"

    def string_literal(self, value: str) -> str:
        """A string literal in this database's syntax (MySQL also escapes backslashes)."""
        return string_literal(value)

    def create_schema_sql(self, prefix: str) -> str:
        return f"CREATE SCHEMA IF NOT EXISTS {quote(prefix, self.quote_char)}"

    # -- connection ---------------------------------------------------------------

    @abstractmethod
    def connect(self) -> None:
        """Open the connection; raises ``DatabaseConnectionError`` with the masked URL."""

    @abstractmethod
    def close(self) -> None: ...

    def cancel(self) -> None:
        """Ask the server to stop the statement running now, from another thread.

        ``migrate --jobs`` calls it on each worker's connection on Ctrl-C or SIGTERM
        (signals reach the main thread only); the migration's own error handling then
        rolls its transaction back. Default: nothing (databases without tenants).
        """
        return None

    @abstractmethod
    def execute(self, sql: str, params: Any = None) -> None:
        """Run one statement (or a script the driver accepts as one call)."""

    @abstractmethod
    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""

    def execute_batch(self, statements: Sequence[str]) -> None:
        """Run ``statements`` in order; with ``Capabilities.batches``, as one query.

        Here one at a time; an adapter that batches sends them together and, when
        one fails, raises a ``DatabaseError`` for the whole batch (which statement
        failed is not known, and the server skipped the rest): the executor finds
        it by running them again one by one (``Executor.flush``).

        Example::

            adapter.execute_batch(["BEGIN", "CREATE TABLE t (id int)", "COMMIT"])
        """
        for sql in statements:
            self.execute(sql)

    def begin(self, upcoming: Sequence[Statement] = ()) -> None:
        """Open a migration's transaction.

        ``upcoming`` holds the migration's statements compiled before it ran
        (up to its first ``repo().query()``), so an adapter can set what cannot
        change inside a transaction: SQLite turns foreign keys off before a
        table rebuild.
        """
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def run_step(self, step: AdapterStep, emit: Callable[[Statement], None]) -> None:
        """Run a typed step: expand a ``CatalogStep`` into SQL sent through ``emit`` (SQLite),
        or run an operation of the adapter's own (ArangoDB's HTTP operations).

        Plans that read one table (``whimbrel.dialects.catalog_checks``) are
        expanded here on every database, from ``whimbrel.inspect``; SQLite's
        rebuild plans and ArangoDB's operations are their adapters' own.
        """
        from whimbrel.dialects.catalog_checks import TABLE_PLANS
        from whimbrel.dialects.steps import CatalogStep

        if isinstance(step, CatalogStep) and isinstance(step.plan, TABLE_PLANS):
            from whimbrel.inspect import inspect

            catalog = inspect(self, step.plan.prefix)
            table = next((t for t in catalog.tables if t.name == step.plan.table), None)
            for sql in step.plan.expand(table):
                emit(sql)
            return
        raise UnsupportedFeatureError(
            f"{self.name} cannot run {type(step).__name__} ({step.preview}): it was compiled "
            "for another database; compile the migration with this database's dialect"
        )

    # -- catalog and lock -----------------------------------------------------------

    @abstractmethod
    def table_exists(self, name: str, prefix: str | None) -> bool: ...

    @abstractmethod
    def database_name(self) -> str: ...

    def database_config(self) -> DatabaseConfig:
        """The database's settings for ``repo().config()``: the URL's parts by default."""
        parts = server_parts(self.url)
        return DatabaseConfig(
            self.name, parts.host, parts.port, parts.database, parts.user, parts.password
        )

    def acquire_lock(self, prefix: str | None, source: str) -> None:  # noqa: B027 - optional
        """Take the migration lock for ``prefix``/``source`` (no-op without a session lock)."""

    def release_lock(self, prefix: str | None, source: str) -> None:  # noqa: B027 - optional
        """Give the migration lock back."""

    @contextmanager
    def migration_lock(self, prefix: str | None, source: str) -> Iterator[None]:
        """Hold the migration lock for the block."""
        self.acquire_lock(prefix, source)
        try:
            yield
        finally:
            self.release_lock(prefix, source)

    def poll_lock(self, try_once: Callable[[], bool], name: str) -> None:
        """Call ``try_once`` until it takes the lock, sleeping with jitter between tries.

        Polling rather than blocking means a waiter holds no open statement
        while it waits (see the PostgreSQL adapter for why that matters).
        ``Settings.lock_wait`` bounds the wait with ``LockTimeoutError``.
        """
        started, next_note = time.monotonic(), 5.0
        while not try_once():
            waited = time.monotonic() - started
            if self.settings.lock_wait is not None and waited >= self.settings.lock_wait:
                raise LockTimeoutError(
                    f"the migration lock {name!r} is still held by another process after "
                    f"{waited:.1f}s: let the other migration finish, or raise migration_lock_wait"
                )
            if waited >= next_note:
                log.info(
                    "waiting for the migration lock %r held by another process (%.0fs)",
                    name,
                    waited,
                )
                next_note *= 2
            # Jitter keeps many waiters from polling in lock step.
            import random  # imported here: most runs never wait for the lock

            time.sleep(self.settings.lock_poll_interval * (0.5 + random.random()))

    def session_id(self) -> int | None:
        """The server's id of this connection (journaled with each statement's intent)."""
        return None

    def session_alive(self, session: int) -> bool:
        """Whether the server still runs the session ``session`` (an interrupted run's)."""
        return False

    def drop_invalid_index(self, name: str, schema: str | None) -> None:  # noqa: B027
        """Drop the index ``name`` if a failed concurrent build left it INVALID (PostgreSQL)."""

    def lock_name(self, prefix: str | None, source: str) -> str:
        return f"whimbrel:{self.database_name()}:{prefix or ''}:{source}"

    @staticmethod
    def lock_key(name: str) -> int:
        """A stable signed 64-bit key for a lock name (for ``pg_advisory_lock``)."""
        import hashlib  # OpenSSL's hashlib costs ~6 ms to import: not on the read path

        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def __enter__(self) -> Adapter:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
