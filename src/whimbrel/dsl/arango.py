"""The ArangoDB migration DSL (ArangoXEcto's): collections with JSON schemas, indexes,
views, analyzers and AQL. Import it in an ArangoDB migration::

    from whimbrel.dsl.arango import *

    def change():
        with create(collection("users", key_options={"type": "uuid"})):
            add("email", "string", null=False, required=True, format="email")
            with add("address", "object"):
                add("city", "string")
            add("tags", array("string"), unique_items=True)
            timestamps()
        create(index("users", ["email"], unique=True))
        create(view("users_search", links={"users": {"fields": {"email": {}}}}))

Commands are recorded as data (``whimbrel.dsl.arango_objects``); nothing
touches the server while these functions run. Bad input is refused here,
naming the command and the fix. ``repo()``, ``flush()`` and ``direction()``
are the generic ones: on ArangoDB ``repo().execute(aql, bind_vars)`` and
``repo().query(aql, bind_vars)`` run AQL in order with the commands, and any
other attribute is the python-arango database's
(``repo().collection("users").insert({...})``).

Why a module of its own rather than ``whimbrel.migration``: ``index``,
``add``, ``execute`` and ``timestamps`` take different arguments on the two
(a collection's JSON-schema field is not a SQL column), so one namespace
would need each function to guess which database it is for.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.api import direction, flush, repo
from whimbrel.dsl.arango_fields import (
    OPEN_BLOCK,
    FieldBlock,
    add,
    current_block,
    field_type,
    modify,
    remove,
    timestamps,
)
from whimbrel.dsl.arango_objects import (
    AlterCollection,
    AlterView,
    Analyzer,
    ArangoIndex,
    ArrayOf,
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
    FieldType,
    RenameCollection,
    RenameField,
    RenameView,
    View,
)
from whimbrel.errors import MigrationDefinitionError

COLLECTION_TYPES = {"document": 2, "edge": 3}
KEY_GENERATORS = ("traditional", "autoincrement", "uuid", "padded")
KEY_OPTIONS = {"type", "allow_user_keys", "increment", "offset"}
SCHEMA_LEVELS = ("none", "new", "moderate", "strict")
INDEX_TYPES = ("persistent", "ttl", "geo", "fulltext", "inverted", "mdi", "mdi-prefixed", "zkd")
#: Options each index type takes beyond unique/sparse/deduplicate/in_background (API pages).
INDEX_OPTIONS: dict[str, tuple[str, ...]] = {
    "persistent": ("stored_values", "estimates", "cache_enabled"),
    "ttl": (),
    "geo": ("geo_json", "legacy_polygons"),
    "fulltext": ("min_length",),
    "inverted": (
        "analyzer",
        "features",
        "include_all_fields",
        "track_list_positions",
        "search_field",
        "stored_values",
        "primary_sort",
        "parallelism",
        "cache",
        "primary_key_cache",
    ),
    "mdi": ("field_value_types", "stored_values", "estimates"),
    "mdi-prefixed": ("field_value_types", "prefix_fields", "stored_values", "estimates"),
}
INDEX_OPTIONS["zkd"] = INDEX_OPTIONS["mdi"]
VIEW_TYPES = ("arangosearch", "search-alias")
ANALYZER_FEATURES = ("frequency", "norm", "position", "offset")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _fail(message: str) -> MigrationDefinitionError:
    return MigrationDefinitionError(message)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _choice(where: str, option: str, value: Any, allowed: Sequence[str]) -> Any:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), list(allowed), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise _fail(f"{where}: unknown {option} {value!r}{hint}; use one of: {', '.join(allowed)}")
    return value


def _name(where: str, what: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise _fail(
            f"{where}: {what} {value!r} is not a valid ArangoDB name: start with a letter "
            "or '_', then letters, digits, '_' or '-'"
        )
    return value


# --- objects ---------------------------------------------------------------------------


def collection(
    name: str,
    type: str = "document",  # noqa: A002 - ArangoXEcto's option name
    key_options: dict[str, Any] | None = None,
    wait_for_sync: bool | None = None,
    number_of_shards: int | None = None,
    shard_keys: Sequence[str] | None = None,
    replication_factor: int | str | None = None,
    write_concern: int | None = None,
    level: str | None = None,
    message: str | None = None,
) -> Collection:
    """A collection for create/alter/drop/rename.

    Options: ``type`` ("document" or "edge"), ``key_options`` (``type``:
    traditional/autoincrement/uuid/padded, ``allow_user_keys``, ``increment``,
    ``offset``), ``wait_for_sync``, the cluster options ``number_of_shards``,
    ``shard_keys``, ``replication_factor``, ``write_concern`` (passed through;
    a single server ignores them), and the schema's ``level``
    (none/new/moderate/strict, default strict) and ``message``.
    """
    where = f'collection("{name}")'
    _name(where, "name", name)
    _choice(where, "type", type, list(COLLECTION_TYPES))
    if level is not None:
        _choice(where, "level", level, SCHEMA_LEVELS)
    return Collection(
        name,
        type,
        _key_options(where, key_options),
        wait_for_sync,
        number_of_shards,
        tuple(shard_keys) if shard_keys is not None else None,
        replication_factor,
        write_concern,
        level,
        message,
        is_system=name.startswith("_"),
    )


def _key_options(where: str, options: dict[str, Any] | None) -> dict[str, Any] | None:
    if options is None:
        return None
    unknown = set(options) - KEY_OPTIONS
    if unknown:
        raise _fail(f"{where}: unknown key_options {sorted(unknown)}; use {sorted(KEY_OPTIONS)}")
    kind = _choice(where, "key generator", options.get("type", "traditional"), KEY_GENERATORS)
    if kind != "autoincrement" and ({"increment", "offset"} & set(options)):
        raise _fail(f'{where}: increment and offset need key_options type "autoincrement"')
    return {_camel(k): v for k, v in options.items()}


def array(of: FieldType) -> ArrayOf:
    """An array field type: ``add("tags", array("string"))``."""
    field_type("array()", of)
    return ArrayOf(of)


def index(
    collection: str,
    fields: str | Sequence[Any],
    type: str = "persistent",  # noqa: A002 - the HTTP API's name
    name: str | None = None,
    unique: bool | None = None,
    sparse: bool | None = None,
    deduplicate: bool | None = None,
    in_background: bool | None = None,
    expire_after: int | float | None = None,
    **options: Any,
) -> ArangoIndex:
    """An index; the name defaults to ``<collection>_<fields>_index`` (needed to drop it).

    ``type``: persistent, ttl (needs ``expire_after`` seconds), geo
    (``geo_json=``), fulltext (``min_length=``), inverted (``analyzer=``,
    ``features=``, ...), mdi / mdi-prefixed (``field_value_types="double"``);
    ``zkd`` is the older name of mdi. Type-specific options are listed in
    ``INDEX_OPTIONS`` and passed in the API's camelCase.
    """
    where = f'index("{collection}")'
    _choice(where, "index type", type, INDEX_TYPES)
    cols = (fields,) if isinstance(fields, str) else tuple(fields)
    if not cols:
        raise _fail(f"{where}: give the fields to index, e.g. index({collection!r}, ['email'])")
    _index_rules(where, type, cols, unique, expire_after, options)
    default = re.sub(r"[^A-Za-z0-9_\-]", "_", "_".join(str(c) for c in cols if isinstance(c, str)))
    index_name = _name(where, "name", name or f"{collection}_{default}_index")
    camel = {_camel(k): v for k, v in options.items()}
    return ArangoIndex(
        collection, cols, type, index_name, unique, sparse, deduplicate, in_background,
        expire_after, camel,
    )  # fmt: skip


def _index_rules(
    where: str,
    kind: str,
    fields: tuple[Any, ...],
    unique: bool | None,
    expire_after: Any,
    options: dict[str, Any],
) -> None:
    allowed = INDEX_OPTIONS[kind]
    for option in options:
        if option not in allowed:
            raise _fail(
                f"{where}: option {option!r} does not apply to {kind} indexes; "
                f"{kind} takes: {', '.join(allowed) or 'no extra options'}"
            )
    if kind == "ttl" and (expire_after is None or len(fields) != 1):
        raise _fail(f"{where}: a ttl index needs one field and expire_after=<seconds>")
    if kind != "ttl" and expire_after is not None:
        raise _fail(f'{where}: expire_after only applies to type="ttl"')
    if kind in ("ttl", "geo", "fulltext", "inverted") and unique:
        raise _fail(f"{where}: {kind} indexes cannot be unique; drop unique=True")
    if kind in ("mdi", "mdi-prefixed", "zkd") and options.get("field_value_types") != "double":
        raise _fail(f'{where}: {kind} indexes need field_value_types="double"')
    if kind == "fulltext" and len(fields) != 1:
        raise _fail(f"{where}: a fulltext index takes exactly one field")


def view(
    name: str,
    type: str = "arangosearch",  # noqa: A002 - the HTTP API's name
    links: dict[str, Any] | None = None,
    indexes: Sequence[dict[str, str] | tuple[str, str]] | None = None,
    **options: Any,
) -> View:
    """An arangosearch View (``links={collection: {...}}``) or a search-alias View
    (``type="search-alias", indexes=[{"collection": c, "index": inverted_index_name}]``).

    Other View properties (``primary_sort``, ``stored_values``,
    ``consolidation_interval_msec`` ...) are passed in the API's camelCase.
    """
    where = f'view("{name}")'
    _name(where, "name", name)
    _choice(where, "type", type, VIEW_TYPES)
    if type == "search-alias" and links is not None:
        raise _fail(f"{where}: search-alias Views take indexes=, not links=")
    if type == "arangosearch" and indexes is not None:
        raise _fail(f'{where}: arangosearch Views take links=; indexes= is for type="search-alias"')
    pairs = None
    if indexes is not None:
        pairs = tuple(_alias_index(where, entry) for entry in indexes)
    return View(name, type, links, pairs, {_camel(k): v for k, v in options.items()})


def _alias_index(where: str, entry: Any) -> tuple[str, str]:
    if isinstance(entry, dict) and set(entry) == {"collection", "index"}:
        return entry["collection"], entry["index"]
    if isinstance(entry, tuple | list) and len(entry) == 2:
        return entry[0], entry[1]
    raise _fail(f'{where}: each index is {{"collection": ..., "index": ...}}, got {entry!r}')


def analyzer(
    name: str,
    type: str | None = None,  # noqa: A002 - the HTTP API's name
    properties: dict[str, Any] | None = None,
    features: Sequence[str] | None = None,
) -> Analyzer:
    """An Analyzer: ``analyzer("csv", "delimiter", {"delimiter": ","}, ["frequency"])``.

    Dropping needs only the name; giving the type too makes the drop reversible.
    """
    where = f'analyzer("{name}")'
    _name(where, "name", name)
    for feature in features or ():
        _choice(where, "feature", feature, ANALYZER_FEATURES)
    if properties is not None and not isinstance(properties, dict):
        raise _fail(f"{where}: properties must be a dict, got {properties!r}")
    return Analyzer(name, type, properties, tuple(features) if features is not None else None)


# --- commands ----------------------------------------------------------------------------


def _outside_block(what: str) -> None:
    block = OPEN_BLOCK.get()
    if block is not None:
        raise _fail(
            f"cannot run {what} inside {block.command_name()}: only add(), modify(), remove(), "
            "rename(field, to=...) and timestamps() go inside a block; move it after the block"
        )


def create(obj: Collection | ArangoIndex | View | Analyzer) -> FieldBlock | None:
    """Create a collection (``with`` a block of fields), an index, a View or an Analyzer."""
    return _create(obj, False)


def create_if_not_exists(obj: Collection | ArangoIndex | View | Analyzer) -> FieldBlock | None:
    """Like ``create``; an object that already exists is left as it is."""
    return _create(obj, True)


def _create(obj: object, if_not_exists: bool) -> FieldBlock | None:
    verb = "create_if_not_exists" if if_not_exists else "create"
    _outside_block(f"{verb}()")
    rec = _rec.current()
    if isinstance(obj, Collection):
        return FieldBlock(rec, CreateCollection(obj, (), if_not_exists))
    if isinstance(obj, ArangoIndex):
        rec.record(CreateArangoIndex(obj, if_not_exists))
    elif isinstance(obj, View):
        rec.record(CreateView(obj, if_not_exists))
    elif isinstance(obj, Analyzer):
        if obj.type is None:
            raise _fail(
                f'{verb}(analyzer("{obj.name}")): give the type, e.g. analyzer(name, "text")'
            )
        rec.record(CreateAnalyzer(obj, if_not_exists))
    else:
        raise _fail(f"{verb}() takes collection(), index(), view() or analyzer(), got {obj!r}")
    return None


def alter(obj: Collection | View) -> FieldBlock | None:
    """``with alter(collection(...)):`` merges field changes into the schema rule;
    ``alter(view(..., links=...))`` updates a View's properties."""
    _outside_block("alter()")
    rec = _rec.current()
    if isinstance(obj, Collection):
        return FieldBlock(rec, AlterCollection(obj))
    if isinstance(obj, View):
        rec.record(AlterView(obj))
        return None
    raise _fail(f"alter() takes collection() or view(), got {obj!r}")


def _drop(obj: object, if_exists: bool, force: bool) -> None:
    verb = "drop_if_exists" if if_exists else "drop"
    _outside_block(f"{verb}()")
    rec = _rec.current()
    if isinstance(obj, Collection):
        rec.record(DropCollection(obj, if_exists))
    elif isinstance(obj, ArangoIndex):
        rec.record(DropArangoIndex(obj, if_exists))
    elif isinstance(obj, View):
        rec.record(DropView(obj, if_exists))
    elif isinstance(obj, Analyzer):
        rec.record(DropAnalyzer(obj, if_exists, force))
    else:
        raise _fail(f"{verb}() takes collection(), index(), view() or analyzer(), got {obj!r}")


def drop(obj: Collection | ArangoIndex | View | Analyzer, force: bool = False) -> None:
    """Drop a collection, index, View or Analyzer (``force=True``: an Analyzer in use)."""
    _drop(obj, False, force)


def drop_if_exists(obj: Collection | ArangoIndex | View | Analyzer, force: bool = False) -> None:
    _drop(obj, True, force)


def rename(obj: Collection | View | str, *, to: Collection | View | str) -> None:
    """Rename a collection or View: ``rename(collection("posts"), to=collection("articles"))``;
    inside an ``alter`` block ``rename("old_field", to="new_field")`` renames a field."""
    if isinstance(obj, str):
        block = current_block("rename", ("alter",))
        if not isinstance(to, str):
            raise _fail(f'rename("{obj}", to=...): give the new field name as a string')
        block.frames[-1].append(RenameField(obj, to))
        return
    _outside_block("rename()")
    new = to if isinstance(to, str) else to.name
    rec = _rec.current()
    if isinstance(obj, Collection):
        rec.record(RenameCollection(obj, _name(f'rename(collection("{obj.name}"))', "to", new)))
    elif isinstance(obj, View):
        rec.record(RenameView(obj, _name(f'rename(view("{obj.name}"))', "to", new)))
    else:
        raise _fail(f"rename() takes collection() or view(), got {obj!r}")


def execute(aql: str, down: str | None = None, bind_vars: dict[str, Any] | None = None) -> None:
    """Run AQL in order with the other commands; ``execute(up, down)`` is reversible."""
    _outside_block("execute()")
    for text in (aql, down):
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise _fail(f"execute() takes AQL text, got {text!r}")
    _rec.current().record(ExecuteAql(aql, down, dict(bind_vars or {})))


__all__ = [
    "add",
    "alter",
    "analyzer",
    "array",
    "collection",
    "create",
    "create_if_not_exists",
    "direction",
    "drop",
    "drop_if_exists",
    "execute",
    "flush",
    "index",
    "modify",
    "remove",
    "rename",
    "repo",
    "timestamps",
    "view",
]
