"""The few AQL query shapes the stand-in answers on ``POST /_api/cursor``.

The stand-in has no AQL engine. whimbrel's own bookkeeping reads the
versions collection with ``FOR m IN @@source RETURN m`` (no other HTTP
endpoint lists a collection's documents since 3.12 removed the simple
queries), and tests of ``execute(aql)`` use the shapes below. Anything else
is answered with error 9 (``ERROR_NOT_IMPLEMENTED``, HTTP 501), so a test
never mistakes an unsupported query for a working one. Supported::

    FOR v IN coll [FILTER v.attr == value] [LIMIT 0, null] RETURN v | RETURN v.attr
    FOR v IN coll [FILTER v.attr == value] REMOVE v IN coll
    INSERT value INTO coll
    RETURN value

``coll`` is a name or ``@@bind``; ``value`` a JSON literal or ``@bind``.
An unknown collection is error 1203 (HTTP 404), as on the server.
(``LIMIT 0, null`` is what python-arango's ``collection.all()`` sends.)
Cursor page: https://docs.arango.ai/arangodb/3.12/develop/http-api/queries/aql-queries/

Example::

    >>> parse("FOR m IN @@c RETURN m.version")["return"]
    'version'
"""

from __future__ import annotations

import json
import re
from typing import Any

from arango_standin.state import ArangoError, Collection, Database, Transaction

_NAME = r"(@@\w+|[A-Za-z_][\w\-]*)"
_VALUE = r"(@\w+|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?|true|false|null|\{.*\}|\[.*\])"
_FOR = re.compile(
    rf"^FOR (\w+) IN {_NAME}(?: FILTER \1\.(\w+) == {_VALUE})?(?: LIMIT 0, null)?"
    rf" (?:RETURN \1(?:\.(\w+))?|REMOVE \1 IN {_NAME})$",
    re.IGNORECASE,
)
_INSERT = re.compile(rf"^INSERT {_VALUE} INTO {_NAME}$", re.IGNORECASE)
_RETURN = re.compile(rf"^RETURN {_VALUE}$", re.IGNORECASE)


def not_supported(query: str) -> ArangoError:
    return ArangoError(
        501, 9, f"not implemented: the whimbrel ArangoDB stand-in does not evaluate {query!r}"
    )


def parse(query: str) -> dict[str, Any]:
    """The shape of ``query`` as a dict, or error 9 for anything else."""
    flat = " ".join(query.split())
    if m := _FOR.match(flat):
        var, coll, attr, value, ret, removed = m.groups()
        if removed is not None and removed != coll:
            raise not_supported(query)
        kind = "remove" if removed else "for"
        return {"kind": kind, "var": var, "coll": coll, "attr": attr, "value": value, "return": ret}
    if m := _INSERT.match(flat):
        return {"kind": "insert", "value": m.group(1), "coll": m.group(2)}
    if m := _RETURN.match(flat):
        return {"kind": "return", "value": m.group(1)}
    raise not_supported(query)


def _value(text: str, binds: dict[str, Any]) -> Any:
    if text.startswith("@"):
        if text[1:] not in binds:
            raise ArangoError(400, 1552, f"no value specified for declared bind parameter {text}")
        return binds[text[1:]]
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArangoError(400, 1501, f"syntax error near {text!r}") from exc


def _collection(db: Database, text: str, binds: dict[str, Any]) -> Collection:
    name = binds.get(text[1:]) if text.startswith("@@") else text
    if not isinstance(name, str):
        raise ArangoError(400, 1552, f"no value specified for declared bind parameter {text}")
    return db.collection(name)


def run(db: Database, query: str, binds: dict[str, Any], trx: Transaction | None) -> list[Any]:
    """Evaluate a supported query; writes honour the transaction's declared collections."""
    shape = parse(query)
    if shape["kind"] == "return":
        return [_value(shape["value"], binds)]
    coll = _collection(db, shape["coll"], binds)
    if shape["kind"] == "insert":
        _check_write(coll, trx)
        coll.insert(_value(shape["value"], binds), trx)
        return []
    docs = list(coll.docs.values())
    if shape["attr"] is not None:
        wanted = _value(shape["value"], binds)
        docs = [d for d in docs if d.get(shape["attr"]) == wanted]
    if shape["kind"] == "remove":
        _check_write(coll, trx)
        for doc in docs:
            coll.remove(doc["_key"], trx)
        return []
    attr = shape["return"]
    return [d if attr is None else d.get(attr) for d in docs]


def _check_write(coll: Collection, trx: Transaction | None) -> None:
    state = coll.db.state
    if trx is None:
        state.wait_for_locks(coll.db, {coll.name: "write"}, None, state.write_lock_timeout)
    elif not trx.writes(coll.name):
        raise ArangoError(400, 1652, f"collection {coll.name!r} not declared for writing")
