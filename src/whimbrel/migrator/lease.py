"""``migration_lock = "table"``: the migration lock as a lease row, for connection poolers.

whimbrel's usual lock is held by the database session (PostgreSQL's
advisory lock, MySQL's ``GET_LOCK``). Behind PgBouncer in transaction pooling
mode, or any pooler that hands each transaction a different server
connection, a session lock is taken on one server connection and "released"
on another, so it protects nothing. The lease lock keeps the lock in a table
instead, ``<migration_source>_lock(name, holder, expires_at)``, where every
statement is a short transaction of its own:

- to take it, a process deletes the row if its lease has expired, then
  inserts its own (``name`` is the primary key: exactly one insert wins),
  polling with jitter like the session lock;
- while it holds it, a thread on a second connection renews ``expires_at``
  every ``TTL / 3`` seconds, so a long migration (a concurrent index build)
  keeps it;
- on the way out it deletes its row. A holder that died stops renewing, and
  its lease expires after ``TTL`` seconds, when the next process takes over.

Times are the server's own clock (``now()``/``UTC_TIMESTAMP()``), so clients
with skewed clocks agree. Use it when migrations must go through a pooler;
connect directly (or through a session-mode pool) when you can, since the
session lock is released at once when a holder dies, the lease only after
its TTL.

Example::

    with LeaseLock(adapter, url, settings).held(None, "schema_migrations"):
        ...  # migrate
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from whimbrel.adapters.base import Adapter, Settings
from whimbrel.dialects.quoting import quote
from whimbrel.errors import ConfigError, DatabaseError

log = logging.getLogger("whimbrel")

#: Seconds a lease lasts without renewal.
TTL = 30.0
SUFFIX = "_lock"


class LeaseLock:
    """A lease row in ``<source>_lock`` that the holder renews from a second connection."""

    def __init__(self, adapter: Adapter, settings: Settings, ttl: float = TTL):
        if adapter.name not in ("postgresql", "mysql"):
            raise ConfigError(
                f'migration_lock = "table" is for PostgreSQL and MySQL/MariaDB behind a pooler; '
                f"{adapter.name} has its own lock: set migration_lock = true"
            )
        self.adapter = adapter
        self.settings = settings
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()

    def _table(self, prefix: str | None, source: str) -> str:
        return self.adapter.versions_table(prefix, source + SUFFIX)

    def _until(self, seconds: float) -> str:
        if self.adapter.name == "mysql":
            return f"UTC_TIMESTAMP(3) + INTERVAL {int(seconds * 1_000_000)} MICROSECOND"
        return f"(now() AT TIME ZONE 'utc') + interval '{seconds:g} seconds'"

    @property
    def _now(self) -> str:
        return "UTC_TIMESTAMP(3)" if self.adapter.name == "mysql" else "(now() AT TIME ZONE 'utc')"

    def setup_sql(self, prefix: str | None, source: str) -> str:
        q = self.adapter.quote_char
        n, h, e = (quote(c, q) for c in ("name", "holder", "expires_at"))
        stamp = "datetime(3)" if self.adapter.name == "mysql" else "timestamp(3)"
        return (
            f"CREATE TABLE IF NOT EXISTS {self._table(prefix, source)} ({n} varchar(255) "
            f"PRIMARY KEY, {h} varchar(64) NOT NULL, {e} {stamp} NOT NULL)"
        )

    def try_take(self, prefix: str | None, source: str) -> bool:
        """Delete an expired lease, then try to insert ours; True when it is ours."""
        a, q = self.adapter, self.adapter.quote_char
        table, name = self._table(prefix, source), a.string_literal(a.lock_name(prefix, source))
        n, e = quote("name", q), quote("expires_at", q)
        a.execute(f"DELETE FROM {table} WHERE {n} = {name} AND {e} < {self._now}")
        try:
            a.execute(
                f"INSERT INTO {table} ({n}, {quote('holder', q)}, {e}) VALUES "
                f"({name}, {a.string_literal(self.token)}, {self._until(self.ttl)})"
            )
        except DatabaseError:
            return False  # the primary key: another process holds a live lease
        return True

    def _renew_sql(self, prefix: str | None, source: str) -> str:
        a, q = self.adapter, self.adapter.quote_char
        return (
            f"UPDATE {self._table(prefix, source)} SET {quote('expires_at', q)} = "
            f"{self._until(self.ttl)} WHERE {quote('holder', q)} = {a.string_literal(self.token)}"
        )

    def _release_sql(self, prefix: str | None, source: str) -> str:
        table, q = self._table(prefix, source), self.adapter.quote_char
        token = self.adapter.string_literal(self.token)
        return f"DELETE FROM {table} WHERE {quote('holder', q)} = {token}"

    @contextmanager
    def held(self, prefix: str | None, source: str) -> Iterator[None]:
        """Take the lease (polling), renew it in the background, give it back at the end."""
        try:
            self.adapter.execute(self.setup_sql(prefix, source))
        except DatabaseError:  # two first runs creating the table at once: one wins
            self.adapter.execute(self.setup_sql(prefix, source))
        name = self.adapter.lock_name(prefix, source)
        self.adapter.poll_lock(lambda: self.try_take(prefix, source), name)
        renewer = threading.Thread(
            target=self._renew, args=(self._renew_sql(prefix, source), name), daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            self._stop.set()
            renewer.join()
            self.adapter.execute(self._release_sql(prefix, source))

    def _renew(self, sql: str, name: str) -> None:
        """Renew the lease every TTL/3 seconds on a connection of its own."""
        from whimbrel.adapters import adapter_for

        other = adapter_for(self.adapter.url, Settings())
        try:
            other.connect()
            while not self._stop.wait(self.ttl / 3):
                other.execute(sql)
        except DatabaseError as exc:
            log.warning("could not renew the migration lease %r: %s", name, exc)
        finally:
            other.close()
