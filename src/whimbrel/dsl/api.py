"""The migration DSL functions; import them with ``from whimbrel.migration import *``.

Constructors (``table``, ``index``, ``references`` ...) build data; commands
(``create``, ``alter``, ``drop`` ...) record it. Nothing touches the database
while these functions run. The column changes used inside blocks live in
``whimbrel.dsl.columns`` and the PostgreSQL enum commands in
``whimbrel.dsl.enums``; ``whimbrel.migration`` exports all three. Example::

    def change():
        with create(table("posts")):
            add("title", "string", null=False)
            add("author_id", references("users", on_delete="delete_all"))
            timestamps()
        create(index("posts", ["author_id"]))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, overload

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl import timescale as _ts
from whimbrel.dsl import timescale_api as _ts_api
from whimbrel.dsl.checks import check_choice as _check_choice
from whimbrel.dsl.checks import check_name as _check_name
from whimbrel.dsl.checks import check_prefix as _check_prefix
from whimbrel.dsl.checks import check_type as _check_type
from whimbrel.dsl.checks import checked as _checked
from whimbrel.dsl.checks import column_opts
from whimbrel.dsl.checks import fail as _fail
from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    CreateConstraint,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropTable,
    ExecuteFile,
    RenameColumn,
    RenameEnum,
    RenameIndex,
    RenameTable,
    Runnable,
    ValidateConstraint,
    execute_command,
)
from whimbrel.dsl.objects import (
    ArrayType,
    ColumnType,
    Constraint,
    EnumType,
    Fragment,
    Index,
    IndexColumn,
    PrimaryKey,
    QuotedName,
    Reference,
    Table,
    default_index_name,
)
from whimbrel.dsl.recorder import Block

ON_DELETE = ("nothing", "delete_all", "nilify_all", "default_all", "restrict")
ON_DELETE_WITH_COLUMNS = ("nilify", "default")
ON_UPDATE = ("nothing", "update_all", "nilify_all", "restrict")
MATCH = ("simple", "partial", "full")
DROP_MODES = ("restrict", "cascade")


@_checked
def fragment(sql: str) -> Fragment:
    """Raw SQL used verbatim, e.g. ``add("id", "uuid", default=fragment("gen_random_uuid()"))``."""
    return Fragment(sql)


@_checked
def array(type: ColumnType) -> ArrayType:  # noqa: A002 - mirrors Ecto's {:array, type}
    """An array column type: ``add("tags", array("text"), default=[])``."""
    return ArrayType(_check_type("array()", type))


def quoted(column: str) -> QuotedName:
    """An index column that is a name, quoted as one: ``index("t", [quoted("first name")])``.

    A string that is not a plain identifier is otherwise an SQL expression
    (``"lower(email)"``), sent as written.

    >>> quoted("first name")
    'first name'
    """
    if not isinstance(column, str) or not column:
        raise _fail(f"quoted() takes a column name, got {column!r}")
    return QuotedName(column)


def asc(column: str) -> IndexColumn:
    """Ascending index column: ``index("posts", [desc("inserted_at"), asc("id")])``."""
    return IndexColumn(column, "ASC")


def desc(column: str) -> IndexColumn:
    """Descending index column."""
    return IndexColumn(column, "DESC")


def asc_nulls_first(column: str) -> IndexColumn:
    return IndexColumn(column, "ASC", "FIRST")


def asc_nulls_last(column: str) -> IndexColumn:
    return IndexColumn(column, "ASC", "LAST")


def desc_nulls_first(column: str) -> IndexColumn:
    return IndexColumn(column, "DESC", "FIRST")


def desc_nulls_last(column: str) -> IndexColumn:
    return IndexColumn(column, "DESC", "LAST")


# --- constructors ----------------------------------------------------------------


@_checked
def table(
    name: str,
    primary_key: bool | dict[str, Any] = True,
    prefix: str | None = None,
    comment: str | None = None,
    options: str | None = None,
    modifiers: str | None = None,
    engine: str | None = None,
) -> Table:
    """A table, for ``create``, ``alter``, ``drop`` and ``rename``.

    Options: ``primary_key`` (True: the project's default key, ``id bigserial``;
    False: none; a dict such as ``{"name": "uuid", "type": "binary_id"}``),
    ``prefix`` (schema), ``comment``, ``options`` (text after the column list:
    ``WITH``, ``PARTITION BY``, ``INHERITS``), ``modifiers`` (``UNLOGGED``),
    ``engine`` (MySQL).
    """
    key: bool | PrimaryKey = (
        primary_key if isinstance(primary_key, bool) else _primary_key(primary_key)
    )
    return Table(name, prefix, key, comment, options, modifiers, engine)


def _primary_key(spec: dict[str, Any]) -> PrimaryKey:
    if not isinstance(spec, dict):
        raise _fail(f"table(): primary_key must be True, False or a dict, got {spec!r}")
    rest = dict(spec)
    name = rest.pop("name", "id")
    defaults = _defaults()
    type_ = _check_type("table(primary_key=...)", rest.pop("type", defaults.primary_key.type))
    return PrimaryKey(
        name, type_, column_opts("table(primary_key=...)", {**rest, "primary_key": True})
    )


def _defaults() -> _rec.DslDefaults:
    return _rec.current_defaults()


@_checked
def index(
    table: str,
    columns: str | IndexColumn | Sequence[str | IndexColumn] = (),
    name: str | None = None,
    unique: bool = False,
    concurrently: bool = False,
    using: str | None = None,
    where: str | None = None,
    include: Sequence[str] = (),
    nulls_distinct: bool | None = None,
    only: bool = False,
    prefix: str | None = None,
    comment: str | None = None,
    options: str | None = None,
) -> Index:
    """An index on ``table``; the name defaults to ``<table>_<columns>_index``.

    Columns are names (quoted) or SQL expressions (verbatim, e.g.
    ``"lower(email)"``), or ``asc()``/``desc()`` with the ``_nulls_first/_last``
    variants. Options: ``unique``, ``concurrently`` (PostgreSQL; needs
    ``disable_ddl_transaction = True``), ``using`` (gin, gist, brin, hash),
    ``where`` (partial index), ``include``, ``nulls_distinct`` (PostgreSQL 15+,
    unique indexes only), ``only``, ``prefix``, ``comment``, ``options``
    (storage parameters: ``"fillfactor = 70"`` becomes ``WITH (fillfactor = 70)``
    as in Ecto; text starting with ``WITH`` or ``TABLESPACE`` is used verbatim).
    """
    cols = tuple([columns] if isinstance(columns, str | IndexColumn) else columns)
    for col in cols:
        _check_expression(table, col.expr if isinstance(col, IndexColumn) else col)
    if not cols and name is None:
        raise _fail(f'index("{table}"): give the columns, or name= to refer to an existing index')
    if nulls_distinct is not None and not unique:
        raise _fail(
            f'index("{table}"): nulls_distinct only applies to unique indexes: '
            "add unique=True or use unique_index()"
        )
    return Index(
        table,
        cols,
        name or default_index_name(table, cols),
        unique,
        concurrently,
        using,
        where,
        tuple(include),
        nulls_distinct,
        only,
        prefix,
        comment,
        options,
    )


def _check_expression(table: str, column: str) -> None:
    """An index expression is one SQL expression: a ``;`` outside quotes is refused."""
    if isinstance(column, QuotedName):
        return
    if ";" in _QUOTED.sub("", column):
        raise _fail(
            f'index("{table}"): the column {column!r} holds a ";" outside quotes; an index '
            'column is a name or one SQL expression: remove the ";", or use '
            f"quoted({column!r}) if it is a column name"
        )


#: Quoted text ('...', "...", `...`, doubled quotes inside), removed before looking for ";".
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`")


def unique_index(table: str, columns: Any = (), **opts: Any) -> Index:
    """Shortcut for ``index(table, columns, unique=True, ...)``."""
    return index(table, columns, unique=True, **opts)  # type: ignore[no-any-return]


@_checked
def constraint(
    table: str,
    name: str,
    check: str | None = None,
    exclude: str | None = None,
    validate: bool = True,
    comment: str | None = None,
    prefix: str | None = None,
) -> Constraint:
    """A check (``check="price > 0"``) or exclusion (``exclude="gist (...)"``) constraint.

    ``validate=False`` adds it ``NOT VALID`` on PostgreSQL, so existing rows
    are not scanned.
    """
    if check is not None and exclude is not None:
        raise _fail(
            f'constraint("{table}", "{name}"): give check= or exclude=, not both: '
            "split it into two constraints"
        )
    return Constraint(table, name, check, exclude, validate, comment, prefix)


@_checked
def references(
    table: str,
    column: str | None = None,
    type: ColumnType | None = None,  # noqa: A002 - mirrors Ecto's option name
    name: str | None = None,
    on_delete: str | tuple[str, list[str]] = "nothing",
    on_update: str = "nothing",
    validate: bool = True,
    with_: dict[str, str] | list[tuple[str, str]] | None = None,
    match: str | None = None,
    prefix: str | None = None,
) -> Reference:
    """A foreign-key column type: ``add("author_id", references("users"))``.

    Options (defaults): ``column`` ("id"), ``type`` (the project's key type,
    bigint for ``bigserial``), ``name`` (``<table>_<column>_fkey``),
    ``on_delete`` ("nothing", "delete_all", "nilify_all", "default_all",
    "restrict", or ``("nilify", [cols])``), ``on_update`` ("nothing",
    "update_all", "nilify_all", "restrict"), ``validate`` (False adds it NOT
    VALID), ``with_`` (extra column pairs for composite keys), ``match``
    ("simple", "partial", "full"), ``prefix`` (schema of the referenced table).
    """
    defaults = _defaults()
    pairs = tuple((with_ or {}).items()) if isinstance(with_, dict) else tuple(with_ or ())
    return Reference(
        table,
        column or defaults.foreign_key_column,
        _check_type("references()", type) if type is not None else defaults.reference_type,
        name,
        _check_on_delete(table, on_delete),
        _check_choice(f'references("{table}")', "on_update", on_update, ON_UPDATE),
        validate,
        tuple((str(a), str(b)) for a, b in pairs),
        _check_choice(f'references("{table}")', "match", match, MATCH) if match else None,
        prefix,
    )


def _check_on_delete(table: str, value: Any) -> Any:
    if isinstance(value, tuple | list) and len(value) == 2 and value[0] in ON_DELETE_WITH_COLUMNS:
        return (value[0], tuple(value[1]))
    if isinstance(value, str):
        return _check_choice(f'references("{table}")', "on_delete", value, ON_DELETE)
    raise _fail(
        f'references("{table}"): unknown on_delete {value!r}; use one of: '
        f'{", ".join(ON_DELETE)}, or ("nilify", [columns])'
    )


# --- commands ------------------------------------------------------------------


def _table_or_fail(command: str, obj: object) -> Table:
    if not isinstance(obj, Table):
        raise _fail(f"{command}() takes table(...), got {obj!r}")
    return obj


def _with_key(t: Table) -> tuple[AddColumn, ...]:
    if t.primary_key is False:
        return ()
    key = t.primary_key if isinstance(t.primary_key, PrimaryKey) else _defaults().primary_key
    return (AddColumn(key.name, key.type, key.opts),)


def _label(obj: object) -> str:
    """``table("posts")``, ``index("posts", name="i")``... for error messages."""
    match obj:
        case Table(name=n):
            return f'table("{n}")'
        case Index(table=t, name=n):
            return f'index("{t}", name="{n}")'
        case Constraint(table=t, name=n):
            return f'constraint("{t}", "{n}")'
        case EnumType(name=n):
            return f'enum("{n}")'
    return repr(obj)


def _in_prefix(command: str, obj: Table | Index | Constraint | EnumType) -> None:
    _check_prefix(f"{command}({_label(obj)})", obj.prefix)


# Overloads: `with create(table(...)):` type-checks, as create() of a table returns its block.
@overload
def create(obj: Table) -> Block: ...
@overload
def create(obj: Index | Constraint | EnumType | _ts.TimescaleObject) -> None: ...
def create(obj: Table | Index | Constraint | EnumType | _ts.TimescaleObject) -> Block | None:
    """Create a table (optionally ``with`` a block of columns), an index, a constraint
    or a PostgreSQL enum type.

    ``create(table("t"))`` alone makes a table holding only its key;
    ``create(enum("mood", ["happy", "sad"]))`` makes ``CREATE TYPE ... AS ENUM``.
    """
    rec = _rec.current()
    if isinstance(obj, _ts.TIMESCALE_OBJECTS):  # TimescaleDB hook (DESIGN §7)
        _ts_api.create(obj)
        return None
    if not isinstance(obj, Table | Index | Constraint | EnumType):
        raise _fail(
            f"create() takes table(...), index(...), constraint(...) or enum(...), got {obj!r}"
        )
    _in_prefix("create", obj)
    if isinstance(obj, Table):
        return rec.open_block(CreateTable(obj, _with_key(obj)))
    if isinstance(obj, Index):
        rec.record(CreateIndex(obj))
    elif isinstance(obj, Constraint):
        if obj.check is None and obj.exclude is None:
            raise _fail(
                f'create(constraint("{obj.table}", "{obj.name}")): '
                'give check="..." or exclude="..."'
            )
        rec.record(CreateConstraint(obj))
    else:
        if not obj.values:
            raise _fail(
                f'create(enum("{obj.name}")): give the values, '
                f'e.g. enum("{obj.name}", ["happy", "sad"])'
            )
        rec.record(CreateEnum(obj))
    return None


@overload
def create_if_not_exists(obj: Table) -> Block: ...
@overload
def create_if_not_exists(obj: Index) -> None: ...
def create_if_not_exists(obj: Table | Index) -> Block | None:
    """Like ``create``, with ``IF NOT EXISTS``; irreversible for tables only if dropped."""
    rec = _rec.current()
    if isinstance(obj, Table):
        _in_prefix("create_if_not_exists", obj)
        return rec.open_block(CreateTable(obj, _with_key(obj), if_not_exists=True))
    if isinstance(obj, Index):
        _in_prefix("create_if_not_exists", obj)
        rec.record(CreateIndex(obj, if_not_exists=True))
        return None
    raise _fail(
        f"create_if_not_exists() takes table(...) or index(...), got {obj!r}; "
        "PostgreSQL has no IF NOT EXISTS for constraints or enum types: use create()"
    )


def alter(obj: Table) -> Block:
    """Change a table: ``with alter(table("posts")): add(...); modify(...); remove(...)``."""
    t = _table_or_fail("alter", obj)
    _in_prefix("alter", t)
    return _rec.current().open_block(AlterTable(t))


def _drop(obj: object, mode: str, if_exists: bool) -> None:
    name = "drop_if_exists" if if_exists else "drop"
    _check_choice(f"{name}()", "mode", mode, DROP_MODES)
    rec = _rec.current()
    if isinstance(obj, _ts.TIMESCALE_OBJECTS):  # TimescaleDB hook (DESIGN §7)
        _ts_api.drop(obj, mode, if_exists)
        return
    if not isinstance(obj, Table | Index | Constraint | EnumType):
        raise _fail(
            f"{name}() takes table(...), index(...), constraint(...) or enum(...), got {obj!r}"
        )
    _in_prefix(name, obj)
    if isinstance(obj, Table):
        rec.record(DropTable(obj, mode, if_exists))
    elif isinstance(obj, Index):
        rec.record(DropIndex(obj, mode, if_exists))
    elif isinstance(obj, Constraint):
        rec.record(DropConstraint(obj, mode, if_exists))
    else:
        rec.record(DropEnum(obj, mode, if_exists))


def drop(
    obj: Table | Index | Constraint | EnumType | _ts.TimescaleObject, mode: str = "restrict"
) -> None:
    """Drop a table, index, constraint or enum type; ``mode="cascade"`` drops dependents too.

    Reversible for indexes, and for enums whose values are given
    (``drop(enum("mood", ["happy", "sad"]))``) and that are not cascaded.
    """
    _drop(obj, mode, False)


def drop_if_exists(
    obj: Table | Index | Constraint | EnumType | _ts.TimescaleObject, mode: str = "restrict"
) -> None:
    """Drop a table, index, constraint or enum type when it exists."""
    _drop(obj, mode, True)


def rename(obj: Table | Index | EnumType, column: str | None = None, *, to: Table | str) -> None:
    """Rename a table, a column, an index or an enum type.

    ``rename(table("posts"), to=table("articles"))``,
    ``rename(table("posts"), "title", to="subject")``,
    ``rename(index("posts", name="old"), to="new")``,
    ``rename(enum("mood"), to="feeling")``.
    """
    rec = _rec.current()
    if isinstance(obj, Table | Index | EnumType):
        _in_prefix("rename", obj)
    if isinstance(obj, Table) and column is not None and isinstance(to, str):
        rec.record(RenameColumn(obj, column, to))
    elif isinstance(obj, Table) and column is None and isinstance(to, Table):
        _in_prefix("rename", to)
        if (to.prefix or rec.prefix) != (obj.prefix or rec.prefix):
            raise _fail(
                f"rename({_label(obj)}, to={_label(to)}): a rename cannot move a table to "
                f'schema "{to.prefix}": give both tables the same prefix, and move it with '
                f"execute('ALTER TABLE ... SET SCHEMA \"{to.prefix}\"', ...)"
            )
        rec.record(RenameTable(obj, to))
    elif isinstance(obj, Index) and column is None and isinstance(to, str):
        rec.record(RenameIndex(obj, to))
    elif isinstance(obj, EnumType) and column is None and isinstance(to, str):
        rec.record(RenameEnum(obj, to))
    else:
        raise _fail(
            "rename() takes rename(table(old), to=table(new)), "
            "rename(table(t), old_column, to=new_column), rename(index(...), to=new_name) "
            "or rename(enum(old), to=new_name)"
        )


@_checked
def validate_constraint(table: str, name: str, prefix: str | None = None) -> None:
    """Check the existing rows against a constraint added with ``validate=False``.

    ``ALTER TABLE ... VALIDATE CONSTRAINT`` scans the table under a lock that
    still lets rows be read and written, so the usual safe sequence is: add
    the check or foreign key ``NOT VALID`` (instant), then validate it in a
    later migration. Works for check constraints and foreign keys::

        create(constraint("products", "price_positive", check="price > 0", validate=False))
        ...
        validate_constraint("products", "price_positive")

    Reversing it does nothing: a validated constraint cannot be made ``NOT
    VALID`` again, and nothing needs undoing (Ecto has no such command; it
    needs ``execute``).
    """
    where = f'validate_constraint("{table}", "{name}")'
    _check_name(where, "table", table)
    _check_name(where, "name", name)
    _check_prefix(where, prefix)
    _rec.current().record(ValidateConstraint(Constraint(table, name, prefix=prefix)))


def _runnable(what: str, value: object) -> Runnable:
    if isinstance(value, str) or callable(value):
        return value  # type: ignore[return-value]
    raise _fail(f"{what} takes SQL text or a function, got {value!r}")


def execute(up: Runnable, down: Runnable | None = None) -> None:
    """Run SQL (or a function) in order with the other commands.

    ``execute(up, down)`` is reversible; ``execute(up)`` alone is not.
    """
    down_ = None if down is None else _runnable("execute() down", down)
    _rec.current().record(execute_command(_runnable("execute()", up), down_))


def execute_file(up_path: str, down_path: str | None = None) -> None:
    """Run the SQL in a file (relative to the migration); two paths make it reversible."""
    recorder = _rec.current()
    up_sql = recorder.read_relative(up_path)
    down_sql = None if down_path is None else recorder.read_relative(down_path)
    recorder.record(ExecuteFile(up_path, down_path, up_sql, down_sql))


def flush() -> None:
    """Run every command recorded so far, before the function returns."""
    _rec.current().flush()


# --- context -------------------------------------------------------------------------


def repo() -> Any:
    """A live connection for data changes, run in order with the recorded DDL.

    ``repo().execute(sql, params)`` and ``repo().query(sql, params)`` first run
    every command recorded so far, so data changes see the schema they need.
    """
    return _rec.current().repo


def direction() -> str:
    """``"up"`` while migrating, ``"down"`` while rolling back (``change()`` too)."""
    return _rec.current().direction


def prefix() -> str | None:
    """The schema (prefix) the migration runs in, or None for the default."""
    return _rec.current().prefix


__all__ = [
    "alter",
    "array",
    "asc",
    "asc_nulls_first",
    "asc_nulls_last",
    "constraint",
    "create",
    "create_if_not_exists",
    "desc",
    "desc_nulls_first",
    "desc_nulls_last",
    "direction",
    "drop",
    "drop_if_exists",
    "execute",
    "execute_file",
    "flush",
    "fragment",
    "index",
    "prefix",
    "quoted",
    "references",
    "rename",
    "repo",
    "table",
    "unique_index",
    "validate_constraint",
]
