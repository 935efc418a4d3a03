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
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from whimbrel.dialects.steps import AdapterStep
from whimbrel.dsl.arango_schema import NAIVE_DATETIME
from whimbrel.errors import MigrationFailedError

log = logging.getLogger("whimbrel")

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


def version_document(version: int, captured: dict[str, Any] | None) -> dict[str, Any]:
    """ArangoXEcto's document, plus the captured schema rules when there are any."""
    doc: dict[str, Any] = {"version": int(version), "inserted_at": now_naive()}
    if captured:
        doc[CAPTURED] = captured
    return doc


def _as_version(value: Any) -> int | None:
    """ArangoXEcto may store versions as numbers or (cast) strings; ignore anything else."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class VersionWrite(AdapterStep):
    """Record (up) or remove (down) a version in the versions collection, through the lock."""

    source: str = "_migrations"
    version: int = 0
    direction: str = "up"
    terminator: ClassVar[str] = ""

    @classmethod
    def of(cls, source: str, version: int, direction: str) -> VersionWrite:
        if direction == "up":
            line = f"POST /_api/document/{source}  # record version {version}"
        else:
            line = f"DELETE /_api/document/{source}/<key of {version}>  # forget version {version}"
        return cls(line, source, int(version), direction)


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

    def insert(self, version: int, captured: dict[str, Any] | None = None) -> None:
        """Without the lock (``migration_lock = false``): write from the main connection."""
        self.db.collection(self.source).insert(version_document(version, captured))

    def delete(self, version: int) -> None:
        coll = self.db.collection(self.source)
        for doc in self.documents():
            if _as_version(doc.get("version")) == version:
                coll.delete(doc["_key"])

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

    def documents(self) -> list[dict[str, Any]]:
        with self._guard:
            return self.versions.documents(self._trx())

    def insert(self, version: int, captured: dict[str, Any] | None = None) -> None:
        with self._guard:
            self._trx().collection(self.versions.source).insert(version_document(version, captured))

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

    ArangoDB has no transactional DDL: like MySQL (``whimbrel.migrator.journal``,
    whose interface this shares: ``open``, ``already_ran``, ``record``,
    ``finish``, ``tidy``) each completed operation is recorded, here as a
    document of ``<source>_progress`` (``version, direction, step, hash,
    operation, done_at``). A re-run skips the operations recorded with the same
    hash and refuses when an earlier one changed; ``finish`` writes the version
    (committed through the lock) and then clears the migration's documents. The
    key hashed is the whole request (``Operation.request_text()``), body
    included, not only the readable line.
    """

    def __init__(self, db: Any, source: str, version: int, direction: str):
        self.db, self.table = db, f"{source}{SUFFIX}"
        self.version, self.direction = int(version), direction
        self.done: list[dict[str, Any]] = []
        self.position = 0

    @classmethod
    def open(
        cls, adapter: Any, prefix: str | None, source: str, version: int, direction: str
    ) -> ProgressJournal:
        """Create the collection if needed and read what an earlier attempt completed."""
        from arango.exceptions import CollectionCreateError

        journal = cls(adapter.db, source, version, direction)
        try:
            journal.db.create_collection(journal.table, system=journal.table.startswith("_"))
        except CollectionCreateError as exc:
            if exc.error_code != DUPLICATE_NAME:
                raise
        docs = journal._mine(None)
        other = [d for d in docs if d.get("direction") != direction]
        for doc in other:  # running one direction makes the other's leftovers stale
            journal.db.collection(journal.table).delete(doc["_key"])
        journal.done = sorted((d for d in docs if d not in other), key=lambda d: d["step"])
        if journal.done:
            log.info(
                "== %s (%s) failed part-way before: %d operation(s) ran; resuming after them",
                version,
                direction,
                len(journal.done),
            )
        return journal

    def _mine(self, direction: str | None) -> list[dict[str, Any]]:
        query = "FOR m IN @@source FILTER m.version == @version RETURN m"
        docs = self.db.aql.execute(
            query, bind_vars={"@source": self.table, "version": self.version}
        )
        return [d for d in docs if direction is None or d.get("direction") == direction]

    def already_ran(self, key: str) -> bool:
        """True (and moves on) when ``key`` is the next recorded step; refuses a changed file."""
        if self.position >= len(self.done):
            return False
        recorded = self.done[self.position]
        if recorded["hash"] != op_hash(key):
            raise self._changed(
                f"operation {self.position + 1} ran as\n    {recorded['operation']}\n  but is "
                f"now\n    {key}"
            )
        self.position += 1
        log.info(
            "   skipping operation %d, completed by the earlier attempt: %s", self.position, key
        )
        return True

    def record(self, key: str) -> None:
        doc = {
            "version": self.version,
            "direction": self.direction,
            "step": self.position,
            "hash": op_hash(key),
            "operation": key,
            "done_at": now_naive(),
        }
        self.db.collection(self.table).insert(doc)
        self.done.append(doc)
        self.position += 1

    def finish(self, bookkeeping: Callable[[], None]) -> None:
        """Write the version (durable once the lock commits it), then clear the journal."""
        if self.position < len(self.done):
            missing = "\n    ".join(d["operation"] for d in self.done[self.position :])
            raise self._changed(
                f"it now has {self.position} operation(s), but these also ran before:\n    "
                + missing
            )
        bookkeeping()
        self.clear()

    def clear(self) -> None:
        coll = self.db.collection(self.table)
        for doc in self._mine(self.direction):
            coll.delete(doc["_key"])

    def forget_if_empty(self) -> None:
        """After a failure: drop the journal collection if nothing at all was journaled
        (the SQL journal's counterpart), so a failed first operation leaves no trace."""
        from arango.exceptions import ArangoError

        try:
            if self.db.has_collection(self.table) and self.db.collection(self.table).count() == 0:
                self.db.delete_collection(self.table, system=self.table.startswith("_"))
        except ArangoError:
            pass  # the failure itself is what gets reported

    @property
    def repair(self) -> str:
        """The AQL that forgets this migration's progress."""
        return (
            f"FOR m IN {self.table} FILTER m.version == {self.version} AND "
            f'm.direction == "{self.direction}" REMOVE m IN {self.table}'
        )

    def _changed(self, detail: str) -> MigrationFailedError:
        ran = [d["operation"] for d in self.done]
        listed = "".join(f"\n    {n}. {op}" for n, op in enumerate(ran, 1))
        return MigrationFailedError(
            f"migration {self.version} ({self.direction}) changed since an earlier attempt "
            f"failed part-way: {detail}\n  These operations ran then and stay applied "
            f"(ArangoDB has no transactional DDL):{listed}\n  Either restore the migration "
            "up to the operation that failed, or undo the operations above by hand and forget "
            f"the attempt with the AQL: {self.repair}; then run migrate again.",
            version=self.version,
            statements_run=ran,
            rolled_back=False,
        )

    @staticmethod
    def tidy(adapter: Any, prefix: str | None, source: str) -> None:
        """Drop the journal collection when no migration is half-done."""
        name = f"{source}{SUFFIX}"
        db = adapter.db
        if db is not None and db.has_collection(name) and db.collection(name).count() == 0:
            db.delete_collection(name, system=name.startswith("_"))


SUFFIX = "_progress"


def op_hash(key: str) -> str:
    """SHA-256 of the full request text of an operation (``Operation.journal_key()``)."""
    return hashlib.sha256(key.encode()).hexdigest()
