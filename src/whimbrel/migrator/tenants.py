"""Tenant prefixes migrated at once: ``Migrator.up(jobs=N)``, ``whimbrel migrate --jobs N``.

``up()`` runs the global migrations first, on the migrator's own connection, then
hands the tenant prefixes to ``migrate_tenants``. With ``jobs=1`` (the default)
they run one after another, exactly as before. With ``jobs=N`` up to N prefixes
run at once, each on a worker thread with its own connection (psycopg releases
the GIL while it waits for the server), each under its own migration lock (the
lock is keyed by prefix, so two processes on the same tenants still apply each
migration once).

- Workers are shallow copies of the migrator (``worker_of``): the same class and
  config, so a subclass's overrides keep working, with a connection of their own.
  ``handle_migrator_exception`` is called once, by ``up()``, for the whole run.
- The first N prefixes always start. When one fails, no further prefix starts;
  the running ones finish. Every failure is reported with its prefix: one
  failure is raised as it is (a note names the prefix and what was left), more
  than one as ``TenantsFailedError`` (exit 1).
- Ctrl-C or SIGTERM (they reach the main thread only): no prefix starts, each
  worker's running statement is cancelled on the server so its migration rolls
  back through its own error handling, workers stop before their next
  migration, and the interrupt is raised again once they have all stopped.
- Only where prefixes are schemas (``Capabilities.schemas``: PostgreSQL); on
  other databases ``jobs`` is ignored with a note (they refuse prefixes anyway,
  and a project may set ``jobs`` for production and use SQLite in development).
  A dry run is sequential too, so what it prints comes in prefix order.
- The result is in prefix order, not in the order the tenants finished.

Example::

    with whimbrel.Migrator.from_config() as m:
        m.up(jobs=8)   # global first, then 8 tenants at a time
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from whimbrel.errors import TenantsFailedError, UsageError
from whimbrel.progress import NullProgress

if TYPE_CHECKING:
    from whimbrel.migrator.core import Migrated, Migrator

log = logging.getLogger("whimbrel")


def check_jobs(jobs: object) -> int:
    """``jobs`` as a positive int, or a ``UsageError`` (exit 2) with the fix.

    >>> check_jobs(4)
    4
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UsageError(
            f"jobs = {jobs!r}: give how many tenant prefixes to migrate at once, 1 or more "
            "(--jobs 1, the default, runs them one after another)"
        )
    return jobs


def effective_jobs(migrator: Migrator, jobs: int, strategy: Mapping[str, Any]) -> int:
    """``jobs``, or 1 where tenants cannot run at once (no schemas, or a dry run)."""
    if jobs == 1:
        return 1
    from whimbrel.adapters import adapter_class

    adapter = adapter_class(migrator.config.database_url)
    if not adapter.capabilities.schemas:
        log.info(
            "jobs = %d ignored: %s has no schemas, so there are no tenant prefixes to "
            "migrate at once",
            jobs,
            adapter.name,
        )
        return 1
    if strategy.get("dry_run"):
        log.info("jobs = %d ignored by --dry-run: tenants are printed one after another", jobs)
        return 1
    return jobs


def migrate_tenants(
    migrator: Migrator, prefixes: list[str], jobs: int, strategy: Mapping[str, Any]
) -> list[Migrated]:
    """Run ``up`` in every prefix, ``jobs`` at a time; the result in prefix order."""
    if jobs == 1 or len(prefixes) < 2:
        ran: list[Migrated] = []
        for prefix in prefixes:
            ran += migrator.run("up", prefix=prefix, _require_target=False, **strategy)
        return ran
    unique = list(dict.fromkeys(prefixes))  # a prefix listed twice runs once at a time
    return _Pool(migrator, min(jobs, len(unique))).run(unique, strategy)


def worker_of(migrator: Migrator) -> Migrator:
    """A copy of ``migrator`` for one worker thread: its own connection, no reporting.

    A shallow copy rather than ``type(migrator)(config)``: a subclass whose
    ``__init__`` takes other arguments, or sets attributes its hooks read, still
    works. What the copy shares on purpose: the files lint has read (each is
    linted once per run, under ``_lint_lock``) and the warnings already given.
    """
    worker = copy.copy(migrator)
    worker._adapter = None
    worker.progress = NullProgress()
    worker._reporting_depth = 1  # type: ignore[attr-defined]  # up() reports, once
    return worker


class _Interrupted(Exception):
    """Raised in a worker before its next migration once the run was interrupted."""


class _StopCheck(NullProgress):
    """A worker's progress observer: stops it between two migrations after an interrupt."""

    def __init__(self, interrupted: threading.Event) -> None:
        self.interrupted = interrupted

    def on_migration(self, index: int, label: str) -> None:
        if self.interrupted.is_set():
            raise _Interrupted(label)


class _Pool:
    """``jobs`` worker threads, each keeping one connection for the prefixes it runs."""

    def __init__(self, migrator: Migrator, jobs: int) -> None:
        self.migrator = migrator
        self.jobs = jobs
        self.interrupted = threading.Event()
        self._local = threading.local()
        self._workers: list[Migrator] = []
        self._workers_lock = threading.Lock()

    def run(self, prefixes: list[str], strategy: Mapping[str, Any]) -> list[Migrated]:
        progress = self.migrator.progress
        unit = _set_unit(progress, "tenants")
        progress.on_start(len(prefixes))
        try:
            results, failures, not_started = self._dispatch(prefixes, strategy)
            progress.on_done(failed=bool(failures))
        except BaseException:
            progress.on_done(failed=True)
            raise
        finally:
            _set_unit(progress, unit)
        if failures:
            in_order = {p: failures[p] for p in prefixes if p in failures}
            raise _failure(in_order, len(results), not_started)
        return [ran for prefix in prefixes for ran in results[prefix]]

    def _dispatch(
        self, prefixes: list[str], strategy: Mapping[str, Any]
    ) -> tuple[dict[str, list[Migrated]], dict[str, BaseException], list[str]]:
        """Start prefixes as workers free up; returns results, failures, the not started."""
        results: dict[str, list[Migrated]] = {}
        failures: dict[str, BaseException] = {}
        waiting = list(prefixes)
        running: dict[Future[list[Migrated]], str] = {}
        pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="whimbrel-tenant")
        try:
            while waiting or running:
                # The first `jobs` prefixes always start; after a failure no new one does.
                while waiting and len(running) < self.jobs and not failures:
                    prefix = waiting.pop(0)
                    running[pool.submit(self._one, prefix, strategy)] = prefix
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: prefixes.index(running[f])):
                    prefix = running.pop(future)
                    self._collect(prefix, future, results, failures, len(running))
                    label = f"[{prefix}] {'failed' if prefix in failures else 'done'}"
                    self.migrator.progress.on_migration(len(results) + len(failures), label)
        except BaseException:  # Ctrl-C, SIGTERM: stop the workers, wait for them, re-raise
            self._interrupt(running, len(results), len(waiting))
            raise
        finally:
            pool.shutdown(wait=True)
            self._close()
        return results, failures, waiting

    def _one(self, prefix: str, strategy: Mapping[str, Any]) -> list[Migrated]:
        """Run on a worker thread: this thread's migrator migrates one prefix."""
        worker = getattr(self._local, "migrator", None)
        if worker is None:
            worker = self._local.migrator = worker_of(self.migrator)
            worker.progress = _StopCheck(self.interrupted)
            with self._workers_lock:
                self._workers.append(worker)
        return worker.run("up", prefix=prefix, _require_target=False, **strategy)

    def _collect(
        self,
        prefix: str,
        future: Future[list[Migrated]],
        results: dict[str, list[Migrated]],
        failures: dict[str, BaseException],
        still_running: int,
    ) -> None:
        try:
            results[prefix] = future.result()
        except Exception as exc:  # noqa: BLE001 - every tenant's failure is reported at the end
            if not failures:
                log.warning(
                    "[%s] failed: no further tenant starts; %d running finish first",
                    prefix,
                    still_running,
                )
            failures[prefix] = exc

    def _interrupt(self, running: dict[Future[list[Migrated]], str], done: int, left: int) -> None:
        """Cancel the workers' statements (their migrations roll back) and wait for them."""
        self.interrupted.set()
        log.warning(
            "interrupted: %d tenant(s) done, %d stopping (their running migration rolls back), "
            "%d not started; run `whimbrel migrate` again to finish",
            done,
            len(running),
            left,
        )
        with self._workers_lock:
            workers = list(self._workers)
        for worker in workers:
            adapter = worker._adapter
            if adapter is not None:
                adapter.cancel()
        wait(running)
        for future, prefix in running.items():
            exc = future.exception()
            if isinstance(exc, _Interrupted):
                log.warning("[%s] stopped before migration %s", prefix, exc)
            elif exc is not None:  # the cancelled statement's error says what was rolled back
                log.warning("[%s] stopped: %s", prefix, exc)
            else:
                log.warning("[%s] finished before it could be stopped", prefix)

    def _close(self) -> None:
        with self._workers_lock:
            for worker in self._workers:
                worker.close()


def _failure(
    failures: dict[str, BaseException], done: int, not_started: list[str]
) -> BaseException:
    """One failure as it was raised (with a note), several as ``TenantsFailedError``."""
    left = (
        f"{done} tenant(s) finished, {len(not_started)} not started: fix the failure and run "
        "`whimbrel migrate` again"
    )
    if len(failures) == 1:
        [(prefix, exc)] = failures.items()
        exc.add_note(f"(tenant {prefix!r} failed; {left})")
        return exc
    listed = "\n".join(f"  [{prefix}] {exc}" for prefix, exc in failures.items())
    return TenantsFailedError(
        f"{len(failures)} tenants failed: {', '.join(failures)}; {left}\n{listed}",
        failures,
        not_started,
    )


def _set_unit(progress: object, unit: str) -> str:
    """What the progress line counts (``TerminalProgress.unit``); returns the previous."""
    previous = getattr(progress, "unit", unit)
    if hasattr(progress, "unit"):
        progress.unit = unit  # type: ignore[attr-defined]
    return str(previous)
