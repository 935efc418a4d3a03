"""The migrator: plans, strategies, the lock, transactions and the versions table.

Example::

    import whimbrel

    class AppMigrator(whimbrel.Migrator):
        def known_prefixes(self):
            return ["tenant_a", "tenant_b"]

    with AppMigrator.from_config() as m:
        m.up()                     # global migrations, then every tenant
        m.run("down", step=1)      # one strategy: all / step / to / to_exclusive
        m.status()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from whimbrel.adapters import Adapter, Settings, adapter_for
from whimbrel.config import Config, load_config
from whimbrel.errors import (
    ConfigError,
    DatabaseError,
    MigrationsNotUp,
    OutOfOrderError,
    TargetNotFoundError,
)
from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.migrator.plan import parse_strategy, select
from whimbrel.progress import NullProgress, Progress

if TYPE_CHECKING:  # the DSL, loader and runner load only when a migration runs
    from whimbrel.dsl.recorder import DslDefaults
    from whimbrel.migrator.journal import Journal
    from whimbrel.migrator.loader import Migration
    from whimbrel.migrator.runner import Executor

log = logging.getLogger("whimbrel")

FILE_NOT_FOUND = "** FILE NOT FOUND **"


@dataclass(frozen=True)
class MigrationStatus:
    """One row of ``status()``: ``status`` is ``"up"`` or ``"down"``."""

    status: str
    version: int
    name: str
    prefix: str | None = None


class Migrator:
    """Applies and rolls back migrations; subclass to add tenants or error reporting.

    The connection opens on first use and stays open until ``close()`` (or the
    end of a ``with`` block), so an in-memory SQLite database lives as long as
    the migrator.
    """

    def __init__(self, config: Config, *, out: Callable[[str], None] = print):
        self.config = config
        self.out = out
        self._adapter: Adapter | None = None
        #: Statements of each planned migration, compiled before the first one ran.
        self._upcoming: dict[int, list[str]] = {}
        #: Observer of a run (``whimbrel.progress``); the CLI sets a terminal reporter.
        self.progress: Progress = NullProgress()

    @classmethod
    def from_config(cls, path: str | Path | None = None, **overrides: Any) -> Migrator:
        """Build from pyproject.toml / whimbrel.toml / environment; ``overrides`` win."""
        return cls(load_config(path, overrides=overrides))

    # -- hooks for subclasses -------------------------------------------------------------

    def known_prefixes(self) -> list[str]:
        """Tenant schemas: ``prefixes`` from the config, or the rows of ``prefixes_query``."""
        query = self.config.prefixes_query
        if not query:
            return list(self.config.prefixes)
        try:
            return [str(row[0]) for row in self.adapter.query(query)]
        except DatabaseError as exc:
            raise DatabaseError(
                f"prefixes_query {query!r} failed: {exc}; fix the query in the configuration "
                "(if a global migration creates the table it reads, that migration must run "
                "first: `whimbrel migrate`)",
                statement=query,
                sqlstate=exc.sqlstate,
            ) from exc

    def handle_migrator_exception(self, exc: BaseException) -> None:
        """Called with any exception from ``up``/``down``/``run``/``ensure_up``, then re-raised."""

    # -- connection -------------------------------------------------------------------------

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            c = self.config
            settings = Settings(c.lock_timeout, c.statement_timeout, c.migration_lock_wait)
            adapter = adapter_for(c.database_url, settings)
            adapter.connect()
            self._adapter = adapter
        return self._adapter

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None

    def __enter__(self) -> Migrator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- public API -------------------------------------------------------------------------

    def up(self, **strategy: Any) -> list[int]:
        """Apply pending global migrations, then the tenant migrations of each prefix.

        ``strategy`` is one of ``all=True`` (default), ``step=N``, ``to=V``,
        ``to_exclusive=V``, plus ``dry_run``/``log_sql``; it applies to each set.
        """
        with self._reporting():
            if not _adapter_class(self.config.database_url).capabilities.schemas:
                for prefix in self.known_prefixes():  # refused before the global ones run
                    self._check_prefix(prefix)
            # A target may be a tenant version only. Its files are enough to know it: the
            # tenants themselves may come from a table the global migrations create.
            tenant_files = partial(discover, self.config.tenant_migrations_path, warn=False)
            self._require_known_target(strategy, lambda: {f.version for f in tenant_files()})
            ran = self.run("up", _require_target=False, **strategy)
            for prefix in self.known_prefixes():
                ran += self.run("up", prefix=prefix, _require_target=False, **strategy)
            return ran

    def down(self, to: int | None = None, **strategy: Any) -> list[int]:
        """Roll back the tenants first, then the global migrations.

        ``down(to=V)`` rolls back every version from V up; other strategies as ``run``.
        """
        with self._reporting():
            if to is not None:
                strategy["to"] = to
            self._require_known_target(strategy, lambda: {s.version for s in self.status_all()})
            ran: list[int] = []
            for prefix in self.known_prefixes():
                ran += self.run("down", prefix=prefix, _require_target=False, **strategy)
            return ran + self.run("down", _require_target=False, **strategy)

    def _require_known_target(
        self, strategy: dict[str, Any], tenant_versions: Callable[[], set[int]]
    ) -> None:
        """Refuse a ``to``/``to_exclusive`` that names no global or tenant version."""
        target = strategy.get("to", strategy.get("to_exclusive"))
        if target is None:
            return
        known = {s.version for s in self.status()} | tenant_versions()
        if target not in known:
            raise TargetNotFoundError(
                f"version {target} matches no migration: run `whimbrel status` to list the versions"
            )

    def ensure_up(self) -> None:
        """Raise ``MigrationsNotUp`` listing every pending migration (global and tenants)."""
        with self._reporting():
            pending = [s for s in self.status_all() if s.status == "down"]
            if pending:
                names = [
                    f"{s.prefix + ': ' if s.prefix else ''}{s.version}_{s.name}" for s in pending
                ]
                raise MigrationsNotUp(
                    "migrations not up: " + ", ".join(names) + "; run `whimbrel migrate`",
                    pending=names,
                )

    def status_all(self) -> list[MigrationStatus]:
        """``status()`` of the global migrations, then of every tenant prefix."""
        rows = self.status()
        for prefix in self.known_prefixes():
            rows += self.status(prefix)
        return rows

    def status(self, prefix: str | None = None) -> list[MigrationStatus]:
        """Every migration with ``"up"``/``"down"``, plus applied versions whose file is gone."""
        files = self._files(prefix)
        applied = set(self._applied(prefix))
        rows = [
            MigrationStatus("up" if f.version in applied else "down", f.version, f.name, prefix)
            for f in files
        ]
        known = {f.version for f in files}
        rows += [MigrationStatus("up", v, FILE_NOT_FOUND, prefix) for v in applied - known]
        return sorted(rows, key=lambda s: s.version)

    def pending(self, prefix: str | None = None) -> list[MigrationFile]:
        applied = set(self._applied(prefix))
        return [f for f in self._files(prefix) if f.version not in applied]

    def run(
        self,
        direction: Literal["up", "down"],
        *,
        all: bool = False,
        step: int | None = None,
        to: int | None = None,
        to_exclusive: int | None = None,
        prefix: str | None = None,
        dry_run: bool = False,
        log_sql: bool = False,
        _require_target: bool = True,
    ) -> list[int]:
        """Migrate ``direction`` with one strategy; returns the versions that ran.

        Strategies: ``all=True``; ``step=N``; ``to=V`` (inclusive);
        ``to_exclusive=V``. With none, up runs all and down runs one step.
        ``dry_run`` prints the SQL instead of running it.
        """
        with self._reporting():
            strategy = parse_strategy(direction, all, step, to, to_exclusive)
            files = self._files(prefix)
            self._check_prefix(prefix)
            if dry_run:
                plan = self._plan(
                    direction, strategy, files, self._applied(prefix), _require_target
                )
                migrations = self._checked(plan, direction, prefix)
                setup = self._setup_sql(prefix) if direction == "up" and migrations else []
                for sql in setup:
                    self.out(sql + ";")
                return self._run_plan(migrations, direction, prefix, dry_run=True, log_sql=log_sql)
            with self._locked(prefix):
                plan = self._plan(
                    direction, strategy, files, self._applied(prefix), _require_target
                )
                migrations = self._checked(plan, direction, prefix)
                if direction == "up":
                    self._prepare(prefix)
                return self._run_plan(migrations, direction, prefix, dry_run=False, log_sql=log_sql)

    def up_one(self, version: int, path: str | Path, prefix: str | None = None) -> str:
        """Apply one migration file; returns ``"ok"`` or ``"already_up"``."""
        return self._one("up", version, path, prefix)

    def down_one(self, version: int, path: str | Path, prefix: str | None = None) -> str:
        """Roll back one migration file; returns ``"ok"`` or ``"already_down"``."""
        return self._one("down", version, path, prefix)

    # -- planning ---------------------------------------------------------------------------

    def _files(self, prefix: str | None) -> list[MigrationFile]:
        folder = self._folder(prefix)
        if not folder.is_dir():
            # Otherwise a mistyped migrations_path reads as "already up" and ensure-up passes.
            log.warning("the migrations folder %s does not exist: check migrations_path", folder)
        return discover(folder)

    def _folder(self, prefix: str | None) -> Path:
        tenant = self.config.tenant_migrations_path
        return tenant if prefix is not None and tenant.is_dir() else self.config.migrations_path

    def _plan(
        self,
        direction: str,
        strategy: tuple[str, int | None],
        files: list[MigrationFile],
        applied: list[int],
        require_target: bool,
    ) -> list[MigrationFile]:
        kind, value = strategy
        done = set(applied)
        if kind in ("to", "to_exclusive") and require_target:
            if value not in {f.version for f in files} | done:
                raise TargetNotFoundError(
                    f"--{kind.replace('_', '-')} {value} matches no migration: run "
                    "`whimbrel status` to list the versions"
                )
        if direction == "up":
            candidates = [f for f in files if f.version not in done]
            self._check_order(candidates, applied)
        else:
            candidates = [f for f in reversed(files) if f.version in done]
        return select(direction, kind, value, candidates)

    def _check_order(self, pending: list[MigrationFile], applied: list[int]) -> None:
        if not pending or not applied or pending[0].version > max(applied):
            return
        older = [f.label for f in pending if f.version < max(applied)]
        if not older:
            return
        message = (
            f"{', '.join(older)} {'is' if len(older) == 1 else 'are'} older than the newest "
            f"applied version {max(applied)}"
        )
        if self.config.strict_version_order:
            raise OutOfOrderError(
                f"{message}; strict_version_order refuses to apply them: give the file a newer "
                "version, or turn strict_version_order off"
            )
        log.warning("%s; applying out of order", message)

    # -- running ----------------------------------------------------------------------------

    def _checked(
        self, plan: list[MigrationFile], direction: str, prefix: str | None
    ) -> list[Migration]:
        """Load, record and compile every planned file before anything is written.

        A syntax error, a DSL mistake or an irreversible ``change()`` in the
        last file of the plan then stops the run before the first file runs.
        """
        if not plan:
            return []
        from whimbrel.migrator.loader import load
        from whimbrel.migrator.runner import precheck

        migrations = [load(f) for f in plan]
        dialect, defaults = self.adapter.dialect(prefix), self._defaults()
        self._upcoming = {
            id(m): precheck(m, direction, dialect, prefix=prefix, defaults=defaults)
            for m in migrations
        }
        return migrations

    def _run_plan(
        self,
        migrations: list[Migration],
        direction: str,
        prefix: str | None,
        *,
        dry_run: bool,
        log_sql: bool,
    ) -> list[int]:
        if not migrations:
            log.info("Migrations already %s", direction)
            return []
        from whimbrel.migrator.runner import Executor

        executor = Executor(
            None if dry_run else self.adapter, dry_run=dry_run, log_sql=log_sql, out=self.out
        )

        ran = []
        progress = NullProgress() if dry_run else self.progress
        progress.on_start(len(migrations))
        try:
            for index, migration in enumerate(migrations, 1):
                progress.on_migration(index, migration.file.label)
                if self._apply(migration, direction, prefix, executor):
                    ran.append(migration.file.version)
        except BaseException:
            progress.on_done(failed=True)
            raise
        progress.on_done()
        return ran

    def _apply(self, m: Migration, direction: str, prefix: str | None, executor: Executor) -> bool:
        from whimbrel.migrator.journal import failed, stays_applied
        from whimbrel.migrator.runner import MigrationRun

        adapter = self.adapter
        in_tx = adapter.capabilities.transactional_ddl and m.transactional(direction)
        dialect = adapter.dialect(prefix)
        source = self.config.migration_source
        verb = "Would run" if executor.dry_run else "Running"
        log.info("== %s %s %s (%s)", verb, m.file.version, m.file.name, direction)
        started = time.monotonic()
        executor.ran = []
        with self._migration_lock_released(m, prefix, executor.dry_run):
            if executor.dry_run:
                executor.out(
                    f"-- {m.file.label} ({direction})" + ("" if in_tx else ", no transaction")
                )
            self._begin(executor, in_tx, self._upcoming.get(id(m), []))
            executor.journal = self._journal(m, direction, prefix, executor.dry_run)
            try:
                if in_tx and not adapter.capabilities.session_lock and not executor.dry_run:
                    if (m.file.version in self._applied(prefix)) == (direction == "up"):
                        adapter.rollback()
                        log.info(
                            "== %s already %s (another process ran it)", m.file.version, direction
                        )
                        return False
                MigrationRun(
                    m,
                    direction,
                    executor,
                    dialect,
                    prefix=prefix,
                    defaults=self._defaults(),
                    in_transaction=in_tx,
                ).run()
                book = (
                    adapter.insert_version_sql if direction == "up" else adapter.delete_version_sql
                )
                journal, executor.journal = executor.journal, None
                record = partial(executor.emit, book(prefix, source, m.file.version))
                if journal is not None:  # the version row and the cleanup commit together
                    journal.finish(record)
                else:
                    record()
                self._commit(executor, in_tx)
            except DatabaseError as exc:
                self._rollback(executor, in_tx)
                journal, executor.journal, f = executor.journal, None, m.file
                raise failed(
                    f.label, f.version, direction, exc, executor.ran, in_tx, journal
                ) from exc
            except BaseException:
                executor.journal = None
                self._rollback(executor, in_tx)
                if executor.ran and not in_tx and not executor.dry_run:
                    log.warning(stays_applied(m.file.label, direction, executor.ran))
                raise
        if not executor.dry_run:
            done = "Migrated" if direction == "up" else "Rolled back"
            log.info("== %s %s in %.2fs", done, m.file.version, time.monotonic() - started)
        return True

    def _journal(
        self, m: Migration, direction: str, prefix: str | None, dry: bool
    ) -> Journal | None:
        """Statement progress, where the database cannot roll DDL back (see ``journal``)."""
        if dry or self.adapter.capabilities.transactional_ddl:
            return None
        from whimbrel.migrator.journal import Journal

        source = self.config.migration_source
        return Journal.open(self.adapter, prefix, source, m.file.version, direction)

    def _begin(self, executor: Executor, in_tx: bool, upcoming: list[str]) -> None:
        if not in_tx:
            return
        if executor.dry_run:
            executor.out("BEGIN;")
        else:
            self.adapter.begin(upcoming)

    def _commit(self, executor: Executor, in_tx: bool) -> None:
        if not in_tx:
            return
        if executor.dry_run:
            executor.out("COMMIT;")
        else:
            self.adapter.commit()

    def _rollback(self, executor: Executor, in_tx: bool) -> None:
        if in_tx and not executor.dry_run:
            try:
                self.adapter.rollback()
            except DatabaseError:
                log.warning("rollback failed; the connection is closed to discard the transaction")
                self.close()

    def _one(self, direction: str, version: int, path: str | Path, prefix: str | None) -> str:
        file = MigrationFile(int(version), Path(path).stem.split("_", 1)[-1], Path(path))
        with self._reporting(), self._locked(prefix):
            self._prepare(prefix)
            if (version in self._applied(prefix)) == (direction == "up"):
                return "already_up" if direction == "up" else "already_down"
            from whimbrel.migrator.runner import Executor

            (m,) = self._checked([file], direction, prefix)
            self._apply(m, direction, prefix, Executor(self.adapter, out=self.out))
            return "ok"

    # -- versions table, lock, prefixes ---------------------------------------------------

    def _applied(self, prefix: str | None) -> list[int]:
        """Applied versions; an absent versions table means none (nothing is created)."""
        self._check_prefix(prefix)
        source = self.config.migration_source
        if not self.adapter.table_exists(source, prefix):
            return []
        return [
            int(row[0])
            for row in self.adapter.query(self.adapter.select_versions_sql(prefix, source))
        ]

    def _setup_sql(self, prefix: str | None) -> list[str]:
        """The statements that create the tenant schema and the versions table, if missing."""
        self._check_prefix(prefix)
        adapter, source = self.adapter, self.config.migration_source
        if adapter.table_exists(source, prefix):
            return []
        schema = [adapter.create_schema_sql(prefix)] if prefix is not None else []
        return schema + [adapter.create_versions_table_sql(prefix, source)]

    def _prepare(self, prefix: str | None) -> None:
        """Create the tenant schema and the versions table (under the lock)."""
        for sql in self._setup_sql(prefix):
            self.adapter.execute(sql)

    def _check_prefix(self, prefix: str | None) -> None:
        if prefix is not None and not _adapter_class(self.config.database_url).capabilities.schemas:
            raise ConfigError(
                f"prefix {prefix!r}: {_adapter_class(self.config.database_url).name} "
                "has no schemas; use a separate database per tenant"
            )

    @contextmanager
    def _locked(self, prefix: str | None) -> Iterator[None]:
        """Hold the migration lock; on the way out, drop an empty progress journal."""
        source = self.config.migration_source
        lock = self.adapter.migration_lock if self.config.migration_lock else _no_lock
        with lock(prefix, source):
            yield
            if not self.adapter.capabilities.transactional_ddl:
                from whimbrel.migrator.journal import Journal

                Journal.tidy(self.adapter, prefix, source)

    @contextmanager
    def _migration_lock_released(
        self, m: Migration, prefix: str | None, dry_run: bool
    ) -> Iterator[None]:
        """``disable_migration_lock = True``: run this migration without holding the lock.

        A dry run holds no lock, so it neither releases nor (on the way out) takes one.
        """
        if dry_run or not (m.disable_migration_lock and self.config.migration_lock):
            yield
            return
        adapter = self.adapter
        source = self.config.migration_source
        adapter.release_lock(prefix, source)
        try:
            yield
        finally:
            adapter.acquire_lock(prefix, source)

    def _defaults(self) -> DslDefaults:
        from whimbrel.dsl.objects import ColumnOpts, PrimaryKey
        from whimbrel.dsl.recorder import DslDefaults

        c = self.config
        key = dict(c.migration_primary_key)
        pk = PrimaryKey(
            key.pop("name", "id"),
            key.pop("type", "bigserial"),
            ColumnOpts(**{**key, "primary_key": True}),
        )
        fk = c.migration_foreign_key
        return DslDefaults(pk, fk.get("type"), fk.get("column", "id"), dict(c.migration_timestamps))

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        """Call ``handle_migrator_exception`` once for the outermost public call."""
        if getattr(self, "_reporting_depth", 0):
            yield
            return
        self._reporting_depth = 1
        try:
            yield
        except BaseException as exc:
            self.handle_migrator_exception(exc)
            raise
        finally:
            self._reporting_depth = 0


@contextmanager
def _no_lock(prefix: str | None, source: str) -> Iterator[None]:
    yield


def _adapter_class(url: str) -> type[Adapter]:
    from whimbrel.adapters import adapter_class

    return adapter_class(url)
