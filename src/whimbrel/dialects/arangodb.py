"""The ArangoDB compiler: commands to typed HTTP operations, pure and driver-free.

``ArangoDialect().compile(command)`` returns a list of ``Operation``s: typed
steps (``whimbrel.dialects.steps.AdapterStep``, like SQLite's ``CatalogStep``)
holding a readable one-line ``preview`` printed by ``--dry-run`` and the
request: ``method``, ``path`` (relative to ``/_db/<database>``), ``body``,
``params``. The executor hands each to ``ArangoAdapter.run_step``; the
progress journal hashes ``request_text()``, the whole request. Two kinds
are finished at run time by the adapter, because they need what the server
holds at that moment (see ``whimbrel.dialects.steps``
for the same idea on SQLite): ``SchemaChange`` reads the collection's rule,
keeps it (so a rollback can restore it) and puts the merged rule;
``DropIndexByName`` looks the index id up by name. Every endpoint is
ArangoDB 3.12's documented HTTP API (``DOCS`` + the page in each method).

Example::

    >>> from whimbrel.dsl.arango_objects import Collection, CreateCollection
    >>> [op] = ArangoDialect().compile(CreateCollection(Collection("posts")))
    >>> op.method, op.path, op.body
    ('POST', '/_api/collection', {'name': 'posts', 'type': 2})
    >>> op.preview
    'POST /_api/collection  # create document collection "posts"'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from urllib.parse import quote

from whimbrel.dialects.steps import AdapterStep
from whimbrel.dsl.arango_objects import (
    AlterCollection,
    AlterView,
    ArangoIndex,
    Collection,
    CreateAnalyzer,
    CreateArangoIndex,
    CreateCollection,
    CreateView,
    DropAnalyzer,
    DropArangoIndex,
    DropCollection,
    DropView,
    ExecuteAql,
    FieldChange,
    RenameCollection,
    RenameView,
    RestoreSchema,
    View,
    describe,
)
from whimbrel.dsl.arango_schema import rule_for
from whimbrel.errors import UnsupportedFeatureError

DOCS = "https://docs.arango.ai/arangodb/3.12/develop/http-api/"
DEFAULT_MESSAGE = "the document does not match the schema of collection {name}"
#: ArangoDB error numbers (DOCS + "../error-codes/").
DUPLICATE_NAME, NOT_FOUND, DOCUMENT_NOT_FOUND = 1207, 1203, 1202


@dataclass(frozen=True)
class Operation(AdapterStep):
    """One HTTP request; ``preview`` is its readable one-line form (what ``--dry-run`` prints).

    ``ignore`` lists error numbers that mean "already so" (``1207`` for
    ``create_if_not_exists``, ``1203`` for ``drop_if_exists``); ``skip_if``
    is a path whose successful GET means the operation is not needed;
    ``command`` names the command it was compiled from, for error messages.
    Build one with ``Operation.of``.
    """

    method: str = "GET"
    path: str = "/"
    what: str = ""
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    ignore: tuple[int, ...] = ()
    skip_if: str | None = None
    command: str = ""
    terminator: ClassVar[str] = ""

    @classmethod
    def of(
        cls,
        method: str,
        path: str,
        what: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        """The operation with its readable line: ``METHOD /path?query  # what``."""
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        line = f"{method} {path}{query}  # {what}"
        return cls(line, method, path, what, body, dict(params or {}), **extra)

    def request_text(self) -> str:
        """The full request with its JSON body (what the progress journal hashes)."""
        query = "&".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        body = "" if self.body is None else " " + json.dumps(self.body, sort_keys=True)
        return f"{self.method} {self.path}{'?' + query if query else ''}{body}"

    def journal_key(self) -> str:
        # Two alters of one collection can share a readable line but not a body.
        return self.request_text()


@dataclass(frozen=True)
class SchemaChange(Operation):
    """Run time: GET the rule, capture it under ``capture_key``, PUT the merged rule."""

    collection: str = ""
    changes: tuple[FieldChange, ...] = ()
    level: str | None = None
    message: str | None = None
    capture_key: str = ""

    def request_text(self) -> str:
        # The body is computed at run time: the changes stand for it.
        return f"{super().request_text()} {self.capture_key} {self.changes!r} {self.level}"


@dataclass(frozen=True)
class RestoreSchemaOp(Operation):
    """Run time: PUT back the rule captured under ``capture_key`` (null when there was none)."""

    collection: str = ""
    capture_key: str = ""

    def request_text(self) -> str:
        return f"{super().request_text()} restore {self.capture_key}"


@dataclass(frozen=True)
class DropIndexByName(Operation):
    """Run time: find the index by name in the collection's index list, then DELETE it."""

    collection: str = ""
    index_name: str = ""
    if_exists: bool = False


def _seg(name: str) -> str:
    return quote(name, safe="")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


Compiler = Callable[[Any, Any], list[Operation]]


def compiles(command_type: type) -> Callable[[Compiler], Compiler]:
    """Register a method as the compiler of ``command_type`` (one method per command)."""

    def mark(method: Compiler) -> Compiler:
        method._compiles = command_type  # type: ignore[attr-defined]
        return method

    return mark


class ArangoDialect:
    """Compile ArangoDB commands; ``prefix`` is accepted for the dialect interface only.

    ArangoDB has no schemas inside a database, so a prefix cannot be honoured
    and is refused rather than ignored.
    """

    name: ClassVar[str] = "arangodb"
    _handlers: ClassVar[dict[type, Compiler]] = {}

    def __init__(self, prefix: str | None = None):
        if prefix is not None:
            raise UnsupportedFeatureError(
                f"ArangoDB has no schemas, so prefix {prefix!r} cannot be used: "
                "run tenant migrations against one database per tenant instead"
            )

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._handlers = _collect(cls)

    def compile(self, command: object) -> list[Operation]:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnsupportedFeatureError(
                f"ArangoDB cannot run {describe(command)}: it is not an ArangoDB command; "
                "use the commands of whimbrel.dsl.arango in ArangoDB migrations"
            )
        # Each operation names its command, so a refusal says which command failed.
        return [replace(op, command=describe(command)) for op in handler(self, command)]

    # -- collections: DOCS + "collections/" -----------------------------------------

    @compiles(CreateCollection)
    def _create_collection(self, c: CreateCollection) -> list[Operation]:
        coll = c.collection
        body = _collection_body(coll)
        if c.fields:
            body["schema"] = _schema(coll, rule_for(c.fields))
        what = f'create {coll.type} collection "{coll.name}"'
        if c.fields:
            what += f" with a schema of {len(c.fields)} field(s): {_names(c.fields)}"
        ignore = (DUPLICATE_NAME,) if c.if_not_exists else ()
        return [Operation.of("POST", "/_api/collection", what, body, ignore=ignore)]

    @compiles(DropCollection)
    def _drop_collection(self, c: DropCollection) -> list[Operation]:
        name = c.collection.name
        params = {"isSystem": "true"} if c.collection.is_system else None
        ignore = (NOT_FOUND,) if c.if_exists else ()
        what = f'drop collection "{name}"'
        return [
            Operation.of(
                "DELETE", f"/_api/collection/{_seg(name)}", what, None, params, ignore=ignore
            )
        ]

    @compiles(RenameCollection)
    def _rename_collection(self, c: RenameCollection) -> list[Operation]:
        name = c.collection.name
        what = f'rename collection "{name}" to "{c.to}"'
        path = f"/_api/collection/{_seg(name)}/rename"
        return [Operation.of("PUT", path, what, {"name": c.to})]

    @compiles(AlterCollection)
    def _alter_collection(self, c: AlterCollection) -> list[Operation]:
        coll = c.collection
        if not c.changes and coll.level is None and coll.message is None:
            raise UnsupportedFeatureError(
                f"{describe(c)} changes nothing: put add()/modify()/remove() under "
                f'`with alter(collection("{coll.name}")):`, or give level= or message='
            )
        what = f'merge {_change_list(c.changes)} into the schema of "{coll.name}"'
        if coll.level is not None:
            what += f", level {coll.level}"
        path = f"/_api/collection/{_seg(coll.name)}/properties"
        return [
            SchemaChange.of(
                "PUT", path, what, collection=coll.name, changes=c.changes,
                level=coll.level, message=coll.message, capture_key=c.capture_key,
            )
        ]  # fmt: skip

    @compiles(RestoreSchema)
    def _restore_schema(self, c: RestoreSchema) -> list[Operation]:
        name = c.collection.name
        what = f'restore the schema "{name}" had before {describe(c.undoes)}'
        path = f"/_api/collection/{_seg(name)}/properties"
        return [RestoreSchemaOp.of("PUT", path, what, collection=name, capture_key=c.capture_key)]

    # -- indexes: DOCS + "indexes/" and one page per type -------------------------------

    @compiles(CreateArangoIndex)
    def _create_index(self, c: CreateArangoIndex) -> list[Operation]:
        i = c.index
        what = f'create {i.type} index "{i.name}" on "{i.collection}" ({_field_list(i)})'
        ignore = (DUPLICATE_NAME,) if c.if_not_exists else ()
        params = {"collection": i.collection}
        return [Operation.of("POST", "/_api/index", what, _index_body(i), params, ignore=ignore)]

    @compiles(DropArangoIndex)
    def _drop_index(self, c: DropArangoIndex) -> list[Operation]:
        i = c.index
        what = f'drop index "{i.name}" of "{i.collection}"'
        path = f"/_api/index/{_seg(i.collection)}/<id of {i.name}>"
        return [
            DropIndexByName.of(
                "DELETE", path, what, collection=i.collection, index_name=i.name,
                if_exists=c.if_exists,
            )
        ]  # fmt: skip

    # -- views: DOCS + "views/arangosearch-views/" and "views/search-alias-views/" -------

    @compiles(CreateView)
    def _create_view(self, c: CreateView) -> list[Operation]:
        v = c.view
        body = {"name": v.name, "type": v.type, **_view_properties(v)}
        ignore = (DUPLICATE_NAME,) if c.if_not_exists else ()
        what = f'create {v.type} view "{v.name}"{_view_targets(v)}'
        return [Operation.of("POST", "/_api/view", what, body, ignore=ignore)]

    @compiles(AlterView)
    def _alter_view(self, c: AlterView) -> list[Operation]:
        v = c.view
        what = f'update the properties of view "{v.name}"{_view_targets(v)}'
        path = f"/_api/view/{_seg(v.name)}/properties"
        return [Operation.of("PATCH", path, what, _view_properties(v))]

    @compiles(DropView)
    def _drop_view(self, c: DropView) -> list[Operation]:
        ignore = (NOT_FOUND,) if c.if_exists else ()
        what = f'drop view "{c.view.name}"'
        return [Operation.of("DELETE", f"/_api/view/{_seg(c.view.name)}", what, ignore=ignore)]

    @compiles(RenameView)
    def _rename_view(self, c: RenameView) -> list[Operation]:
        what = f'rename view "{c.view.name}" to "{c.to}"'
        path = f"/_api/view/{_seg(c.view.name)}/rename"
        return [Operation.of("PUT", path, what, {"name": c.to})]

    # -- analyzers: DOCS + "analyzers/" ---------------------------------------------------

    @compiles(CreateAnalyzer)
    def _create_analyzer(self, c: CreateAnalyzer) -> list[Operation]:
        a = c.analyzer
        body = {
            "name": a.name,
            "type": a.type,
            "properties": a.properties or {},
            "features": list(a.features or ()),
        }
        skip = f"/_api/analyzer/{_seg(a.name)}" if c.if_not_exists else None
        what = f'create {a.type} analyzer "{a.name}"'
        return [Operation.of("POST", "/_api/analyzer", what, body, skip_if=skip)]

    @compiles(DropAnalyzer)
    def _drop_analyzer(self, c: DropAnalyzer) -> list[Operation]:
        ignore = (DOCUMENT_NOT_FOUND,) if c.if_exists else ()
        params = {"force": "true"} if c.force else None
        what = f'drop analyzer "{c.analyzer.name}"'
        path = f"/_api/analyzer/{_seg(c.analyzer.name)}"
        return [Operation.of("DELETE", path, what, None, params, ignore=ignore)]

    # -- AQL: DOCS + "queries/aql-queries/#create-a-cursor" -----------------------------

    @compiles(ExecuteAql)
    def _execute(self, c: ExecuteAql) -> list[Operation]:
        body: dict[str, Any] = {"query": c.up}
        if c.bind_vars:
            body["bindVars"] = c.bind_vars
        return [Operation.of("POST", "/_api/cursor", f"run AQL: {' '.join(c.up.split())}", body)]


def _collect(cls: type) -> dict[type, Compiler]:
    handlers: dict[type, Compiler] = {}
    for klass in reversed(cls.__mro__):
        for attr in vars(klass).values():
            command_type = getattr(attr, "_compiles", None)
            if command_type is not None:
                handlers[command_type] = attr
    return handlers


ArangoDialect._handlers = _collect(ArangoDialect)


def _collection_body(coll: Collection) -> dict[str, Any]:
    return _drop_none(
        {
            "name": coll.name,
            "type": 3 if coll.type == "edge" else 2,
            "isSystem": True if coll.is_system else None,
            "keyOptions": coll.key_options,
            "waitForSync": coll.wait_for_sync,
            "numberOfShards": coll.number_of_shards,
            "shardKeys": list(coll.shard_keys) if coll.shard_keys is not None else None,
            "replicationFactor": coll.replication_factor,
            "writeConcern": coll.write_concern,
        }
    )


def _schema(coll: Collection, rule: dict[str, Any]) -> dict[str, Any]:
    message = coll.message or DEFAULT_MESSAGE.format(name=coll.name)
    return {"rule": rule, "level": coll.level or "strict", "message": message}


def _names(fields: Any) -> str:
    return ", ".join(f.name for f in fields)


def _change_list(changes: tuple[FieldChange, ...]) -> str:
    if not changes:
        return "no field changes"
    parts = []
    for change in changes:
        verb = type(change).__name__.replace("Field", "").lower()
        name = getattr(change, "name", None) or change.field.name  # type: ignore[union-attr]
        parts.append(f"{verb} {name}")
    return ", ".join(parts)


def _index_body(i: ArangoIndex) -> dict[str, Any]:
    body = {
        "type": i.type,
        "name": i.name,
        "fields": list(i.fields),
        "unique": i.unique,
        "sparse": i.sparse,
        "deduplicate": i.deduplicate,
        "inBackground": i.in_background,
        "expireAfter": i.expire_after,
    }
    return _drop_none(body) | i.options


def _field_list(i: ArangoIndex) -> str:
    names = [f if isinstance(f, str) else str(f.get("name", f)) for f in i.fields]
    flags = [flag for flag in ("unique", "sparse") if getattr(i, flag)]
    return ", ".join(names) + (f"; {', '.join(flags)}" if flags else "")


def _view_properties(v: View) -> dict[str, Any]:
    body: dict[str, Any] = dict(v.options)
    if v.links is not None:
        body["links"] = v.links
    if v.indexes is not None:
        body["indexes"] = [{"collection": c, "index": i} for c, i in v.indexes]
    return body


def _view_targets(v: View) -> str:
    if v.links:
        return " linking " + ", ".join(sorted(v.links))
    if v.indexes:
        return " over " + ", ".join(f"{c}/{i}" for c, i in v.indexes)
    return ""
