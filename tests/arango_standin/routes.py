"""The stand-in's endpoints: one small handler per documented operation.

Every handler is preceded by the URL of the page its request and response
shapes and error codes come from (ArangoDB 3.12's HTTP API documentation;
error numbers: https://docs.arango.ai/arangodb/3.12/develop/error-codes/).
Paths are matched after ``/_db/{db}/_api``; a request without ``/_db/...``
goes to ``_system``, as on the server.

Example::

    >>> find_route("GET", "/collection/posts/properties")[0].__name__
    'collection_properties'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arango_standin import aql, search
from arango_standin.state import (
    ArangoError,
    Collection,
    Database,
    State,
    Transaction,
    bad_parameter,
    check_name,
    check_schema,
)


@dataclass
class Ctx:
    """One request: the state, its database, path groups, query, JSON body, transaction."""

    state: State
    db: Database
    args: tuple[str, ...]
    query: dict[str, str]
    body: Any
    trx: Transaction | None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() in ("true", "1", "yes")

    def dict_body(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise bad_parameter("expecting a JSON object as body")
        return self.body


Reply = tuple[int, Any]
Handler = Callable[[Ctx], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


def find_route(method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
    for verb, pattern, handler in ROUTES:
        if verb == method and (m := pattern.match(path)):
            return handler, m.groups()
    raise ArangoError(404, 404, f"unknown path '{path}'")


def ok(code: int, **body: Any) -> Reply:
    return code, {"error": False, "code": code, **body}


_SEG = r"([^/]+)"

# --- server and databases: administration/ and databases/ -------------------------


# https://docs.arango.ai/arangodb/3.12/develop/http-api/administration/#get-the-server-version
@route("GET", "/version")
def version(ctx: Ctx) -> Reply:
    return 200, {"server": "arango", "version": "3.12.4", "license": "community"}


# https://docs.arango.ai/arangodb/3.12/develop/http-api/databases/#get-information-about-the-current-database
@route("GET", "/database/current")
def database_current(ctx: Ctx) -> Reply:
    info = {
        "name": ctx.db.name,
        "id": ctx.db.id,
        "path": "none",
        "isSystem": ctx.db.name == "_system",
    }
    return ok(200, result=info)


def _system_only(ctx: Ctx) -> None:
    if ctx.db.name != "_system":
        raise ArangoError(403, 1230, "operation only allowed in system database")


# https://docs.arango.ai/arangodb/3.12/develop/http-api/databases/#list-all-databases
@route("GET", "/database")
def database_list(ctx: Ctx) -> Reply:
    _system_only(ctx)
    return ok(200, result=sorted(ctx.state.databases))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/databases/#create-a-database
@route("POST", "/database")
def database_create(ctx: Ctx) -> Reply:
    _system_only(ctx)
    ctx.state.add_database(ctx.dict_body().get("name"))
    return ok(201, result=True)


# https://docs.arango.ai/arangodb/3.12/develop/http-api/databases/#drop-a-database
@route("DELETE", f"/database/{_SEG}")
def database_drop(ctx: Ctx) -> Reply:
    _system_only(ctx)
    ctx.state.database(ctx.args[0])
    for trx in ctx.state.transactions.values():
        if trx.db.name == ctx.args[0]:
            trx.status = "aborted"
    del ctx.state.databases[ctx.args[0]]
    ctx.state.cond.notify_all()
    return ok(200, result=True)


# --- collections: collections/ ----------------------------------------------------


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#list-all-collections
@route("GET", "/collection")
def collection_list(ctx: Ctx) -> Reply:
    colls = ctx.db.collections.values()
    if ctx.flag("excludeSystem"):
        colls = [c for c in colls if not c.is_system]  # type: ignore[assignment]
    return ok(200, result=[c.info() for c in colls])


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#create-a-collection
@route("POST", "/collection")
def collection_create(ctx: Ctx) -> Reply:
    coll = ctx.db.create_collection(ctx.dict_body())
    return ok(200, **coll.properties())


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#get-the-collection-information
@route("GET", f"/collection/{_SEG}")
def collection_get(ctx: Ctx) -> Reply:
    return ok(200, **ctx.db.collection(ctx.args[0]).info())


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#get-the-properties-of-a-collection
@route("GET", f"/collection/{_SEG}/properties")
def collection_properties(ctx: Ctx) -> Reply:
    return ok(200, **ctx.db.collection(ctx.args[0]).properties())


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#change-the-properties-of-a-collection
@route("PUT", f"/collection/{_SEG}/properties")
def collection_configure(ctx: Ctx) -> Reply:
    coll, body = ctx.db.collection(ctx.args[0]), ctx.dict_body()
    if "schema" in body:
        coll.props["schema"] = check_schema(body["schema"])
    if "waitForSync" in body:
        coll.props["waitForSync"] = bool(body["waitForSync"])
    for key in ("replicationFactor", "writeConcern"):
        if key in body:
            coll.props["cluster"][key] = body[key]
    return ok(200, **coll.properties())


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#rename-a-collection
@route("PUT", f"/collection/{_SEG}/rename")
def collection_rename(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    new_name = check_name(ctx.dict_body().get("name"))
    if ctx.db.taken(new_name):
        raise ArangoError(409, 1207, f"duplicate name: {new_name}")
    del ctx.db.collections[coll.name]
    for index in coll.indexes:
        index["id"] = f"{new_name}/{index['id'].split('/', 1)[1]}"
    coll.name = new_name
    ctx.db.collections[new_name] = coll
    return ok(200, **coll.info())


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#drop-a-collection
@route("DELETE", f"/collection/{_SEG}")
def collection_drop(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    if coll.is_system and not ctx.flag("isSystem"):
        raise ArangoError(403, 11, "forbidden: pass isSystem=true to drop a system collection")
    _wait_write(ctx, coll, "exclusive")
    del ctx.db.collections[coll.name]
    for view in ctx.db.views.values():
        (view.get("links") or {}).pop(coll.name, None)
    return ok(200, id=coll.id)


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#truncate-a-collection
@route("PUT", f"/collection/{_SEG}/truncate")
def collection_truncate(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    _wait_write(ctx, coll, "write")
    coll.truncate(ctx.trx)
    return ok(200, **coll.info())


# https://docs.arango.ai/arangodb/3.12/develop/http-api/collections/#get-the-document-count-of-a-collection
@route("GET", f"/collection/{_SEG}/count")
def collection_count(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    return ok(200, **coll.properties(), count=len(coll.docs))


# --- indexes: indexes/ and one page per type ----------------------------------------


def _query_collection(ctx: Ctx) -> Collection:
    if "collection" not in ctx.query:
        raise bad_parameter("query parameter 'collection' is required")
    return ctx.db.collection(ctx.query["collection"])


# https://docs.arango.ai/arangodb/3.12/develop/http-api/indexes/#list-all-indexes-of-a-collection
@route("GET", "/index")
def index_list(ctx: Ctx) -> Reply:
    indexes = _query_collection(ctx).indexes
    return ok(200, indexes=indexes, identifiers={i["id"]: i for i in indexes})


# https://docs.arango.ai/arangodb/3.12/develop/http-api/indexes/#create-an-index
# and one page per type, e.g. https://docs.arango.ai/arangodb/3.12/develop/http-api/indexes/ttl/
# (persistent/, ttl/, geo-spatial/, fulltext/, inverted/, multi-dimensional/)
@route("POST", "/index")
def index_create(ctx: Ctx) -> Reply:
    index, created = search.create_index(_query_collection(ctx), ctx.dict_body())
    return ok(201 if created else 200, **index, isNewlyCreated=created)


# https://docs.arango.ai/arangodb/3.12/develop/http-api/indexes/#get-an-index
@route("GET", f"/index/{_SEG}/{_SEG}")
def index_get(ctx: Ctx) -> Reply:
    return ok(200, **search.find_index(ctx.db, "/".join(ctx.args))[1])


# https://docs.arango.ai/arangodb/3.12/develop/http-api/indexes/#delete-an-index
@route("DELETE", f"/index/{_SEG}/{_SEG}")
def index_drop(ctx: Ctx) -> Reply:
    return ok(200, id=search.drop_index(ctx.db, "/".join(ctx.args)))


# --- views: views/arangosearch-views/ and views/search-alias-views/ -----------------


def _view_summary(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view[k] for k in ("name", "type", "id", "globallyUniqueId")}


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#create-an-arangosearch-view
@route("POST", "/view")
def view_create(ctx: Ctx) -> Reply:
    return ok(201, **search.create_view(ctx.db, ctx.dict_body()))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#list-all-views
@route("GET", "/view")
def view_list(ctx: Ctx) -> Reply:
    return ok(200, result=[_view_summary(v) for v in ctx.db.views.values()])


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#get-information-about-a-view
@route("GET", f"/view/{_SEG}")
def view_get(ctx: Ctx) -> Reply:
    return ok(200, **_view_summary(search.get_view(ctx.db, ctx.args[0])))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#get-the-properties-of-a-view
@route("GET", f"/view/{_SEG}/properties")
def view_properties(ctx: Ctx) -> Reply:
    return ok(200, **search.get_view(ctx.db, ctx.args[0]))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#replace-the-properties-of-an-arangosearch-view
@route("PUT", f"/view/{_SEG}/properties")
def view_replace(ctx: Ctx) -> Reply:
    return ok(200, **search.update_view(ctx.db, ctx.args[0], ctx.dict_body(), partial=False))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#update-the-properties-of-an-arangosearch-view
@route("PATCH", f"/view/{_SEG}/properties")
def view_update(ctx: Ctx) -> Reply:
    return ok(200, **search.update_view(ctx.db, ctx.args[0], ctx.dict_body(), partial=True))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#rename-a-view
@route("PUT", f"/view/{_SEG}/rename")
def view_rename(ctx: Ctx) -> Reply:
    return ok(200, **search.rename_view(ctx.db, ctx.args[0], ctx.dict_body().get("name")))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/views/arangosearch-views/#drop-a-view
@route("DELETE", f"/view/{_SEG}")
def view_drop(ctx: Ctx) -> Reply:
    search.get_view(ctx.db, ctx.args[0])
    del ctx.db.views[ctx.args[0]]
    return ok(200, result=True)


# --- analyzers: analyzers/ ------------------------------------------------------------


# https://docs.arango.ai/arangodb/3.12/develop/http-api/analyzers/#create-an-analyzer
@route("POST", "/analyzer")
def analyzer_create(ctx: Ctx) -> Reply:
    definition, created = search.create_analyzer(ctx.db, ctx.dict_body())
    return ok(201 if created else 200, **definition)


# https://docs.arango.ai/arangodb/3.12/develop/http-api/analyzers/#list-all-analyzers
@route("GET", "/analyzer")
def analyzer_list(ctx: Ctx) -> Reply:
    builtins = [search.get_analyzer(ctx.db, n) for n in search.BUILTIN_ANALYZERS]
    return ok(200, result=builtins + list(ctx.db.analyzers.values()))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/analyzers/#get-an-analyzer-definition
@route("GET", f"/analyzer/{_SEG}")
def analyzer_get(ctx: Ctx) -> Reply:
    return ok(200, **search.get_analyzer(ctx.db, ctx.args[0]))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/analyzers/#remove-an-analyzer
@route("DELETE", f"/analyzer/{_SEG}")
def analyzer_drop(ctx: Ctx) -> Reply:
    return ok(200, name=search.delete_analyzer(ctx.db, ctx.args[0], ctx.flag("force")))


# --- documents: documents/ --------------------------------------------------------------


def _wait_write(ctx: Ctx, coll: Collection, mode: str) -> None:
    """Writes inside a transaction need a declared collection (1652); others wait for locks."""
    if ctx.trx is not None:
        if not ctx.trx.writes(coll.name):
            raise ArangoError(400, 1652, f"collection {coll.name!r} not declared for writing")
        return
    ctx.state.wait_for_locks(ctx.db, {coll.name: mode}, None, ctx.state.write_lock_timeout)


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("_id", "_key", "_rev")}


def _written(ctx: Ctx, coll: Collection, doc: dict[str, Any], old: Any = None) -> dict[str, Any]:
    if ctx.flag("silent"):
        return {}
    reply = _meta(doc)
    if ctx.flag("returnNew"):
        reply["new"] = doc
    if old is not None and ctx.flag("returnOld"):
        reply["old"] = old
    return reply


def _write_code(coll: Collection) -> int:
    return 201 if coll.props["waitForSync"] else 202


# https://docs.arango.ai/arangodb/3.12/develop/http-api/documents/#create-a-document
# https://docs.arango.ai/arangodb/3.12/develop/http-api/documents/#create-multiple-documents
@route("POST", f"/document/{_SEG}")
def document_insert(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    _wait_write(ctx, coll, "write")
    if isinstance(ctx.body, list):
        return _write_code(coll), [_insert_one(ctx, coll, d) for d in ctx.body]
    return _write_code(coll), _written(ctx, coll, coll.insert(ctx.dict_body(), ctx.trx))


def _insert_one(ctx: Ctx, coll: Collection, doc: Any) -> dict[str, Any]:
    # Documents page, "Create multiple documents": errors are reported per document.
    try:
        return _written(ctx, coll, coll.insert(doc, ctx.trx))
    except ArangoError as exc:
        return exc.body()


# https://docs.arango.ai/arangodb/3.12/develop/http-api/documents/#get-a-document
@route("GET", f"/document/{_SEG}/{_SEG}")
def document_get(ctx: Ctx) -> Reply:
    return 200, ctx.db.collection(ctx.args[0]).get(ctx.args[1])


# https://docs.arango.ai/arangodb/3.12/develop/http-api/documents/#replace-a-document
@route("PUT", f"/document/{_SEG}/{_SEG}")
def document_replace(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    _wait_write(ctx, coll, "write")
    old = coll.get(ctx.args[1])
    new = coll.replace(ctx.args[1], ctx.dict_body(), ctx.trx)
    return _write_code(coll), {**_written(ctx, coll, new, old), "_oldRev": old["_rev"]}


# https://docs.arango.ai/arangodb/3.12/develop/http-api/documents/#remove-a-document
@route("DELETE", f"/document/{_SEG}/{_SEG}")
def document_remove(ctx: Ctx) -> Reply:
    coll = ctx.db.collection(ctx.args[0])
    _wait_write(ctx, coll, "write")
    old = coll.remove(ctx.args[1], ctx.trx)
    reply = {} if ctx.flag("silent") else _meta(old)
    if ctx.flag("returnOld"):
        reply["old"] = old
    return _write_code(coll), reply


# --- stream transactions: transactions/stream-transactions/ -------------------------


def _trx_reply(trx: Transaction) -> dict[str, Any]:
    return {"id": trx.id, "status": trx.status}


# https://docs.arango.ai/arangodb/3.12/develop/http-api/transactions/stream-transactions/#begin-a-stream-transaction
@route("POST", "/transaction/begin")
def transaction_begin(ctx: Ctx) -> Reply:
    return ok(201, result=_trx_reply(ctx.state.begin(ctx.db, ctx.dict_body())))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/transactions/stream-transactions/#list-the-running-stream-transactions
@route("GET", "/transaction")
def transaction_list(ctx: Ctx) -> Reply:
    running = [t for t in ctx.state.transactions.values() if t.status == "running"]
    return ok(200, transactions=[{"id": t.id, "state": t.status} for t in running])


# https://docs.arango.ai/arangodb/3.12/develop/http-api/transactions/stream-transactions/#get-the-status-of-a-stream-transaction
@route("GET", f"/transaction/{_SEG}")
def transaction_status(ctx: Ctx) -> Reply:
    return ok(200, result=_trx_reply(ctx.state.transaction(ctx.args[0])))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/transactions/stream-transactions/#commit-a-stream-transaction
@route("PUT", f"/transaction/{_SEG}")
def transaction_commit(ctx: Ctx) -> Reply:
    trx = ctx.state.transaction(ctx.args[0])
    ctx.state.finish(trx, "committed")
    return ok(200, result=_trx_reply(trx))


# https://docs.arango.ai/arangodb/3.12/develop/http-api/transactions/stream-transactions/#abort-a-stream-transaction
@route("DELETE", f"/transaction/{_SEG}")
def transaction_abort(ctx: Ctx) -> Reply:
    trx = ctx.state.transaction(ctx.args[0])
    ctx.state.finish(trx, "aborted")
    return ok(200, result=_trx_reply(trx))


# --- AQL cursor: queries/aql-queries/#create-a-cursor (a tiny subset, see aql.py) ----


# https://docs.arango.ai/arangodb/3.12/develop/http-api/queries/aql-queries/#create-a-cursor
@route("POST", "/cursor")
def cursor_create(ctx: Ctx) -> Reply:
    body = ctx.dict_body()
    if not isinstance(body.get("query"), str):
        raise bad_parameter("query is empty")
    result = aql.run(ctx.db, body["query"], body.get("bindVars") or {}, ctx.trx)
    extra = {"warnings": [], "stats": {"writesExecuted": 0, "writesIgnored": 0}}
    reply = dict(result=result, hasMore=False, cached=False, extra=extra)
    if body.get("count"):
        reply["count"] = len(result)
    return ok(201, **reply)
