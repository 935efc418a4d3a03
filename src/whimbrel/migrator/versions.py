"""Version bookkeeping: the versions table (Ecto's ``SchemaMigration``).

``schema_migrations(version bigint PRIMARY KEY, inserted_at)`` per prefix,
named by ``migration_source``. This module says *when* the table is
created, read and written; the SQL of each database stays in its adapter
(``Adapter.create_versions_table_sql``, ``select_versions_sql``,
``insert_version_sql``, ``delete_version_sql``, ``create_schema_sql``), as
goose keeps a querier per dialect.

Example::

    versions = Versions(adapter, "schema_migrations")
    versions.applied(None)                 # [] before the first migration
    versions.record_sql(None, 20260101120000, "up")
"""

from __future__ import annotations

from whimbrel.adapters.base import Adapter


class Versions:
    """The applied versions of one migration source, per prefix."""

    def __init__(self, adapter: Adapter, source: str):
        self.adapter = adapter
        self.source = source

    def exists(self, prefix: str | None) -> bool:
        return self.adapter.table_exists(self.source, prefix)

    def applied(self, prefix: str | None) -> list[int]:
        """Applied versions, oldest first; an absent table means none (nothing is created)."""
        if not self.exists(prefix):
            return []
        sql = self.adapter.select_versions_sql(prefix, self.source)
        return [int(row[0]) for row in self.adapter.query(sql)]

    def setup_sql(self, prefix: str | None) -> list[str]:
        """The statements that create the tenant schema and the table, if missing."""
        if self.exists(prefix):
            return []
        schema = [self.adapter.create_schema_sql(prefix)] if prefix is not None else []
        return schema + [self.adapter.create_versions_table_sql(prefix, self.source)]

    def create(self, prefix: str | None) -> None:
        """Create the schema and the table (under the migration lock)."""
        for sql in self.setup_sql(prefix):
            self.adapter.execute(sql)

    def record_sql(self, prefix: str | None, version: int, direction: str) -> str:
        """The statement that marks ``version`` applied (up) or rolled back (down)."""
        if direction == "up":
            return self.adapter.insert_version_sql(prefix, self.source, version)
        return self.adapter.delete_version_sql(prefix, self.source, version)
