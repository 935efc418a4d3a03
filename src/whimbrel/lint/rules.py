"""The lint rules: each reads operations and says why one is dangerous and what to do instead.

A rule declares the databases it applies to (``databases``); lint never guesses
from the SQL. Operation rules see one operation at a time, in order, with the
migration's ``Context``; migration rules (``per_migration``) see all of a
migration's operations at once. Every hit carries a message (what happens to
production, and why) and a fix (the safe sequence of migrations). The MySQL
and MariaDB rules live in ``rules_mysql``.

Example::

    >>> RULES["require-concurrent-index"].databases
    frozenset({'postgresql'})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from whimbrel.lint.context import Context
from whimbrel.lint.ops import (
    DDL_OPS,
    AddColumnOp,
    AddConstraintOp,
    AlterTypeOp,
    CreateIndexOp,
    CreateTableOp,
    DataChangeOp,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    Op,
    ReindexOp,
    RenameColumnOp,
    RenameTableOp,
    SetNotNullOp,
    ValidateConstraintOp,
    table_of,
)
from whimbrel.lint.types import pg_rewrites

POSTGRES = frozenset({"postgresql"})
MYSQL = frozenset({"mysql", "mariadb"})
ALL = frozenset({"postgresql", "mysql", "mariadb", "sqlite"})


@dataclass(frozen=True)
class Hit:
    """A rule's verdict on one operation: why it is dangerous, and the safe sequence."""

    message: str
    fix: str
    line: int | None = None


OpCheck = Callable[[Op, Context], Hit | None]
MigrationCheck = Callable[[Sequence[Op], Context], Hit | None]


@dataclass(frozen=True)
class Rule:
    """A named rule, the databases it applies to and the operation types it reads."""

    name: str
    databases: frozenset[str]
    summary: str
    ops: tuple[type[Op], ...] = ()
    check: OpCheck | None = None
    per_migration: MigrationCheck | None = None


RULES: dict[str, Rule] = {}


def rule(
    name: str, databases: frozenset[str], summary: str, *ops: type[Op]
) -> Callable[[OpCheck], OpCheck]:
    """Register an operation rule."""

    def register(fn: OpCheck) -> OpCheck:
        RULES[name] = Rule(name, databases, summary, ops, check=fn)
        return fn

    return register


def migration_rule(
    name: str, databases: frozenset[str], summary: str
) -> Callable[[MigrationCheck], MigrationCheck]:
    """Register a rule that reads a whole migration's operations."""

    def register(fn: MigrationCheck) -> MigrationCheck:
        RULES[name] = Rule(name, databases, summary, per_migration=fn)
        return fn

    return register


# -- PostgreSQL: locks and rewrites ---------------------------------------------------------


@rule(
    "require-concurrent-index",
    POSTGRES,
    "an index built without concurrently on a table that already exists",
    CreateIndexOp,
)
def _concurrent_index(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, CreateIndexOp)
    if op.concurrently or not ctx.existing(op.table):
        return None
    return Hit(
        f'index "{op.name}" is built on the existing table "{op.table}" without '
        "concurrently: CREATE INDEX holds a SHARE lock that blocks every INSERT, UPDATE "
        f'and DELETE on "{op.table}" until the whole index is built',
        "build it in a migration of its own that sets `disable_ddl_transaction = True`, "
        f'with `create(index("{op.table}", [...], concurrently=True))` '
        "(raw SQL: CREATE INDEX CONCURRENTLY); it takes longer but never blocks writes",
    )


@rule(
    "concurrently-in-transaction",
    POSTGRES,
    "CREATE/DROP INDEX CONCURRENTLY or REINDEX CONCURRENTLY in a transactional migration",
    CreateIndexOp,
    DropIndexOp,
    ReindexOp,
)
def _concurrently_in_transaction(op: Op, ctx: Context) -> Hit | None:
    if not getattr(op, "concurrently", False) or not ctx.transactional:
        return None
    what = {CreateIndexOp: "CREATE INDEX", DropIndexOp: "DROP INDEX"}.get(type(op), "REINDEX")
    return Hit(
        f"{what} CONCURRENTLY cannot run inside a transaction block: PostgreSQL refuses it "
        "and the migration fails at deploy time",
        "add `disable_ddl_transaction = True` to this migration (in a .sql file: "
        "`-- whimbrel:up transaction:false`) and keep only the concurrent index in it, so a "
        "failure leaves nothing else half-applied",
    )


@rule(
    "constraint-missing-not-valid",
    POSTGRES,
    "a foreign key or check constraint added and validated at once on an existing table",
    AddConstraintOp,
    ValidateConstraintOp,
)
def _not_valid(op: Op, ctx: Context) -> Hit | None:
    if isinstance(op, ValidateConstraintOp):
        return _validated_too_soon(op, ctx)
    assert isinstance(op, AddConstraintOp)
    if op.kind not in ("check", "foreign_key") or not op.validated or not ctx.existing(op.table):
        return None
    name = op.name or "the constraint"
    if op.kind == "foreign_key":
        why = (
            f'foreign key "{name}" is added to the existing table "{op.table}" and checked at '
            "once: ADD FOREIGN KEY locks both tables against writes while every row is read"
        )
        first = 'add it NOT VALID (`references("...", validate=False)`) in one migration'
    else:
        why = (
            f'check constraint "{name}" is added to the existing table "{op.table}" and '
            "checked at once: ADD CONSTRAINT ... CHECK scans every row under an ACCESS "
            "EXCLUSIVE lock, which blocks reads and writes"
        )
        first = (
            f'add it with `create(constraint("{op.table}", "{name}", check=..., validate=False))`'
        )
    return Hit(
        why,
        f"{first} (NOT VALID only checks new rows, instantly); then in a later migration "
        f'`validate_constraint("{op.table}", "{name}")`, which scans the rows without '
        "blocking writes",
    )


def _validated_too_soon(op: ValidateConstraintOp, ctx: Context) -> Hit | None:
    if (op.table, op.name) not in ctx.not_valid_here or not ctx.transactional:
        return None
    return Hit(
        f'constraint "{op.name}" on "{op.table}" is validated in the migration that adds it '
        "NOT VALID: in one transaction the ADD CONSTRAINT's lock is held while VALIDATE scans "
        "every row, so NOT VALID gains nothing",
        f'move `validate_constraint("{op.table}", "{op.name}")` to the next migration',
    )


@rule(
    "setting-not-null",
    POSTGRES,
    "NOT NULL set on an existing column without a validated IS NOT NULL check first",
    SetNotNullOp,
)
def _setting_not_null(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, SetNotNullOp)
    if not ctx.existing(op.table) or ctx.not_null_ready(op.table, op.column):
        return None
    check = f"{op.table}_{op.column}_not_null"
    return Hit(
        f'NOT NULL on column "{op.column}" of the existing table "{op.table}" makes '
        "PostgreSQL scan every row under an ACCESS EXCLUSIVE lock, blocking reads and writes",
        f'three migrations: (1) `create(constraint("{op.table}", "{check}", '
        f'check="{op.column} IS NOT NULL", validate=False))`; (2) '
        f'`validate_constraint("{op.table}", "{check}")`; (3) `modify("{op.column}", ..., '
        f'null=False)` and `drop(constraint("{op.table}", "{check}"))`: PostgreSQL 12+ '
        "trusts the validated check and skips the scan",
    )


_NO_REWRITE = (
    "a longer or unlimited varchar, varchar to text, more numeric precision with the same "
    "scale, more timestamp/time/interval precision, cidr to inet"
)


@rule(
    "changing-column-type",
    POSTGRES,
    "a column type change that rewrites the table",
    AlterTypeOp,
)
def _changing_type(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, AlterTypeOp)
    if not ctx.existing(op.table):
        return None
    old = ctx.old_type(op)
    fix = (
        f"add a new column of type {op.new}, write to both (trigger or application), backfill "
        "it in batches, move reads to it, then drop the old column in a later migration. "
        f"Changes that need no rewrite: {_NO_REWRITE}"
    )
    if old is None:
        return Hit(
            f'column "{op.column}" of "{op.table}" gets type {op.new} and lint cannot tell the '
            "type it had (no earlier migration linted creates it, and modify() has no from_=): "
            "most type changes rewrite the table and its indexes under an ACCESS EXCLUSIVE lock",
            f'give `modify("{op.column}", ..., from_=old_type)` so lint (and rollback) know the '
            f"old type; if it does rewrite: {fix}",
        )
    if not pg_rewrites(old, op.new):
        return None
    return Hit(
        f'changing column "{op.column}" of "{op.table}" from {old} to {op.new} rewrites the '
        "table and rebuilds its indexes under an ACCESS EXCLUSIVE lock, blocking reads and "
        "writes for the whole rewrite",
        fix,
    )


_VOLATILE = re.compile(
    r"\b(gen_random_uuid|uuid_generate_v\w+|uuidv[47]|random|clock_timestamp|timeofday|"
    r"nextval|setseed|txid_current)\s*\(",
    re.IGNORECASE,
)


@rule(
    "adding-volatile-default",
    POSTGRES,
    "a new column of an existing table whose value is computed per row (volatile default, "
    "serial/identity, stored generated column)",
    AddColumnOp,
)
def _volatile_default(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, AddColumnOp)
    if not ctx.existing(op.table):
        return None
    where = f'column "{op.column}" added to the existing table "{op.table}"'
    rewrite = (
        "so PostgreSQL writes a value into every row: a full table rewrite under ACCESS EXCLUSIVE"
    )
    if op.default is not None and (m := _VOLATILE.search(op.default)):
        return Hit(
            f"{where} has the volatile default {m[1]}(), {rewrite} (a constant or stable "
            "default such as now() is only stored in the catalog since PostgreSQL 11)",
            "add the column without a default, then set the default for new rows "
            f'(`modify("{op.column}", ..., default=fragment("{m[1]}()"))` or ALTER COLUMN '
            "SET DEFAULT) and backfill the existing rows in batches in a later migration",
        )
    if op.sequence:
        return Hit(
            f"{where} is serial/identity, {rewrite}",
            "add a plain bigint column, attach a sequence as its default for new rows, and "
            "backfill existing rows in batches in later migrations",
        )
    if op.stored_generated:
        return Hit(
            f"{where} is a stored generated column, {rewrite}",
            "add a plain column filled by a trigger for new rows, and backfill existing rows "
            "in batches in a later migration",
        )
    return None


@rule(
    "adding-unique-constraint",
    POSTGRES,
    "a unique constraint or primary key added to an existing table without USING INDEX",
    AddConstraintOp,
    AddColumnOp,
)
def _unique_constraint(op: Op, ctx: Context) -> Hit | None:
    if isinstance(op, AddColumnOp):
        if not (op.primary_key and ctx.existing(op.table)):
            return None
        kind = "primary key"
    else:
        assert isinstance(op, AddConstraintOp)
        if op.kind not in ("unique", "primary_key") or op.using_index:
            return None
        if not ctx.existing(op.table):
            return None
        kind = "unique constraint" if op.kind == "unique" else "primary key"
    name = getattr(op, "name", None) or f"{op.table}_key"
    sql_kind = "UNIQUE" if kind == "unique constraint" else "PRIMARY KEY"
    return Hit(
        f'adding a {kind} to the existing table "{op.table}" builds its unique index under an '
        "ACCESS EXCLUSIVE lock, blocking reads and writes until the index is built",
        f"(1) in a migration with `disable_ddl_transaction = True`: `create(unique_index("
        f'"{op.table}", [...], name="{name}_index", concurrently=True))`; (2) in the next: '
        f'`execute("ALTER TABLE {op.table} ADD CONSTRAINT {name} {sql_kind} USING INDEX '
        f'{name}_index")`, which only adopts the index',
    )


# -- every database: breaking running code ---------------------------------------------------

_OLD_CODE = "the application that is still running (until every instance is redeployed)"


@rule("renaming-column", ALL, "a column of an existing table renamed", RenameColumnOp)
def _renaming_column(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, RenameColumnOp)
    if not ctx.existing(op.table):
        return None
    return Hit(
        f'renaming column "{op.column}" of "{op.table}" to "{op.to}" breaks {_OLD_CODE}, '
        f'whose queries still name "{op.column}"',
        f'add "{op.to}", write to both columns, backfill "{op.to}" in batches, move reads to '
        f'it, deploy code that no longer uses "{op.column}", then drop "{op.column}" in a later '
        "migration",
    )


@rule("renaming-table", ALL, "an existing table renamed", RenameTableOp)
def _renaming_table(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, RenameTableOp)
    if not ctx.existing(op.table):
        return None
    return Hit(
        f'renaming table "{op.table}" to "{op.to}" breaks {_OLD_CODE}, whose queries still '
        f'name "{op.table}"',
        f'create "{op.to}" (or rename and leave a view named "{op.table}" in the same '
        "migration, on PostgreSQL), move the code to the new name, then drop the old name in a "
        "later migration",
    )


@rule("dropping-column", ALL, "a column of an existing table dropped", DropColumnOp)
def _dropping_column(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, DropColumnOp)
    if not ctx.existing(op.table):
        return None
    return Hit(
        f'dropping column "{op.column}" of "{op.table}" breaks {_OLD_CODE}, which still '
        "selects or writes it (ORMs that list every column fail on any query of the table)",
        f'first deploy code that no longer uses "{op.column}" (e.g. mark it ignored in the '
        "model), then drop it in a later migration and add "
        '`safety_assured = ["dropping-column"]` to that migration',
    )


@rule("dropping-table", ALL, "an existing table dropped", DropTableOp)
def _dropping_table(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, DropTableOp)
    if not ctx.existing(op.table):
        return None
    return Hit(
        f'dropping table "{op.table}" breaks {_OLD_CODE}, which still queries it, and '
        "destroys its data",
        "first deploy code that no longer uses the table, then drop it in a later migration "
        'with `safety_assured = ["dropping-table"]` (keep a backup if the data may be needed)',
    )


# -- every database: rewriting many rows ----------------------------------------------------


@rule(
    "unbatched-data-change",
    ALL,
    "UPDATE or DELETE without WHERE on an existing table",
    DataChangeOp,
)
def _unbatched(op: Op, ctx: Context) -> Hit | None:
    assert isinstance(op, DataChangeOp)
    if op.where or op.verb not in ("UPDATE", "DELETE") or not ctx.existing(op.table):
        return None
    return Hit(
        f'{op.verb} without WHERE on "{op.table}" changes every row in one statement: one long '
        "transaction that locks every row it touches (blocking the application's writes) and, "
        "on PostgreSQL, writes a new version of every row",
        "change the rows in batches by key range (`WHERE id >= %s AND id < %s`), each batch its "
        "own statement in a migration with `disable_ddl_transaction = True`, or run the "
        "backfill as a job outside the migrations",
    )


@migration_rule(
    "data-change-with-ddl",
    ALL,
    "a migration that changes the schema of existing tables and also rewrites rows",
)
def _data_with_ddl(ops: Sequence[Op], ctx: Context) -> Hit | None:
    created: set[str] = set()
    ddl: Op | None = None
    data: DataChangeOp | None = None
    for op in ops:
        if isinstance(op, CreateTableOp):
            created.add(op.table)
        elif isinstance(op, DataChangeOp):
            if data is None and op.verb != "INSERT" and (op.table or "") not in created:
                data = op
        elif isinstance(op, DDL_OPS) and ddl is None and table_of(op) not in created:
            ddl = op
    if ddl is None or data is None:
        return None
    return Hit(
        f'this migration changes the schema of "{table_of(ddl)}" (line {ddl.line}) and also '
        f'runs {data.verb} on "{data.table}": in one transaction the DDL locks stay held while '
        "every row is rewritten, and without transactional DDL (MySQL) a failure leaves the "
        "schema changed and the data half done",
        "split it: the schema change in one migration, the data change in the next, in "
        "batches with `disable_ddl_transaction = True`",
        data.line,
    )


def applicable(database: str) -> list[Rule]:
    """The rules that apply to ``database`` (an unknown one gets the rules for every database)."""
    from whimbrel.lint import rules_mysql  # noqa: F401 - registers the MySQL rules

    return [r for r in RULES.values() if database in r.databases or r.databases == ALL]


def all_rules() -> dict[str, Rule]:
    """Every rule by name, the MySQL/MariaDB ones included."""
    from whimbrel.lint import rules_mysql  # noqa: F401

    return RULES


__all__ = ["ALL", "MYSQL", "POSTGRES", "RULES", "Hit", "Rule", "all_rules", "applicable"]
