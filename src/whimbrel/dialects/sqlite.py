"""SQLite compiler: ALTER TABLE where SQLite has it, the table rebuild where it does not.

SQLite shares PostgreSQL's quoting and CREATE syntax, so this dialect keeps
the PostgreSQL compiler's shape and overrides where SQLite differs: its type
affinities, ``INTEGER PRIMARY KEY`` rowid keys, one action per ALTER TABLE.

What SQLite's ALTER TABLE cannot do (``modify``, adding or dropping
constraints, adding a column it cannot add in place, dropping a column that
an index or a constraint uses, renaming an index) needs the table's current
definition. The dialect stays pure, so it does not read it: it compiles those
commands to a ``CatalogStep`` carrying a ``TablePlan`` or ``IndexRename``
(``whimbrel.dialects.sqlite_rebuild``), and the SQLite adapter expands the
plan with the catalog when the migration runs, following SQLite's documented
rebuild (new table, copy, drop, rename, indexes and triggers, foreign-key
check). Commands SQLite cannot express at all (index ``using=``, exclusion
constraints, enum types, schemas) are refused here, before anything runs.

Example::

    >>> key = AddColumn("id", "bigserial", ColumnOpts(primary_key=True))
    >>> SQLiteDialect().compile(CreateTable(Table("t"), (key,)))
    ['CREATE TABLE "t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)']
    >>> SQLiteDialect().compile(AlterTable(Table("t"), (ModifyColumn("n", "text"),)))[0].plan
    TablePlan(table=Table(name='t', ...), changes=(ModifyColumn(name='n', ...),))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass, replace
from typing import ClassVar

from whimbrel.dialects.base import Dialect, compiles
from whimbrel.dialects.sqlite_rebuild import Change, IndexRename, TablePlan
from whimbrel.dialects.sqlsplit import SQLITE
from whimbrel.dialects.steps import CatalogStep, Statement
from whimbrel.dsl.commands import (
    AddColumn,
    AddEnumValue,
    AlterTable,
    Command,
    CreateConstraint,
    CreateEnum,
    CreateIndex,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropTable,
    ModifyColumn,
    RenameEnum,
    RenameEnumValue,
    RenameIndex,
    ValidateConstraint,
    describe,
)
from whimbrel.dsl.objects import (
    MISSING,
    ArrayType,
    ColumnOpts,
    ColumnType,
    Fragment,
    IndexColumn,
    Reference,
    Table,
)

_ROWID_TYPES = {"id", "integer", "bigint", "serial", "bigserial", "identity"}
_AUTOINCREMENT_TYPES = {"serial", "bigserial", "identity"}
#: The only schema an SQLite migration can name: the database itself.
_MAIN = "main"
_INDEX_FIXES = {
    "using": "SQLite has only B-tree indexes: remove using= (full-text search is the FTS5 "
    "virtual table, created with execute())",
    "include": "remove include=, or add the columns to the index itself",
    "only": "remove only= (SQLite has no partitioned tables)",
    "nulls_distinct": "SQLite's unique indexes always treat NULLs as distinct: remove "
    "nulls_distinct=False, or add a unique index on an expression such as ifnull(col, '')",
    "options": "remove options= (SQLite indexes have no storage parameters)",
}


class SQLiteDialect(Dialect):
    name = "sqlite"
    splitter = SQLITE
    # sqlite3 runs one statement per call (executescript would COMMIT first).
    one_statement_per_call = True
    # SQLite stores by affinity; these follow ecto_sqlite3's choices.
    types: ClassVar[dict[str, str]] = {
        "id": "INTEGER",
        "integer": "INTEGER",
        "bigint": "INTEGER",
        "serial": "INTEGER",
        "bigserial": "INTEGER",
        "identity": "INTEGER",
        "binary_id": "TEXT",
        "uuid": "TEXT",
        "string": "TEXT",
        "text": "TEXT",
        "boolean": "INTEGER",
        "float": "NUMERIC",
        "decimal": "DECIMAL",
        "binary": "BLOB",
        "map": "TEXT",
        "date": "TEXT",
        "time": "TEXT",
        "time_usec": "TEXT",
        "utc_datetime": "TEXT",
        "utc_datetime_usec": "TEXT",
        "naive_datetime": "TEXT",
        "naive_datetime_usec": "TEXT",
    }

    def compile(self, command: Command) -> list[Statement]:
        for prefix in _prefixes(command):
            if prefix != _MAIN:
                raise self.unsupported(
                    f'prefix "{prefix}" in {describe(command)} (SQLite has no schemas)',
                    "remove prefix=, and use a database file per tenant",
                )
        return super().compile(command)

    def sized(self, ecto_type: str, sql_type: str, opts: ColumnOpts) -> str:
        if ecto_type in self.types and ecto_type not in ("decimal", "string"):
            return sql_type  # size and precision mean nothing to these affinities
        if ecto_type == "string":
            return "TEXT" if opts.size is None else f"TEXT({opts.size})"
        return super().sized(ecto_type, sql_type, opts)

    def reference_type(self, type_: ColumnType, opts: ColumnOpts) -> str:
        return self.column_type(type_, opts)

    def array_type(self, type_: ArrayType, opts: ColumnOpts) -> str:
        return "TEXT"  # arrays are stored as JSON text, as ecto_sqlite3 does

    def boolean(self, value: bool) -> str:
        return "1" if value else "0"

    # -- tables ------------------------------------------------------------------------

    def table_elements(self, t: Table, columns: tuple[AddColumn, ...]) -> list[str]:
        # Only an inline "INTEGER PRIMARY KEY" column becomes the rowid alias,
        # so a single integer key is declared inline rather than as a clause.
        keys = [col for col in columns if col.opts.primary_key]
        key = keys[0] if len(keys) == 1 else None
        if key is None or not isinstance(key.type, str) or key.type not in _ROWID_TYPES:
            return super().table_elements(t, columns)
        plain = replace(key, opts=replace(key.opts, primary_key=False))
        parts = super().table_elements(t, tuple(plain if c is key else c for c in columns))
        auto = " AUTOINCREMENT" if key.type in _AUTOINCREMENT_TYPES else ""
        parts[columns.index(key)] = f"{self.quote(key.name)} INTEGER PRIMARY KEY{auto}"
        return parts

    @compiles(AlterTable)
    def _alter_table(self, c: AlterTable) -> list[Statement]:
        if all(isinstance(ch, AddColumn) and self.natively_added(ch) for ch in c.changes):
            table = self.qualified(c.table.name, c.table.prefix)
            return [
                f"ALTER TABLE {table} ADD COLUMN {self.column_definition(c.table, ch)}"
                for ch in c.changes
                if isinstance(ch, AddColumn)
            ]
        for ch in c.changes:
            if isinstance(ch, ModifyColumn) and isinstance(ch.type, Reference):
                self._validated(ch.type, describe(ch))
            if isinstance(ch, AddColumn | ModifyColumn) and isinstance(ch.type, Reference):
                # The rebuild writes the clause at run time: refuse what it cannot write now.
                self.references_clause(c.table, ch.name, ch.type)
        return [*self.column_drops(c.table, c.changes), self.table_step(c.table, c.changes)]

    def natively_added(self, ch: AddColumn) -> bool:
        """Whether ``ALTER TABLE ADD COLUMN`` can add it (SQLite's documented limits).

        It cannot add a key, a NOT NULL column without a non-NULL default, a
        reference with a default or NOT NULL, a STORED generated column or a
        column whose default is an expression; the table is rebuilt for those.
        """
        o = ch.opts
        if ch.if_not_exists or o.primary_key or isinstance(o.default, Fragment):
            return False
        if o.generated and "STORED" in o.generated.upper():
            return False
        if isinstance(ch.type, Reference):
            return not ch.type.with_ and o.null is not False and o.default in (MISSING, None)
        return o.null is not False or (o.has_default and o.default is not None)

    def table_step(self, table: Table, changes: tuple[Change, ...]) -> CatalogStep:
        """A step the adapter expands against the table's current definition."""
        plan = TablePlan(table, changes, self)
        return CatalogStep(plan.preview(), plan)

    def foreign_key(self, table: Table, column: str, ref: Reference) -> str:
        # A new table or column has no rows to skip: SQLite has no NOT VALID.
        return super().foreign_key(table, column, replace(ref, validate=True))

    def references_clause(self, table: Table, column: str, ref: Reference) -> str:
        where = f'references("{ref.table}") on "{table.name}"."{column}"'
        if ref.match:
            raise self.unsupported(
                f"{where} with match= (SQLite parses MATCH and ignores it)", "remove match="
            )
        if isinstance(ref.on_delete, tuple):
            raise self.unsupported(
                f"{where} with on_delete={ref.on_delete!r} (SQLite's ON DELETE SET NULL and "
                "SET DEFAULT take no column list)",
                'use "nilify_all" (every column of the key) or "default_all"',
            )
        return super().references_clause(table, column, ref)

    def index_column(self, column: str | IndexColumn) -> str:
        if isinstance(column, IndexColumn) and column.nulls:
            raise self.unsupported(
                f"NULLS {column.nulls} in an index on {column.expr!r} (SQLite takes NULLS "
                "FIRST/LAST in ORDER BY only)",
                "use asc() or desc()",
            )
        return super().index_column(column)

    @compiles(DropTable)
    def _drop_table(self, c: DropTable) -> list[Statement]:
        if c.mode == "cascade":
            raise self.unsupported('drop(..., mode="cascade")', "drop the dependent objects first")
        return super()._drop_table(c)

    # -- indexes -------------------------------------------------------------------------

    @compiles(CreateIndex)
    def _create_index(self, c: CreateIndex) -> list[Statement]:
        i = c.index
        for option, value in (
            ("using", i.using),
            ("include", i.include),
            ("only", i.only),
            # SQLite's unique indexes always treat NULLs as distinct.
            ("nulls_distinct", i.nulls_distinct is False),
            ("options", i.options),
        ):
            if value:
                raise self.unsupported(
                    f'index option {option}= (index "{i.name}")', _INDEX_FIXES[option]
                )
        sql = "CREATE " + ("UNIQUE " if i.unique else "") + "INDEX "
        sql += "IF NOT EXISTS " if c.if_not_exists else ""
        # CONCURRENTLY is a PostgreSQL locking detail; SQLite builds indexes under its own lock.
        sql += f"{self.qualified(i.name, i.prefix)} ON {self.quote(i.table)}"
        sql += f" ({', '.join(self.index_column(col) for col in i.columns)})"
        return [sql + (f" WHERE {i.where}" if i.where else "")]

    @compiles(DropIndex)
    def _drop_index(self, c: DropIndex) -> list[Statement]:
        if c.mode == "cascade":
            raise self.unsupported('drop(index, mode="cascade")', "drop the index alone")
        exists = "IF EXISTS " if c.if_exists else ""
        return [f"DROP INDEX {exists}{self.qualified(c.index.name, c.index.prefix)}"]

    @compiles(RenameIndex)
    def _rename_index(self, c: RenameIndex) -> list[Statement]:
        # SQLite has no ALTER INDEX: the adapter drops the index and creates it again.
        plan = IndexRename(c.index, c.to, self)
        return [CatalogStep(plan.preview(), plan)]

    # -- constraints ---------------------------------------------------------------------

    @compiles(CreateConstraint)
    def _create_constraint(self, c: CreateConstraint) -> list[Statement]:
        k = c.constraint
        if k.exclude is not None:
            raise self.unsupported(
                f'exclusion constraint "{k.name}"',
                "enforce the rule with a unique index or a trigger (execute())",
            )
        if not k.validate:
            raise self.unsupported(
                f'constraint "{k.name}" with validate=False (SQLite has no NOT VALID: adding '
                "a constraint rebuilds the table, which checks every row)",
                "remove validate=False, or fix the rows first",
            )
        return [self.table_step(Table(k.table, k.prefix), (c,))]

    @compiles(DropConstraint)
    def _drop_constraint(self, c: DropConstraint) -> list[Statement]:
        k = c.constraint
        if c.mode == "cascade":
            raise self.unsupported(
                f'drop(constraint("{k.table}", "{k.name}"), mode="cascade")',
                "drop the dependent objects first and drop the constraint alone",
            )
        return [self.table_step(Table(k.table, k.prefix), (c,))]

    def _validated(self, ref: Reference, what: str) -> None:
        if not ref.validate:
            raise self.unsupported(
                f"references(validate=False) in {what} (SQLite has no NOT VALID: the table "
                "is rebuilt and every row checked)",
                "remove validate=False, or fix the rows first",
            )

    @compiles(ValidateConstraint)
    def _validate_constraint(self, c: ValidateConstraint) -> list[Statement]:
        raise self.unsupported(
            f"{describe(c)} (SQLite has no NOT VALID constraints)",
            "SQLite checks a constraint when the table is created, so there is nothing to "
            "validate: leave validate_constraint() out of migrations that run on SQLite",
        )

    # -- enum types ------------------------------------------------------------------------

    @compiles(CreateEnum, DropEnum, RenameEnum, AddEnumValue, RenameEnumValue)
    def _enum(self, c: Command) -> list[Statement]:
        raise self.unsupported(
            f"{describe(c)}: SQLite has no enum types",
            'store the value in a "text" column instead (enum commands are PostgreSQL-only)',
        )


def _prefixes(value: object) -> Iterator[str]:
    """Every ``prefix=`` given anywhere in a command (tables, indexes, references...)."""
    if isinstance(value, tuple):
        for item in value:
            if not isinstance(item, _LEAVES):
                yield from _prefixes(item)
    elif is_dataclass(value) and not isinstance(value, type):
        for name in _field_names(type(value)):
            item = getattr(value, name)
            if name == "prefix" and isinstance(item, str):
                yield item
            elif not isinstance(item, _LEAVES):
                yield from _prefixes(item)


#: Values that hold no command inside (walked for every compile: keep it cheap).
_LEAVES = (str, int, float, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names
