"""Column changes, used inside ``with create(table(...)):`` / ``with alter(table(...)):``.

``add``, ``add_if_not_exists``, ``modify``, ``remove``, ``remove_if_exists``
and ``timestamps`` queue a change into the open block; outside one they are
refused with the fix. Example::

    def change():
        with alter(table("posts")):
            add("views", "integer", default=0, null=False)
            modify("title", "text", from_="string")
            remove("legacy", "boolean")
"""

from __future__ import annotations

from typing import Any

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.checks import check_type as _check_type
from whimbrel.dsl.checks import column_opts
from whimbrel.dsl.checks import fail as _fail
from whimbrel.dsl.commands import AddColumn, ModifyColumn, RemoveColumn
from whimbrel.dsl.objects import ColumnType


def _defaults() -> _rec.DslDefaults:
    return _rec.current_defaults()


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


__all__ = ["add", "add_if_not_exists", "modify", "remove", "remove_if_exists", "timestamps"]
