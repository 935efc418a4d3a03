"""Catalog steps: compiled statements that only the live database can finish.

A dialect is pure: it never reads the database. Some commands cannot be
written as SQL without knowing the table as it is when the migration runs:
SQLite's table rebuild (``modify``, constraints, dropping an indexed column)
must copy the table's current definition, its indexes and its triggers. For
those a dialect returns a ``CatalogStep`` among its statements: a string
(so ``Dialect.compile() -> list[str]`` holds, and ``--dry-run`` prints its
text as a preview) that carries a ``plan``. At run time the migrator's one
execution point hands the step to the adapter (``Adapter.run_step``), which
reads the catalog, expands the plan into statements and runs each through
the same execution point, so ``--log-sql``, journaling and failure reports
see the real statements.

Example::

    >>> step = CatalogStep("-- rebuild table \\"posts\\"", plan={"table": "posts"})
    >>> str(step), step.plan
    ('-- rebuild table "posts"', {'table': 'posts'})
"""

from __future__ import annotations

from typing import Any


class CatalogStep(str):
    """A statement expanded by the adapter at run time; its text is the dry-run preview."""

    plan: Any

    def __new__(cls, preview: str, plan: Any) -> CatalogStep:
        step = super().__new__(cls, preview)
        step.plan = plan
        return step
