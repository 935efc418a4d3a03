"""The ArangoDB adapter: python-arango connections, the operation executor, versions, lock.

URLs: ``arangodb://user:pass@host:8529/db`` (HTTP) and ``arangodbs://...``
(HTTPS); the port defaults to 8529 and the database to ``_system``. The
driver, ``python-arango`` (``pip install 'whimbrel[arango]'``), is imported
in ``connect()`` only.

ArangoDB has no transactional DDL, so a failing migration leaves the
operations before it applied (``Capabilities(transactional_ddl=False)``);
the migrator journals each operation in ``<source>_progress`` and resumes as
on MySQL (``journal_path``). ``run_step(op)`` is the one execution point for
compiled operations (``whimbrel.dialects.arangodb``), handed over by the
migrator's executor: plain ones are sent as they are; ``SchemaChange`` and
``DropIndexByName`` are finished here with what the server holds;
``VersionWrite`` writes ``_migrations`` through the lock's transaction and
commits it, so each migration's version is durable before the next begins
(ArangoXEcto's per-migration lock). ``execute(aql)``/``query(aql)`` run AQL
(``repo().execute``/``repo().query``); ``native()`` is the python-arango
database (any other ``repo()`` attribute).

Example::

    adapter = ArangoAdapter("arangodb://root:pw@127.0.0.1:8529/app")
    with adapter:
        for op in ArangoDialect().compile(command):
            adapter.run_step(op, print)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from whimbrel.adapters.arangodb_versions import (
    ProgressJournal,
    VersionsCollection,
    VersionsLock,
    VersionWrite,
    versions_schema,
)
from whimbrel.adapters.base import Adapter, Capabilities, Settings, import_driver
from whimbrel.dialects.arangodb import (
    DEFAULT_MESSAGE,
    DUPLICATE_NAME,
    ArangoDialect,
    DropIndexByName,
    Operation,
    RestoreSchemaOp,
    SchemaChange,
)
from whimbrel.dsl.arango_objects import describe
from whimbrel.dsl.arango_schema import SchemaMergeError, apply_changes
from whimbrel.dsl.commands import Command
from whimbrel.errors import (
    ConfigError,
    DatabaseConnectionError,
    DatabaseError,
    IrreversibleMigrationError,
    MigrationFailedError,
    UnsupportedFeatureError,
)
from whimbrel.url import mask

NOT_FOUND, INDEX_NOT_FOUND = 1203, 1212
log = logging.getLogger("whimbrel")


def http_url(url: str) -> tuple[str, str, str, str]:
    """``(http(s)://host:port, database, user, password)`` of an ``arangodb(s)://`` URL.

    >>> http_url("arangodb://root:pw@db.local/app")
    ('http://db.local:8529', 'app', 'root', 'pw')
    """
    split = urlsplit(url)
    scheme = {"arangodb": "http", "arangodbs": "https"}.get(split.scheme.split("+")[0])
    if scheme is None or not split.hostname:
        raise ConfigError(
            f"ArangoDB URL {mask(url)!r} must look like arangodb://user:pass@host:8529/database "
            "(arangodbs:// for TLS)"
        )
    database = unquote(split.path.lstrip("/")) or "_system"
    user, password = unquote(split.username or "root"), unquote(split.password or "")
    return f"{scheme}://{split.hostname}:{split.port or 8529}", database, user, password


class ArangoAdapter(Adapter):
    """ArangoDB through python-arango: two connections (work and lock), as ArangoXEcto."""

    name: ClassVar[str] = "arangodb"
    schemes: ClassVar[tuple[str, ...]] = ("arangodb", "arangodbs")
    dialect_path: ClassVar[str] = "whimbrel.dialects.arangodb:ArangoDialect"
    capabilities: ClassVar[Capabilities] = Capabilities(
        transactional_ddl=False,
        session_lock=False,
        schemas=False,
        concurrent_index=True,
        checksums=False,
    )
    default_source: ClassVar[str] = "_migrations"
    journal_path: ClassVar[str] = "whimbrel.adapters.arangodb_versions:ProgressJournal"

    def __init__(self, url: str, settings: Settings | None = None):
        super().__init__(url, settings)
        self.hosts, self.db_name, self._user, self._password = http_url(url)
        self.db: Any = None
        self._lock_db: Any = None
        #: Schema rules read before ``alter``s, by capture key (see ``SchemaChange``).
        self.captured: dict[str, Any] = {}
        self._locks: dict[str, VersionsLock] = {}
        #: The versions collection last used (where captured schema rules are looked up).
        self.source = self.default_source
        self._clients: list[Any] = []

    # -- connection ---------------------------------------------------------------

    def _open(self) -> Any:
        from arango import ArangoClient

        # No request timeout: an index built over a large collection may take minutes.
        client = ArangoClient(hosts=self.hosts, request_timeout=None)
        self._clients.append(client)
        return client.db(self.db_name, username=self._user, password=self._password, verify=True)

    def connect(self) -> None:
        import_driver("arango", "arango", self.url)  # python-arango's module is ``arango``
        from arango.exceptions import ArangoError

        try:
            self.db = self._open()
        except (ArangoError, OSError) as exc:
            raise DatabaseConnectionError(
                f"cannot reach ArangoDB at {self.display_url}: {exc}; check that the server runs, "
                "that the database exists and that the user and password are right"
            ) from exc

    def close(self) -> None:
        for lock in self._locks.values():
            lock.abort()
        self._locks.clear()
        for client in self._clients:
            client.close()  # their HTTP sessions
        self._clients.clear()
        self.db = self._lock_db = None

    def database_name(self) -> str:
        return self.db_name

    def table_exists(self, name: str, prefix: str | None = None) -> bool:
        return bool(self.db.has_collection(name))

    # -- the execution point --------------------------------------------------------

    def execute(self, sql: str, params: Any = None) -> None:
        """Run AQL that returns nothing the migration needs (``repo().execute``)."""
        self.query(sql, params)

    def run_step(self, step: Any, emit: Callable[[Any], None] | None = None) -> None:
        """Run one typed step: an HTTP ``Operation`` or a ``VersionWrite``."""
        if isinstance(step, VersionWrite):
            self._write_version(step)
        elif isinstance(step, SchemaChange):
            self._schema_change(step)
        elif isinstance(step, RestoreSchemaOp):
            self._restore_schema(step)
        elif isinstance(step, DropIndexByName):
            self._drop_index(step)
        elif isinstance(step, Operation):
            self._send(step)
        else:
            super().run_step(step, emit or (lambda _: None))

    def native(self) -> Any:
        """The python-arango ``StandardDatabase`` (``repo().collection("users")`` ...)."""
        return self.db

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run AQL with bind variables; each result row as a 1-tuple."""
        from arango.exceptions import AQLQueryExecuteError

        try:
            cursor = self.db.aql.execute(sql, bind_vars=dict(params or {}))
        except AQLQueryExecuteError as exc:
            raise self._error(f"AQL {' '.join(sql.split())!r}", exc) from exc
        return [(row,) for row in cursor]

    def begin(self, upcoming: Any = ()) -> None:
        """Nothing to open: ArangoDB has no transactional DDL (see ``Capabilities``)."""

    def commit(self) -> None:
        """Nothing to commit: each operation took effect when it ran."""

    def rollback(self) -> None:
        """Nothing can be rolled back; the migrator reports what completed."""

    def request(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        """Send one request through python-arango's connection; returns its Response."""
        from arango.request import Request

        request = Request(method=method.lower(), endpoint=path, params=params, data=body)
        return self.db.conn.send_request(request)

    def _send(self, op: Operation) -> Any:
        if op.skip_if is not None and self.request("GET", op.skip_if).is_success:
            return None
        response = self.request(op.method, op.path, op.body, op.params)
        if response.is_success or response.error_code in op.ignore:
            return response.body
        raise self._response_error(op, response)

    def _response_error(self, op: Operation, response: Any) -> DatabaseError:
        command = f"{op.command}: " if op.command else ""
        return DatabaseError(
            f"ArangoDB refused {command}{op.preview}: [HTTP {response.status_code}]"
            f"[ERR {response.error_code}] {response.error_message}",
            statement=op.preview,
        )

    def _error(self, what: str, exc: Any) -> DatabaseError:
        return DatabaseError(
            f"ArangoDB refused {what}: [HTTP {exc.http_code}][ERR {exc.error_code}] "
            f"{exc.error_message}",
            statement=what,
        )

    def run_commands(
        self,
        commands: Sequence[Command],
        version: int | None = None,
        journal: ProgressJournal | None = None,
    ) -> list[str]:
        """Compile and run recorded commands in order; returns the operations run.

        A failure raises ``MigrationFailedError`` naming the command and the
        operation, listing the operations that completed (they stay applied:
        ArangoDB has no transactional DDL) and running nothing after it. With
        a ``journal``, operations that a failed earlier run completed are
        skipped and each new one is recorded, so a re-run resumes.
        """
        dialect, done = ArangoDialect(), list[str]()
        for command in commands:
            for op in dialect.compile(command):
                if journal is not None and journal.already_ran(op.journal_key()):
                    continue
                try:
                    self.run_step(op)
                except DatabaseError as exc:
                    raise MigrationFailedError(
                        f"{describe(command)} failed: {exc}; completed before it: "
                        f"{len(done)} operation(s){''.join(chr(10) + '  ' + d for d in done)}",
                        version=version,
                        statement=str(op),
                        statements_run=done,
                        rolled_back=False,
                    ) from exc
                done.append(str(op))
                if journal is not None:
                    journal.record(op.journal_key())
        return done

    def journal(self, version: int, direction: str, source: str | None = None) -> ProgressJournal:
        """The progress journal of ``version`` run in ``direction`` (opened, read)."""
        return ProgressJournal.open(self, None, source or self.default_source, version, direction)

    # -- operations finished at run time --------------------------------------------------

    def _schema_change(self, op: SchemaChange) -> None:
        props = self._get(op, f"/_api/collection/{op.collection}/properties")
        current = props.get("schema")
        self.captured.setdefault(op.capture_key, current)
        try:
            rule = apply_changes(current["rule"] if current else None, op.changes)
        except SchemaMergeError as exc:
            raise DatabaseError(f"{op}: {exc}", statement=op.request_text()) from exc
        level = op.level or (current or {}).get("level") or "strict"
        default = DEFAULT_MESSAGE.format(name=op.collection)
        message = op.message or (current or {}).get("message") or default
        schema = {"rule": rule, "level": level, "message": message}
        response = self.request("PUT", op.path, {"schema": schema})
        if not response.is_success:
            raise self._response_error(op, response)

    def _restore_schema(self, op: RestoreSchemaOp) -> None:
        if op.capture_key not in self.captured:
            # Kept with the version when the alter ran (``whimbrel_captured``).
            self.captured |= self._captured_with_versions(op.capture_key)
        if op.capture_key not in self.captured:
            raise IrreversibleMigrationError(
                f"cannot {op.what}: the rule it had was not recorded when "
                "the migration ran (another tool applied it, or it ran with --dry-run); "
                "define up() and down() to restore it by hand"
            )
        response = self.request("PUT", op.path, {"schema": self.captured[op.capture_key]})
        if not response.is_success:
            raise self._response_error(op, response)

    def _drop_index(self, op: DropIndexByName) -> None:
        response = self.request("GET", "/_api/index", params={"collection": op.collection})
        if not response.is_success:
            if op.if_exists and response.error_code == NOT_FOUND:
                return
            raise self._response_error(op, response)
        ids = [i["id"] for i in response.body["indexes"] if i.get("name") == op.index_name]
        if not ids:
            if op.if_exists:
                return
            names = ", ".join(i.get("name", "?") for i in response.body["indexes"])
            raise DatabaseError(
                f"{op}: collection {op.collection!r} has no index named {op.index_name!r} "
                f"(it has: {names}); name the index as it was created, or use drop_if_exists()",
                statement=op.request_text(),
            )
        # The index list reports "<collection>/<number>" ids; the DELETE path takes that handle.
        drop = self.request("DELETE", f"/_api/index/{ids[0]}")
        if not drop.is_success:
            raise self._response_error(op, drop)

    def _get(self, op: Operation, path: str) -> Any:
        response = self.request("GET", path)
        if not response.is_success:
            raise self._response_error(op, response)
        return response.body

    # -- versions querier and the lock (``whimbrel.adapters.arangodb_versions``) --------

    def versions(self, source: str | None = None) -> VersionsCollection:
        return VersionsCollection(self.db, source or self.default_source)

    def ensure_versions(self, source: str | None = None) -> None:
        self.versions(source).ensure()

    def applied_versions(self, prefix: str | None, source: str) -> list[int]:
        """Applied versions; inside the lock, as the lock's transaction sees them."""
        self._no_prefix(prefix)
        self.source = source
        lock = self._locks.get(source)
        if lock is not None:
            return lock.applied()
        versions = self.versions(source)
        return versions.applied() if versions.exists() else []

    def versions_setup(self, prefix: str | None, source: str) -> list[Any]:
        """Creating ``_migrations`` as ArangoXEcto does (system collection, its schema)."""
        self._no_prefix(prefix)
        if self.versions(source).exists():
            return []
        body = {"name": source, "type": 2, "schema": versions_schema(source)}
        if source.startswith("_"):
            body["isSystem"] = True
        what = f'create the versions collection "{source}"'
        return [Operation.of("POST", "/_api/collection", what, body, ignore=(DUPLICATE_NAME,))]

    def version_record(
        self, prefix: str | None, source: str, version: int, direction: str
    ) -> VersionWrite:
        self._no_prefix(prefix)
        return VersionWrite.of(source, version, direction)

    def _write_version(self, step: VersionWrite) -> None:
        """Write the version through the lock's transaction and commit it (then re-take the
        lock), so it is durable before the journal is cleared and the next migration runs."""
        lock = self._locks.get(step.source)
        if step.direction == "up":
            self.insert_version(step.version, step.source)
        else:
            self.delete_version(step.version, step.source)
        if lock is not None:
            lock.commit()
            self._locks.pop(step.source, None)
            self.acquire_lock(None, step.source)

    def insert_version(self, version: int, source: str | None = None) -> None:
        """Record ``version`` (with the schema rules captured while it ran)."""
        lock = self._locks.get(source or self.default_source)
        if lock is not None:
            lock.insert(version, dict(self.captured))
        else:  # migration_lock = false: written directly
            self.versions(source).insert(version, dict(self.captured))
        self.captured.clear()

    def delete_version(self, version: int, source: str | None = None) -> None:
        lock = self._locks.get(source or self.default_source)
        if lock is not None:
            lock.delete(version)
        else:
            self.versions(source).delete(version)
        self.captured.clear()

    def load_captured(self, version: int, source: str | None = None) -> None:
        """Before rolling ``version`` back: the rules its ``alter``s replaced."""
        self.captured = self.versions(source).captured(version)

    def _captured_with_versions(self, key: str) -> dict[str, Any]:
        lock = self._locks.get(self.source)
        if lock is not None:
            docs = lock.documents()
        else:
            versions = self.versions(self.source)
            docs = versions.documents() if versions.exists() else []
        for doc in docs:
            rules = doc.get("whimbrel_captured") or {}
            if key in rules:
                return {key: rules[key]}
        return {}

    def _no_prefix(self, prefix: str | None) -> None:
        if prefix is not None:
            raise UnsupportedFeatureError(
                f"ArangoDB has no schemas: prefix {prefix!r} cannot hold a versions collection; "
                "use one database per tenant"
            )

    def acquire_lock(self, prefix: str | None, source: str) -> None:
        """Take the exclusive lock from a second connection, polling as ``Settings`` allow."""
        self._no_prefix(prefix)
        self.source = source
        self.ensure_versions(source)
        if self._lock_db is None:
            self._lock_db = self._open()
        lock = VersionsLock(self._lock_db, self.versions(source))
        self.poll_lock(lock.try_acquire, f"{self.db_name}/{source}")
        self._locks[source] = lock

    def release_lock(self, prefix: str | None, source: str, commit: bool = True) -> None:
        """Commit (keeping the version writes) or abort the lock's transaction."""
        lock = self._locks.pop(source, None)
        if lock is None:
            return
        if commit:
            lock.commit()
        else:
            lock.abort()
