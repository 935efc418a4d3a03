"""The reversal table of the ArangoDB commands (``change()`` rollbacks).

Creates are undone by drops, renames invert, ``execute(up, down)`` swaps.
An ``alter`` of a collection's schema is undone by ``RestoreSchema``: the
rule read from the server just before the change (captured at run time,
see ``whimbrel.dialects.arangodb.SchemaChange``) is put back. Drops are
reversible only when the dropped object's definition is given.

Example::

    >>> from whimbrel.dsl.arango_objects import Collection
    >>> reverse_arango(CreateCollection(Collection("posts"))).collection.name
    'posts'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import singledispatch

from whimbrel.dsl.arango_objects import (
    AlterCollection,
    CreateAnalyzer,
    CreateArangoIndex,
    CreateCollection,
    CreateView,
    DropAnalyzer,
    DropArangoIndex,
    DropCollection,
    DropView,
    ExecuteAql,
    RenameCollection,
    RenameView,
    RestoreSchema,
    describe,
)
from whimbrel.errors import IrreversibleMigrationError


@singledispatch
def reverse_arango(command: object) -> object | None:
    """The command undoing ``command``, or None when it cannot be undone."""
    return None


@reverse_arango.register
def _(c: CreateCollection) -> object:
    return DropCollection(c.collection, if_exists=c.if_not_exists)


@reverse_arango.register
def _(c: AlterCollection) -> object:
    return RestoreSchema(c.collection, c.capture_key, c)


@reverse_arango.register
def _(c: RestoreSchema) -> object:
    return c.undoes


@reverse_arango.register
def _(c: RenameCollection) -> object:
    return RenameCollection(replace(c.collection, name=c.to), c.collection.name)


@reverse_arango.register
def _(c: CreateArangoIndex) -> object:
    return DropArangoIndex(c.index, if_exists=c.if_not_exists)


@reverse_arango.register
def _(c: DropArangoIndex) -> object | None:
    # IF EXISTS may have dropped nothing, so recreating could add an index that never was.
    return None if c.if_exists else CreateArangoIndex(c.index)


@reverse_arango.register
def _(c: CreateView) -> object:
    return DropView(c.view, if_exists=c.if_not_exists)


@reverse_arango.register
def _(c: DropView) -> object | None:
    known = c.view.links is not None or c.view.indexes is not None
    return CreateView(c.view) if known and not c.if_exists else None


@reverse_arango.register
def _(c: RenameView) -> object:
    return RenameView(replace(c.view, name=c.to), c.view.name)


@reverse_arango.register
def _(c: CreateAnalyzer) -> object:
    return DropAnalyzer(c.analyzer, if_exists=c.if_not_exists)


@reverse_arango.register
def _(c: DropAnalyzer) -> object | None:
    return CreateAnalyzer(c.analyzer) if c.analyzer.type and not c.if_exists else None


@reverse_arango.register
def _(c: ExecuteAql) -> object | None:
    return None if c.down is None else ExecuteAql(c.down, c.up, c.bind_vars)


def reverse_all_arango(commands: Sequence[object]) -> list[object]:
    """The rollback of a recorded ``change()``: each command inverted, in reverse order."""
    undone = []
    for command in reversed(commands):
        inverse = reverse_arango(command)
        if inverse is None:
            raise IrreversibleMigrationError(
                f"cannot reverse {describe(command)} in change(): ArangoDB cannot bring back "
                "what it removes; define up() and down() instead of change()"
            )
        undone.append(inverse)
    return undone
