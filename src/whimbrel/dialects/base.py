"""The shared base of every dialect compiler: dispatch, quoting, literals, standard DDL.

A dialect is a pure function of a command: ``Dialect(prefix).compile(cmd)``
returns its statements (``list[Statement]``: SQL text, or a ``CatalogStep``
that the adapter expands against the live catalog), imports no driver,
touches no database and imports nothing from ``whimbrel.migrator`` or
``whimbrel.adapters``, so ``--dry-run`` and ``--log-sql`` cost nothing.

The dialects are siblings under ``Dialect`` (as alembic's impls sit under
``DefaultImpl``): this class holds what standard SQL shares (column
definitions, references and their ON DELETE / ON UPDATE clauses, CREATE and
DROP TABLE, renames, the literal writer, the identifier rule, the script
splitter and the ``execute()`` kinds); ``PostgresDialect``, ``SQLiteDialect``
and ``MySQLDialect`` override what their database does differently.

One compiler per command type, registered in one way: ``@compiles``. Column
changes (``AddColumn``, ``ModifyColumn``, ``RemoveColumn``) are commands too,
compiled inside their table's ALTER: their compilers take ``(table,
change)`` and return the ALTER TABLE actions (``Dialect.alter_actions``).

- Inside a dialect class, mark a method::

      class PostgresDialect(Dialect):
          @compiles(CreateEnum)
          def _create_enum(self, c: CreateEnum) -> list[Statement]: ...

- For a command family defined elsewhere (TimescaleDB commands on
  PostgreSQL, ArangoDB operations), define the commands as ``Command``
  subclasses in a module of their own and register compilers on the
  dialects that support them, from that family's module::

      from whimbrel.dialects.base import compiles
      from whimbrel.dialects.postgres import PostgresDialect

      @compiles(CreateHypertable, on=PostgresDialect)
      def create_hypertable(d: PostgresDialect, c: CreateHypertable) -> list[Statement]:
          return [f"SELECT create_hypertable({d.string(c.table)}, {d.string(c.time_column)})"]

  The registration applies to the dialect and its subclasses; a dialect
  without a compiler for a command refuses it with ``UnsupportedFeatureError``
  naming the command. Import the family's module before migrations run (the
  DSL functions of the family live there, so a migration using them has).
  A new database altogether is a ``Dialect`` subclass of its own.

Example::

    >>> from whimbrel.dialects.postgres import PostgresDialect
    >>> PostgresDialect().compile(DropTable(Table("posts")))
    ['DROP TABLE "posts"']
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from whimbrel.dialects.catalog_checks import ColumnDrop
from whimbrel.dialects.quoting import qualified, quote, string_literal
from whimbrel.dialects.sqlsplit import POSTGRES, Splitter
from whimbrel.dialects.steps import CatalogStep, Statement
from whimbrel.dsl.commands import (
    AddColumn,
    ColumnChange,
    Command,
    CreateTable,
    DropTable,
    Execute,
    ExecuteCallable,
    ExecuteFile,
    ExecuteScript,
    ModifyColumn,
    Nothing,
    RemoveColumn,
    RenameColumn,
    RenameTable,
)
from whimbrel.dsl.objects import (
    ArrayType,
    ColumnOpts,
    ColumnType,
    Fragment,
    IndexColumn,
    QuotedName,
    Reference,
    Table,
    reference_name,
)
from whimbrel.errors import UnsupportedFeatureError

#: A plain column name, quoted; anything else in an index is an SQL expression.
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: ``references(on_delete=...)`` / ``on_update=`` -> clause (Ecto's names).
ON_DELETE_SQL = {
    "nothing": "",
    "delete_all": " ON DELETE CASCADE",
    "nilify_all": " ON DELETE SET NULL",
    "default_all": " ON DELETE SET DEFAULT",
    "restrict": " ON DELETE RESTRICT",
}
ON_UPDATE_SQL = {
    "nothing": "",
    "update_all": " ON UPDATE CASCADE",
    "nilify_all": " ON UPDATE SET NULL",
    "restrict": " ON UPDATE RESTRICT",
}

#: A compiler: ``(dialect, command)``, or ``(dialect, table, change)`` for column changes.
Handler = Callable[..., Any]
F = TypeVar("F", bound=Callable[..., Any])


def compiles(*command_types: type[Command], on: type[Dialect] | None = None) -> Callable[[F], F]:
    """Register the compiler of ``command_types``: a dialect method, or a function ``on`` one."""

    def mark(fn: F) -> F:
        if on is None:
            fn._compiles = command_types  # type: ignore[attr-defined]
        else:
            for command_type in command_types:
                on._own_handlers[command_type] = fn
        return fn

    return mark


def cascade(mode: str) -> str:
    return " CASCADE" if mode == "cascade" else ""


def default_type(type_: ColumnType) -> ColumnType | None:
    """The type a default literal is written for (arrays need theirs)."""
    return type_ if isinstance(type_, ArrayType) else None


class Dialect:
    """The shared base; subclasses set the type map and register command compilers."""

    name: ClassVar[str] = "base"
    quote_char: ClassVar[str] = '"'
    #: Ecto type name -> SQL type; names not listed pass through verbatim.
    types: ClassVar[dict[str, str]] = {}
    #: The script rules of this database (``whimbrel.dialects.sqlsplit``).
    splitter: ClassVar[Splitter] = POSTGRES
    #: The driver runs one statement per call, so ``execute()`` text is split too.
    one_statement_per_call: ClassVar[bool] = False
    _own_handlers: ClassVar[dict[type, Handler]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._own_handlers = _marked(cls)

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix

    # -- entry point -----------------------------------------------------------

    def compile(self, command: Command) -> list[Statement]:
        """The statements for one command (empty when there is nothing to run)."""
        if isinstance(command, AddColumn | ModifyColumn | RemoveColumn):
            raise TypeError(f"{command.describe()} is compiled inside its table's AlterTable")
        handler = self.handler(type(command))
        if handler is None:
            raise self.unsupported(command.describe(), "write it with execute()")
        statements: list[Statement] = handler(self, command)
        return statements

    def alter_actions(self, table: Table, change: ColumnChange) -> list[str]:
        """The ``ALTER TABLE`` actions of one column change (its ``@compiles`` compiler)."""
        handler = self.handler(type(change))
        if handler is None:
            raise self.unsupported(f"{change.describe()} in alter()", "write it with execute()")
        actions: list[str] = handler(self, table, change)
        return actions

    @classmethod
    def handler(cls, command_type: type) -> Handler | None:
        """The compiler registered for ``command_type`` here or on a base dialect."""
        for klass in cls.__mro__:
            found = vars(klass).get("_own_handlers", {}).get(command_type)
            if found is not None:
                return found  # type: ignore[no-any-return]
        return None

    def unsupported(self, what: str, fix: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(f"{self.name} does not support {what}: {fix}")

    # -- execute() in its kinds ---------------------------------------------------

    @compiles(Execute)
    def _execute(self, c: Execute) -> list[Statement]:
        return list(self.split(c.up)) if self.one_statement_per_call else [c.up]

    @compiles(ExecuteFile)
    def _execute_file(self, c: ExecuteFile) -> list[Statement]:
        return self._execute(Execute(c.up_sql))

    @compiles(ExecuteScript)
    def _execute_script(self, c: ExecuteScript) -> list[Statement]:
        return list(self.split(c.up))

    @compiles(ExecuteCallable)
    def _execute_callable(self, c: ExecuteCallable) -> list[Statement]:
        raise TypeError("callables are run by the migrator, not compiled")

    def split(self, script: str) -> list[str]:
        """The statements of an SQL script, by this database's rules."""
        return self.splitter.split(script)

    @compiles(Nothing)
    def _nothing(self, c: Nothing) -> list[Statement]:
        return []

    # -- quoting and names -------------------------------------------------------

    def quote(self, name: str) -> str:
        """Quote an identifier, doubling any quote character inside it."""
        return quote(name, self.quote_char)

    def quote_all(self, names: Any) -> str:
        return ", ".join(self.quote(n) for n in names)

    def qualified(self, name: str, prefix: str | None = None) -> str:
        """``"prefix"."name"``, using the command's prefix or the dialect's default."""
        return qualified(name, prefix or self.prefix, self.quote_char)

    # -- values: the one literal writer -------------------------------------------

    def string(self, value: str) -> str:
        """A SQL string literal (standard quoting: ``'`` doubled)."""
        try:
            return string_literal(value)
        except ValueError as exc:
            raise UnsupportedFeatureError(str(exc)) from None

    def literal(self, value: Any, type_: ColumnType | None = None) -> str:
        """A default value as SQL."""
        match value:
            case None:
                return "NULL"
            case Fragment(sql=sql):
                return sql
            case bool():
                return self.boolean(value)
            case int() | float() | Decimal():
                return str(value)
            case str():
                return self.string(value)
            case dict():
                return self.string(json.dumps(value, separators=(",", ":"), sort_keys=True))
            case list():
                return self.list_literal(value, type_)
        raise UnsupportedFeatureError(f"cannot write {value!r} as a SQL default")

    def boolean(self, value: bool) -> str:
        return "true" if value else "false"

    def list_literal(self, value: list[Any], type_: ColumnType | None) -> str:
        return self.string(json.dumps(value, separators=(",", ":")))

    # -- types ------------------------------------------------------------------------

    def column_type(self, type_: ColumnType, opts: ColumnOpts) -> str:
        """The SQL type of a column, with size/precision applied."""
        if isinstance(type_, Reference):
            return self.reference_type(type_.type, opts)
        if isinstance(type_, ArrayType):
            return self.array_type(type_, opts)
        return self.sized(type_, self.types.get(type_, type_), opts)

    def reference_type(self, type_: ColumnType, opts: ColumnOpts) -> str:
        return self.column_type(type_, opts)

    def array_type(self, type_: ArrayType, opts: ColumnOpts) -> str:
        raise self.unsupported("array columns", 'store the values as JSON (type "map")')

    def sized(self, ecto_type: str, sql_type: str, opts: ColumnOpts) -> str:
        if opts.fields is not None:
            raise self.unsupported(
                f"fields={opts.fields!r} (PostgreSQL interval fields)", "remove fields="
            )
        if opts.size is not None:
            return f"{sql_type}({opts.size})"
        if opts.precision is not None:
            if opts.scale is not None:
                return f"{sql_type}({opts.precision},{opts.scale})"
            return f"{sql_type}({opts.precision})"
        return sql_type

    # -- columns --------------------------------------------------------------------------

    def column_definition(self, table: Table, c: AddColumn, inline_fk: bool = True) -> str:
        """``"name" type [COLLATE] [GENERATED] [DEFAULT] [NULL|NOT NULL] [REFERENCES]``.

        ``inline_fk=False`` leaves a reference's constraint out, for callers
        that add it as a separate ``ADD CONSTRAINT`` (``ALTER TABLE``).
        """
        sql = f"{self.quote(c.name)} {self.column_type(c.type, c.opts)}"
        return sql + self.column_options(table, c.name, c.type, c.opts, inline_fk)

    def column_options(
        self, table: Table, name: str, type_: ColumnType, o: ColumnOpts, inline_fk: bool = True
    ) -> str:
        sql = ""
        if o.collation:
            sql += f" COLLATE {self.quote(o.collation)}"
        if o.generated:
            sql += f" GENERATED {o.generated}"
        if o.has_default:
            sql += f" DEFAULT {self.literal(o.default, default_type(type_))}"
        if o.null is not None:
            sql += " NULL" if o.null else " NOT NULL"
        if inline_fk and isinstance(type_, Reference) and not type_.with_:
            sql += " CONSTRAINT " + self.quote(reference_name(table.name, name, type_))
            sql += self.references_clause(table, name, type_)
        return sql

    def references_clause(self, table: Table, column: str, ref: Reference) -> str:
        """`` REFERENCES "t"("id") [MATCH] [ON DELETE] [ON UPDATE]``."""
        target = [ref.column, *(theirs for _, theirs in ref.with_)]
        sql = f" REFERENCES {self.qualified(ref.table, ref.prefix or table.prefix)}"
        sql += f"({self.quote_all(target)})"
        if ref.match:
            sql += f" MATCH {ref.match.upper()}"
        return sql + self.on_delete(ref) + ON_UPDATE_SQL[ref.on_update]

    def on_delete(self, ref: Reference) -> str:
        if isinstance(ref.on_delete, tuple):
            action, columns = ref.on_delete
            verb = "SET NULL" if action == "nilify" else "SET DEFAULT"
            return f" ON DELETE {verb} ({self.quote_all(columns)})"
        return ON_DELETE_SQL[ref.on_delete]

    def foreign_key(self, table: Table, column: str, ref: Reference) -> str:
        """``CONSTRAINT "fk" FOREIGN KEY (cols) REFERENCES ...`` (table-level form)."""
        mine = [column, *(own for own, _ in ref.with_)]
        sql = f"CONSTRAINT {self.quote(reference_name(table.name, column, ref))} "
        sql += f"FOREIGN KEY ({self.quote_all(mine)})" + self.references_clause(table, column, ref)
        return sql + ("" if ref.validate else " NOT VALID")

    def comments(self, table: Table, columns: tuple[Any, ...]) -> list[str]:
        """``COMMENT ON`` statements; none where the database keeps no comments."""
        return []

    #: MySQL: ``DROP COLUMN`` of a foreign-key column fails, so its keys are dropped first.
    drops_column_foreign_keys: ClassVar[bool] = False

    def column_drops(self, table: Table, changes: tuple[Any, ...]) -> list[Statement]:
        """The catalog checks before an ALTER that drops columns (``catalog_checks.ColumnDrop``).

        Needed where ``change()`` going up removes a column its rollback
        re-adds bare, and on MySQL to drop the column's foreign keys first.
        """
        steps: list[Statement] = []
        for ch in changes:
            if not isinstance(ch, RemoveColumn):
                continue
            if not (ch.restorable or self.drops_column_foreign_keys):
                continue
            own = (
                reference_name(table.name, ch.name, ch.type)
                if isinstance(ch.type, Reference)
                else None
            )
            plan = ColumnDrop(
                table.name,
                table.prefix,
                ch.name,
                ch.restorable,
                own,
                self.drop_foreign_key_sql(table) if self.drops_column_foreign_keys else None,
            )
            steps.append(CatalogStep(plan.preview(), plan))
        return steps

    def drop_foreign_key_sql(self, table: Table) -> Callable[[str], str]:
        target = self.qualified(table.name, table.prefix)
        return lambda name: f"ALTER TABLE {target} DROP FOREIGN KEY {self.quote(name)}"

    # -- tables ---------------------------------------------------------------------------

    def table_elements(self, t: Table, columns: tuple[AddColumn, ...]) -> list[str]:
        """Column definitions, then the primary key and composite foreign keys."""
        parts = [self.column_definition(t, col) for col in columns]
        keys = [col.name for col in columns if col.opts.primary_key]
        if keys:
            parts.append(f"PRIMARY KEY ({self.quote_all(keys)})")
        for col in columns:
            if isinstance(col.type, Reference) and col.type.with_:
                parts.append(self.foreign_key(t, col.name, col.type))
        return parts

    @compiles(CreateTable)
    def _create_table(self, c: CreateTable) -> list[Statement]:
        t = c.table
        parts = self.table_elements(t, c.columns)
        head = "CREATE " + (f"{t.modifiers} " if t.modifiers else "") + "TABLE "
        head += "IF NOT EXISTS " if c.if_not_exists else ""
        sql = f"{head}{self.qualified(t.name, t.prefix)} ({', '.join(parts)})"
        sql += f" {t.options}" if t.options else ""
        return [sql, *self.comments(t, c.columns)]

    @compiles(DropTable)
    def _drop_table(self, c: DropTable) -> list[Statement]:
        exists = "IF EXISTS " if c.if_exists else ""
        return [
            f"DROP TABLE {exists}{self.qualified(c.table.name, c.table.prefix)}{cascade(c.mode)}"
        ]

    @compiles(RenameTable)
    def _rename_table(self, c: RenameTable) -> list[Statement]:
        return [
            f"ALTER TABLE {self.qualified(c.table.name, c.table.prefix)} "
            f"RENAME TO {self.quote(c.to.name)}"
        ]

    @compiles(RenameColumn)
    def _rename_column(self, c: RenameColumn) -> list[Statement]:
        table = self.qualified(c.table.name, c.table.prefix)
        return [f"ALTER TABLE {table} RENAME COLUMN {self.quote(c.column)} TO {self.quote(c.to)}"]

    # -- indexes ---------------------------------------------------------------------------

    def index_column(self, column: str | IndexColumn) -> str:
        """A plain name is quoted; anything else is an SQL expression, used verbatim."""
        if isinstance(column, IndexColumn):
            sql = self.index_column(column.expr)
            sql += f" {column.direction}" if column.direction else ""
            return sql + (f" NULLS {column.nulls}" if column.nulls else "")
        if isinstance(column, QuotedName) or IDENTIFIER.match(column):
            return self.quote(column)
        return column


def _marked(cls: type[Dialect]) -> dict[type, Handler]:
    """The methods a dialect class itself marks with ``@compiles``."""
    return {
        command_type: attr
        for attr in vars(cls).values()
        for command_type in getattr(attr, "_compiles", ())
    }


Dialect._own_handlers = _marked(Dialect)
