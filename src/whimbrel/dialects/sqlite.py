"""SQLite compiler: what SQLite's ALTER TABLE can do natively.

SQLite shares PostgreSQL's quoting and CREATE syntax, so this dialect keeps
the PostgreSQL compiler's shape and overrides where SQLite differs: its type
affinities, ``INTEGER PRIMARY KEY`` rowid keys, one action per ALTER TABLE,
and no ALTER for column types or constraints (those are refused with the
alternative until the table-rebuild emulation lands).

Example::

    >>> key = AddColumn("id", "bigserial", ColumnOpts(primary_key=True))
    >>> SQLiteDialect().compile(CreateTable(Table("t"), (key,)))
    ['CREATE TABLE "t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT)']
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Any, ClassVar

from whimbrel.dialects.base import compiles
from whimbrel.dialects.postgres import PostgresDialect
from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    ColumnChange,
    CreateConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    Execute,
    ModifyColumn,
    RemoveColumn,
    RenameIndex,
)
from whimbrel.dsl.objects import ArrayType, ColumnOpts, ColumnType, Table
from whimbrel.migrator.sqlsplit import has_code

_ROWID_TYPES = {"id", "integer", "bigint", "serial", "bigserial", "identity"}
_AUTOINCREMENT_TYPES = {"serial", "bigserial", "identity"}


class SQLiteDialect(PostgresDialect):
    name = "sqlite"
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

    def sized(self, ecto_type: str, sql_type: str, opts: ColumnOpts) -> str:
        if ecto_type in self.types and ecto_type not in ("decimal", "string"):
            return sql_type  # size and precision mean nothing to these affinities
        if ecto_type == "string":
            return "TEXT" if opts.size is None else f"TEXT({opts.size})"
        return super(PostgresDialect, self).sized(ecto_type, sql_type, opts)

    def reference_type(self, type_: ColumnType, opts: ColumnOpts) -> str:
        return self.column_type(type_, opts)

    def array_type(self, type_: ArrayType, opts: ColumnOpts) -> str:
        return "TEXT"  # arrays are stored as JSON text, as ecto_sqlite3 does

    def list_literal(self, value: list[Any], type_: ColumnType | None) -> str:
        return self.string(json.dumps(value, separators=(",", ":")))

    def literal(self, value: Any, type_: ColumnType | None = None) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        return super().literal(value, type_)

    def comments(self, table: Table, columns: tuple[Any, ...]) -> list[str]:
        return []  # SQLite keeps no comments; they are documentation only

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

    @compiles(CreateTable)
    def _create_table(self, c: CreateTable) -> list[str]:
        return super()._create_table(c)[:1]  # [:1]: no comments in SQLite

    @compiles(AlterTable)
    def _alter_table(self, c: AlterTable) -> list[str]:
        table = self.qualified(c.table.name, c.table.prefix)
        return [
            f"ALTER TABLE {table} {action}"
            for ch in c.changes
            for action in self.alter_actions(c.table, ch)
        ]

    def alter_actions(self, t: Table, ch: ColumnChange) -> list[str]:
        match ch:
            case AddColumn(if_not_exists=True):
                raise self.unsupported(
                    "add_if_not_exists()", "use add() in a migration that runs once"
                )
            case AddColumn(opts=ColumnOpts(primary_key=True)):
                raise self.unsupported(
                    "adding a primary key column", "create a new table and copy the rows"
                )
            case AddColumn():
                return [f"ADD COLUMN {self.column_definition(t, ch)}"]
            case ModifyColumn():
                raise self.unsupported(
                    f'modify("{ch.name}") (changing a column)',
                    "create a new table with the new column, copy the rows, drop the old "
                    "table and rename the new one (execute() can run those statements)",
                )
            case RemoveColumn(if_exists=True):
                raise self.unsupported("remove_if_exists()", "use remove()")
            case RemoveColumn():
                return [f"DROP COLUMN {self.quote(ch.name)}"]
        raise TypeError(ch)

    @compiles(DropTable)
    def _drop_table(self, c: DropTable) -> list[str]:
        if c.mode == "cascade":
            raise self.unsupported('drop(..., mode="cascade")', "drop the dependent objects first")
        return super()._drop_table(c)

    # -- indexes -------------------------------------------------------------------------

    @compiles(CreateIndex)
    def _create_index(self, c: CreateIndex) -> list[str]:
        i = c.index
        for option, value in (
            ("using", i.using),
            ("include", i.include),
            ("only", i.only),
            ("nulls_distinct", i.nulls_distinct is not None),
            ("options", i.options),
        ):
            if value:
                raise self.unsupported(
                    f'index option {option}= (index "{i.name}")', "remove the option"
                )
        sql = "CREATE " + ("UNIQUE " if i.unique else "") + "INDEX "
        sql += "IF NOT EXISTS " if c.if_not_exists else ""
        # CONCURRENTLY is a PostgreSQL locking detail; SQLite builds indexes under its own lock.
        sql += f"{self.qualified(i.name, i.prefix)} ON {self.quote(i.table)}"
        sql += f" ({', '.join(self.index_column(col) for col in i.columns)})"
        return [sql + (f" WHERE {i.where}" if i.where else "")]

    @compiles(DropIndex)
    def _drop_index(self, c: DropIndex) -> list[str]:
        if c.mode == "cascade":
            raise self.unsupported('drop(index, mode="cascade")', "drop the index alone")
        exists = "IF EXISTS " if c.if_exists else ""
        return [f"DROP INDEX {exists}{self.qualified(c.index.name, c.index.prefix)}"]

    @compiles(RenameIndex)
    def _rename_index(self, c: RenameIndex) -> list[str]:
        # SQLite has no ALTER INDEX.
        raise self.unsupported(
            f'rename(index(name="{c.index.name}"))',
            "drop the index and create it again under the new name",
        )

    # -- constraints ---------------------------------------------------------------------

    @compiles(CreateConstraint, DropConstraint)
    def _constraint(self, c: CreateConstraint | DropConstraint) -> list[str]:
        raise self.unsupported(
            f'adding or dropping constraint "{c.constraint.name}" on an existing table',
            "declare CHECK constraints when the table is created, or rebuild the table",
        )

    @compiles(Execute)
    def _execute(self, c: Execute) -> list[str]:
        # sqlite3 runs one statement per call (executescript would COMMIT first).
        return split_sqlite(super()._execute(c)[0])


def split_sqlite(sql: str) -> list[str]:
    """Split a script into statements with SQLite's own tokenizer.

    >>> split_sqlite("CREATE TABLE a(x); INSERT INTO a VALUES (';')")
    ['CREATE TABLE a(x);', "INSERT INTO a VALUES (';')"]
    """
    statements, current = [], ""
    pieces = sql.split(";")
    for n, piece in enumerate(pieces):
        current += piece if n == len(pieces) - 1 else piece + ";"
        if sqlite3.complete_statement(current):
            if has_code(current.rstrip().rstrip(";")):  # not just comments
                statements.append(current.strip())
            current = ""
    if has_code(current):
        statements.append(current.strip())
    return statements
