"""Lock-timeout retries: a transactional migration that waited too long for a lock runs again.

With ``lock_timeout`` set, a statement that cannot get its table lock in time
fails (PostgreSQL SQLSTATE ``55P03``, ``lock_not_available``) instead of
queueing every later query behind it. When the whole migration ran in one
transaction, that failure rolled everything back, so running it again is
safe: ``lock_timeout_retries`` says how many times, as strong_migrations
does. The wait before retry ``n`` (from 1) is ``lock_timeout_retry_delay *
2**(n-1)``, capped at ``MAX_DELAY`` and scaled by a random factor in
[0.5, 1.5) so that several deploys do not retry in lock step. The migration
lock stays held meanwhile, so no other whimbrel process slips in between.

Migrations without a transaction are never retried: their completed
statements stay applied (the progress journal resumes them instead).

Example::

    ok = with_lock_retries(lambda: runner.apply(...), retries=10, delay=0.5, label="2026_add")
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from whimbrel.errors import MigrationFailedError

log = logging.getLogger("whimbrel")

#: SQLSTATEs of "could not obtain the lock in time" (PostgreSQL lock_not_available).
LOCK_NOT_AVAILABLE = frozenset({"55P03"})
#: The longest single wait between two attempts, in seconds.
MAX_DELAY = 60.0

T = TypeVar("T")


def retry_delay(attempt: int, base: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): doubling, capped, with jitter.

    >>> retry_delay(3, 1.0, rand=lambda: 0.5)
    4.0
    """
    return float(min(MAX_DELAY, base * 2 ** (attempt - 1)) * (0.5 + rand()))


def lock_timed_out(exc: MigrationFailedError) -> bool:
    """A whole-transaction failure caused by the lock timeout (so nothing stayed applied)."""
    return exc.rolled_back and exc.sqlstate in LOCK_NOT_AVAILABLE


def with_lock_retries(
    apply: Callable[[], T],
    *,
    retries: int,
    delay: float,
    label: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``apply`` and call it again, after a back-off, while it fails on the lock timeout."""
    attempt = 0
    while True:
        try:
            return apply()
        except MigrationFailedError as exc:
            if not lock_timed_out(exc) or attempt >= retries:
                if lock_timed_out(exc) and retries:
                    exc.args = (
                        f"{exc.args[0]}\n  gave up after {retries} lock-timeout "
                        f"retr{'y' if retries == 1 else 'ies'}: find what holds the lock "
                        "(pg_stat_activity, pg_locks) or raise lock_timeout_retries",
                    )
                raise
            attempt += 1
            wait = retry_delay(attempt, delay)
            log.warning(
                "== %s could not get its lock within lock_timeout and was rolled back; "
                "retry %d of %d in %.1fs",
                label,
                attempt,
                retries,
                wait,
            )
            sleep(wait)
