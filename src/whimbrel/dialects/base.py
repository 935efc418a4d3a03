"""What every dialect compiler shares: dispatch by command type, quoting, literals.

A dialect is a pure function of a command: ``Dialect(prefix).compile(cmd)``
returns the SQL statements, imports no driver and touches no database, so
``--dry-run`` and ``--log-sql`` cost nothing. Each command type has one
method, registered with ``@compiles(CommandType)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from whimbrel.dialects.quoting import qualified, quote, string_literal
from whimbrel.dsl.commands import Execute, Nothing, describe
from whimbrel.dsl.objects import ArrayType, ColumnOpts, ColumnType, Fragment, Reference
from whimbrel.errors import UnsupportedFeatureError
from whimbrel.migrator.sqlsplit import split_sql

C = TypeVar("C")
Handler = Callable[[Any, Any], list[str]]


def compiles(
    *command_types: type,
) -> Callable[[Callable[..., list[str]]], Callable[..., list[str]]]:
    """Register a dialect method as the compiler of ``command_types``."""

    def mark(method: Callable[..., list[str]]) -> Callable[..., list[str]]:
        method._compiles = command_types  # type: ignore[attr-defined]
        return method

    return mark


class Dialect:
    """Base dialect; subclasses set the type map and register command compilers.

    Example::

        >>> from whimbrel.dialects.postgres import PostgresDialect
        >>> PostgresDialect().compile(DropTable(Table("posts")))
        ['DROP TABLE "posts"']
    """

    name: ClassVar[str] = "base"
    quote_char: ClassVar[str] = '"'
    #: Ecto type name -> SQL type; names not listed pass through verbatim.
    types: ClassVar[dict[str, str]] = {}
    _handlers: ClassVar[dict[type, Handler]] = {}

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        handlers: dict[type, Handler] = {}
        for klass in reversed(cls.__mro__):  # subclasses override their bases
            for attr in vars(klass).values():
                for command_type in getattr(attr, "_compiles", ()):
                    handlers[command_type] = attr
        cls._handlers = handlers

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix

    # -- entry point -----------------------------------------------------------

    def compile(self, command: object) -> list[str]:
        """The SQL statements for one command (empty when there is nothing to run)."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise self.unsupported(describe(command), "write it with execute()")
        return handler(self, command)

    def unsupported(self, what: str, fix: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(f"{self.name} does not support {what}: {fix}")

    @compiles(Execute)
    def _execute(self, c: Execute) -> list[str]:
        if not isinstance(c.up, str):
            raise TypeError("callables are run by the migrator, not compiled")
        return self.split(c.up) if c.script else [c.up]

    def split(self, script: str) -> list[str]:
        """The statements of an SQL script (``Execute.script``), by this database's rules."""
        return split_sql(script)

    @compiles(Nothing)
    def _nothing(self, c: Nothing) -> list[str]:
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

    # -- values -------------------------------------------------------------------

    @staticmethod
    def string(value: str) -> str:
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
                return "true" if value else "false"
            case int() | float() | Decimal():
                return str(value)
            case str():
                return self.string(value)
            case dict():
                return self.string(json.dumps(value, separators=(",", ":"), sort_keys=True))
            case list():
                return self.list_literal(value, type_)
        raise UnsupportedFeatureError(f"cannot write {value!r} as a SQL default")

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
        if opts.size is not None:
            return f"{sql_type}({opts.size})"
        if opts.precision is not None:
            if opts.scale is not None:
                return f"{sql_type}({opts.precision},{opts.scale})"
            return f"{sql_type}({opts.precision})"
        return sql_type
