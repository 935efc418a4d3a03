"""The ArangoDB versions collection and migration lock, in ArangoXEcto's layout.

ArangoXEcto keeps applied versions in the system collection ``_migrations``
(``migration_source``), one document per version::

    {"_key": "<server generated>", "version": 20240101120000,
     "inserted_at": "2024-01-01T12:00:00"}

created ``isSystem: true`` with a strict schema rule for those two fields
(``ArangoXEcto.Migration.SchemaMigration``), so a database migrated by
ArangoXEcto is taken over as it is and the other way round. whimbrel adds
one attribute only when it has something to keep: ``whimbrel_captured``,
the schema rules read before an ``alter`` (what its rollback restores).

The lock is ArangoXEcto's: a stream transaction holding an **exclusive**
lock on the versions collection, begun from a second connection. A second
migrator's ``begin`` waits for it (error 18, lock timeout, when
``lockTimeout`` runs out). While it is held, version writes go through that
transaction (an exclusive lock blocks every other writer, including our own
main connection) and become visible when it commits.

Example::

    versions = VersionsCollection(db, "_migrations")
    versions.ensure()
    lock = VersionsLock(lock_db, versions)
    while not lock.try_acquire():
        ...  # another migrator holds it: wait and try again
    if 20240101120000 not in lock.applied():
        ...  # run the migration on the main connection
        lock.insert(20240101120000)
    lock.commit()
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from whimbrel.dsl.arango_schema import NAIVE_DATETIME

#: ArangoDB error numbers: duplicate name, lock timeout.
DUPLICATE_NAME, LOCK_TIMEOUT = 1207, 18
CAPTURED = "whimbrel_captured"
LIST_QUERY = "FOR m IN @@source RETURN m"


def versions_schema(source: str) -> dict[str, Any]:
    """The rule ArangoXEcto gives ``_migrations``: a nullable number and a naive datetime."""
    return {
        "rule": {
            "properties": {
                "version": {"type": ["number", "null"]},
                "inserted_at": {"type": ["string", "null"], "pattern": NAIVE_DATETIME},
            }
        },
        "level": "strict",
        "message": f"the document does not match the schema of collection {source}",
    }


def now_naive() -> str:
    """UTC now as ArangoXEcto stores ``inserted_at`` (``NaiveDateTime``, seconds)."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()


def _as_version(value: Any) -> int | None:
    """ArangoXEcto may store versions as numbers or (cast) strings; ignore anything else."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class VersionsCollection:
    """Create and read the versions collection from the main connection."""

    def __init__(self, db: Any, source: str):
        self.db, self.source = db, source

    def exists(self) -> bool:
        return bool(self.db.has_collection(self.source))

    def ensure(self) -> None:
        """Create it (system collection, ArangoXEcto's schema) unless it exists."""
        from arango.exceptions import CollectionCreateError

        try:
            self.db.create_collection(
                self.source, system=self.source.startswith("_"), schema=versions_schema(self.source)
            )
        except CollectionCreateError as exc:
            if exc.error_code != DUPLICATE_NAME:
                raise

    def documents(self, executor: Any = None) -> list[dict[str, Any]]:
        db = executor or self.db
        cursor = db.aql.execute(LIST_QUERY, bind_vars={"@source": self.source})
        return list(cursor)

    def applied(self, executor: Any = None) -> list[int]:
        found = (_as_version(d.get("version")) for d in self.documents(executor))
        return sorted({v for v in found if v is not None})

    def captured(self, version: int) -> dict[str, Any]:
        """The schema rules kept when ``version`` ran (for restoring them on rollback)."""
        merged: dict[str, Any] = {}
        for doc in self.documents():
            if _as_version(doc.get("version")) == version:
                merged |= doc.get(CAPTURED) or {}
        return merged


class VersionsLock:
    """The exclusive stream transaction on the versions collection (second connection)."""

    def __init__(self, lock_db: Any, versions: VersionsCollection):
        self.lock_db, self.versions = lock_db, versions
        self.trx: Any = None

    def try_acquire(self, lock_timeout: int = 1) -> bool:
        """Begin the exclusive transaction; False when another holds it past ``lock_timeout``."""
        from arango.exceptions import TransactionInitError

        try:
            self.trx = self.lock_db.begin_transaction(
                exclusive=[self.versions.source], lock_timeout=lock_timeout
            )
        except TransactionInitError as exc:
            if exc.error_code == LOCK_TIMEOUT:
                return False
            raise
        return True

    @property
    def held(self) -> bool:
        return self.trx is not None

    def applied(self) -> list[int]:
        """The versions as the lock holder sees them (read inside the transaction)."""
        return self.versions.applied(self._trx())

    def insert(self, version: int, captured: dict[str, Any] | None = None) -> None:
        doc: dict[str, Any] = {"version": int(version), "inserted_at": now_naive()}
        if captured:
            doc[CAPTURED] = captured
        self._trx().collection(self.versions.source).insert(doc)

    def delete(self, version: int) -> None:
        coll = self._trx().collection(self.versions.source)
        for doc in self.versions.documents(self._trx()):
            if _as_version(doc.get("version")) == version:
                coll.delete(doc["_key"])

    def commit(self) -> None:
        trx, self.trx = self._trx(), None
        trx.commit_transaction()

    def abort(self) -> None:
        trx, self.trx = self.trx, None
        if trx is not None:
            trx.abort_transaction()

    def _trx(self) -> Any:
        if self.trx is None:
            raise RuntimeError("the ArangoDB migration lock is not held: call try_acquire() first")
        return self.trx
