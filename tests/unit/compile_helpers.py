"""Shared helpers for the compiler tests: record a migration, compile it with a dialect.

Example::

    compile_with(PostgresDialect(), creating(table("t"), lambda: add("x", "text")))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whimbrel.dialects.base import Dialect
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.migration import alter, create

Migration = Callable[[], Any]


def compile_with(dialect: Dialect, migration: Migration) -> list[str]:
    """Record ``migration`` and compile every command it queued with ``dialect``."""
    recorder = Recorder()
    with recording(recorder):
        migration()
    return [sql for command in recorder.take() for sql in dialect.compile(command)]


def creating(t: Any, *subcommands: Callable[[], None]) -> Migration:
    """``with create(t): <subcommands>`` as a value for parameter tables."""

    def migration() -> None:
        with create(t):
            for subcommand in subcommands:
                subcommand()

    return migration


def altering(t: Any, *subcommands: Callable[[], None]) -> Migration:
    """``with alter(t): <subcommands>``."""

    def migration() -> None:
        with alter(t):
            for subcommand in subcommands:
                subcommand()

    return migration
