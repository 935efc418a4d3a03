"""PostgreSQL adapter on psycopg 3.

The connection runs in autocommit mode and the migrator sends BEGIN/COMMIT
itself, so the same code path serves transactional and
``disable_ddl_transaction`` migrations (CREATE INDEX CONCURRENTLY refuses to
run inside a transaction block).

The migration lock is a session-level advisory lock taken by *polling*
``pg_try_advisory_lock``: a waiter never sits inside a statement, so it holds
no snapshot, and a concurrent CREATE INDEX CONCURRENTLY (which waits for every
open snapshot) cannot deadlock with it, as it can with a blocking
``pg_advisory_lock`` or a table lock (ecto_sql issue #365).

Server-side prepared statements are off (``prepare_threshold=None``): a
migration runs each statement once, so they gain nothing, and psycopg's
automatic ``_pg3_N`` names collide wherever sessions are shared: behind a
transaction pooler (PgBouncer) and on servers that multiplex clients onto one
session (PGlite's socket server), where the next connection's prepare fails
with ``DuplicatePreparedStatement``.

``execute_batch`` sends several statements as one string in one simple-protocol
query (psycopg uses that protocol for a query without parameters, and the
server runs the statements of such a string in order and stops at the first
error): a transactional migration then costs one round trip
(``Capabilities.batches``, ``whimbrel.migrator.executor``).

``server_features`` is read once at connect time: the TimescaleDB extension's
version and schema, which the dialect compiles TimescaleDB commands for.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from whimbrel.adapters.base import (
    KEEPALIVE,
    Adapter,
    Capabilities,
    DatabaseConfig,
    import_driver,
    no_answer,
)
from whimbrel.adapters.timescale import ServerFeatures, read_features
from whimbrel.dialects.quoting import qualified, string_literal
from whimbrel.errors import DatabaseConnectionError, DatabaseError
from whimbrel.url import mask

if TYPE_CHECKING:
    from whimbrel.dialects.postgres import PostgresDialect

log = logging.getLogger("whimbrel")


class PostgresAdapter(Adapter):
    name = "postgresql"
    schemes = ("postgresql", "postgres")
    dialect_path = "whimbrel.dialects.postgres:PostgresDialect"
    # inserted_at is a naive timestamp in UTC, as Ecto writes it.
    now_utc = "(now() AT TIME ZONE 'utc')"
    capabilities = Capabilities(
        transactional_ddl=True,
        session_lock=True,
        schemas=True,
        concurrent_index=True,
        concurrent_index_needs_no_transaction=True,
        batches=True,
    )
    _features: ServerFeatures | None = None

    def connect(self) -> None:
        psycopg = self._psycopg = import_driver("psycopg", "postgres", self.url)
        try:
            self.conn = psycopg.connect(
                self.url.replace("postgresql+psycopg://", "postgresql://", 1),
                autocommit=True,
                # libpq counts whole seconds, and at least 2.
                connect_timeout=max(2, math.ceil(self.settings.connect_timeout)),
                application_name="whimbrel",
                # No server-side prepared statements: behind PgBouncer in transaction
                # mode they land on another server connection ("_pg3_0 already exists").
                prepare_threshold=None,
                keepalives=1,
                keepalives_idle=KEEPALIVE["idle"],
                keepalives_interval=KEEPALIVE["interval"],
                keepalives_count=KEEPALIVE["count"],
            )
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise self.connection_error(reason) from exc
        self._client_timeout = self.settings.client_timeout()
        self._abandoned = False
        self._configure()

    def _configure(self) -> None:
        """The session's settings, in one round trip: the server's keepalives end its side
        of a session whose client vanished (which gives back the session's advisory lock
        and rolls its transaction back), and the configured timeouts.

        They are set with SET rather than libpq's ``options``, which would replace
        ``options`` given in the URL or in ``PGOPTIONS``. A setting the server refuses
        closes the session: none is left open behind the error.
        """
        statements = [f"SET tcp_keepalives_{k} = {int(v)}" for k, v in KEEPALIVE.items()]
        for setting in ("lock_timeout", "statement_timeout"):
            value = getattr(self.settings, setting)
            if value is not None:
                statements.append(f"SET {setting} = {string_literal(str(value))}")
        try:
            self.execute_batch(statements)
        except BaseException:
            self.close()
            raise

    @property
    def server_features(self) -> ServerFeatures:
        """What the server offers (TimescaleDB), read on first use: one or two queries."""
        if self._features is None:
            self._features = read_features(self.query)
        return self._features

    @server_features.setter
    def server_features(self, features: ServerFeatures) -> None:
        self._features = features

    @classmethod
    def session_class(cls) -> type[Adapter]:
        """libpq through ``ctypes`` where it loads (``whimbrel.adapters.libpq``), else psycopg."""
        if cls is not PostgresAdapter:
            return cls
        from whimbrel.adapters import libpq

        return libpq.LibpqAdapter if libpq.available() else cls

    def connection_error(self, reason: str) -> DatabaseConnectionError:
        """Connecting failed for ``reason`` (libpq's words, which may quote the password)."""
        return DatabaseConnectionError(
            f"cannot connect to {self.display_url}: {mask(reason, self.url)}. Check that the "
            "server is running and the URL (host, port, user, database) is right "
            f"(connect_timeout {self.settings.connect_timeout:g}s)"
        )

    def dialect(self, prefix: str | None = None) -> PostgresDialect:
        """The PostgreSQL compiler, told which TimescaleDB the server has (if any)."""
        from whimbrel.dialects import postgres

        return postgres.PostgresDialect(prefix, timescaledb=self.server_features.timescaledb)

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()

    def cancel(self) -> None:
        """libpq's cancel request, on its own connection: safe from another thread."""
        conn = getattr(self, "conn", None)
        if conn is None or conn.closed:
            return
        try:
            if hasattr(conn, "cancel_safe"):  # psycopg 3.2+
                conn.cancel_safe(timeout=5)
            else:
                conn.cancel()
        except self._psycopg.Error:
            pass  # the server is gone or the statement ended: nothing left to stop

    def execute(self, sql: str, params: Any = None) -> None:
        self._run(sql, params)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        cursor = self._run(sql, params)
        return cursor.fetchall() if cursor.description else []

    def execute_batch(self, statements: Sequence[str]) -> None:
        """Run ``statements`` as one query: one round trip (see ``Adapter.execute_batch``).

        They are joined with a newline before each ``;``, so a statement ending in a
        ``--`` comment does not swallow the next. The server runs them in order
        and stops at the first error; the ``DatabaseError`` names the whole batch.
        The client's limit (``statement_timeout`` set) grows with their number.

        Example::

            adapter.execute_batch(["BEGIN", "CREATE TABLE t (id int)", "COMMIT"])
        """
        if len(statements) == 1:
            self._run(statements[0], None)
        elif statements:
            shown = "\n".join(f"{sql};" for sql in statements)  # for error messages
            self._run(BATCH_SEPARATOR.join(statements), None, len(statements), shown)

    def _run(self, sql: str, params: Any, statements: int = 1, shown: str | None = None) -> Any:
        timeout = self._client_timeout
        if statements > 1:  # each statement of a batch may run up to statement_timeout
            timeout = self.settings.client_timeout(statements)
        try:
            with self._watchdog(timeout):
                return self.conn.execute(sql, params)  # type: ignore[arg-type]
        except self._psycopg.Error as exc:
            if self._abandoned:
                message = no_answer(timeout or 0, self.settings, self.url, statements)
                raise DatabaseError(message, statement=shown or sql) from exc
            raise _translate(exc, shown or sql) from exc
        except TypeError as exc:  # psycopg's word for parameters that are not a sequence
            raise DatabaseError(str(exc), statement=shown or sql) from exc

    @contextmanager
    def _watchdog(self, timeout: float | None) -> Iterator[None]:
        """Give up on the block's wait for the server after ``timeout`` seconds (``_abandon``)."""
        if timeout is None:
            yield
            return
        watchdog = threading.Timer(timeout, self._abandon)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield
        finally:
            watchdog.cancel()

    def _socket(self) -> int:
        """The connection's socket descriptor (``LibpqAdapter`` has its own way to it)."""
        return int(self.conn.fileno())

    def _abandon(self) -> None:
        """No answer in time: shut the socket, so the waiting ``execute`` fails at once.

        Runs on the watchdog's thread. ``shutdown`` (on a duplicate of the descriptor)
        wakes the driver's wait; closing from here would race with the driver's own use.
        """
        self._abandoned = True
        import socket  # only when the network went silent (7 ms of every start-up)

        try:
            with socket.socket(fileno=os.dup(self._socket())) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except Exception:  # OSError, or the driver's: the statement ended meanwhile
            pass

    def table_exists(self, name: str, prefix: str | None) -> bool:
        return bool(
            self.query("SELECT to_regclass(%s) IS NOT NULL", (qualified(name, prefix),))[0][0]
        )

    def _closed(self) -> bool:
        return bool(self.conn.closed)

    def _in_transaction(self) -> bool:
        return bool(self.conn.info.transaction_status != 0)

    def session_id(self) -> int | None:
        return int(self.conn.info.backend_pid)

    def session_alive(self, session: int) -> bool:
        return bool(self.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (session,)))

    def database_name(self) -> str:
        return str(self.conn.info.dbname)

    def database_config(self) -> DatabaseConfig:
        """What libpq connected to: the URL's parts, with its defaults filled in."""
        info = self.conn.info
        return DatabaseConfig(
            "postgresql",
            str(info.host),
            int(info.port),
            str(info.dbname),
            str(info.user),
            info.password or None,
        )

    def drop_invalid_index(self, name: str, schema: str | None) -> None:
        """A cancelled or failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it.

        Only an index marked invalid is dropped; a valid one of the same name is
        left for the build to report ("already exists").
        """
        invalid = self.query(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND n.nspname = COALESCE(%s, current_schema()) "
            "AND NOT i.indisvalid",
            (name, schema),
        )
        if invalid:
            target = qualified(name, schema)
            log.warning(
                "index %s is INVALID (an earlier concurrent build failed or was cancelled): "
                "dropping it before building it again",
                target,
            )
            self.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {target}")

    def acquire_lock(self, prefix: str | None, source: str) -> None:
        name = self.lock_name(prefix, source)
        self._acquire(self.lock_key(name), name)

    def release_lock(self, prefix: str | None, source: str) -> None:
        if self._closed():
            return  # the session, and with it the lock, is gone
        if self._in_transaction():  # a failure left a transaction open
            self.rollback()
        self.query(
            "SELECT pg_advisory_unlock(%s)", (self.lock_key(self.lock_name(prefix, source)),)
        )

    def _acquire(self, key: int, name: str) -> None:
        self.poll_lock(
            lambda: bool(self.query("SELECT pg_try_advisory_lock(%s)", (key,))[0][0]), name
        )


#: Between the statements of a batch: the newline ends a trailing ``--`` comment.
BATCH_SEPARATOR = "\n;\n"


def error_text(message: str, detail: str | None, hint: str | None, position: str | None) -> str:
    """The server's error report as one line (psycopg's diagnostics or libpq's fields).

    >>> error_text('column "x" does not exist', None, "Perhaps x2?", "8")
    'column "x" does not exist. Hint: Perhaps x2? at character 8'
    """
    text = message + (f" ({detail})" if detail else "") + (f". Hint: {hint}" if hint else "")
    return text + (f" at character {position}" if position else "")


def _translate(exc: Exception, sql: str) -> DatabaseError:
    diag = getattr(exc, "diag", None)
    text = error_text(
        (getattr(diag, "message_primary", None) or str(exc)).strip(),
        getattr(diag, "message_detail", None),
        getattr(diag, "message_hint", None),
        getattr(diag, "statement_position", None),
    )
    return DatabaseError(text, statement=sql, sqlstate=getattr(exc, "sqlstate", None))
