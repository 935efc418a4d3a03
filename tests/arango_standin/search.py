"""Indexes, Views and Analyzers of the stand-in, each rule with its documentation page.

Index pages: https://docs.arango.ai/arangodb/3.12/develop/http-api/indexes/ and
one sub-page per type (persistent/, ttl/, geo-spatial/, fulltext/, inverted/,
multi-dimensional/). Views: views/arangosearch-views/ and
views/search-alias-views/. Analyzers: analyzers/.

Example::

    >>> from arango_standin.state import State
    >>> db = State().database("_system")
    >>> coll = db.create_collection({"name": "posts"})
    >>> create_index(coll, {"type": "persistent", "fields": ["slug"]})[0]["type"]
    'persistent'
"""

from __future__ import annotations

import copy
from typing import Any

from arango_standin.state import (
    ArangoError,
    Collection,
    Database,
    bad_parameter,
    check_name,
    not_found,
)

#: Index types the server creates; hash/skiplist are aliases of persistent, zkd of mdi.
INDEX_TYPES = ("persistent", "hash", "skiplist", "ttl", "geo", "fulltext", "inverted")
INDEX_TYPES += ("mdi", "mdi-prefixed", "zkd")
#: What each type accepts beside type/name/fields/inBackground (its documentation page).
INDEX_OPTIONS: dict[str, tuple[str, ...]] = {
    "persistent": ("unique", "sparse", "deduplicate", "estimates", "cacheEnabled", "storedValues"),
    "ttl": ("expireAfter",),
    "geo": ("geoJson", "legacyPolygons"),
    "fulltext": ("minLength",),
    "mdi": ("fieldValueTypes", "unique", "sparse", "estimates", "storedValues", "prefixFields"),
    "inverted": (
        "analyzer",
        "features",
        "includeAllFields",
        "trackListPositions",
        "searchField",
        "storedValues",
        "primarySort",
        "parallelism",
        "cache",
        "primaryKeyCache",
    ),
}
#: Built-in Analyzers every database has (analyzers page, "List all Analyzers").
BUILTIN_ANALYZERS = ("identity", "text_de", "text_en", "text_es", "text_fr", "text_it")
BUILTIN_ANALYZERS += ("text_nl", "text_no", "text_pt", "text_ru", "text_sv", "text_zh", "text_fi")
ANALYZER_TYPES = ("identity", "delimiter", "multi_delimiter", "stem", "norm", "ngram", "text")
ANALYZER_TYPES += ("segmentation", "aql", "pipeline", "stopwords", "collation", "minhash")
ANALYZER_TYPES += ("classification", "nearest_neighbors", "geojson", "geo_s2", "geopoint")
ANALYZER_TYPES += ("wildcard",)
ANALYZER_FEATURES = ("frequency", "norm", "position", "offset")

# --- indexes ---------------------------------------------------------------------


def _canonical_type(kind: str) -> str:
    return {"hash": "persistent", "skiplist": "persistent", "zkd": "mdi"}.get(kind, kind)


def _check_index(coll: Collection, body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("type")
    if kind not in INDEX_TYPES:
        raise bad_parameter(f"invalid index type {kind!r}")
    kind = _canonical_type(kind)
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields:
        raise bad_parameter("index 'fields' must be a non-empty array")
    if kind != "inverted" and not all(isinstance(f, str) and f for f in fields):
        raise bad_parameter("index 'fields' must be attribute names")
    # Per-type rules from each type's page.
    if kind == "ttl":
        _check_ttl(coll, body, fields)
    if kind == "geo" and len(fields) > 2:
        raise bad_parameter("a geo index takes one or two fields")
    if kind == "fulltext" and len(fields) != 1:
        raise bad_parameter("a fulltext index takes exactly one field")
    if kind == "mdi" and body.get("fieldValueTypes") != "double":
        raise bad_parameter("fieldValueTypes must be set to 'double' for mdi indexes")
    index = {"type": kind, "fields": fields}
    for option in INDEX_OPTIONS.get(kind, ()):
        if option in body:
            index[option] = body[option]
    if kind in ("persistent", "mdi"):
        index.setdefault("unique", False)
        index.setdefault("sparse", False)
    if kind == "persistent":
        index.setdefault("deduplicate", True)
        index.setdefault("estimates", True)
    if kind == "geo":
        index |= {"geoJson": bool(body.get("geoJson", False)), "sparse": True, "unique": False}
    if kind in ("ttl", "fulltext", "inverted"):
        index |= {"sparse": kind != "inverted", "unique": False}
    return index


def _check_ttl(coll: Collection, body: dict[str, Any], fields: list[Any]) -> None:
    expire = body.get("expireAfter")
    if not isinstance(expire, int | float) or isinstance(expire, bool) or expire < 0:
        raise bad_parameter("expireAfter must be a number >= 0 for a ttl index")
    if len(fields) != 1:
        raise bad_parameter("a ttl index takes exactly one field")
    if any(i["type"] == "ttl" for i in coll.indexes):
        raise bad_parameter("there can only be one ttl index per collection")


def _same(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    keys = set(existing) | set(wanted)
    keys -= {"id", "name", "isNewlyCreated", "selectivityEstimate"}
    return all(existing.get(k) == wanted.get(k) for k in keys)


def create_index(coll: Collection, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Indexes page, "Create an index": 201 when new, 200 when an identical one exists."""
    wanted = _check_index(coll, body)
    name = body.get("name")
    if name is not None:
        check_name(name, "index")
    for existing in coll.indexes:
        if _same(existing, wanted) and name in (None, existing["name"]):
            return existing, False
        if name is not None and existing["name"] == name:
            raise ArangoError(409, 1207, f"duplicate name: index {name!r}")
    if wanted.get("unique"):
        _check_existing_unique(coll, wanted)
    number = coll.db.state.ids.__next__()
    index = {"id": f"{coll.name}/{number}", "name": name or f"idx_{number}", **wanted}
    coll.indexes.append(index)
    return index, True


def _check_existing_unique(coll: Collection, index: dict[str, Any]) -> None:
    """Persistent index page: 400 when existing documents break the uniqueness."""
    seen: set[str] = set()
    for doc in coll.docs.values():
        values = [doc.get(f) for f in index["fields"]]
        if index.get("sparse") and any(v is None for v in values):
            continue
        marker = repr(values)
        if marker in seen:
            raise ArangoError(400, 1210, "unique constraint violated")
        seen.add(marker)


def find_index(db: Database, handle: str) -> tuple[Collection, dict[str, Any]]:
    """An index by ``collection/id`` or ``collection/name`` (error 1212 when unknown)."""
    coll_name, _, ident = handle.partition("/")
    coll = db.collection(coll_name)
    for index in coll.indexes:
        if index["id"] == handle or index["name"] == ident:
            return coll, index
    raise ArangoError(404, 1212, f"index not found: {handle}")


def drop_index(db: Database, handle: str) -> str:
    coll, index = find_index(db, handle)
    if index["type"] in ("primary", "edge"):
        raise ArangoError(403, 11, "cannot drop the primary or edge index")
    coll.indexes.remove(index)
    return str(index["id"])


# --- analyzers ---------------------------------------------------------------------


def _analyzer_name(db: Database, name: str) -> str:
    """Analyzers of a database are reported as ``<db>::<name>``; built-ins are bare."""
    if name in BUILTIN_ANALYZERS or "::" in name:
        return name
    return f"{db.name}::{name}"


def analyzer_exists(db: Database, name: str) -> bool:
    return name in BUILTIN_ANALYZERS or _analyzer_name(db, name) in db.analyzers


def create_analyzer(db: Database, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Analyzers page, "Create an Analyzer": 201 new, 200 when identical, 400 on a clash."""
    name = check_name(body.get("name"), "analyzer")
    kind = body.get("type")
    if kind not in ANALYZER_TYPES:
        raise bad_parameter(f"unknown analyzer type {kind!r}")
    features = body.get("features") or []
    if not isinstance(features, list) or not set(features) <= set(ANALYZER_FEATURES):
        raise bad_parameter(f"invalid analyzer features {features!r}")
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise bad_parameter("analyzer properties must be an object")
    if kind == "delimiter" and not isinstance(properties.get("delimiter"), str):
        raise bad_parameter("a delimiter analyzer needs properties.delimiter")
    full = _analyzer_name(db, name)
    definition = {"name": full, "type": kind, "properties": properties, "features": features}
    existing = db.analyzers.get(full)
    if existing is not None:
        if existing == definition:
            return existing, False
        # IResearch reports a different definition under the same name as a bad parameter.
        raise bad_parameter(f"Name collision detected while registering analyzer {full!r}")
    db.analyzers[full] = definition
    return definition, True


def get_analyzer(db: Database, name: str) -> dict[str, Any]:
    full = _analyzer_name(db, name)
    if full in BUILTIN_ANALYZERS:
        return {"name": full, "type": "identity", "properties": {}, "features": []}
    if full not in db.analyzers:
        raise ArangoError(404, 1202, f"analyzer not found: {name}")
    return db.analyzers[full]


def delete_analyzer(db: Database, name: str, force: bool) -> str:
    full = _analyzer_name(db, name)
    if full in BUILTIN_ANALYZERS:
        raise ArangoError(403, 11, "built-in analyzers cannot be removed")
    get_analyzer(db, name)
    if not force and any(full in _view_analyzers(db, v) for v in db.views.values()):
        raise ArangoError(409, 1200, f"analyzer {full!r} is still in use")
    del db.analyzers[full]
    return full


def _view_analyzers(db: Database, view: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for link in (view.get("links") or {}).values():
        names |= {_analyzer_name(db, a) for a in link.get("analyzers", [])}
    return names


# --- views -------------------------------------------------------------------------

ARANGOSEARCH_DEFAULTS: dict[str, Any] = {
    "cleanupIntervalStep": 2,
    "commitIntervalMsec": 1000,
    "consolidationIntervalMsec": 1000,
    "primarySort": [],
    "primarySortCompression": "lz4",
    "storedValues": [],
    "writebufferActive": 0,
    "writebufferIdle": 64,
    "writebufferSizeMax": 33554432,
}


def _check_links(db: Database, links: Any) -> dict[str, Any]:
    """arangosearch page: each link names an existing collection and known Analyzers."""
    if not isinstance(links, dict):
        raise bad_parameter("'links' must be an object")
    for coll_name, link in links.items():
        if link is None:
            continue
        db.collection(coll_name)
        if not isinstance(link, dict):
            raise bad_parameter(f"link of {coll_name!r} must be an object")
        for analyzer in link.get("analyzers", []):
            if not analyzer_exists(db, analyzer):
                raise bad_parameter(f"analyzer {analyzer!r} not found for link {coll_name!r}")
    return {name: link for name, link in links.items() if link is not None}


def _check_alias_indexes(db: Database, indexes: Any) -> list[dict[str, Any]]:
    """search-alias page: each entry names a collection and one of its inverted indexes."""
    if not isinstance(indexes, list):
        raise bad_parameter("'indexes' must be an array")
    for entry in indexes:
        coll = db.collection(entry.get("collection", ""))
        _, index = find_index(db, f"{coll.name}/{entry.get('index', '')}")
        if index["type"] != "inverted":
            raise bad_parameter(f"index {entry.get('index')!r} is not an inverted index")
    return [{"collection": e["collection"], "index": e["index"]} for e in indexes]


def create_view(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    """arangosearch/search-alias pages, "Create a View": 409/1207 for a taken name."""
    name = check_name(body.get("name"), "view")
    kind = body.get("type")
    if kind not in ("arangosearch", "search-alias"):
        raise bad_parameter(f"invalid view type {kind!r}")
    if db.taken(name):
        raise ArangoError(409, 1207, f"duplicate name: {name}")
    number = str(next(db.state.ids))
    view: dict[str, Any] = {"name": name, "type": kind, "id": number, "globallyUniqueId": number}
    if kind == "arangosearch":
        view |= copy.deepcopy(ARANGOSEARCH_DEFAULTS)
        for key in ARANGOSEARCH_DEFAULTS:
            view[key] = body.get(key, view[key])
        view["links"] = _check_links(db, body.get("links", {}))
    else:
        view["indexes"] = _check_alias_indexes(db, body.get("indexes", []))
    db.views[name] = view
    return view


def get_view(db: Database, name: str) -> dict[str, Any]:
    view = db.views.get(name)
    if view is None:
        raise not_found(name)
    return view


def update_view(db: Database, name: str, body: dict[str, Any], partial: bool) -> dict[str, Any]:
    """PUT replaces the links/indexes; PATCH merges them (a null link removes it)."""
    view = get_view(db, name)
    if view["type"] == "arangosearch":
        links = dict(view["links"]) if partial else {}
        links.update(body.get("links", {}))
        view["links"] = _check_links(db, links)
        for key in ARANGOSEARCH_DEFAULTS:
            if key in body:
                view[key] = body[key]
    else:
        wanted = body.get("indexes", [])
        if partial:
            removed = {(e["collection"], e["index"]) for e in wanted if e.get("operation") == "del"}
            kept = [e for e in view["indexes"] if (e["collection"], e["index"]) not in removed]
            wanted = kept + [e for e in wanted if e.get("operation") != "del"]
        view["indexes"] = _check_alias_indexes(db, wanted)
    return view


def rename_view(db: Database, name: str, new_name: Any) -> dict[str, Any]:
    view = get_view(db, name)
    check_name(new_name, "view")
    if db.taken(new_name):
        raise ArangoError(409, 1207, f"duplicate name: {new_name}")
    del db.views[name]
    view["name"] = new_name
    db.views[new_name] = view
    return view
