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
import threading
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
    """The exclusive stream transaction on the versions collection (second connection).

    A server ends a stream transaction left idle for 60 s (stream
    transactions page: ``--transaction.streaming-idle-timeout``), and an
    index build can take longer, so while the lock is held a heartbeat posts
    a count of the collection into the transaction every ``heartbeat``
    seconds: "posting an operation into a non-expired Stream Transaction
    resets the transaction's timeout".
    """

    def __init__(self, lock_db: Any, versions: VersionsCollection, heartbeat: float = 20.0):
        self.lock_db, self.versions = lock_db, versions
        self.trx: Any = None
        self.heartbeat, self.beats = heartbeat, 0
        self._guard = threading.Lock()  # one request at a time on the lock connection
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        self._stop.clear()
        self._thread = threading.Thread(target=self._keep_alive, daemon=True)
        self._thread.start()
        return True

    def _keep_alive(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with self._guard:
                if self.trx is None:
                    return
                self.trx.collection(self.versions.source).count()
                self.beats += 1

    def _end(self) -> Any:
        self._stop.set()
        with self._guard:
            trx, self.trx = self.trx, None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return trx

    @property
    def held(self) -> bool:
        return self.trx is not None

    def applied(self) -> list[int]:
        """The versions as the lock holder sees them (read inside the transaction)."""
        with self._guard:
            return self.versions.applied(self._trx())

    def insert(self, version: int, captured: dict[str, Any] | None = None) -> None:
        doc: dict[str, Any] = {"version": int(version), "inserted_at": now_naive()}
        if captured:
            doc[CAPTURED] = captured
        with self._guard:
            self._trx().collection(self.versions.source).insert(doc)

    def delete(self, version: int) -> None:
        with self._guard:
            coll = self._trx().collection(self.versions.source)
            for doc in self.versions.documents(self._trx()):
                if _as_version(doc.get("version")) == version:
                    coll.delete(doc["_key"])

    def commit(self) -> None:
        self._trx()
        self._end().commit_transaction()

    def abort(self) -> None:
        trx = self._end()
        if trx is not None:
            trx.abort_transaction()

    def _trx(self) -> Any:
        if self.trx is None:
            raise RuntimeError("the ArangoDB migration lock is not held: call try_acquire() first")
        return self.trx


class ProgressJournal:
    """Operations of a running migration, so a failed one resumes where it stopped.

    ArangoDB has no transactional DDL: like MySQL (``whimbrel.migrator.journal``)
    each completed operation is recorded, here as a document of
    ``<source>_progress`` (``version, direction, step, hash, operation,
    done_at``). A re-run skips the operations recorded with the same hash and
    refuses when an earlier one changed; ``clear()`` runs once the version is
    recorded. The hash covers the whole request (``request_text()``), body
    included, not only the readable line.
    """

    def __init__(self, db: Any, source: str, version: int, direction: str):
        self.db, self.name = db, f"{source}_progress"
        self.version, self.direction = int(version), direction
        self.done: list[dict[str, Any]] = []
        self.position = 0

    def open(self) -> ProgressJournal:
        from arango.exceptions import CollectionCreateError

        try:
            self.db.create_collection(self.name, system=self.name.startswith("_"))
        except CollectionCreateError as exc:
            if exc.error_code != DUPLICATE_NAME:
                raise
        query = "FOR m IN @@source FILTER m.version == @version RETURN m"
        docs = self.db.aql.execute(query, bind_vars={"@source": self.name, "version": self.version})
        mine = [d for d in docs if d.get("direction") == self.direction]
        self.done = sorted(mine, key=lambda d: d["step"])
        return self

    def already_ran(self, op: Any) -> bool:
        """True (and moves on) when ``op`` is the next recorded step; refuses a changed file."""
        if self.position >= len(self.done):
            return False
        recorded = self.done[self.position]
        if recorded["hash"] != op_hash(op):
            raise ValueError(
                f"step {self.position + 1} of version {self.version} ran as "
                f"{recorded['operation']!r} but the migration now has {str(op)!r}: restore the "
                "file as it was, or undo what ran and delete the version's documents in "
                f"{self.name}"
            )
        self.position += 1
        return True

    def record(self, op: Any) -> None:
        doc = {
            "version": self.version,
            "direction": self.direction,
            "step": self.position,
            "hash": op_hash(op),
            "operation": str(op),
            "done_at": now_naive(),
        }
        self.db.collection(self.name).insert(doc)
        self.done.append(doc)
        self.position += 1

    def clear(self) -> None:
        coll = self.db.collection(self.name)
        for doc in self.db.aql.execute(
            "FOR m IN @@source FILTER m.version == @version RETURN m",
            bind_vars={"@source": self.name, "version": self.version},
        ):
            if doc.get("direction") == self.direction:
                coll.delete(doc["_key"])


def op_hash(op: Any) -> str:
    """SHA-256 of the full request (method, path, body) of a compiled operation."""
    import hashlib

    text = op.request_text() if hasattr(op, "request_text") else " ".join(str(op).split())
    return hashlib.sha256(text.encode()).hexdigest()
