"""The migration DSL functions; import them with ``from whimbrel.migration import *``.

Constructors (``table``, ``index``, ``references`` ...) build data; commands
(``create``, ``alter``, ``drop`` ...) record it. Nothing touches the database
while these functions run. Example::

    def change():
        with create(table("posts")):
            add("title", "string", null=False)
            add("author_id", references("users", on_delete="delete_all"))
            timestamps()
        create(index("posts", ["author_id"]))
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar, overload

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    CreateConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    Execute,
    ExecuteFile,
    ModifyColumn,
    RemoveColumn,
    RenameColumn,
    RenameIndex,
    RenameTable,
    Runnable,
)
from whimbrel.dsl.objects import (
    ArrayType,
    ColumnOpts,
    ColumnType,
    Constraint,
    Fragment,
    Index,
    IndexColumn,
    PrimaryKey,
    Reference,
    Table,
    default_index_name,
)
from whimbrel.dsl.recorder import Block
from whimbrel.errors import MigrationDefinitionError

F = TypeVar("F", bound=Callable[..., Any])

ON_DELETE = ("nothing", "delete_all", "nilify_all", "default_all", "restrict")
ON_DELETE_WITH_COLUMNS = ("nilify", "default")
ON_UPDATE = ("nothing", "update_all", "nilify_all", "restrict")
MATCH = ("simple", "partial", "full")
DROP_MODES = ("restrict", "cascade")
COLUMN_OPTIONS = tuple(ColumnOpts.__dataclass_fields__)


def _fail(message: str) -> MigrationDefinitionError:
    return MigrationDefinitionError(message)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _checked(fn: F) -> F:
    """Turn Python's "unexpected keyword argument" into a DSL error with the fix."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            if exc.__traceback__ is None or exc.__traceback__.tb_next is not None:
                raise  # raised deeper down, not by the call itself
            params = fn.__code__.co_varnames[
                : fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount
            ]
            unknown = [k for k in kwargs if k not in params]
            hint = "".join(f"unknown option {k!r}{_did_you_mean(k, params)}; " for k in unknown)
            raise _fail(
                f"{fn.__name__}(): {hint or str(exc).removeprefix(fn.__name__ + '() ') + '; '}"
                f"accepted: {', '.join(p for p in params if p not in ('args', 'kwargs'))}"
            ) from None

    return wrapper  # type: ignore[return-value]


# --- types and values -------------------------------------------------------------


def _check_type(command: str, type_: object) -> ColumnType:
    if isinstance(type_, ArrayType | Reference):
        return type_
    if not isinstance(type_, str) or not type_.strip():
        raise _fail(
            f'{command}: column type must be a type name such as "string" or "integer", '
            f"array(...) or references(...), got {type_!r}"
        )
    if type_ == "datetime":
        raise _fail(
            f'{command}: the type "datetime" is ambiguous: use "utc_datetime" or '
            '"naive_datetime" (add "_usec" for microseconds)'
        )
    return type_


_DEFAULT_TYPES = (str, bool, int, float, Decimal, list, dict, Fragment, type(None))


def column_opts(command: str, opts: dict[str, Any]) -> ColumnOpts:
    """Validate column options and build ``ColumnOpts``."""
    for key in opts:
        if key not in COLUMN_OPTIONS:
            raise _fail(
                f"{command}: unknown option {key!r}{_did_you_mean(key, COLUMN_OPTIONS)}; "
                f"column options are: {', '.join(COLUMN_OPTIONS)}"
            )
    if "scale" in opts and opts.get("precision") is None:
        raise _fail(f"{command}: scale={opts['scale']} needs precision=: add precision=<digits>")
    if "default" in opts and not isinstance(opts["default"], _DEFAULT_TYPES):
        raise _fail(
            f"{command}: default={opts['default']!r} is not a SQL value: use a string, "
            'number, bool, None, list, dict or fragment("sql")'
        )
    return ColumnOpts(**opts)


@_checked
def fragment(sql: str) -> Fragment:
    """Raw SQL used verbatim, e.g. ``add("id", "uuid", default=fragment("gen_random_uuid()"))``."""
    return Fragment(sql)


@_checked
def array(type: ColumnType) -> ArrayType:  # noqa: A002 - mirrors Ecto's {:array, type}
    """An array column type: ``add("tags", array("text"), default=[])``."""
    return ArrayType(_check_type("array()", type))


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
    recorder = _rec.current_or_none()
    return recorder.defaults if recorder is not None else _rec.DslDefaults()


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
    unique indexes only), ``only``, ``prefix``, ``comment``, ``options`` (raw
    text such as ``WITH (fillfactor = 70)``).
    """
    cols = tuple([columns] if isinstance(columns, str | IndexColumn) else columns)
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


def _check_choice(where: str, option: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(
            f"{where}: unknown {option} {value!r}{_did_you_mean(str(value), choices)}; "
            f"use one of: {', '.join(choices)}"
        )
    return value


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


# Overloads: `with create(table(...)):` type-checks, as create() of a table returns its block.
@overload
def create(obj: Table) -> Block: ...
@overload
def create(obj: Index | Constraint) -> None: ...
def create(obj: Table | Index | Constraint) -> Block | None:
    """Create a table (optionally ``with`` a block of columns), an index or a constraint.

    ``create(table("t"))`` alone makes a table holding only its key.
    """
    rec = _rec.current()
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
        raise _fail(f"create() takes table(...), index(...) or constraint(...), got {obj!r}")
    return None


@overload
def create_if_not_exists(obj: Table) -> Block: ...
@overload
def create_if_not_exists(obj: Index) -> None: ...
def create_if_not_exists(obj: Table | Index) -> Block | None:
    """Like ``create``, with ``IF NOT EXISTS``; irreversible for tables only if dropped."""
    rec = _rec.current()
    if isinstance(obj, Table):
        return rec.open_block(CreateTable(obj, _with_key(obj), if_not_exists=True))
    if isinstance(obj, Index):
        rec.record(CreateIndex(obj, if_not_exists=True))
        return None
    raise _fail(
        f"create_if_not_exists() takes table(...) or index(...), got {obj!r}; "
        "PostgreSQL has no IF NOT EXISTS for constraints"
    )


def alter(obj: Table) -> Block:
    """Change a table: ``with alter(table("posts")): add(...); modify(...); remove(...)``."""
    t = _table_or_fail("alter", obj)
    return _rec.current().open_block(AlterTable(t))


def _drop(obj: object, mode: str, if_exists: bool) -> None:
    name = "drop_if_exists" if if_exists else "drop"
    _check_choice(f"{name}()", "mode", mode, DROP_MODES)
    rec = _rec.current()
    if isinstance(obj, Table):
        rec.record(DropTable(obj, mode, if_exists))
    elif isinstance(obj, Index):
        rec.record(DropIndex(obj, mode, if_exists))
    elif isinstance(obj, Constraint):
        rec.record(DropConstraint(obj, mode, if_exists))
    else:
        raise _fail(f"{name}() takes table(...), index(...) or constraint(...), got {obj!r}")


def drop(obj: Table | Index | Constraint, mode: str = "restrict") -> None:
    """Drop a table, index or constraint; ``mode="cascade"`` drops dependents too."""
    _drop(obj, mode, False)


def drop_if_exists(obj: Table | Index | Constraint, mode: str = "restrict") -> None:
    """Drop a table, index or constraint when it exists."""
    _drop(obj, mode, True)


def rename(obj: Table | Index, column: str | None = None, *, to: Table | str) -> None:
    """Rename a table, a column or an index.

    ``rename(table("posts"), to=table("articles"))``,
    ``rename(table("posts"), "title", to="subject")``,
    ``rename(index("posts", name="old"), to="new")``.
    """
    rec = _rec.current()
    if isinstance(obj, Table) and column is not None and isinstance(to, str):
        rec.record(RenameColumn(obj, column, to))
    elif isinstance(obj, Table) and column is None and isinstance(to, Table):
        rec.record(RenameTable(obj, to))
    elif isinstance(obj, Index) and column is None and isinstance(to, str):
        rec.record(RenameIndex(obj, to))
    else:
        raise _fail(
            "rename() takes rename(table(old), to=table(new)), "
            "rename(table(t), old_column, to=new_column) or rename(index(...), to=new_name)"
        )


def _runnable(what: str, value: object) -> Runnable:
    if isinstance(value, str) or callable(value):
        return value  # type: ignore[return-value]
    raise _fail(f"{what} takes SQL text or a function, got {value!r}")


def execute(up: Runnable, down: Runnable | None = None) -> None:
    """Run SQL (or a function) in order with the other commands.

    ``execute(up, down)`` is reversible; ``execute(up)`` alone is not.
    """
    down_ = None if down is None else _runnable("execute() down", down)
    _rec.current().record(Execute(_runnable("execute()", up), down_))


def execute_file(up_path: str, down_path: str | None = None) -> None:
    """Run the SQL in a file (relative to the migration); two paths make it reversible."""
    _rec.current().record(ExecuteFile(up_path, down_path))


def flush() -> None:
    """Run every command recorded so far, before the function returns."""
    _rec.current().flush()


# --- column changes ------------------------------------------------------------------


def add(column: str, type: ColumnType, **opts: Any) -> None:  # noqa: A002
    """Add a column (inside ``create`` or ``alter``).

    Options: ``null``, ``default``, ``size``, ``precision``, ``scale``,
    ``primary_key``, ``comment``, ``collation``, ``generated``,
    ``start_value``/``increment`` (identity), ``after`` (MySQL).
    """
    command = f'add("{column}")'
    change = AddColumn(column, _check_type(command, type), column_opts(command, opts))
    _rec.current().change(change, allowed_in=("create", "alter"))


def add_if_not_exists(column: str, type: ColumnType, **opts: Any) -> None:  # noqa: A002
    """Add a column unless it exists (inside ``alter``); irreversible."""
    command = f'add_if_not_exists("{column}")'
    change = AddColumn(column, _check_type(command, type), column_opts(command, opts), True)
    _rec.current().change(change, allowed_in=("alter",))


def modify(column: str, type: ColumnType, from_: Any = None, **opts: Any) -> None:  # noqa: A002
    """Change a column's type and options (inside ``alter``).

    ``from_=old_type`` or ``from_=(old_type, {old options})`` makes it reversible.
    """
    command = f'modify("{column}")'
    before = None
    if from_ is not None:
        old_type, old_opts = from_ if isinstance(from_, tuple) else (from_, {})
        before = (_check_type(command, old_type), column_opts(command + " from_", dict(old_opts)))
    change = ModifyColumn(column, _check_type(command, type), column_opts(command, opts), before)
    _rec.current().change(change, allowed_in=("alter",))


def remove(column: str, type: ColumnType | None = None, **opts: Any) -> None:  # noqa: A002
    """Drop a column (inside ``alter``); with its type it can be reversed."""
    command = f'remove("{column}")'
    type_ = None if type is None else _check_type(command, type)
    change = RemoveColumn(column, type_, column_opts(command, opts))
    _rec.current().change(change, allowed_in=("alter",))


def remove_if_exists(column: str, type: ColumnType | None = None) -> None:  # noqa: A002
    """Drop a column when it exists (inside ``alter``); irreversible."""
    command = f'remove_if_exists("{column}")'
    type_ = None if type is None else _check_type(command, type)
    _rec.current().change(RemoveColumn(column, type_, if_exists=True), allowed_in=("alter",))


_UNSET: Any = object()


def timestamps(
    inserted_at: str | bool = _UNSET,
    updated_at: str | bool = _UNSET,
    type: str = _UNSET,  # noqa: A002
    default: Any = _UNSET,
    null: bool = _UNSET,
) -> None:
    """Add ``inserted_at`` and ``updated_at`` (``naive_datetime``, NOT NULL by default).

    ``inserted_at=False``/``updated_at=False`` skips one; names, ``type``,
    ``default`` and ``null`` override the project's ``migration_timestamps``.
    """
    given = {
        k: v
        for k, v in dict(
            inserted_at=inserted_at, updated_at=updated_at, type=type, default=default, null=null
        ).items()
        if v is not _UNSET
    }
    if _rec.current().block is None:  # checked here so the error names timestamps(), not add()
        raise _fail(
            "timestamps() can only be used inside a block: "
            'write it under `with create(table("...")):` or `with alter(table("...")):`'
        )
    unknown = set(_defaults().timestamps) - {"inserted_at", "updated_at", "type", "default", "null"}
    if unknown:
        raise _fail(f"migration_timestamps: unknown keys {sorted(unknown)}")
    spec = {"inserted_at": "inserted_at", "updated_at": "updated_at", "type": "naive_datetime"}
    spec |= {"null": False} | _defaults().timestamps | given
    opts: dict[str, Any] = {"null": spec["null"]}
    if "default" in spec:
        opts["default"] = spec["default"]
    for key in ("inserted_at", "updated_at"):
        if spec[key] is not False:
            add(str(spec[key]), spec["type"], **opts)


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
    "add",
    "add_if_not_exists",
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
    "modify",
    "prefix",
    "references",
    "remove",
    "remove_if_exists",
    "rename",
    "repo",
    "table",
    "timestamps",
    "unique_index",
]
