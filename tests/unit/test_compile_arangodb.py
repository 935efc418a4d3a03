"""ArangoDB commands -> exact HTTP operations (method, path, params, body, dry-run line)."""

from __future__ import annotations

from typing import Any

import pytest

from whimbrel.dialects.arangodb import (
    ArangoDialect,
    DropIndexByName,
    Operation,
    RestoreSchemaOp,
    SchemaChange,
)
from whimbrel.dsl.arango_objects import (
    AddField,
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
    Field,
    RenameCollection,
    RenameView,
    RestoreSchema,
    View,
)
from whimbrel.dsl.arango_schema import NAIVE_DATETIME, UUID, apply_changes, field_schema, rule_for
from whimbrel.errors import UnsupportedFeatureError


def one(command: object) -> Operation:
    [op] = ArangoDialect().compile(command)
    return op


def request(op: Operation) -> tuple[str, str, dict[str, str], Any]:
    return op.method, op.path, op.params, op.body


def test_create_collection_with_every_option_and_a_schema() -> None:
    coll = Collection(
        "follows", "edge", {"type": "autoincrement", "increment": 5}, True, 3, ("_from",), 2, 1,
        level="moderate", message="no",
    )  # fmt: skip
    op = one(CreateCollection(coll, (Field("since", "date", null=False, required=True),)))
    assert request(op) == (
        "POST",
        "/_api/collection",
        {},
        {
            "name": "follows",
            "type": 3,
            "keyOptions": {"type": "autoincrement", "increment": 5},
            "waitForSync": True,
            "numberOfShards": 3,
            "shardKeys": ["_from"],
            "replicationFactor": 2,
            "writeConcern": 1,
            "schema": {
                "rule": {
                    "properties": {"since": {"type": "string", "format": "date"}},
                    "required": ["since"],
                },
                "level": "moderate",
                "message": "no",
            },
        },
    )
    assert str(op) == (
        "POST /_api/collection  # create edge collection "
        '"follows" with a schema of 1 field(s): since'
    )
    assert op.ignore == ()


def test_create_if_not_exists_ignores_duplicate_name_and_system_collections() -> None:
    op = one(CreateCollection(Collection("_jobs", is_system=True), (), if_not_exists=True))
    assert op.body == {"name": "_jobs", "type": 2, "isSystem": True}
    assert op.ignore == (1207,)


def test_drop_rename_collection() -> None:
    drop = one(DropCollection(Collection("_jobs", is_system=True), if_exists=True))
    assert request(drop) == ("DELETE", "/_api/collection/_jobs", {"isSystem": "true"}, None)
    assert drop.ignore == (1203,)
    assert str(drop) == 'DELETE /_api/collection/_jobs?isSystem=true  # drop collection "_jobs"'
    rename = one(RenameCollection(Collection("posts"), "articles"))
    assert request(rename) == ("PUT", "/_api/collection/posts/rename", {}, {"name": "articles"})


def test_alter_is_a_run_time_schema_change() -> None:
    cmd = AlterCollection(Collection("users", level="new"), (AddField(Field("nick", "string")),))
    op = one(cmd)
    assert isinstance(op, SchemaChange)
    assert (op.method, op.path) == ("PUT", "/_api/collection/users/properties")
    assert op.changes == cmd.changes and op.capture_key == cmd.capture_key and op.level == "new"
    assert str(op).endswith('# merge add nick into the schema of "users", level new')
    restore = one(RestoreSchema(cmd.collection, cmd.capture_key, cmd))
    assert isinstance(restore, RestoreSchemaOp) and restore.capture_key == cmd.capture_key


def test_alter_changing_nothing_is_refused() -> None:
    with pytest.raises(UnsupportedFeatureError, match="changes nothing"):
        one(AlterCollection(Collection("users")))


@pytest.mark.parametrize(
    ("index", "body"),
    [
        (
            ArangoIndex("users", ("email",), "persistent", "by_email", True, True, False, True),
            {
                "type": "persistent",
                "name": "by_email",
                "fields": ["email"],
                "unique": True,
                "sparse": True,
                "deduplicate": False,
                "inBackground": True,
            },
        ),
        (
            ArangoIndex("s", ("at",), "ttl", "s_ttl", expire_after=60),
            {"type": "ttl", "name": "s_ttl", "fields": ["at"], "expireAfter": 60},
        ),
        (
            ArangoIndex("p", ("loc",), "geo", "p_geo", options={"geoJson": True}),
            {"type": "geo", "name": "p_geo", "fields": ["loc"], "geoJson": True},
        ),
        (
            ArangoIndex("p", ("x", "y"), "mdi", "p_xy", options={"fieldValueTypes": "double"}),
            {"type": "mdi", "name": "p_xy", "fields": ["x", "y"], "fieldValueTypes": "double"},
        ),
    ],
)
def test_create_index(index: ArangoIndex, body: dict[str, Any]) -> None:
    op = one(CreateArangoIndex(index))
    assert request(op) == ("POST", "/_api/index", {"collection": index.collection}, body)


def test_drop_index_looks_the_id_up_by_name() -> None:
    op = one(DropArangoIndex(ArangoIndex("users", ("email",), name="by_email"), if_exists=True))
    assert isinstance(op, DropIndexByName)
    assert (op.collection, op.index_name, op.if_exists) == ("users", "by_email", True)
    assert (
        str(op) == 'DELETE /_api/index/users/<id of by_email>  # drop index "by_email" of "users"'
    )


def test_views() -> None:
    links = {"users": {"fields": {"email": {}}}}
    create = one(CreateView(View("search", links=links, options={"primarySort": []})))
    assert request(create) == (
        "POST",
        "/_api/view",
        {},
        {"name": "search", "type": "arangosearch", "primarySort": [], "links": links},
    )
    alias = one(CreateView(View("a", "search-alias", indexes=(("users", "inv"),)), True))
    assert alias.body["indexes"] == [{"collection": "users", "index": "inv"}]
    assert alias.ignore == (1207,)
    patch = one(AlterView(View("search", links={"users": None})))
    assert request(patch) == (
        "PATCH",
        "/_api/view/search/properties",
        {},
        {"links": {"users": None}},
    )
    assert request(one(RenameView(View("search"), "finder"))) == (
        "PUT",
        "/_api/view/search/rename",
        {},
        {"name": "finder"},
    )
    assert one(DropView(View("search"), if_exists=True)).ignore == (1203,)


def test_analyzers() -> None:
    create = one(
        CreateAnalyzer(Analyzer("csv", "delimiter", {"delimiter": ","}, ("frequency",)), True)
    )
    assert request(create) == (
        "POST",
        "/_api/analyzer",
        {},
        {
            "name": "csv",
            "type": "delimiter",
            "properties": {"delimiter": ","},
            "features": ["frequency"],
        },
    )
    assert create.skip_if == "/_api/analyzer/csv"
    drop = one(DropAnalyzer(Analyzer("csv"), if_exists=True, force=True))
    assert request(drop) == ("DELETE", "/_api/analyzer/csv", {"force": "true"}, None)
    assert drop.ignore == (1202,)


def test_execute_aql() -> None:
    op = one(ExecuteAql("FOR u IN users\n  RETURN u", bind_vars={"x": 1}))
    assert request(op) == (
        "POST",
        "/_api/cursor",
        {},
        {"query": "FOR u IN users\n  RETURN u", "bindVars": {"x": 1}},
    )
    assert str(op) == "POST /_api/cursor  # run AQL: FOR u IN users RETURN u"


def test_prefix_and_foreign_commands_are_refused() -> None:
    with pytest.raises(UnsupportedFeatureError, match="no schemas"):
        ArangoDialect("tenant_a")
    with pytest.raises(UnsupportedFeatureError, match="not an ArangoDB command"):
        ArangoDialect().compile(object())


# --- JSON-schema rules --------------------------------------------------------------------


def test_field_types_become_json_schema() -> None:
    assert field_schema(Field("n", "integer", null=False)) == {"type": "integer"}
    assert field_schema(Field("n", "float")) == {"type": ["number", "null"]}
    assert field_schema(Field("at", "naive_datetime", null=False)) == {
        "type": "string",
        "pattern": NAIVE_DATETIME,
    }
    assert field_schema(Field("id", "uuid", null=False))["pattern"] == UUID
    assert field_schema(
        Field("t", ArrayOf(ArrayOf("integer")), (("minItems", 1),), null=False)
    ) == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer"}},
        "minItems": 1,
    }
    assert field_schema(Field("r", "enum", (("enum", ["a", "b"]),))) == {"enum": ["a", "b", None]}
    assert field_schema(Field("k", "const", (("enum", "x"),), null=False)) == {"enum": ["x"]}


def test_exclusive_bounds_use_draft_4_flags() -> None:
    rules = (("exclusiveMinimum", 0), ("exclusiveMaximum", 10))
    assert field_schema(Field("n", "number", rules, null=False)) == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
    }


def test_nested_objects() -> None:
    address = Field(
        "address", "object", fields=(Field("city", "string", null=False, required=True),)
    )
    assert rule_for((address,)) == {
        "properties": {
            "address": {
                "type": ["object", "null"],
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            }
        }
    }


def test_apply_changes_merges_and_checks() -> None:
    from whimbrel.dsl.arango_objects import ModifyField, RemoveField, RenameField
    from whimbrel.dsl.arango_schema import SchemaMergeError

    rule = rule_for((Field("a", "string", required=True), Field("b", "integer")))
    merged = apply_changes(
        rule,
        (
            AddField(Field("c", "boolean", required=True)),
            ModifyField(Field("b", "number")),
            RemoveField("a"),
            RenameField("c", "d"),
        ),
    )
    assert merged == {
        "properties": {"b": {"type": ["number", "null"]}, "d": {"type": ["boolean", "null"]}},
        "required": ["d"],
    }
    assert rule["required"] == ["a"]  # the input is not changed
    with pytest.raises(SchemaMergeError, match="already has 'b'"):
        apply_changes(rule, (AddField(Field("b", "string")),))
    with pytest.raises(SchemaMergeError, match="no field 'z'.*fields: a, b"):
        apply_changes(rule, (RemoveField("z"),))
    assert apply_changes(None, (AddField(Field("x", "map")),)) == {
        "properties": {"x": {"type": ["object", "null"]}}
    }
