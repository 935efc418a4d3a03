"""Reading a PostgreSQL server's TimescaleDB at connect time (one catalog query).

The values (``ServerFeatures``, ``TimescaleDB``) live in
``whimbrel.dialects.features``, so the compilers can take them without
importing an adapter.

Example::

    features = read_features(adapter.query)
    features.timescaledb            # TimescaleDB(version=(2, 23, 0), schema='public')
    features.timescaledb_available  # what CREATE EXTENSION timescaledb would install
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whimbrel.dialects.features import ServerFeatures, TimescaleDB

__all__ = ["AVAILABLE_SQL", "FEATURES_SQL", "ServerFeatures", "TimescaleDB", "read_features"]

#: One row when the extension is installed in the database.
FEATURES_SQL = (
    "SELECT e.extversion, n.nspname FROM pg_extension e "
    "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'timescaledb'"
)
#: One row when the server could install it (asked only when it is not installed).
AVAILABLE_SQL = "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"


def read_features(query: Callable[[str], list[tuple[Any, ...]]]) -> ServerFeatures:
    """Ask the server what it offers: one query, two when TimescaleDB is not installed."""
    rows = query(FEATURES_SQL)
    if rows:
        installed = TimescaleDB.parse(str(rows[0][0]), str(rows[0][1]))
        return ServerFeatures(installed, installed)
    available = query(AVAILABLE_SQL)
    if not available or available[0][0] is None:
        return ServerFeatures()
    return ServerFeatures(None, TimescaleDB.parse(str(available[0][0])))
