"""What a PostgreSQL server offers beyond PostgreSQL: read once, at connect time.

``Capabilities`` are fixed per adapter class; ``ServerFeatures`` depend on
the server the adapter reached, so the adapter reads them when it connects
and hands them to its dialect, which stays a pure function of the command
and these values. Today that is the TimescaleDB extension: its version picks
the API generation the compiler writes (the columnstore API on 2.18+), and
its schema qualifies the extension's functions so they are found whatever
the session's ``search_path`` (``RESET ALL`` on some servers leaves it at
``pg_catalog``).

Example::

    >>> TimescaleDB.parse("2.23.0-dev", "public")
    TimescaleDB(version=(2, 23, 0), schema='public')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")

#: One row when the extension is installed in the database.
FEATURES_SQL = (
    "SELECT e.extversion, n.nspname FROM pg_extension e "
    "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'timescaledb'"
)


@dataclass(frozen=True)
class TimescaleDB:
    """The TimescaleDB extension installed in the database."""

    version: tuple[int, int, int]
    #: Schema holding the extension's functions; None writes them unqualified.
    schema: str | None = None

    @classmethod
    def parse(cls, version: str, schema: str | None = None) -> TimescaleDB:
        """From ``pg_extension.extversion`` (``"2.23.0-dev"``, ``"2.17.2"``)."""
        match = _VERSION.match(version.strip())
        if match is None:
            raise ValueError(f"not a TimescaleDB version: {version!r}")
        major, minor, patch = match.groups()
        return cls((int(major), int(minor), int(patch or 0)), schema)

    @property
    def label(self) -> str:
        return ".".join(str(part) for part in self.version)


@dataclass(frozen=True)
class ServerFeatures:
    """Extensions and versions found on the server; empty before ``connect()``."""

    timescaledb: TimescaleDB | None = None


def read_features(query: Callable[[str], list[tuple[Any, ...]]]) -> ServerFeatures:
    """Ask the server what it offers (one catalog query)."""
    rows = query(FEATURES_SQL)
    if not rows:
        return ServerFeatures()
    version, schema = rows[0]
    return ServerFeatures(TimescaleDB.parse(str(version), str(schema)))
