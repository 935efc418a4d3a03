"""Version bookkeeping: the versions table (Ecto's ``SchemaMigration``).

``schema_migrations(version bigint PRIMARY KEY, inserted_at)`` per prefix,
named by ``migration_source``. This module says *when* the table is
created, read and written; *how* stays in the adapter, as goose keeps a
querier per dialect: ``Adapter.applied_versions``, ``versions_setup`` and
``version_record`` build on its SQL (``create_versions_table_sql``,
``select_versions_sql``, ``insert_version_sql``, ...), and ArangoDB's adapter
answers them with its ``_migrations`` collection and typed steps written
through its lock (``whimbrel.adapters.arangodb_versions``).

Example::

    versions = Versions(adapter, "schema_migrations")
    versions.applied(None)                 # [] before the first migration
    versions.record_sql(None, 20260101120000, "up")
"""

from __future__ import annotations

from whimbrel.adapters.base import Adapter
from whimbrel.dialects.steps import Statement


class Versions:
    """The applied versions of one migration source, per prefix."""

    def __init__(self, adapter: Adapter, source: str):
        self.adapter = adapter
        self.source = source

    def exists(self, prefix: str | None) -> bool:
        return self.adapter.table_exists(self.source, prefix)

    def applied(self, prefix: str | None) -> list[int]:
        """Applied versions, oldest first; an absent table means none (nothing is created)."""
        return self.adapter.applied_versions(prefix, self.source)

    def setup_sql(self, prefix: str | None) -> list[Statement]:
        """The statements that create the tenant schema and the table, if missing."""
        return self.adapter.versions_setup(prefix, self.source)

    def record_sql(self, prefix: str | None, version: int, direction: str) -> Statement:
        """The statement that marks ``version`` applied (up) or rolled back (down)."""
        return self.adapter.version_record(prefix, self.source, version, direction)
