"""ArangoDB objects and commands, as immutable data (ArangoXEcto's migration surface).

The constructors in ``whimbrel.dsl.arango`` build these; the compiler in
``whimbrel.dialects.arangodb`` turns each command into HTTP operations and
``reverse_arango`` inverts it for ``change()`` rollbacks.

Example::

    >>> describe(CreateCollection(Collection("posts")))
    'create(collection("posts"))'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class CreateCollection:
    collection: Collection
    fields: tuple[Field, ...] = ()
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterCollection:
    """Merge field changes (and level/message) into the collection's schema rule."""

    collection: Collection
    changes: tuple[FieldChange, ...] = ()

    @property
    def capture_key(self) -> str:
        """Where the rule read before this change is kept, so a rollback can restore it."""
        digest = hashlib.sha1(repr((self.collection, self.changes)).encode()).hexdigest()
        return f"schema:{self.collection.name}:{digest[:12]}"


@dataclass(frozen=True)
class RestoreSchema:
    """Put back the schema captured before an ``alter`` (its rollback)."""

    collection: Collection
    capture_key: str
    undoes: AlterCollection


@dataclass(frozen=True)
class DropCollection:
    collection: Collection
    if_exists: bool = False


@dataclass(frozen=True)
class RenameCollection:
    collection: Collection
    to: str


@dataclass(frozen=True)
class CreateArangoIndex:
    index: ArangoIndex
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropArangoIndex:
    index: ArangoIndex
    if_exists: bool = False


@dataclass(frozen=True)
class CreateView:
    view: View
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterView:
    """Update a View's properties (links, indexes, options) in place (PATCH)."""

    view: View


@dataclass(frozen=True)
class DropView:
    view: View
    if_exists: bool = False


@dataclass(frozen=True)
class RenameView:
    view: View
    to: str


@dataclass(frozen=True)
class CreateAnalyzer:
    analyzer: Analyzer
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropAnalyzer:
    analyzer: Analyzer
    if_exists: bool = False
    force: bool = False


@dataclass(frozen=True)
class ExecuteAql:
    """An AQL query (``down`` makes it reversible); ``bind_vars`` are passed as given."""

    up: str
    down: str | None = None
    bind_vars: dict[str, Any] = field(default_factory=dict)


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


def _verb(base: str, flag: bool, suffix: str) -> str:
    return f"{base}_{suffix}" if flag else base


def describe(command: object) -> str:
    """A short name for an ArangoDB command, for messages and dry-run headers."""
    match command:
        case CreateCollection(collection=c, if_not_exists=ine):
            return f'{_verb("create", ine, "if_not_exists")}(collection("{c.name}"))'
        case AlterCollection(collection=c):
            return f'alter(collection("{c.name}"))'
        case RestoreSchema(collection=c):
            return f'restore the schema of collection("{c.name}")'
        case DropCollection(collection=c, if_exists=ie):
            return f'{_verb("drop", ie, "if_exists")}(collection("{c.name}"))'
        case RenameCollection(collection=c, to=to):
            return f'rename(collection("{c.name}"), to="{to}")'
        case CreateArangoIndex(index=i, if_not_exists=ine):
            return (
                f'{_verb("create", ine, "if_not_exists")}(index("{i.collection}", name="{i.name}"))'
            )
        case DropArangoIndex(index=i, if_exists=ie):
            return f'{_verb("drop", ie, "if_exists")}(index("{i.collection}", name="{i.name}"))'
        case CreateView(view=v, if_not_exists=ine):
            return f'{_verb("create", ine, "if_not_exists")}(view("{v.name}"))'
        case AlterView(view=v):
            return f'alter(view("{v.name}"))'
        case DropView(view=v, if_exists=ie):
            return f'{_verb("drop", ie, "if_exists")}(view("{v.name}"))'
        case RenameView(view=v, to=to):
            return f'rename(view("{v.name}"), to="{to}")'
        case CreateAnalyzer(analyzer=a, if_not_exists=ine):
            return f'{_verb("create", ine, "if_not_exists")}(analyzer("{a.name}"))'
        case DropAnalyzer(analyzer=a, if_exists=ie):
            return f'{_verb("drop", ie, "if_exists")}(analyzer("{a.name}"))'
        case ExecuteAql(up=up):
            flat = " ".join(up.split())
            return f"execute({(flat if len(flat) <= 60 else flat[:57] + '...')!r})"
    return type(command).__name__
