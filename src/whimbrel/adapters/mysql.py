"""MySQL and MariaDB adapter on PyMySQL (``pip install 'whimbrel[mysql]'``).

URLs: ``mysql://user:password@host:3306/database`` or ``mariadb://...``;
``?unix_socket=/path`` connects through a socket. PyMySQL is imported in
``connect()``, so ``import whimbrel`` works without it.

MySQL commits every DDL statement implicitly, so ``transactional_ddl`` is
False: a migration runs statement by statement and the migrator journals its
progress (``whimbrel.migrator.journal``) so that a failure says exactly what
ran and a re-run resumes after it. The versions table is Ecto's
(``version bigint PRIMARY KEY, inserted_at datetime``), with
``UTC_TIMESTAMP()`` for ``inserted_at``.

The migration lock is ``GET_LOCK(name, 0)``, polled like PostgreSQL's
advisory lock and held by the session across migrations; the name comes from
the database and the versions table (hashed when longer than MySQL's 64
characters) and ``RELEASE_LOCK`` gives it back. A session that dies releases
its locks with it.

The server's flavour (MySQL or MariaDB) is read once at connect time and
handed to the dialect, which stays pure (``MySQLDialect(flavor=...)``).
Prefixes are databases in MySQL; whimbrel does not create databases per
tenant, so ``schemas`` is False and a prefix is refused with the fix.

Network faults: PyMySQL's ``connect_timeout`` covers the TCP connect only, so
the greeting and authentication are bounded by a read timeout of the same
length (a server that accepts and never greets would hang us). After that the
read timeout is ``Settings.client_timeout`` (``statement_timeout`` plus a
margin; none without it), and keepalives tuned on the socket notice a vanished
peer. A statement given up on is ended on the server with ``KILL``, as on
Ctrl-C: MySQL's own limit (``max_execution_time``) covers SELECTs only.

Example::

    with MySQLAdapter("mysql://root@127.0.0.1/app") as db:
        db.flavor          # "mariadb" or "mysql"
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
from collections.abc import Sequence
from typing import Any

from whimbrel.adapters.base import (
    KEEPALIVE,
    Adapter,
    Capabilities,
    DatabaseConfig,
    import_driver,
    no_answer,
)
from whimbrel.config import seconds
from whimbrel.dialects.base import Dialect
from whimbrel.dialects.quoting import quote
from whimbrel.dialects.steps import Statement
from whimbrel.errors import ConfigError, DatabaseConnectionError, DatabaseError
from whimbrel.url import mask, server_parts

log = logging.getLogger("whimbrel")

#: MySQL refuses longer GET_LOCK names.
LOCK_NAME_MAX = 64
#: Oldest servers whose syntax the dialect targets (RENAME COLUMN, DROP CONSTRAINT).
MINIMUM = {"mysql": (8, 0, 19), "mariadb": (10, 5, 2)}


class MySQLAdapter(Adapter):
    name = "mysql"
    schemes = ("mysql", "mariadb")
    dialect_path = "whimbrel.dialects.mysql:MySQLDialect"
    quote_char = "`"
    now_utc = "UTC_TIMESTAMP()"
    version_columns = "bigint PRIMARY KEY, {inserted_at} datetime"
    progress_columns = (
        "{version} bigint NOT NULL, {direction} varchar(4) NOT NULL, {step} integer NOT NULL, "
        "{statement_hash} char(64) NOT NULL, {statement} mediumtext NOT NULL, {done_at} datetime, "
        "{session_id} bigint, PRIMARY KEY ({version}, {direction}, {step})"
    )
    capabilities = Capabilities(
        transactional_ddl=False, session_lock=True, schemas=False, concurrent_index=True
    )
    conn: Any = None
    #: "mysql" or "mariadb", read from the server at connect time.
    flavor: str | None = None
    server_version: str = ""

    def connect(self) -> None:
        pymysql = self._pymysql = import_driver("pymysql", "mysql", self.url)
        try:
            self.conn = self._connect()
        except pymysql.MySQLError as exc:
            raise DatabaseConnectionError(
                f"cannot connect to {self.display_url}: {mask(_reason(exc), self.url)}. Check "
                "that the server is running and the URL (host, port, user, database) is right"
                f" (connect_timeout {self.settings.connect_timeout:g}s)"
            ) from exc
        # From here on, reads wait as long as statement_timeout allows (private, but the
        # only handle PyMySQL has: it re-applies _read_timeout before every read).
        self.conn._read_timeout = self.conn._write_timeout = self.settings.client_timeout()
        self.server_version = str(self.query("SELECT VERSION()")[0][0])
        self.flavor = "mariadb" if "mariadb" in self.server_version.lower() else "mysql"
        self._check_version()
        self._apply_settings()

    def _connect(self) -> Any:
        """A connection whose whole handshake is bounded by ``connect_timeout``."""
        limit = self.settings.connect_timeout
        conn = self._pymysql.connect(
            **self._params(),
            autocommit=True,
            connect_timeout=limit,
            read_timeout=limit,
            write_timeout=limit,
        )
        _keepalive(conn._sock)
        return conn

    def _params(self) -> dict[str, Any]:
        parts = server_parts(self.url)  # refuses a bad host or port (ConfigError)
        if not parts.database:
            raise ConfigError(
                f"{self.display_url} names no database: write it as "
                "mysql://user:password@host:3306/database"
            )
        from pymysql.charset import charset_by_name  # connect() checked it is installed

        charset = parts.query.get("charset", "utf8mb4")
        if charset_by_name(charset) is None:
            raise ConfigError(
                f"{self.display_url}: unknown charset {charset!r}: use a MySQL character set "
                "such as utf8mb4 (the default; leave ?charset= out for it)"
            )
        return {
            "host": parts.host or "127.0.0.1",
            "port": parts.port or 3306,
            "user": parts.user or "root",
            "password": parts.password or "",
            "database": parts.database,
            "unix_socket": parts.query.get("unix_socket"),
            "charset": charset,
        }

    def _check_version(self) -> None:
        numbers = tuple(int(n) for n in re.findall(r"\d+", self.server_version)[:3])
        assert self.flavor is not None
        if numbers < MINIMUM[self.flavor]:
            log.warning(
                "%s %s is older than whimbrel's minimum %s: some DDL it writes may be refused",
                self.flavor,
                self.server_version,
                ".".join(map(str, MINIMUM[self.flavor])),
            )

    def _apply_settings(self) -> None:
        # lock_wait_timeout bounds the wait for metadata locks, which is what DDL waits on.
        if self.settings.lock_timeout is not None:
            wait = max(1, round(seconds(self.settings.lock_timeout, "lock_timeout")))
            self.execute(f"SET SESSION lock_wait_timeout = {wait}")
        if self.settings.statement_timeout is not None:
            limit = seconds(self.settings.statement_timeout, "statement_timeout")
            if self.flavor == "mariadb":
                self.execute(f"SET SESSION max_statement_time = {limit:g}")
            else:  # MySQL's limit covers SELECT statements only
                self.execute(f"SET SESSION max_execution_time = {round(limit * 1000)}")

    def dialect(self, prefix: str | None = None) -> Dialect:
        from whimbrel.dialects.mysql import MySQLDialect

        return MySQLDialect(prefix, flavor=self.flavor)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except self._pymysql.MySQLError:
                pass  # already gone; the server released the session's locks
            self.conn = None

    def execute(self, sql: str, params: Any = None) -> None:
        self._run(sql, params).close()

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        cursor = self._run(sql, params)
        try:
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def _run(self, sql: str, params: Any) -> Any:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params)
        except self._pymysql.MySQLError as exc:
            cursor.close()
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if _timed_out(exc) and self.settings.client_timeout() is not None:
                self._kill_session()  # the server would go on running it
                message = no_answer(self.settings.client_timeout() or 0, self.settings, self.url)
                raise DatabaseError(message, statement=sql, code=code) from exc
            raise DatabaseError(f"{_reason(exc)}", statement=sql, code=code) from exc
        except KeyboardInterrupt:
            self._kill_session()
            raise
        return cursor

    def _kill_session(self) -> None:
        """Ctrl-C mid-statement: end the session on the server as well.

        PyMySQL drops its socket, but the server would go on running the statement,
        and holding the session's migration lock, until the statement ends (hours,
        for a big ALTER TABLE). ``KILL`` from a second connection stops both, as
        psycopg cancels the query on Ctrl-C.
        """
        thread_id = self.conn.thread_id()
        try:
            killer = self._connect()
        except self._pymysql.MySQLError as exc:
            log.warning("could not stop session %s on the server: %s", thread_id, _reason(exc))
            return
        try:
            killer.cursor().execute(f"KILL {int(thread_id)}")
        except self._pymysql.MySQLError:
            pass  # the session had already ended
        finally:
            killer.close()

    def begin(self, upcoming: Sequence[Statement] = ()) -> None:
        # Only DML is transactional here: the journal's version row and cleanup use it.
        self.execute("START TRANSACTION")

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    def replace_row_sql(self, table: str, names: Sequence[str], values: Sequence[str]) -> str:
        """``REPLACE INTO``: one statement that replaces a row with the same key."""
        columns = ", ".join(quote(n, self.quote_char) for n in names)
        return f"REPLACE INTO {table} ({columns}) VALUES ({', '.join(values)})"

    def table_exists(self, name: str, prefix: str | None) -> bool:
        rows = self.query(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s",
            (prefix, name),
        )
        return bool(rows)

    def session_id(self) -> int | None:
        return int(self.conn.thread_id())

    def session_alive(self, session: int) -> bool:
        sql = "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s"
        return bool(self.query(sql, (session,)))

    def database_name(self) -> str:
        return str(self.query("SELECT DATABASE()")[0][0])

    def database_config(self) -> DatabaseConfig:
        """The URL's parts with the defaults ``connect()`` used (127.0.0.1:3306, root)."""
        params = self._params()
        return DatabaseConfig(
            "mysql",
            params["host"],
            int(params["port"]),
            params["database"],
            params["user"],
            params["password"] or None,
        )

    # -- the migration lock --------------------------------------------------------------

    def lock_name(self, prefix: str | None, source: str) -> str:
        name = super().lock_name(prefix, source)
        if len(name) <= LOCK_NAME_MAX:
            return name
        return "whimbrel:" + hashlib.blake2b(name.encode(), digest_size=16).hexdigest()

    def acquire_lock(self, prefix: str | None, source: str) -> None:
        name = self.lock_name(prefix, source)
        self.poll_lock(lambda: self.query("SELECT GET_LOCK(%s, 0)", (name,))[0][0] == 1, name)

    def release_lock(self, prefix: str | None, source: str) -> None:
        if self.conn is None or not self.conn.open:
            return  # the session, and with it the lock, is gone
        self.query("SELECT RELEASE_LOCK(%s)", (self.lock_name(prefix, source),))


def _timed_out(exc: Exception) -> bool:
    """PyMySQL's "Lost connection ... (timed out)": our read timeout, not the server."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return bool(args) and args[0] == 2013 and "timed out" in str(exc)


def _keepalive(sock: Any) -> None:
    """Tune the socket's keepalives (PyMySQL turns them on, at the system's 2-hour idle)."""
    if sock is None or not hasattr(socket, "TCP_KEEPIDLE"):  # a Unix socket; or not Linux
        return
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE["idle"])
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE["interval"])
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE["count"])


def _reason(exc: Exception) -> str:
    """``(1146, "Table 'x' doesn't exist")`` -> ``Table 'x' doesn't exist (MySQL error 1146)``."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        if not args[1]:  # PyMySQL's InterfaceError(0, ""): the socket is gone
            return "the connection to the server is closed"
        return f"{args[1]} (MySQL error {args[0]})"
    return str(exc).strip() or type(exc).__name__
