"""ArangoDB objects and commands, as immutable data (ArangoXEcto's migration surface).

The constructors in ``whimbrel.dsl.arango`` build these; the compiler in
``whimbrel.dialects.arangodb`` turns each command into HTTP operations. The
commands are ``Command`` subclasses, so the generic reversal
(``whimbrel.dsl.reverse.reverse_all``) undoes a ``change()`` with their
``reverse()``: creates are undone by drops, renames invert, ``execute(up,
down)`` swaps, and an ``alter`` of a collection's schema is undone by
``RestoreSchema``, which puts back the rule read from the server just before
the change (captured at run time, see ``whimbrel.dialects.arangodb``). Drops
are reversible only when the dropped object's definition is given.

Example::

    >>> CreateCollection(Collection("posts")).describe()
    'create(collection("posts"))'
    >>> CreateCollection(Collection("posts")).reverse().describe()
    'drop(collection("posts"))'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from whimbrel.dsl.commands import Command

# --- objects -------------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    """A document or edge collection; ``level``/``message`` configure its schema."""

    name: str
    type: str = "document"
    key_options: dict[str, Any] | None = None
    wait_for_sync: bool | None = None
    number_of_shards: int | None = None
    shard_keys: tuple[str, ...] | None = None
    replication_factor: int | str | None = None
    write_concern: int | None = None
    #: None keeps what the collection has (alter) or means "strict" (create).
    level: str | None = None
    message: str | None = None
    is_system: bool = False


@dataclass(frozen=True)
class ArrayOf:
    """``array("string")``: a JSON array whose items have the given field type."""

    of: FieldType


FieldType = str | ArrayOf


@dataclass(frozen=True)
class Field:
    """One attribute of a collection's JSON-schema rule.

    ``rules`` are JSON-schema keywords already in their schema spelling
    (``minLength``); ``fields`` are the attributes of a nested object.
    """

    name: str
    type: FieldType
    rules: tuple[tuple[str, Any], ...] = ()
    null: bool = True
    required: bool = False
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class ArangoIndex:
    """An index on a collection; ``options`` holds type-specific extras verbatim."""

    collection: str
    fields: tuple[Any, ...]
    type: str = "persistent"
    name: str = ""
    unique: bool | None = None
    sparse: bool | None = None
    deduplicate: bool | None = None
    in_background: bool | None = None
    expire_after: int | float | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class View:
    """An arangosearch View (``links``) or search-alias View (``indexes``)."""

    name: str
    type: str = "arangosearch"
    links: dict[str, Any] | None = None
    indexes: tuple[tuple[str, str], ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Analyzer:
    name: str
    type: str | None = None
    properties: dict[str, Any] | None = None
    features: tuple[str, ...] | None = None


# --- schema field changes (inside create/alter blocks) --------------------------------


@dataclass(frozen=True)
class AddField:
    field: Field


@dataclass(frozen=True)
class ModifyField:
    field: Field
    #: The field as it was; makes the change reversible without reading the server.
    from_: Field | None = None


@dataclass(frozen=True)
class RemoveField:
    name: str
    #: The removed field, when known: makes the removal reversible.
    field: Field | None = None


@dataclass(frozen=True)
class RenameField:
    name: str
    to: str


FieldChange = AddField | ModifyField | RemoveField | RenameField

# --- commands -----------------------------------------------------------------------

_GONE = "ArangoDB cannot bring back what it removes unless the definition is given"


def _verb(base: str, flag: bool, suffix: str) -> str:
    return f"{base}_{suffix}" if flag else base


@dataclass(frozen=True)
class CreateCollection(Command):
    collection: Collection
    fields: tuple[Field, ...] = ()
    if_not_exists: bool = False

    def describe(self) -> str:
        verb = _verb("create", self.if_not_exists, "if_not_exists")
        return f'{verb}(collection("{self.collection.name}"))'

    def reverse(self) -> Command:
        return DropCollection(self.collection, if_exists=self.if_not_exists)


@dataclass(frozen=True)
class AlterCollection(Command):
    """Merge field changes (and level/message) into the collection's schema rule."""

    collection: Collection
    changes: tuple[FieldChange, ...] = ()

    @property
    def capture_key(self) -> str:
        """Where the rule read before this change is kept, so a rollback can restore it."""
        digest = hashlib.sha1(repr((self.collection, self.changes)).encode()).hexdigest()
        return f"schema:{self.collection.name}:{digest[:12]}"

    def describe(self) -> str:
        return f'alter(collection("{self.collection.name}"))'

    def reverse(self) -> Command:
        return RestoreSchema(self.collection, self.capture_key, self)


@dataclass(frozen=True)
class RestoreSchema(Command):
    """Put back the schema captured before an ``alter`` (its rollback)."""

    collection: Collection
    capture_key: str
    undoes: AlterCollection

    def describe(self) -> str:
        return f'restore the schema of collection("{self.collection.name}")'

    def reverse(self) -> Command:
        return self.undoes


@dataclass(frozen=True)
class DropCollection(Command):
    collection: Collection
    if_exists: bool = False

    def describe(self) -> str:
        return f'{_verb("drop", self.if_exists, "if_exists")}(collection("{self.collection.name}"))'

    def irreversible_reason(self) -> str:
        return "ArangoDB cannot bring back a dropped collection and its documents"


@dataclass(frozen=True)
class RenameCollection(Command):
    collection: Collection
    to: str

    def describe(self) -> str:
        return f'rename(collection("{self.collection.name}"), to="{self.to}")'

    def reverse(self) -> Command:
        return RenameCollection(replace(self.collection, name=self.to), self.collection.name)


@dataclass(frozen=True)
class CreateArangoIndex(Command):
    index: ArangoIndex
    if_not_exists: bool = False

    def describe(self) -> str:
        i, verb = self.index, _verb("create", self.if_not_exists, "if_not_exists")
        return f'{verb}(index("{i.collection}", name="{i.name}"))'

    def reverse(self) -> Command:
        return DropArangoIndex(self.index, if_exists=self.if_not_exists)


@dataclass(frozen=True)
class DropArangoIndex(Command):
    index: ArangoIndex
    if_exists: bool = False

    def describe(self) -> str:
        i, verb = self.index, _verb("drop", self.if_exists, "if_exists")
        return f'{verb}(index("{i.collection}", name="{i.name}"))'

    def reverse(self) -> Command | None:
        # IF EXISTS may have dropped nothing, so recreating could add an index that never was.
        return None if self.if_exists else CreateArangoIndex(self.index)


@dataclass(frozen=True)
class CreateView(Command):
    view: View
    if_not_exists: bool = False

    def describe(self) -> str:
        return f'{_verb("create", self.if_not_exists, "if_not_exists")}(view("{self.view.name}"))'

    def reverse(self) -> Command:
        return DropView(self.view, if_exists=self.if_not_exists)


@dataclass(frozen=True)
class AlterView(Command):
    """Update a View's properties (links, indexes, options) in place (PATCH)."""

    view: View

    def describe(self) -> str:
        return f'alter(view("{self.view.name}"))'

    def irreversible_reason(self) -> str:
        return "the View's previous properties are not known"


@dataclass(frozen=True)
class DropView(Command):
    view: View
    if_exists: bool = False

    def describe(self) -> str:
        return f'{_verb("drop", self.if_exists, "if_exists")}(view("{self.view.name}"))'

    def reverse(self) -> Command | None:
        known = self.view.links is not None or self.view.indexes is not None
        return CreateView(self.view) if known and not self.if_exists else None

    def reversal_hint(self) -> str:
        return "" if self.if_exists else "give view() its links= or indexes= as created"


@dataclass(frozen=True)
class RenameView(Command):
    view: View
    to: str

    def describe(self) -> str:
        return f'rename(view("{self.view.name}"), to="{self.to}")'

    def reverse(self) -> Command:
        return RenameView(replace(self.view, name=self.to), self.view.name)


@dataclass(frozen=True)
class CreateAnalyzer(Command):
    analyzer: Analyzer
    if_not_exists: bool = False

    def describe(self) -> str:
        verb = _verb("create", self.if_not_exists, "if_not_exists")
        return f'{verb}(analyzer("{self.analyzer.name}"))'

    def reverse(self) -> Command:
        return DropAnalyzer(self.analyzer, if_exists=self.if_not_exists)


@dataclass(frozen=True)
class DropAnalyzer(Command):
    analyzer: Analyzer
    if_exists: bool = False
    force: bool = False

    def describe(self) -> str:
        return f'{_verb("drop", self.if_exists, "if_exists")}(analyzer("{self.analyzer.name}"))'

    def reverse(self) -> Command | None:
        a = self.analyzer
        return CreateAnalyzer(a) if a.type and not self.if_exists else None

    def reversal_hint(self) -> str:
        return "" if self.if_exists else 'give analyzer() its type, e.g. analyzer("a", "text")'


@dataclass(frozen=True)
class ExecuteAql(Command):
    """An AQL query (``down`` makes it reversible); ``bind_vars`` are passed as given."""

    up: str
    down: str | None = None
    bind_vars: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        flat = " ".join(self.up.split())
        return f"execute({(flat if len(flat) <= 60 else flat[:57] + '...')!r})"

    def reverse(self) -> Command | None:
        return None if self.down is None else ExecuteAql(self.down, self.up, self.bind_vars)

    def reversal_hint(self) -> str:
        return "give execute() the AQL that undoes it: execute(up_aql, down_aql)"


ArangoCommand = (
    CreateCollection
    | AlterCollection
    | RestoreSchema
    | DropCollection
    | RenameCollection
    | CreateArangoIndex
    | DropArangoIndex
    | CreateView
    | AlterView
    | DropView
    | RenameView
    | CreateAnalyzer
    | DropAnalyzer
    | ExecuteAql
)


def describe(command: object) -> str:
    """A short name for a command, for messages and dry-run headers."""
    return command.describe() if isinstance(command, Command) else type(command).__name__
