"""The stand-in's in-memory ArangoDB: databases, collections, documents, locks.

Everything here follows ArangoDB 3.12's documented behaviour; the pages are
cited next to each rule. One ``threading.Condition`` guards the whole state:
handlers run on server threads, and a write that must wait for another
transaction's exclusive lock waits on it.

Example::

    >>> state = State()
    >>> db = state.database("_system")
    >>> coll = db.create_collection({"name": "posts"})
    >>> coll.insert({"title": "hi"}, trx=None)["_key"]
    '1'
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jsonschema

DOCS = "https://docs.arango.ai/arangodb/3.12/develop/"
#: Error numbers and names: https://docs.arango.ai/arangodb/3.12/develop/error-codes/
ERRORS = DOCS + "error-codes/"

# Names: https://docs.arango.ai/arangodb/3.12/concepts/data-structure/collections/#collection-names
# (traditional naming: a letter or underscore, then letters, digits, "_" and "-").
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,255}$")
# Keys: https://docs.arango.ai/arangodb/3.12/concepts/data-structure/documents/#document-keys
KEY = re.compile(r"^[A-Za-z0-9_\-:.@()+,=;$!*'%]{1,254}$")
SCHEMA_LEVELS = ("none", "new", "moderate", "strict")
SYSTEM_ATTRIBUTES = ("_key", "_id", "_rev", "_from", "_to")


class ArangoError(Exception):
    """An error reply: HTTP status, ArangoDB ``errorNum`` and message."""

    def __init__(self, http: int, num: int, message: str):
        super().__init__(message)
        self.http, self.num, self.message = http, num, message

    def body(self) -> dict[str, Any]:
        return {
            "error": True,
            "code": self.http,
            "errorNum": self.num,
            "errorMessage": self.message,
        }


def not_found(what: str) -> ArangoError:
    return ArangoError(404, 1203, f"collection or view not found: {what}")


def bad_parameter(message: str) -> ArangoError:
    return ArangoError(400, 10, message)


def check_name(name: Any, what: str = "collection") -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ArangoError(400, 1208, f"illegal name: {what} name {name!r} is invalid")
    return name


def as_list(value: Any) -> list[str]:
    """Transaction collections are a name or a list of names (stream-transactions page)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def check_schema(schema: Any) -> dict[str, Any] | None:
    """Validate a collection ``schema`` as the server does (error 1621 when invalid).

    Collections page, "Create a collection": ``rule`` is a draft-4 JSON Schema
    object, ``level`` one of none/new/moderate/strict (default strict),
    ``message`` a string. ``null`` or ``{}`` means "no schema" (schema
    validation page: https://docs.arango.ai/arangodb/3.12/concepts/data-structure/documents/schema-validation/).
    """
    if schema is None or schema == {}:
        return None
    if not isinstance(schema, dict) or not isinstance(schema.get("rule"), dict):
        raise ArangoError(400, 1621, "invalid schema validation parameter: rule must be an object")
    try:
        jsonschema.Draft4Validator.check_schema(schema["rule"])
    except jsonschema.SchemaError as exc:
        raise ArangoError(400, 1621, f"invalid schema validation parameter: {exc.message}") from exc
    level = schema.get("level", "strict")
    if level not in SCHEMA_LEVELS:
        raise ArangoError(400, 1621, f"invalid schema validation parameter: level {level!r}")
    message = schema.get("message", "Schema violation")
    if not isinstance(message, str):
        raise ArangoError(400, 1621, "invalid schema validation parameter: message")
    return {"rule": schema["rule"], "level": level, "message": message, "type": "json"}


def _schema_ok(rule: dict[str, Any], doc: dict[str, Any]) -> bool:
    # Schema validation page: system attributes are invisible to validation.
    plain = {k: v for k, v in doc.items() if k not in SYSTEM_ATTRIBUTES}
    return jsonschema.Draft4Validator(rule).is_valid(plain)


@dataclass
class Collection:
    """One collection with its documents and indexes."""

    db: Database
    name: str
    id: str
    type: int
    is_system: bool
    props: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    last_key: int = 0

    # -- descriptions (collections page: "Get the collection information") ------

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": 3,
            "statusString": "loaded",
            "type": self.type,
            "isSystem": self.is_system,
            "globallyUniqueId": f"h{self.id}",
        }

    def properties(self) -> dict[str, Any]:
        key_options = dict(self.props["keyOptions"], lastValue=self.last_key)
        return {
            **self.info(),
            "waitForSync": self.props["waitForSync"],
            "keyOptions": key_options,
            "schema": self.props["schema"],
            "computedValues": None,
            "cacheEnabled": False,
            "syncByRevision": True,
            **self.props["cluster"],
        }

    # -- keys --------------------------------------------------------------------

    def _new_key(self) -> str:
        options = self.props["keyOptions"]
        kind = options.get("type", "traditional")
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "autoincrement":
            step, start = options.get("increment", 1), options.get("offset", 0)
            self.last_key = self.last_key + step if self.last_key else (start or step)
        else:
            self.last_key += 1
        return f"{self.last_key:016x}" if kind == "padded" else str(self.last_key)

    def _key_for(self, doc: dict[str, Any]) -> str:
        # Documents page, "Create a document": own keys need allowUserKeys (error 1222),
        # and must be valid keys (error 1221).
        if "_key" not in doc:
            return self._new_key()
        if not self.props["keyOptions"].get("allowUserKeys", True):
            raise ArangoError(400, 1222, "unexpected document key")
        key = doc["_key"]
        if not isinstance(key, str) or not KEY.match(key):
            raise ArangoError(400, 1221, "illegal document key")
        return key

    # -- validation ----------------------------------------------------------------

    def _validate(self, new: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Schema validation page: which levels check inserts and which check changes."""
        schema = self.props["schema"]
        if schema is None or schema["level"] == "none":
            return
        level, rule = schema["level"], schema["rule"]
        if old is not None and level == "new":
            return
        if old is not None and level == "moderate" and not _schema_ok(rule, old):
            return
        if not _schema_ok(rule, new):
            raise ArangoError(400, 1620, schema["message"])

    def _check_unique(self, doc: dict[str, Any], replacing: str | None) -> None:
        for index in self.indexes:
            if not index.get("unique") or index["type"] not in ("persistent", "mdi", "hash"):
                continue
            values = tuple(doc.get(f) for f in index["fields"])
            if index.get("sparse") and any(v is None for v in values):
                continue
            for key, other in self.docs.items():
                if key != replacing and tuple(other.get(f) for f in index["fields"]) == values:
                    raise ArangoError(409, 1210, "unique constraint violated")

    # -- writes (documents page) ---------------------------------------------------

    def insert(self, doc: dict[str, Any], trx: Transaction | None) -> dict[str, Any]:
        if not isinstance(doc, dict):
            raise ArangoError(400, 1227, "invalid document type")
        key = self._key_for(doc)
        if key in self.docs:
            raise ArangoError(409, 1210, "unique constraint violated - in index primary")
        stored = {**doc, "_key": key, "_id": f"{self.name}/{key}", "_rev": self.db.rev()}
        self._validate(stored, None)
        self._check_unique(stored, None)
        self.docs[key] = stored
        if trx is not None:
            trx.undo.append(lambda: self.docs.pop(key, None))
        return stored

    def get(self, key: str) -> dict[str, Any]:
        if key not in self.docs:
            raise ArangoError(404, 1202, "document not found")
        return self.docs[key]

    def replace(self, key: str, doc: dict[str, Any], trx: Transaction | None) -> dict[str, Any]:
        old = self.get(key)
        new = {**doc, "_key": key, "_id": old["_id"], "_rev": self.db.rev()}
        self._validate(new, old)
        self._check_unique(new, key)
        self.docs[key] = new
        if trx is not None:
            trx.undo.append(lambda: self.docs.__setitem__(key, old))
        return new

    def remove(self, key: str, trx: Transaction | None) -> dict[str, Any]:
        old = self.get(key)
        del self.docs[key]
        if trx is not None:
            trx.undo.append(lambda: self.docs.__setitem__(key, old))
        return old

    def truncate(self, trx: Transaction | None) -> None:
        old = dict(self.docs)
        self.docs.clear()
        if trx is not None:
            trx.undo.append(lambda: self.docs.update(old))


@dataclass
class Transaction:
    """A stream transaction (stream-transactions page) with its locks and undo log."""

    id: str
    db: Database
    read: list[str]
    write: list[str]
    exclusive: list[str]
    status: str = "running"
    undo: list[Any] = field(default_factory=list)

    def writes(self, name: str) -> bool:
        return name in self.write or name in self.exclusive


class Database:
    """A database: collections, views and analyzers by name."""

    def __init__(self, state: State, name: str, db_id: str):
        self.state, self.name, self.id = state, name, db_id
        self.collections: dict[str, Collection] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.analyzers: dict[str, dict[str, Any]] = {}

    def rev(self) -> str:
        return f"_{next(self.state.ids):x}"

    def collection(self, name: str) -> Collection:
        coll = self.collections.get(name)
        if coll is None:
            raise not_found(name)
        return coll

    def taken(self, name: str) -> bool:
        """Collections and views share one namespace (error 1207 for either)."""
        return name in self.collections or name in self.views

    def create_collection(self, body: dict[str, Any]) -> Collection:
        """Collections page, "Create a collection"."""
        name = check_name(body.get("name"))
        is_system = bool(body.get("isSystem", False))
        # A leading underscore is reserved for system collections.
        if name.startswith("_") and not is_system:
            raise ArangoError(400, 1208, f"illegal name: {name!r} needs isSystem: true")
        if self.taken(name):
            raise ArangoError(409, 1207, f"duplicate name: {name}")
        kind = body.get("type", 2)
        if kind not in (2, 3):
            raise bad_parameter(f"invalid collection type {kind!r}")
        props = {
            "waitForSync": bool(body.get("waitForSync", False)),
            "keyOptions": _key_options(body.get("keyOptions") or {}),
            "schema": check_schema(body.get("schema")),
            "cluster": _cluster_options(body),
        }
        coll = Collection(self, name, str(next(self.state.ids)), kind, is_system, props)
        coll.indexes.append(_primary_index(coll))
        if kind == 3:
            coll.indexes.append(_edge_index(coll))
        self.collections[name] = coll
        return coll


def _key_options(options: dict[str, Any]) -> dict[str, Any]:
    kind = options.get("type", "traditional")
    if kind not in ("traditional", "autoincrement", "uuid", "padded"):
        raise bad_parameter(f"invalid key generator type {kind!r}")
    result = {"type": kind, "allowUserKeys": bool(options.get("allowUserKeys", True))}
    if kind == "autoincrement":
        result |= {"increment": options.get("increment", 1), "offset": options.get("offset", 0)}
    elif "increment" in options or "offset" in options:
        raise bad_parameter("increment and offset are only allowed for autoincrement keys")
    return result


def _cluster_options(body: dict[str, Any]) -> dict[str, Any]:
    """Sharding options: kept and echoed (a single server accepts and ignores them)."""
    keys = ("numberOfShards", "shardKeys", "replicationFactor", "writeConcern")
    return {k: body[k] for k in keys if k in body}


def _primary_index(coll: Collection) -> dict[str, Any]:
    return {
        "id": f"{coll.name}/0",
        "name": "primary",
        "type": "primary",
        "fields": ["_key"],
        "unique": True,
        "sparse": False,
    }


def _edge_index(coll: Collection) -> dict[str, Any]:
    return {
        "id": f"{coll.name}/1",
        "name": "edge",
        "type": "edge",
        "fields": ["_from", "_to"],
        "unique": False,
        "sparse": False,
    }


class State:
    """The whole server: databases and running stream transactions."""

    def __init__(self, write_lock_timeout: float = 900.0):
        self.ids = itertools.count(1000)
        self.cond = threading.Condition()
        self.databases: dict[str, Database] = {}
        self.transactions: dict[str, Transaction] = {}
        #: How long a write outside a transaction waits for another's exclusive lock.
        self.write_lock_timeout = write_lock_timeout
        self.add_database("_system")

    def add_database(self, name: str) -> Database:
        check_name(name, "database")
        if name in self.databases:
            raise ArangoError(409, 1207, f"duplicate database name {name!r}")
        db = Database(self, name, str(next(self.ids)))
        self.databases[name] = db
        return db

    def database(self, name: str) -> Database:
        db = self.databases.get(name)
        if db is None:
            raise ArangoError(404, 1228, "database not found")
        return db

    # -- locks (stream-transactions page: read, write and exclusive collections) ---

    def _conflicts(self, db: Database, name: str, mode: str, me: Transaction | None) -> bool:
        for trx in self.transactions.values():
            if trx is me or trx.db is not db or trx.status != "running":
                continue
            if name in trx.exclusive or (mode == "exclusive" and name in trx.write):
                return True
        return False

    def wait_for_locks(
        self, db: Database, wanted: dict[str, str], me: Transaction | None, timeout: float
    ) -> None:
        """Wait (holding ``cond``) until no other transaction blocks ``wanted``.

        ``timeout`` 0 waits forever, as ``lockTimeout: 0`` does. Running out
        is error 18 (lock timeout), which the server reports as HTTP 500.
        """
        deadline = None if timeout == 0 else time.monotonic() + timeout
        while any(self._conflicts(db, n, m, me) for n, m in wanted.items()):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                names = ", ".join(sorted(wanted))
                # arangod's REST handlers report TRI_ERROR_LOCK_TIMEOUT as HTTP 500.
                raise ArangoError(500, 18, f"lock timeout: could not lock {names}")
            self.cond.wait(left if left is None else min(left, 0.5))

    def begin(self, db: Database, body: dict[str, Any]) -> Transaction:
        spec = body.get("collections")
        if not isinstance(spec, dict):
            raise bad_parameter("missing or malformed 'collections' in transaction")
        read, write = as_list(spec.get("read")), as_list(spec.get("write"))
        exclusive = as_list(spec.get("exclusive"))
        for name in read + write + exclusive:
            db.collection(name)
        trx = Transaction(str(next(self.ids)), db, read, write, exclusive)
        wanted = {n: "write" for n in write} | {n: "exclusive" for n in exclusive}
        self.wait_for_locks(db, wanted, None, float(body.get("lockTimeout", 900)))
        self.transactions[trx.id] = trx
        return trx

    def transaction(self, trx_id: str) -> Transaction:
        trx = self.transactions.get(trx_id)
        if trx is None:
            raise ArangoError(404, 1655, "transaction not found")
        return trx

    def finish(self, trx: Transaction, status: str) -> None:
        if trx.status != "running" and trx.status != status:
            raise ArangoError(400, 1653, f"transaction is already {trx.status}")
        if trx.status == "running" and status == "aborted":
            for undo in reversed(trx.undo):
                undo()
        trx.status = status
        self.cond.notify_all()
