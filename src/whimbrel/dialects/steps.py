"""What a dialect compiles to: plain SQL statements and catalog steps.

A dialect is pure: it never reads the database. Some commands cannot be
written as SQL without knowing the table as it is when the migration runs:
SQLite's table rebuild (``modify``, constraints, dropping an indexed column)
must copy the table's current definition, its indexes and its triggers. For
those a dialect returns a ``CatalogStep`` among its statements: a small
record of a ``preview`` (what ``--dry-run`` prints) and a ``plan``. At run
time the executor hands the step to the adapter (``Adapter.run_step``),
which reads the catalog, expands the plan into SQL and sends each statement
back through the executor, so ``--log-sql``, journaling and failure reports
see the real statements.

Example::

    >>> step = CatalogStep('-- rebuild table "posts"', plan={"table": "posts"})
    >>> preview(step), preview("DROP TABLE t")
    ('-- rebuild table "posts"', 'DROP TABLE t')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CatalogStep:
    """A statement the adapter expands at run time; ``preview`` is its dry-run text."""

    preview: str
    #: The dialect's own plan object (SQLite: ``TablePlan``, ``IndexRename``).
    plan: Any

    def __str__(self) -> str:
        return self.preview


#: One compiled item: SQL text, or a step the adapter expands against the catalog.
Statement = str | CatalogStep


def preview(statement: Statement) -> str:
    """The text of a statement as ``--dry-run`` shows it."""
    return statement.preview if isinstance(statement, CatalogStep) else statement
