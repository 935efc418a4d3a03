"""Executors: the single place where a migration's SQL is run, or printed.

The runner hands every statement, data change, transaction boundary and
version row to an executor; the only thing it asks is ``live`` (whether the
database is read, so a version applied meanwhile by another process can be
noticed):

- ``Executor`` runs them on the adapter. A ``CatalogStep`` (a statement that
  needs the live catalog, such as SQLite's table rebuild) goes to
  ``Adapter.run_step``, which expands it and sends each resulting statement
  back through ``emit``; any other typed step (ArangoDB's HTTP
  ``Operation``s and version writes) goes to ``Adapter.run_step`` as one
  step. Where DDL is not transactional (MySQL, ArangoDB) it also consults and
  writes the migration's progress journal (the adapter's ``journal_path``
  class), skipping what an earlier failed attempt completed.
- Where the adapter batches (``Capabilities.batches``, PostgreSQL), a
  transaction's statements are held rather than sent: ``begin()`` sends
  nothing, plain SQL without parameters is held, and ``commit()`` sends
  ``BEGIN; s1; s2; version row; checksum rows; COMMIT`` as one query, one round
  trip. Anything that needs the database's answer or runs in order with it
  first sends what is held (``flush``): ``repo().query()``, a data change with
  parameters, an ``execute(fn)`` callable, a typed step, the driver's handle.
  From then on that migration's statements are sent one by one, as where the
  adapter does not batch. When a batch fails, the server has rolled back what
  it ran and skipped the rest; the executor runs the held statements again one
  by one in a new transaction to find the failing one, so the error (its
  statement, its SQLSTATE, ``ran``) is the one an unbatched run gives.
- ``PrintingExecutor`` is ``--dry-run``: the same path, printing each
  statement, with no lock, no journal and no callables run.

Example::

    executor = PrintingExecutor(out=print)
    executor.begin([])            # prints BEGIN;
    executor.emit("DROP TABLE t") # prints DROP TABLE t;
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from whimbrel.dialects.steps import AdapterStep, CatalogStep, Statement, preview
from whimbrel.errors import DatabaseError, UnsupportedFeatureError

if TYPE_CHECKING:
    from whimbrel.adapters.base import Adapter, DatabaseConfig
    from whimbrel.migrator.journal import Journal

log = logging.getLogger("whimbrel")

#: SQLSTATEs of a batch that waited too long: lock_not_available, query_canceled
#: (statement_timeout), deadlock_detected. Such a batch is not replayed (``Executor._replay``).
NOT_REPLAYED = frozenset({"55P03", "57014", "40P01"})


class Executor:
    """Runs statements on the adapter and remembers which ones completed."""

    #: What the migration log line says this executor does.
    verb = "Running"
    #: Whether callables run and the database is read (False for a dry run).
    live = True
    #: Statements held for the transaction's one batch; None: each is sent as it comes.
    _held: list[str] | None = None

    def __init__(
        self,
        adapter: Adapter,
        *,
        log_sql: bool = False,
        out: Callable[[str], None] = print,
        on_broken_connection: Callable[[], None] | None = None,
    ):
        self.adapter = adapter
        self.log_sql = log_sql
        self.out = out
        self._on_broken_connection = on_broken_connection
        #: Statements run so far in the current migration (for failure reports).
        self.ran: list[str] = []
        #: The current migration's progress journal, where DDL is not transactional.
        self.journal: Journal | None = None
        self._held = None

    # -- statements ---------------------------------------------------------------------

    def emit(self, statement: Statement) -> None:
        """Run one compiled statement (a catalog step through the adapter)."""
        if isinstance(statement, CatalogStep):  # expands into SQL that comes back to emit()
            self.flush()  # it reads the catalog, which must hold what came before
            self.adapter.run_step(statement, self.emit)
            return
        key = statement.journal_key() if isinstance(statement, AdapterStep) else statement
        self._run(statement, None, key)

    def run_data(self, sql: str, params: Any = None) -> None:
        """``repo().execute()``: a data change in order with the DDL."""
        # The journal keys it by its SQL alone: parameter values may be secrets.
        self._run(sql, params, sql, data=True)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """``repo().query()``: rows from the database."""
        self.flush()
        if self.log_sql:
            log.info("%s %s", sql, params if params is not None else "")
        return self.adapter.query(sql, params)

    def _run(self, sql: Statement, params: Any, key: str, *, data: bool = False) -> None:
        """Run one statement (``key`` identifies it in the journal), unless it already ran."""
        text = preview(sql)
        journal = self.journal
        if journal is not None and journal.already_ran(key):
            self.ran.append(text)
            return
        if self.log_sql:
            log.info("%s", text if params is None else f"{text} {params!r}")
        if self._held is not None and isinstance(sql, str) and params is None:
            self._held.append(sql)  # sent with the transaction's batch (see the module)
            self.ran.append(text)
            return
        self.flush()
        if isinstance(sql, AdapterStep):
            self.adapter.run_step(sql, self.emit)
            if journal is not None:
                journal.record(key)
        elif journal is None:
            self.adapter.execute(sql, params)
        else:
            # repo().execute is a data change whatever its first word (a CTE, say).
            journal.run("INSERT" if data else sql, key, lambda: self.adapter.execute(sql, params))
        self.ran.append(text)

    def skip_callable(self, fn: Callable[[], Any]) -> bool:
        """Whether ``execute(fn)`` is left out (a dry run prints a note instead).

        A callable that runs is a sync point: what is held is sent first, so an
        earlier statement's error is reported as it, not hidden by the callable's.
        """
        self.flush()
        return False

    def native(self) -> Any:
        """The driver's own handle (``repo()`` attributes beyond execute/query)."""
        self.flush()
        return self.adapter.native()

    # -- batches (``Capabilities.batches``) -------------------------------------------------

    def flush(self) -> None:
        """Send the held statements with the transaction's BEGIN; send later ones one by one.

        Called before anything that reads the database or must follow the held
        statements in order. After it the migration's transaction holds what ran,
        which a failed batch could not be replayed from, so nothing more is held.
        """
        held, self._held = self._held, None
        if held is not None:
            self._send(held, commit=False)

    def _send(self, held: list[str], *, commit: bool) -> None:
        batch = ["BEGIN", *held, *(["COMMIT"] if commit else [])]
        try:
            self.adapter.execute_batch(batch)
        except DatabaseError as exc:
            error = self._replay(held, exc, commit=commit)
            raise error from error.__cause__ or exc

    def _replay(self, held: list[str], exc: DatabaseError, *, commit: bool) -> DatabaseError:
        """The error of the held statement that failed, found by running them one by one.

        The batch's error leaves the transaction aborted (or, for a syntax error,
        never begun): roll it back, begin again and run the statements until one
        fails; that error is what an unbatched run reports, and ``ran`` keeps the
        statements before it. The transaction stays open for the runner's
        rollback. If none fails, ``SET CONSTRAINTS ALL IMMEDIATE`` checks what
        COMMIT checks (deferred constraints); if that passes too, the error was
        transient (a serialization failure, say): the batch's error is returned
        with its SQLSTATE. If the connection is
        gone (no answer in time), nothing can be run: the batch's error.

        A batch that waited too long (lock timeout, statement timeout, deadlock:
        ``NOT_REPLAYED``) is not run again: the replay would wait as long again
        while holding the locks its earlier statements took, which is what
        ``lock_timeout`` is there to bound. Its error says the statement is one
        of the batch's; lock-timeout retries still see its SQLSTATE.
        """
        if exc.sqlstate in NOT_REPLAYED:
            return DatabaseError(
                f"{exc} (in one of the {len(held)} statements sent together; whimbrel does not "
                "run them again to find which, as that would wait as long again)",
                sqlstate=exc.sqlstate,
            )
        first = len(self.ran) - len(held)
        try:
            self.adapter.rollback()
            self.adapter.begin()
        except DatabaseError:
            return exc
        for n, sql in enumerate(held):
            try:
                self.adapter.execute(sql)
            except DatabaseError as found:
                del self.ran[first + n :]
                return found
        if commit:
            try:
                self.adapter.execute("SET CONSTRAINTS ALL IMMEDIATE")
            except DatabaseError as found:
                return DatabaseError(str(found), statement="COMMIT", sqlstate=found.sqlstate)
        return DatabaseError(
            f"{exc} (its {len(held)} statements were sent together; run again one by one they "
            "succeeded, so the failure was transient and which statement met it is not known)",
            sqlstate=exc.sqlstate,
        )

    def database_config(self) -> DatabaseConfig | None:
        """The database's settings, for ``repo().config()``."""
        return self.adapter.database_config()

    # -- one migration ----------------------------------------------------------------------

    def start(self, label: str, direction: str, in_transaction: bool) -> None:
        """A migration begins: forget the statements of the previous one."""
        self.ran = []
        self._held = None

    def setup(self, statements: Sequence[Statement]) -> None:
        """Create what the versions table needs (schema, table) before the first migration."""
        for sql in statements:
            self.emit(sql)

    def begin(self, upcoming: Sequence[Statement]) -> None:
        if self.adapter.capabilities.batches:
            self._held = []  # BEGIN is sent with the first batch
            return
        self.adapter.begin(upcoming)

    def commit(self) -> None:
        held, self._held = self._held, None
        if held is None:
            self.adapter.commit()
        else:
            self._send(held, commit=True)

    def rollback(self) -> None:
        if self._held is not None:  # nothing was sent: there is nothing to roll back
            self._held = None
            return
        try:
            self.adapter.rollback()
        except DatabaseError:
            log.warning("rollback failed; the connection is closed to discard the transaction")
            if self._on_broken_connection is not None:
                self._on_broken_connection()

    def open_journal(
        self, prefix: str | None, source: str, version: int, direction: str, in_tx: bool = False
    ) -> Journal | None:
        """Statement progress of a migration that runs without a transaction (see ``journal``).

        That is every migration where DDL cannot be rolled back (MySQL), and a
        ``disable_ddl_transaction`` one elsewhere (PostgreSQL's concurrent index builds).
        """
        if in_tx or not self.adapter.capabilities.journal_outside_transaction:
            return None
        journal: Journal = self.adapter.journal_class().open(
            self.adapter, prefix, source, version, direction
        )
        return journal

    def drop_invalid_index(self, name: str, schema: str | None) -> None:
        """Before a concurrent index build: drop an INVALID index a failed build left."""
        self.flush()
        self.adapter.drop_invalid_index(name, schema)

    @contextmanager
    def lock_released(self, prefix: str | None, source: str) -> Iterator[None]:
        """Run the block without the migration lock (``disable_migration_lock``)."""
        self.flush()
        self.adapter.release_lock(prefix, source)
        try:
            yield
        finally:
            self.adapter.acquire_lock(prefix, source)


class PrintingExecutor(Executor):
    """``--dry-run``: prints every statement the run would send, runs nothing.

    ``repo().query()`` returns no rows, callables are not called, and no
    journal or lock is touched.
    """

    verb = "Would run"
    live = False

    def __init__(
        self,
        *,
        log_sql: bool = False,
        out: Callable[[str], None] = print,
        database: DatabaseConfig | None = None,
    ):
        self.log_sql = log_sql
        self.out = out
        self.ran = []
        self.journal = None
        self._database = database

    def database_config(self) -> DatabaseConfig | None:
        return self._database

    def emit(self, statement: Statement) -> None:
        end = statement.terminator if isinstance(statement, AdapterStep) else ";"
        self.out(preview(statement).rstrip().rstrip(";") + end)

    def run_data(self, sql: str, params: Any = None) -> None:
        self.out(sql.rstrip().rstrip(";") + ";" + (f"  -- params: {params!r}" if params else ""))

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        self.out(f"-- query not run in --dry-run: {sql}")
        return []

    def native(self) -> Any:
        raise UnsupportedFeatureError(
            "the database driver's own handle (repo().<attribute>) is not available in "
            "--dry-run: nothing is connected; run without --dry-run"
        )

    def skip_callable(self, fn: Callable[[], Any]) -> bool:
        name = getattr(fn, "__name__", "callable")
        self.out(f"-- execute({name}): Python callable, not run in --dry-run")
        return True

    def start(self, label: str, direction: str, in_transaction: bool) -> None:
        self.out(f"-- {label} ({direction})" + ("" if in_transaction else ", no transaction"))

    def setup(self, statements: Sequence[Statement]) -> None:
        for sql in statements:
            self.emit(sql)

    def begin(self, upcoming: Sequence[Statement]) -> None:
        self.out("BEGIN;")

    def commit(self) -> None:
        self.out("COMMIT;")

    def rollback(self) -> None:
        pass

    def open_journal(
        self, prefix: str | None, source: str, version: int, direction: str, in_tx: bool = False
    ) -> Journal | None:
        return None

    def drop_invalid_index(self, name: str, schema: str | None) -> None:
        pass  # the catalog is not read in a dry run

    @contextmanager
    def lock_released(self, prefix: str | None, source: str) -> Iterator[None]:
        yield  # a dry run holds no lock, so it neither releases nor takes one
