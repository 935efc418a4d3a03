"""The stand-in answers python-arango's real requests as ArangoDB documents them.

Each test drives one endpoint group through the driver's public API and
checks the reply and the documented error numbers. With
``WHIMBREL_TEST_ARANGO_URL`` set the same tests run against that server,
which is how the stand-in's fidelity can be checked.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from arango import exceptions as ax

RULE = {
    "properties": {"title": {"type": "string"}, "n": {"type": "number"}},
    "required": ["title"],
}


def schema(level: str = "strict", message: str = "posts need a title") -> dict[str, Any]:
    return {"rule": RULE, "level": level, "message": message}


# --- server and databases -------------------------------------------------------------


def test_version_and_current_database(arango_db: Any) -> None:
    assert arango_db.version().split(".")[0].isdigit()
    assert arango_db.properties()["name"] == arango_db.name


def test_unknown_database_is_1228(arango_server: Any) -> None:
    with pytest.raises(ax.CollectionListError) as err:
        arango_server.client_db("whimbrel_no_such_db").collections()
    assert (err.value.http_code, err.value.error_code) == (404, 1228)


def test_duplicate_database_is_1207(arango_server: Any, arango_db_name: str) -> None:
    with pytest.raises(ax.DatabaseCreateError) as err:
        arango_server.client_db("_system").create_database(arango_db_name)
    assert (err.value.http_code, err.value.error_code) == (409, 1207)


# --- collections ------------------------------------------------------------------


def test_create_collection_with_options(arango_db: Any) -> None:
    coll = arango_db.create_collection(
        "posts",
        sync=True,
        key_generator="autoincrement",
        key_increment=5,
        key_offset=10,
        user_keys=False,
        schema=schema(),
    )
    props = coll.properties()
    assert props["sync"] is True and props["edge"] is False
    assert props["key_options"]["key_generator"] == "autoincrement"
    assert props["key_options"]["user_keys"] is False
    assert props["schema"]["rule"] == RULE and props["schema"]["level"] == "strict"


def test_edge_collection_has_an_edge_index(arango_db: Any) -> None:
    coll = arango_db.create_collection("follows", edge=True)
    assert coll.properties()["edge"] is True
    assert "edge" in {i["type"] for i in coll.indexes()}


def test_sharding_options_are_accepted(arango_db: Any) -> None:
    coll = arango_db.create_collection(
        "sharded", shard_count=3, shard_fields=["region"], replication_factor=1, write_concern=1
    )
    assert coll.properties()["name"] == "sharded"


def test_duplicate_collection_is_1207(arango_db: Any) -> None:
    arango_db.create_collection("posts")
    with pytest.raises(ax.CollectionCreateError) as err:
        arango_db.create_collection("posts")
    assert (err.value.http_code, err.value.error_code) == (409, 1207)


@pytest.mark.parametrize("name", ["1posts", "po sts", "_hidden"])
def test_illegal_collection_name_is_1208(arango_db: Any, name: str) -> None:
    with pytest.raises(ax.CollectionCreateError) as err:
        arango_db.create_collection(name)
    assert (err.value.http_code, err.value.error_code) == (400, 1208)


def test_system_collection_needs_is_system(arango_db: Any) -> None:
    coll = arango_db.create_collection("_migrations", system=True)
    assert coll.properties()["system"] is True
    assert "_migrations" in {c["name"] for c in arango_db.collections()}


@pytest.mark.parametrize(
    "bad",
    [
        {"rule": {"type": 12}, "level": "strict", "message": "m"},
        {"rule": {"properties": {"a": {"type": "string"}}}, "level": "sometimes", "message": "m"},
        {"rule": {"required": "title"}, "level": "strict", "message": "m"},
    ],
)
def test_invalid_schema_is_1621(arango_db: Any, bad: dict[str, Any]) -> None:
    with pytest.raises(ax.CollectionCreateError) as err:
        arango_db.create_collection("posts", schema=bad)
    assert (err.value.http_code, err.value.error_code) == (400, 1621)


def test_missing_collection_is_1203(arango_db: Any) -> None:
    with pytest.raises(ax.CollectionPropertiesError) as err:
        arango_db.collection("nope").properties()
    assert (err.value.http_code, err.value.error_code) == (404, 1203)
    with pytest.raises(ax.CollectionDeleteError) as err2:
        arango_db.delete_collection("nope")
    assert err2.value.error_code == 1203


def test_properties_put_changes_and_removes_the_schema(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts")
    assert coll.properties()["schema"] is None
    coll.configure(schema=schema("moderate", "changed"))
    assert coll.properties()["schema"]["message"] == "changed"
    with pytest.raises(ax.CollectionConfigureError) as err:
        coll.configure(schema={"rule": {"type": "nonsense"}, "level": "strict"})
    assert err.value.error_code == 1621
    arango_db.collection("posts").configure(sync=True)
    assert coll.properties()["sync"] is True


def test_list_rename_truncate_drop(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts")
    coll.insert({"title": "a"})
    arango_db.create_collection("other")
    assert {"posts", "other"} <= {c["name"] for c in arango_db.collections()}
    coll.rename("articles")
    assert arango_db.has_collection("articles") and not arango_db.has_collection("posts")
    with pytest.raises(ax.CollectionRenameError) as err:
        arango_db.collection("articles").rename("other")
    assert err.value.error_code == 1207
    arango_db.collection("articles").truncate()
    assert arango_db.collection("articles").count() == 0
    assert arango_db.delete_collection("articles") is True
    assert not arango_db.has_collection("articles")


# --- schema validation on documents --------------------------------------------------


def test_strict_schema_rejects_documents_with_1620(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts", schema=schema())
    coll.insert({"title": "ok", "n": 1})
    with pytest.raises(ax.DocumentInsertError) as err:
        coll.insert({"n": 1})
    assert (err.value.http_code, err.value.error_code) == (400, 1620)
    assert "posts need a title" in err.value.error_message


def test_levels_new_and_none(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts", schema=schema("new"))
    meta = coll.insert({"title": "ok"})
    coll.replace({"_key": meta["_key"], "n": 2})  # level new checks inserts only
    coll.configure(schema=schema("none"))
    coll.insert({"n": "anything"})
    assert coll.count() == 2


def test_moderate_lets_invalid_documents_change(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts")
    bad = coll.insert({"n": 1})
    good = coll.insert({"title": "t"})
    coll.configure(schema=schema("moderate"))
    coll.replace({"_key": bad["_key"], "n": 2})  # was invalid already: allowed
    with pytest.raises(ax.DocumentReplaceError) as err:
        coll.replace({"_key": good["_key"], "n": 3})
    assert err.value.error_code == 1620


# --- documents -------------------------------------------------------------------------


def test_document_insert_get_replace_delete(arango_db: Any) -> None:
    coll = arango_db.create_collection("_migrations", system=True)
    meta = coll.insert({"version": 20240101120000, "inserted_at": "2024-01-01T12:00:00"})
    assert coll.get(meta["_key"])["version"] == 20240101120000
    coll.replace({"_key": meta["_key"], "version": 2})
    assert coll.get(meta["_key"])["version"] == 2
    coll.delete(meta["_key"])
    assert coll.get(meta["_key"]) is None  # python-arango maps 1202 to None
    with pytest.raises(ax.DocumentDeleteError) as err:
        coll.delete(meta["_key"])
    assert (err.value.http_code, err.value.error_code) == (404, 1202)


def test_duplicate_key_is_1210(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts")
    coll.insert({"_key": "a"})
    with pytest.raises(ax.DocumentInsertError) as err:
        coll.insert({"_key": "a"})
    assert (err.value.http_code, err.value.error_code) == (409, 1210)


def test_user_keys_forbidden_is_1222(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts", user_keys=False)
    with pytest.raises(ax.DocumentInsertError) as err:
        coll.insert({"_key": "mine"})
    assert err.value.error_code == 1222


# --- indexes ------------------------------------------------------------------------


def test_persistent_unique_index_enforces_1210(arango_db: Any) -> None:
    coll = arango_db.create_collection("users")
    index = coll.add_index(
        {
            "type": "persistent",
            "fields": ["email"],
            "unique": True,
            "sparse": True,
            "name": "by_email",
        }
    )
    assert index["isNewlyCreated"] is True and index["unique"] is True and index["sparse"] is True
    again = coll.add_index(
        {
            "type": "persistent",
            "fields": ["email"],
            "unique": True,
            "sparse": True,
            "name": "by_email",
        }
    )
    assert again["isNewlyCreated"] is False and again["id"] == index["id"]
    coll.insert({"email": "a@x"})
    coll.insert({"name": "no email"})
    coll.insert({"name": "no email either"})  # sparse: missing values are not indexed
    with pytest.raises(ax.DocumentInsertError) as err:
        coll.insert({"email": "a@x"})
    assert (err.value.http_code, err.value.error_code) == (409, 1210)


def test_unique_index_over_duplicates_is_refused(arango_db: Any) -> None:
    coll = arango_db.create_collection("users")
    coll.insert({"email": "a"})
    coll.insert({"email": "a"})
    with pytest.raises(ax.IndexCreateError) as err:
        coll.add_index({"type": "persistent", "fields": ["email"], "unique": True})
    assert err.value.http_code == 400 and err.value.error_code == 1210


@pytest.mark.parametrize(
    "definition",
    [
        {"type": "ttl", "fields": ["expires_at"], "expireAfter": 3600},
        {"type": "geo", "fields": ["location"], "geoJson": True},
        {"type": "fulltext", "fields": ["body"], "minLength": 3},
        {"type": "inverted", "fields": ["title", {"name": "body"}]},
        {"type": "mdi", "fields": ["x", "y"], "fieldValueTypes": "double"},
        {"type": "persistent", "fields": ["a", "b"], "deduplicate": False, "inBackground": True},
    ],
)
def test_index_types(arango_db: Any, definition: dict[str, Any]) -> None:
    coll = arango_db.create_collection("things")
    index = coll.add_index({**definition, "name": "the_index"})
    assert index["type"] == definition["type"] and index["name"] == "the_index"
    assert "the_index" in {i["name"] for i in coll.indexes()}
    assert coll.delete_index(index["id"]) is True
    assert "the_index" not in {i["name"] for i in coll.indexes()}


@pytest.mark.parametrize(
    "definition",
    [
        {"type": "btree", "fields": ["a"]},
        {"type": "ttl", "fields": ["a"]},
        {"type": "mdi", "fields": ["x"]},
        {"type": "persistent", "fields": []},
    ],
)
def test_bad_index_is_400_with_10(arango_db: Any, definition: dict[str, Any]) -> None:
    coll = arango_db.create_collection("things")
    with pytest.raises(ax.IndexCreateError) as err:
        coll.add_index(definition)
    assert (err.value.http_code, err.value.error_code) == (400, 10)


def test_second_ttl_index_is_refused(arango_db: Any) -> None:
    coll = arango_db.create_collection("sessions")
    coll.add_index({"type": "ttl", "fields": ["at"], "expireAfter": 1})
    with pytest.raises(ax.IndexCreateError) as err:
        coll.add_index({"type": "ttl", "fields": ["other"], "expireAfter": 2})
    assert err.value.error_code == 10


def test_missing_index_is_1212(arango_db: Any) -> None:
    coll = arango_db.create_collection("things")
    with pytest.raises(ax.IndexDeleteError) as err:
        coll.delete_index("424242")
    assert (err.value.http_code, err.value.error_code) == (404, 1212)


# --- views and analyzers ---------------------------------------------------------------


def test_analyzer_create_get_list_delete(arango_db: Any) -> None:
    created = arango_db.create_analyzer("csv", "delimiter", {"delimiter": ","}, ["frequency"])
    assert created["name"] == f"{arango_db.name}::csv" and created["features"] == ["frequency"]
    same = arango_db.create_analyzer("csv", "delimiter", {"delimiter": ","}, ["frequency"])
    assert same["name"] == created["name"]
    with pytest.raises(ax.AnalyzerCreateError) as clash:
        arango_db.create_analyzer("csv", "delimiter", {"delimiter": ";"}, ["frequency"])
    assert (clash.value.http_code, clash.value.error_code) == (400, 10)
    assert arango_db.analyzer("csv")["type"] == "delimiter"
    assert created["name"] in {a["name"] for a in arango_db.analyzers()}
    assert arango_db.delete_analyzer("csv") is True
    with pytest.raises(ax.AnalyzerGetError) as err:
        arango_db.analyzer("csv")
    assert (err.value.http_code, err.value.error_code) == (404, 1202)


def test_unknown_analyzer_type_is_10(arango_db: Any) -> None:
    with pytest.raises(ax.AnalyzerCreateError) as err:
        arango_db.create_analyzer("x", "sparkles", {})
    assert (err.value.http_code, err.value.error_code) == (400, 10)


def test_arangosearch_view_lifecycle(arango_db: Any) -> None:
    arango_db.create_collection("posts")
    links = {"posts": {"fields": {"title": {"analyzers": ["text_en"]}}, "analyzers": ["identity"]}}
    view = arango_db.create_arangosearch_view("posts_view", {"links": links})
    assert view["type"] == "arangosearch" and view["links"]["posts"]["analyzers"] == ["identity"]
    with pytest.raises(ax.ViewCreateError) as dup:
        arango_db.create_arangosearch_view("posts_view")
    assert (dup.value.http_code, dup.value.error_code) == (409, 1207)
    arango_db.update_arangosearch_view("posts_view", {"links": {"posts": None}})
    assert arango_db.view("posts_view")["links"] == {}
    arango_db.rename_view("posts_view", "search")
    assert {v["name"] for v in arango_db.views()} == {"search"}
    assert arango_db.delete_view("search") is True
    with pytest.raises(ax.ViewGetError) as err:
        arango_db.view("search")
    assert (err.value.http_code, err.value.error_code) == (404, 1203)


def test_view_link_to_missing_collection_is_1203(arango_db: Any) -> None:
    with pytest.raises(ax.ViewCreateError) as err:
        arango_db.create_arangosearch_view("v", {"links": {"nope": {}}})
    assert err.value.error_code == 1203


def test_search_alias_view(arango_db: Any) -> None:
    coll = arango_db.create_collection("posts")
    coll.add_index({"type": "inverted", "fields": ["title"], "name": "inv"})
    view = arango_db.create_view(
        "alias", "search-alias", {"indexes": [{"collection": "posts", "index": "inv"}]}
    )
    assert view["indexes"] == [{"collection": "posts", "index": "inv"}]
    with pytest.raises(ax.ViewCreateError) as err:
        arango_db.create_view(
            "alias2", "search-alias", {"indexes": [{"collection": "posts", "index": "no"}]}
        )
    assert err.value.error_code == 1212


# --- stream transactions and the exclusive lock ------------------------------------------


def test_transaction_commit_and_abort(arango_db: Any) -> None:
    coll = arango_db.create_collection("_migrations", system=True)
    trx = arango_db.begin_transaction(exclusive="_migrations")
    assert trx.transaction_status() == "running"
    trx.collection("_migrations").insert({"version": 1})
    assert trx.commit_transaction() is True
    trx2 = arango_db.begin_transaction(exclusive="_migrations")
    trx2.collection("_migrations").insert({"version": 2})
    assert trx2.abort_transaction() is True
    assert sorted(d["version"] for d in coll.all()) == [1]


def test_transaction_on_missing_collection_is_1203(arango_db: Any) -> None:
    with pytest.raises(ax.TransactionInitError) as err:
        arango_db.begin_transaction(exclusive="nope")
    assert (err.value.http_code, err.value.error_code) == (404, 1203)


def test_undeclared_write_in_transaction_fails(arango_db: Any) -> None:
    arango_db.create_collection("a")
    arango_db.create_collection("b")
    trx = arango_db.begin_transaction(write="a")
    with pytest.raises(ax.DocumentInsertError):
        trx.collection("b").insert({"x": 1})
    trx.abort_transaction()


def test_second_exclusive_lock_times_out_with_18(arango_db: Any) -> None:
    arango_db.create_collection("_migrations", system=True)
    holder = arango_db.begin_transaction(exclusive="_migrations")
    started = time.monotonic()
    with pytest.raises(ax.TransactionInitError) as err:
        arango_db.begin_transaction(exclusive="_migrations", lock_timeout=1)
    assert err.value.error_code == 18
    assert time.monotonic() - started >= 0.9
    holder.abort_transaction()


def test_waiting_exclusive_lock_is_granted_on_release(arango_db: Any) -> None:
    arango_db.create_collection("_migrations", system=True)
    holder = arango_db.begin_transaction(exclusive="_migrations")
    got: list[str] = []

    def second() -> None:
        trx = arango_db.begin_transaction(exclusive="_migrations", lock_timeout=30)
        got.append(trx.transaction_id)
        trx.commit_transaction()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert got == []  # still waiting behind the holder
    holder.commit_transaction()
    thread.join(10)
    assert len(got) == 1


# --- the AQL cursor subset ------------------------------------------------------------


def test_cursor_lists_and_filters(arango_db: Any) -> None:
    coll = arango_db.create_collection("_migrations", system=True)
    coll.insert({"version": 1})
    coll.insert({"version": 2})
    found = arango_db.aql.execute(
        "FOR m IN @@source RETURN m.version", bind_vars={"@source": "_migrations"}
    )
    assert sorted(found) == [1, 2]
    query = "FOR m IN _migrations FILTER m.version == @v REMOVE m IN _migrations"
    arango_db.aql.execute(query, bind_vars={"v": 1})
    assert [d["version"] for d in coll.all()] == [2]


def test_cursor_on_missing_collection_is_1203(arango_db: Any) -> None:
    with pytest.raises(ax.AQLQueryExecuteError) as err:
        arango_db.aql.execute("FOR d IN nope RETURN d")
    assert (err.value.http_code, err.value.error_code) == (404, 1203)


def test_analyzer_in_use_needs_force(arango_db: Any) -> None:
    arango_db.create_collection("posts")
    arango_db.create_analyzer("csv", "delimiter", {"delimiter": ","})
    links = {"posts": {"analyzers": ["csv"]}}
    arango_db.create_arangosearch_view("v", {"links": links})
    with pytest.raises(ax.AnalyzerDeleteError) as err:
        arango_db.delete_analyzer("csv")
    assert err.value.http_code == 409
    assert arango_db.delete_analyzer("csv", force=True) is True


def test_plain_writes_wait_for_an_exclusive_lock(arango_db: Any) -> None:
    coll = arango_db.create_collection("_migrations", system=True)
    holder = arango_db.begin_transaction(exclusive="_migrations")
    done: list[str] = []

    def write() -> None:
        done.append(coll.insert({"version": 9})["_key"])

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.5)
    assert done == []  # blocked behind the exclusive lock
    holder.commit_transaction()
    thread.join(10)
    assert len(done) == 1


def test_unsupported_aql_is_not_implemented(arango_server: Any, arango_db: Any) -> None:
    if arango_server.standin is None:
        pytest.skip("a real server evaluates any AQL; only the stand-in answers 501/9")
    with pytest.raises(ax.AQLQueryExecuteError) as err:
        arango_db.aql.execute("FOR i IN 1..3 RETURN i * 2")
    assert (err.value.http_code, err.value.error_code) == (501, 9)
    assert "does not evaluate" in err.value.error_message
