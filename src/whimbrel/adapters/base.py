"""The adapter contract: the small surface the migrator needs from a database.

An adapter connects, runs statements, opens and closes transactions, holds
the migration lock, and translates its driver's errors into
``whimbrel.errors``. What differs between databases is declared in
``Capabilities`` rather than tested by URL anywhere else. Drivers are
imported inside ``connect()`` so ``import whimbrel`` needs none of them.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from whimbrel.dialects.base import Dialect
from whimbrel.url import mask


@dataclass(frozen=True)
class Capabilities:
    """What a database can do, as flags the migrator and the tests consult.

    - ``transactional_ddl``: DDL can be rolled back, so a migration and its
      version row commit or vanish together.
    - ``session_lock``: the migration lock is held by the session across
      transactions (advisory lock, GET_LOCK); without it the lock is the
      migration's own write transaction and versions are re-read inside it.
    - ``schemas``: prefixes are schemas that can be created (tenants).
    """

    transactional_ddl: bool = True
    session_lock: bool = True
    schemas: bool = True
    concurrent_index: bool = False


@dataclass(frozen=True)
class Settings:
    """Connection-level settings from the configuration."""

    lock_timeout: str | None = None
    statement_timeout: str | None = None
    #: Seconds to wait for the migration lock; None waits as long as it takes.
    lock_wait: float | None = None
    lock_poll_interval: float = 0.1


class Adapter(ABC):
    """Base of every database adapter; see ``PostgresAdapter`` for a full one."""

    schemes: ClassVar[tuple[str, ...]] = ()
    dialect_class: ClassVar[type[Dialect]] = Dialect
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, url: str, settings: Settings | None = None):
        self.url = url
        self.settings = settings or Settings()

    @property
    def display_url(self) -> str:
        return mask(self.url)

    def dialect(self, prefix: str | None = None) -> Dialect:
        return self.dialect_class(prefix)

    # -- connection ---------------------------------------------------------------

    @abstractmethod
    def connect(self) -> None:
        """Open the connection; raises ``DatabaseConnectionError`` with the masked URL."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def execute(self, sql: str, params: Any = None) -> None:
        """Run one statement (or a script the driver accepts as one call)."""

    @abstractmethod
    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    # -- catalog and lock -----------------------------------------------------------

    @abstractmethod
    def table_exists(self, name: str, prefix: str | None) -> bool: ...

    @abstractmethod
    def database_name(self) -> str: ...

    def acquire_lock(self, prefix: str | None, source: str) -> None:
        """Take the migration lock for ``prefix``/``source`` (no-op without a session lock)."""

    def release_lock(self, prefix: str | None, source: str) -> None:
        """Give the migration lock back."""

    @contextmanager
    def migration_lock(self, prefix: str | None, source: str) -> Iterator[None]:
        """Hold the migration lock for the block."""
        self.acquire_lock(prefix, source)
        try:
            yield
        finally:
            self.release_lock(prefix, source)

    def lock_name(self, prefix: str | None, source: str) -> str:
        return f"whimbrel:{self.database_name()}:{prefix or ''}:{source}"

    @staticmethod
    def lock_key(name: str) -> int:
        """A stable signed 64-bit key for a lock name (for ``pg_advisory_lock``)."""
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def __enter__(self) -> Adapter:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
