"""What each database can do, in one place, for the integration suite.

The cases are written once over ``db_url``. Where a database lacks a
capability, the case does not fork: it asks here. Capabilities come from the
adapters' own ``Capabilities`` (so the suite tests what whimbrel declares),
and ``WHY`` gives the reason a case reports when it skips or adjusts.

Example::

    def test_rollback_on_failure(db_url):
        if not has(db_url, "transactional_ddl"):
            ...  # assert the journal reports and resumes instead
        skip_without(db_url, "schemas")
"""

from __future__ import annotations

import pytest

from whimbrel.adapters import adapter_class
from whimbrel.adapters.base import Capabilities

#: Why a database lacks a capability: shown when a case skips or takes another path.
WHY: dict[tuple[str, str], str] = {
    ("mysql", "transactional_ddl"): (
        "MySQL/MariaDB commit each DDL statement, so a failing migration stays partly "
        "applied; whimbrel journals and resumes it instead of rolling it back"
    ),
    ("sqlite", "schemas"): "SQLite has no schemas: a tenant is a database file",
    ("mysql", "schemas"): "a MySQL prefix is a database, which whimbrel does not create",
    ("sqlite", "concurrent_index"): "SQLite builds every index under its own write lock",
    ("sqlite", "session_lock"): "SQLite's lock is a file lock plus BEGIN IMMEDIATE",
}

#: A command each database refuses when the migration is compiled (PostgreSQL: none).
UNEXPRESSIBLE: dict[str, str] = {
    "sqlite": 'create(index("a", ["x"], using="gin"))',
    "mysql": 'create(index("a", ["x"], where="x IS NOT NULL"))',
}


def backend(url: str) -> str:
    """``sqlite``, ``postgres`` or ``mysql``: the backend name the fixtures use."""
    name = adapter_class(url).name
    return {"postgresql": "postgres"}.get(name, name)


def capabilities(url: str) -> Capabilities:
    return adapter_class(url).capabilities


def has(url: str, capability: str) -> bool:
    return bool(getattr(capabilities(url), capability))


def skip_without(url: str, capability: str) -> None:
    """Skip the calling test where the database lacks ``capability``, saying why."""
    if not has(url, capability):
        reason = WHY.get((backend(url), capability), f"no {capability}")
        pytest.skip(f"{backend(url)}: {reason}")


def q(url: str, name: str) -> str:
    """``name`` quoted as the database's dialect quotes it (``"t"`` or backticks)."""
    char = adapter_class(url).quote_char
    return f"{char}{name}{char}"
