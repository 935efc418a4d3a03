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
from typing import Any, ClassVar


@dataclass(frozen=True)
class AdapterStep:
    """A typed step the adapter runs itself (``Adapter.run_step``); ``preview`` is its dry-run text.

    ArangoDB's HTTP operations (``whimbrel.dialects.arangodb.Operation``) are
    such steps: the executor journals each under ``journal_key()`` and hands
    it to the adapter.
    """

    preview: str
    #: What ``--dry-run`` prints after the preview ("" for a line that is not SQL).
    terminator: ClassVar[str] = ";"

    def journal_key(self) -> str:
        """What the progress journal hashes to recognise the step on a re-run."""
        return self.preview

    def __str__(self) -> str:
        return self.preview


@dataclass(frozen=True)
class CatalogStep(AdapterStep):
    """A statement the adapter expands at run time into SQL, sent back through the executor."""

    #: The dialect's own plan object (SQLite: ``TablePlan``, ``IndexRename``).
    plan: Any


#: One compiled item: SQL text, or a typed step the adapter runs (or expands).
Statement = str | AdapterStep


def preview(statement: Statement) -> str:
    """The text of a statement as ``--dry-run`` shows it."""
    return statement.preview if isinstance(statement, AdapterStep) else statement
