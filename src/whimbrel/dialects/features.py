"""What a server offers beyond its database, as plain data a dialect is built with.

``Capabilities`` (``whimbrel.adapters.base``) are fixed per adapter class;
``ServerFeatures`` depend on the server the adapter reached, so the adapter
reads them when it connects (``whimbrel.adapters.timescale.read_features``)
and hands them to its dialect, which stays a pure function of the command
and these values. Today that is the TimescaleDB extension: its version picks
the API generation the compiler writes (the columnstore API on 2.18+), and
its schema qualifies the extension's functions so they are found whatever
the session's ``search_path`` (``RESET ALL`` on some servers leaves it at
``pg_catalog``).

This module imports nothing, so the compilers can use it and stay pure.

Example::

    >>> TimescaleDB.parse("2.23.0-dev", "public")
    TimescaleDB(version=(2, 23, 0), schema='public')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class TimescaleDB:
    """The TimescaleDB extension installed in the database (or installable in it)."""

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

    #: The installed extension; None when ``CREATE EXTENSION timescaledb`` has not run.
    timescaledb: TimescaleDB | None = None
    #: The version ``CREATE EXTENSION timescaledb`` would install (schema unknown);
    #: None when the server has no TimescaleDB to install.
    timescaledb_available: TimescaleDB | None = None
