"""``whimbrel gen outbox``: the migration for a transactional outbox table.

The table holds messages written in the same transaction as the change they
announce; a relay polls the pending ones (``relay_query``), publishes them and
sets ``relayed_at``, or gives up and sets ``failed_at``. Two partial indexes
keep both lookups small however many relayed rows pile up.

Example::

    result = generate_outbox(Path("migrations"), table="outbox_messages")
    result.path   # migrations/20261122093000_create_outbox_messages.py
    print(relay_query("outbox_messages"))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from whimbrel.errors import UsageError
from whimbrel.generators.naming import (
    MAX_IDENTIFIER,
    migration_filename,
    new_version,
    refuse_existing,
    table_name,
)
from whimbrel.generators.pysource import call, import_line, literal, statement
from whimbrel.generators.templating import Generated, render, write_source

DEFAULT_TABLE = "outbox_messages"
PENDING = "relayed_at IS NULL AND failed_at IS NULL"
_LONGEST_SUFFIX = "_pending_idx"


@dataclass(frozen=True)
class Outbox:
    """What to generate: the table, its schema, whether to add the two indexes.

    >>> Outbox("events", prefix="queue").pending_index
    'events_pending_idx'
    """

    table: str = DEFAULT_TABLE
    indexes: bool = True
    prefix: str | None = None

    def __post_init__(self) -> None:
        table_name(self.table)
        if self.prefix is not None:
            table_name(self.prefix, "schema (--prefix)")
        if self.indexes and len(self.table) + len(_LONGEST_SUFFIX) > MAX_IDENTIFIER:
            raise UsageError(
                f"table name {self.table!r} is too long for its index name "
                f"{self.pending_index!r} (PostgreSQL keeps {MAX_IDENTIFIER} characters): "
                f"use at most {MAX_IDENTIFIER - len(_LONGEST_SUFFIX)} characters"
            )

    @property
    def pending_index(self) -> str:
        return f"{self.table}_pending_idx"

    @property
    def failed_index(self) -> str:
        return f"{self.table}_failed_idx"

    @property
    def migration_name(self) -> str:
        return f"create_{self.table}"


def relay_query(table: str = DEFAULT_TABLE, prefix: str | None = None, limit: int = 100) -> str:
    """The query a relay polls with; ``<table>_pending_idx`` serves it.

    ``SKIP LOCKED`` lets several relays poll at once, each taking other rows.

    >>> print(relay_query("outbox_messages", limit=10))
    SELECT id, topic, payload, headers, attempt
    FROM "outbox_messages"
    WHERE relayed_at IS NULL AND failed_at IS NULL
    ORDER BY inserted_at
    LIMIT 10
    FOR UPDATE SKIP LOCKED
    """
    qualified = f'"{prefix}"."{table}"' if prefix else f'"{table}"'
    return "\n".join(
        [
            "SELECT id, topic, payload, headers, attempt",
            f"FROM {qualified}",
            f"WHERE {PENDING}",
            "ORDER BY inserted_at",
            f"LIMIT {limit}",
            "FOR UPDATE SKIP LOCKED",
        ]
    )


def render_outbox(spec: Outbox) -> str:
    """The migration's source (pure, no I/O)."""
    names = {"add", "create", "fragment", "table", "timestamps"}
    if spec.indexes:
        names.add("index")
    create = call("create", call("table", spec.table, primary_key=False, prefix=spec.prefix))
    note = (
        f"\n# The schema {literal(spec.prefix)} must exist already: whimbrel does not create it."
        if spec.prefix
        else ""
    )
    return render(
        "outbox.py",
        import_line=import_line("whimbrel.migration", names),
        create_table=create.render(4, suffix=":", lead=len("with ")),
        schema_note=note,
        indexes=_indexes(spec) if spec.indexes else "",
    )


def _indexes(spec: Outbox) -> str:
    pending = call(
        "index",
        spec.table,
        ["relayed_at", "inserted_at"],
        where=PENDING,
        name=spec.pending_index,
        prefix=spec.prefix,
    )
    failed = call(
        "index",
        spec.table,
        ["failed_at"],
        where="failed_at IS NOT NULL",
        name=spec.failed_index,
        prefix=spec.prefix,
    )
    return render(
        "outbox_indexes.py",
        pending_index=statement(call("create", pending), 4),
        failed_index=statement(call("create", failed), 4),
    )


def next_steps(spec: Outbox) -> tuple[str, ...]:
    """What to do after generating: apply the migration, poll with the relay query."""
    steps = ["Apply it with:\n\n    whimbrel migrate"]
    if spec.prefix:
        steps.insert(0, f"The schema {literal(spec.prefix)} must exist before it runs.")
    query = relay_query(spec.table, spec.prefix).replace("\n", "\n    ")
    served = f" ({spec.pending_index} serves it)" if spec.indexes else ""
    steps.append(f"A relay polls pending messages with{served}:\n\n    {query};")
    return tuple(steps)


def generate_outbox(
    folder: Path,
    table: str = DEFAULT_TABLE,
    *,
    indexes: bool = True,
    prefix: str | None = None,
    version: str | None = None,
) -> Generated:
    """Write ``<folder>/<version>_create_<table>.py`` and return it with the next steps.

    Refuses (``UsageError``) a table or schema name that is not a plain
    identifier, or a migration named ``create_<table>`` that already exists.
    """
    spec = Outbox(table, indexes, prefix)
    source = render_outbox(spec)
    refuse_existing(folder, spec.migration_name)
    path = folder / migration_filename(version or new_version(folder), spec.migration_name)
    write_source(path, source)
    return Generated(path, source, notes=next_steps(spec))
