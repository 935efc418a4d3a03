"""PostgreSQL enum types in the DSL: ``enum()``, ``add_enum_value()``, ``rename_enum_value()``.

Ecto has no enum commands (users write ``execute``); whimbrel records them
as data so they compile, reverse and fail clearly like every other command.
``create``, ``drop``, ``drop_if_exists`` and ``rename`` (in ``whimbrel.dsl.api``)
accept an ``enum(...)`` too.

Example::

    def change():
        create(enum("mood", ["happy", "sad"]))
        with alter(table("people")):
            add("mood", "mood", default="happy")
        rename_enum_value("mood", "sad", to="blue")

Adding a value cannot be undone (PostgreSQL cannot drop one), so a
``change()`` holding ``add_enum_value`` is refused at rollback; write
``up()``/``down()``. ``ALTER TYPE ... ADD VALUE`` runs inside a transaction
on PostgreSQL 12+, but the new value cannot be *used* until that transaction
commits: insert rows with it in a later migration, or set
``disable_ddl_transaction = True``.
"""

from __future__ import annotations

from collections.abc import Sequence

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.checks import check_name, check_prefix, checked, fail
from whimbrel.dsl.commands import AddEnumValue, RenameEnumValue
from whimbrel.dsl.objects import EnumType


@checked
def enum(
    name: str,
    values: Sequence[str] = (),
    prefix: str | None = None,
    comment: str | None = None,
) -> EnumType:
    """A PostgreSQL enum type, for ``create``, ``drop``, ``drop_if_exists`` and ``rename``.

    ``create(enum("mood", ["happy", "sad"]))`` runs ``CREATE TYPE "mood" AS
    ENUM ('happy', 'sad')``; use the type by name in a column:
    ``add("mood", "mood")`` (types are used verbatim, so a tenant migration
    names its schema: ``add("mood", f'"{prefix()}"."mood"')``). Options:
    ``prefix`` (schema; the migration's prefix by default), ``comment``.
    ``drop(enum("mood", [...values]))`` can be rolled back because the values
    are known; ``drop(enum("mood"))`` cannot.
    """
    where = f'enum("{name}")'
    check_name("enum()", "the type name", name)
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise fail(f'{where}: values must be a list of strings, e.g. ["happy", "sad"]')
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise fail(f"{where}: the value {value!r} is listed twice: keep one")
        seen.add(value)
    return EnumType(name, tuple(values), prefix, comment)


def _enum(where: str, type_: str | EnumType, prefix: str | None) -> EnumType:
    if isinstance(type_, EnumType):
        if prefix is not None and prefix != type_.prefix:
            raise fail(f"{where}: give prefix= once, on enum(...) or here")
        found = type_
    else:
        found = EnumType(check_name(where, "the type name", type_), prefix=prefix)
    check_prefix(where, found.prefix)
    return found


@checked
def add_enum_value(
    type: str | EnumType,  # noqa: A002 - the type being changed
    value: str,
    before: str | None = None,
    after: str | None = None,
    if_not_exists: bool = False,
    prefix: str | None = None,
) -> None:
    """Add a value to an enum type: ``ALTER TYPE ... ADD VALUE``.

    Options: ``before``/``after`` (an existing value; the default puts it
    last), ``if_not_exists``, ``prefix``. Irreversible: PostgreSQL cannot
    remove a value from an enum, so a ``change()`` with this command is
    refused at rollback; write ``up()`` and ``down()`` (a ``down()`` can
    recreate the type without the value). The value can be used only after
    the migration's transaction commits.
    """
    name = type.name if isinstance(type, EnumType) else type
    where = f'add_enum_value("{name}", {value!r})'
    check_name(where, "the value", value)
    if before is not None and after is not None:
        raise fail(f"{where}: give before= or after=, not both")
    enum_ = _enum(where, type, prefix)
    _rec.current().record(AddEnumValue(enum_, value, before, after, if_not_exists))


@checked
def rename_enum_value(
    type: str | EnumType,  # noqa: A002 - the type being changed
    value: str,
    *,
    to: str,
    prefix: str | None = None,
) -> None:
    """Rename a value of an enum type: ``ALTER TYPE ... RENAME VALUE``; reversible.

    Rows holding the value follow the rename (they store the value's
    position, not its text).
    """
    name = type.name if isinstance(type, EnumType) else type
    where = f'rename_enum_value("{name}", {value!r})'
    check_name(where, "the value", value)
    check_name(where, "to", to)
    _rec.current().record(RenameEnumValue(_enum(where, type, prefix), value, to))


__all__ = ["add_enum_value", "enum", "rename_enum_value"]
