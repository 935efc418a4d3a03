"""The ``Migrator``: the public API, a thin facade over the modules that do the work.

- ``plan``: which files a run takes (strategies, version order);
- ``versions``: the versions table (Ecto's ``SchemaMigration``);
- ``runner``: recording a migration once, and one migration's transaction;
- ``executor``: the one place SQL is run (``Executor``) or printed (``--dry-run``:
  ``PrintingExecutor``), so a dry run takes the same path as a real one;
- ``journal``: statement progress where DDL cannot be rolled back (MySQL).
- ``tenants``: tenant prefixes migrated one after another or ``jobs`` at once;
- ``status``: what is read without the lock (``status`` rows, "nothing to do").

This module holds the connection, the migration lock, tenants and config defaults.

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
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from whimbrel.adapters import Adapter, Settings, adapter_for
from whimbrel.config import Config, load_config
from whimbrel.errors import (
    ConfigError,
    DatabaseError,
    MigrationsNotUp,
    PrefixesQueryError,
    TargetNotFoundError,
)
from whimbrel.migrator import squashed
from whimbrel.migrator import status as status_queries
from whimbrel.migrator.checksums import Checksums
from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.migrator.plan import parse_strategy, plan

# MigrationStatus and FILE_NOT_FOUND live in `status`; imported from here since the first wave.
from whimbrel.migrator.status import FILE_NOT_FOUND as FILE_NOT_FOUND
from whimbrel.migrator.status import MigrationStatus as MigrationStatus
from whimbrel.migrator.versions import Versions
from whimbrel.progress import NullProgress, Progress

if TYPE_CHECKING:  # the DSL, loader and runner load only when a migration runs
    from whimbrel.dsl.recorder import DslDefaults
    from whimbrel.migrator.executor import Executor
    from whimbrel.migrator.loader import Migration
    from whimbrel.migrator.runner import Recording

log = logging.getLogger("whimbrel")


class Migrated(int):
    """A version that ran, as ``up()``/``down()``/``run()`` return it, with its tenant.

    It is the version as an ``int`` (it compares, sorts and formats as one, so
    ``m.up() == [20260101120000]`` holds as it always did) and carries the
    ``prefix`` it ran in: None for a global migration.

    >>> ran = Migrated(20, "tenant_a")
    >>> (ran == 20, ran.prefix, ran)
    (True, 'tenant_a', tenant_a:20)
    """

    prefix: str | None

    def __new__(cls, version: int, prefix: str | None = None) -> Migrated:
        ran = super().__new__(cls, version)
        ran.prefix = prefix
        return ran

    @property
    def version(self) -> int:
        return int(self)

    def __repr__(self) -> str:
        return str(int(self)) if self.prefix is None else f"{self.prefix}:{int(self)}"


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
        #: Observer of a run (``whimbrel.progress``); the CLI sets a terminal reporter.
        self.progress: Progress = NullProgress()
        #: Files lint has read in this Migrator's runs (each once, not once per tenant).
        self._linted: set[Path] = set()
        #: Shared with ``up(jobs=N)``'s workers (copies): one lints a file, the others wait.
        self._lint_lock = threading.Lock()
        #: Why tenants were left out of the last ``status_all``/``ensure_up``/dry run, if so.
        self.tenants_missing: str | None = None
        self._unlocked_warned: set[Path] = set()
        #: Folder -> its files, while a public call runs (``_files``); None between calls.
        self._listed: dict[Path, list[MigrationFile]] | None = None
        #: File -> its loaded migration, while a public call runs (``checking.load_once``);
        #: the lock makes ``up(jobs=N)``'s workers load a file once between them.
        self._loaded: dict[str, Migration] | None = None
        self._load_lock = threading.Lock()

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
            raise PrefixesQueryError(
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
        """The connection, opened on first use. On PostgreSQL it talks to libpq itself
        (``whimbrel.adapters.libpq``), so ``status``, ``ensure-up`` and a ``migrate`` with
        nothing to do never import psycopg."""
        if self._adapter is None:
            adapter = adapter_for(self.config.database_url, self._settings())
            adapter.connect()
            self._adapter = adapter
        return self._adapter

    def _settings(self) -> Settings:
        c = self.config
        return Settings(
            c.lock_timeout,
            c.statement_timeout,
            c.migration_lock_wait,
            connect_timeout=c.connect_timeout,
        )

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None

    def __enter__(self) -> Migrator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- public API -------------------------------------------------------------------------

    def up(self, *, jobs: int | None = None, **strategy: Any) -> list[Migrated]:
        """Apply pending global migrations, then the tenant migrations of each prefix.

        ``strategy`` is one of ``all=True`` (default), ``step=N``, ``to=V``,
        ``to_exclusive=V``, plus ``dry_run``/``log_sql``; it applies to each set.
        ``jobs`` (default: the config's ``jobs``, 1) migrates that many tenant
        prefixes at once, each on its own connection (``whimbrel.migrator.tenants``).
        Returns what ran, global versions first, then tenants in prefix order
        (``Migrated``: an int with its prefix).

        Example::

            m.up()          # global, then tenant_a, tenant_b, ...
            m.up(jobs=8)    # global, then 8 tenants at a time
        """
        from whimbrel.migrator.tenants import check_jobs, effective_jobs, migrate_tenants

        with self._reporting():
            jobs = check_jobs(self.config.jobs if jobs is None else jobs)
            if not _adapter_class(self.config.database_url).capabilities.schemas:
                # refused before the global ones run (the query may read what they create)
                for prefix in self._prefixes(deferrable=lambda: bool(self.pending())):
                    self._check_prefix(prefix)
            # A target may be a tenant version only. Its files are enough to know it: the
            # tenants themselves may come from a table the global migrations create.
            tenant_files = partial(discover, self.config.tenant_migrations_path, warn=False)
            self._require_known_target(strategy, lambda: {f.version for f in tenant_files()})
            if self._settled(strategy):
                return []
            ran = self.run("up", _require_target=False, **strategy)
            # A dry run created nothing, so the query may read a table that is still to come.
            dry_pending = bool(strategy.get("dry_run")) and bool(ran)
            prefixes = self._prefixes(deferrable=lambda: dry_pending)
            jobs = effective_jobs(self, jobs, strategy)
            return ran + migrate_tenants(self, prefixes, jobs, strategy)

    def _settled(self, strategy: dict[str, Any]) -> bool:
        """Whether ``up(**strategy)`` has nothing to do, found by reading alone
        (``whimbrel.migrator.status.settled``: no lock, no driver import)."""
        return status_queries.settled(self, strategy)

    def down(self, to: int | None = None, **strategy: Any) -> list[Migrated]:
        """Roll back the tenants first, then the global migrations.

        ``down(to=V)`` rolls back every version from V up; other strategies as ``run``.
        """
        with self._reporting():
            if to is not None:
                strategy["to"] = to
            self._require_known_target(strategy, lambda: {s.version for s in self.status_all()})
            ran: list[Migrated] = []
            for prefix in self.known_prefixes():
                ran += self.run("down", prefix=prefix, _require_target=False, **strategy)
            return ran + self.run("down", _require_target=False, **strategy)

    def _prefixes(self, *, deferrable: Callable[[], bool]) -> list[str]:
        """``known_prefixes()``; a failing ``prefixes_query`` is only warned about (and no
        tenant listed) while ``deferrable()``: global migrations are still pending, and
        may create the table it reads. Otherwise its ``PrefixesQueryError`` (exit 2)."""
        try:
            return self.known_prefixes()
        except PrefixesQueryError as exc:
            if not deferrable():
                raise
            self.tenants_missing = (
                f"tenants not listed: {exc.args[0].split('; ')[0]}; global migrations are "
                "pending, and the table it reads may be one they create: run `whimbrel migrate`"
            )
            log.warning("%s", self.tenants_missing)
            return []

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
        """Raise ``MigrationsNotUp`` listing every pending migration (global and tenants).

        A missing migrations folder is a ``ConfigError``: a gate that checked
        nothing must not pass.
        """
        with self._reporting():
            folder = self.config.migrations_path
            if not folder.is_dir():
                raise ConfigError(
                    f"the migrations folder {folder} does not exist, so there is nothing to "
                    "check: set migrations_path to the folder of your migrations (relative to "
                    "the config file), or run from the project's folder"
                )
            pending = [s for s in self.status_all(_edits=False) if s.status == "down"]
            if pending:
                names = [
                    f"{s.prefix + ': ' if s.prefix else ''}{s.version}_{s.name}" for s in pending
                ]
                missing = self.tenants_missing
                raise MigrationsNotUp(
                    "migrations not up: "
                    + ", ".join(names)
                    + "; run `whimbrel migrate`"
                    + (f" ({missing})" if missing else ""),
                    pending=names,
                )

    def status_all(self, *, _edits: bool = True) -> list[MigrationStatus]:
        """``status()`` of the global migrations, then of every tenant prefix.

        While global migrations are pending, a failing ``prefixes_query`` lists
        the global ones only, with a warning saying why (see ``_prefixes``).
        """
        rows = self.status(_edits=_edits)
        pending = any(r.status == "down" for r in rows)
        for prefix in self._prefixes(deferrable=lambda: pending):
            rows += self.status(prefix, _edits=_edits)
        return rows

    def status(self, prefix: str | None = None, *, _edits: bool = True) -> list[MigrationStatus]:
        """Every migration with ``"up"``/``"down"``, plus applied versions whose file is gone.

        ``edited`` is set on applied files whose checksum differs from the recorded one
        (``ensure-up`` passes ``_edits=False``: it asks about pending files only).
        """
        return status_queries.rows(self, prefix, edits=_edits)

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
        accept_edited: Sequence[int] = (),
        _require_target: bool = True,
    ) -> list[Migrated]:
        """Migrate ``direction`` with one strategy; returns the versions that ran.

        Strategies: ``all=True``; ``step=N``; ``to=V`` (inclusive);
        ``to_exclusive=V``. With none, up runs all and down runs one step.
        ``dry_run`` prints the SQL instead of running it (and takes no lock).
        Going up, an applied migration whose file changed stops the run
        (``EditedMigrationError``) unless ``accept_edited`` lists its version.
        """
        with self._reporting():
            strategy = parse_strategy(direction, all, step, to, to_exclusive)
            files = self._files(prefix)
            self._check_prefix(prefix)
            executor = self._executor(dry_run=dry_run, log_sql=log_sql)
            with self._locked(prefix) if executor.live else nullcontext():
                versions, checksums = self._versions(), self._checksums()
                applied = versions.applied(prefix)  # read once: the lock keeps it true
                replaced = squashed.covered(files)
                if direction == "up":
                    self._verify_checksums(
                        files, applied, prefix, accept_edited, executor, checksums
                    )
                    squashed.refuse_partly_squashed(files, applied, replaced)
                planned = plan(
                    direction,
                    strategy,
                    files,
                    applied,
                    require_target=_require_target,
                    strict_order=self.config.strict_version_order,
                    folder=self._folder(prefix),
                    versions_table=self.adapter.versions_table(
                        prefix, self.config.migration_source
                    ),
                    prefix=prefix,
                    replaced=replaced,
                )
                checked = self._checked(planned, direction, prefix)
                # A real run keeps the table even when nothing is pending; a dry run
                # shows the statements only when a migration would need them.
                if direction == "up" and (checked or executor.live):
                    executor.setup(versions.setup_sql(prefix))
                if checked and executor.live:  # (nothing to send when verifying read it)
                    executor.setup(checksums.setup_sql(prefix))
                return self._run_plan(checked, direction, prefix, executor)

    def _verify_checksums(
        self,
        files: list[MigrationFile],
        applied: list[int],
        prefix: str | None,
        accept: Sequence[int],
        executor: Executor,
        checksums: Checksums,
    ) -> None:
        """Refuse edited applied migrations; adopt unrecorded ones (see ``checksums``)."""
        verdict = checksums.compare(files, applied, prefix)
        if executor.live and (verdict.adopt or accept):
            executor.setup(checksums.setup_sql(prefix))
        checksums.enforce(verdict, prefix, accept, write=executor.live)

    def _checksums(self) -> Checksums:
        return Checksums(self.adapter, self.config.migration_source)

    def up_one(self, version: int, path: str | Path, prefix: str | None = None) -> str:
        """Apply one migration file; returns ``"ok"`` or ``"already_up"``."""
        return self._one("up", version, path, prefix)

    def down_one(self, version: int, path: str | Path, prefix: str | None = None) -> str:
        """Roll back one migration file; returns ``"ok"`` or ``"already_down"``."""
        return self._one("down", version, path, prefix)

    # -- planning ---------------------------------------------------------------------------

    def _files(self, prefix: str | None) -> list[MigrationFile]:
        """The folder's migration files, listed once per public call (its warnings too)."""
        folder = self._folder(prefix)
        listed = self._listed.get(folder) if self._listed is not None else None
        if listed is not None:
            return list(listed)
        if not folder.is_dir():
            # Otherwise a mistyped migrations_path reads as "already up" and ensure-up passes.
            log.warning("the migrations folder %s does not exist: check migrations_path", folder)
        files = discover(folder)
        if self._listed is not None:
            self._listed[folder] = files
        return list(files)

    def _folder(self, prefix: str | None) -> Path:
        tenant = self.config.tenant_migrations_path
        return tenant if prefix is not None and tenant.is_dir() else self.config.migrations_path

    # -- running ----------------------------------------------------------------------------

    def _executor(self, *, dry_run: bool = False, log_sql: bool = False) -> Executor:
        from whimbrel.migrator.executor import Executor, PrintingExecutor

        if dry_run:
            database = self.adapter.database_config()
            return PrintingExecutor(log_sql=log_sql, out=self.out, database=database)
        return Executor(
            self.adapter, log_sql=log_sql, out=self.out, on_broken_connection=self.close
        )

    def _versions(self) -> Versions:
        return Versions(self.adapter, self.config.migration_source)

    def _checked(
        self, planned: list[MigrationFile], direction: str, prefix: str | None
    ) -> list[tuple[Migration, Recording]]:
        """Load, lint, record and compile every planned file before anything is written
        (``whimbrel.migrator.checking``)."""
        if not planned:
            return []
        from whimbrel.migrator.checking import check

        return check(self, planned, direction, prefix)

    def _run_plan(
        self,
        checked: list[tuple[Migration, Recording]],
        direction: str,
        prefix: str | None,
        executor: Executor,
    ) -> list[Migrated]:
        if not checked:
            log.info("%sMigrations already %s", f"[{prefix}] " if prefix else "", direction)
            return []
        from whimbrel.migrator.retry import with_lock_retries
        from whimbrel.migrator.runner import MigrationRunner

        adapter = self.adapter
        runner = MigrationRunner(adapter.capabilities, self._versions(), executor)
        dialect, defaults = adapter.dialect(prefix), self._defaults()
        if executor.live:
            self._warn_unlocked([m for m, _ in checked])
        ran = []

        c = self.config
        retries = c.lock_timeout_retries if c.lock_timeout and executor.live else 0
        progress = self.progress if executor.live else NullProgress()
        tag = f"[{prefix}] " if prefix else ""  # tenants' lines name the prefix
        progress.on_start(len(checked))
        try:
            for index, (m, recorded) in enumerate(checked, 1):
                progress.on_migration(index, f"{tag}{m.file.label}")
                apply = partial(
                    runner.apply, m, direction, recorded, dialect, prefix=prefix, defaults=defaults
                )
                with self._lock_released(m, prefix, executor):
                    applied = with_lock_retries(
                        apply, retries=retries, delay=c.lock_timeout_retry_delay, label=m.file.label
                    )
                if applied:
                    ran.append(Migrated(m.file.version, prefix))
        except BaseException:
            progress.on_done(failed=True)
            raise
        progress.on_done()
        return ran

    def _warn_unlocked(self, migrations: list[Migration]) -> None:
        """One warning per run naming every file with ``disable_migration_lock = True``."""
        if not self.config.migration_lock:
            return
        warned = self._unlocked_warned
        files = [m.file.path for m in migrations if m.disable_migration_lock]
        new = [str(path) for path in files if path not in warned]
        warned.update(files)
        if not new:
            return
        note = ""
        capabilities = self.adapter.capabilities
        if capabilities.session_lock and capabilities.concurrent_index:
            note = (
                "; whimbrel's lock here is a polled session lock that CREATE INDEX "
                "CONCURRENTLY does not wait for, so concurrent indexes do not need the flag"
            )
        log.warning(
            "%d migration(s) run with the migration lock released (disable_migration_lock = "
            "True): %s; while one runs, another process migrating at once can run it too, "
            "deadlock or leave a half-built index%s: remove the flag unless a migration "
            "really must run unlocked",
            len(new),
            ", ".join(new),
            note,
        )

    def _one(self, direction: str, version: int, path: str | Path, prefix: str | None) -> str:
        file = MigrationFile(int(version), Path(path).stem.split("_", 1)[-1], Path(path))
        with self._reporting(), self._locked(prefix):
            versions = self._versions()
            self._executor().setup(versions.setup_sql(prefix))
            self._executor().setup(self._checksums().setup_sql(prefix))
            if (version in versions.applied(prefix)) == (direction == "up"):
                return "already_up" if direction == "up" else "already_down"
            self._run_plan(
                self._checked([file], direction, prefix), direction, prefix, self._executor()
            )
            return "ok"

    # -- versions table, lock, prefixes ---------------------------------------------------

    def _applied(self, prefix: str | None) -> list[int]:
        """Applied versions; an absent versions table means none (nothing is created)."""
        self._check_prefix(prefix)
        return Versions(self.adapter, self.config.migration_source).applied(prefix)

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
        if self.config.migration_lock == "table":
            from whimbrel.migrator.lease import LeaseLock

            lock = LeaseLock(self.adapter, self.adapter.settings).held
        with lock(prefix, source):
            yield
            if not self.adapter.capabilities.transactional_ddl:
                self.adapter.journal_class().tidy(self.adapter, prefix, source)

    def _lock_released(
        self, m: Migration, prefix: str | None, executor: Executor
    ) -> AbstractContextManager[None]:
        """``disable_migration_lock = True``: run this migration without holding the lock."""
        if m.disable_migration_lock and self.config.migration_lock is True:
            return executor.lock_released(prefix, self.config.migration_source)
        return nullcontext()

    def _defaults(self) -> DslDefaults:
        from whimbrel.dsl.recorder import dsl_defaults

        return dsl_defaults(self.config)

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        """Call ``handle_migrator_exception`` once for the outermost public call."""
        if getattr(self, "_reporting_depth", 0):
            yield
            return
        self._reporting_depth = 1
        self._unlocked_warned = set()  # warned once per public call, however many sets
        self.tenants_missing = None
        self._listed, self._loaded = {}, {}
        try:
            yield
        except BaseException as exc:
            self.handle_migrator_exception(exc)
            raise
        finally:
            self._reporting_depth = 0
            self._listed = self._loaded = None


@contextmanager
def _no_lock(prefix: str | None, source: str) -> Iterator[None]:
    yield


def _adapter_class(url: str) -> type[Adapter]:
    from whimbrel.adapters import adapter_class

    return adapter_class(url)
