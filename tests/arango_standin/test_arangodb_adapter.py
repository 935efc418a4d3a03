"""The ArangoDB DSL, compiler and adapter end to end, through python-arango.

Against the stand-in by default, or the server in ``WHIMBREL_TEST_ARANGO_URL``.
Migrations are recorded as the migrator records them, compiled, and run by
``ArangoAdapter.run_commands``; the state is then read back with the driver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from arango import exceptions as ax

from whimbrel.adapters.arangodb import ArangoAdapter, http_url
from whimbrel.adapters.arangodb_versions import CAPTURED
from whimbrel.adapters.base import Settings
from whimbrel.dsl import arango as a
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.dsl.reverse import reverse_all
from whimbrel.errors import (
    ConfigError,
    DatabaseConnectionError,
    IrreversibleMigrationError,
    LockTimeoutError,
    MigrationFailedError,
)

SOURCE = "_migrations"


def record(fn: Callable[[], None]) -> list[object]:
    rec = Recorder()
    with recording(rec):
        fn()
    return rec.take()


@pytest.fixture
def adapter(arango_url: str) -> Iterator[ArangoAdapter]:
    with ArangoAdapter(arango_url, Settings(lock_wait=10)) as adapter:
        yield adapter


def migrate_up(adapter: ArangoAdapter, version: int, change: Callable[[], None]) -> list[str]:
    """What the migrator will do on ArangoDB: lock, re-read, run, record, release."""
    adapter.acquire_lock(None, SOURCE)
    committed = False
    try:
        if version in adapter.applied_versions(None, SOURCE):
            return []
        done = adapter.run_commands(record(change), version)
        adapter.insert_version(version, SOURCE)
        committed = True
        return done
    finally:
        adapter.release_lock(None, SOURCE, commit=committed)


def migrate_down(adapter: ArangoAdapter, version: int, change: Callable[[], None]) -> list[str]:
    adapter.load_captured(version, SOURCE)
    adapter.acquire_lock(None, SOURCE)
    try:
        done = adapter.run_commands(reverse_all(record(change)), version)
        adapter.delete_version(version, SOURCE)
    except BaseException:
        adapter.release_lock(None, SOURCE, commit=False)
        raise
    adapter.release_lock(None, SOURCE)
    return done


def create_users() -> None:
    with a.create(a.collection("users", key_options={"type": "uuid"}, message="bad user")):
        a.add("email", "string", null=False, required=True, pattern="@")
        with a.add("address", "object"):
            a.add("city", "string", null=False, required=True)
        a.add("tags", a.array("string"), unique_items=True)
        a.timestamps()


# --- collections and schemas ------------------------------------------------------


def test_create_collection_builds_the_schema_arangodb_enforces(
    adapter: ArangoAdapter, arango_db: Any
) -> None:
    done = adapter.run_commands(record(create_users))
    assert done == [
        'POST /_api/collection  # create document collection "users" with a schema of 5 '
        "field(s): email, address, tags, inserted_at, updated_at"
    ]
    props = arango_db.collection("users").properties()
    assert props["key_options"]["key_generator"] == "uuid"
    assert props["schema"]["level"] == "strict" and props["schema"]["message"] == "bad user"
    assert props["schema"]["rule"]["required"] == ["email"]
    users = arango_db.collection("users")
    users.insert({"email": "a@b", "address": {"city": "Oslo"}, "tags": ["x", "y"]})
    for bad in ({"email": "no-at"}, {"email": "a@b", "address": {}}, {"tags": ["x", "x"]}):
        with pytest.raises(ax.DocumentInsertError) as err:
            users.insert(bad)
        assert err.value.error_code == 1620 and "bad user" in err.value.error_message


def test_edge_collection_and_options(adapter: ArangoAdapter, arango_db: Any) -> None:
    def change() -> None:
        a.create(a.collection("follows", type="edge", wait_for_sync=True, number_of_shards=1))

    adapter.run_commands(record(change))
    props = arango_db.collection("follows").properties()
    assert props["edge"] is True and props["sync"] is True


def test_alter_merges_into_the_rule_and_rollback_restores_it(
    adapter: ArangoAdapter, arango_db: Any
) -> None:
    migrate_up(adapter, 1, create_users)
    before = arango_db.collection("users").properties()["schema"]

    def alter_users() -> None:
        with a.alter(a.collection("users", level="moderate")):
            a.add("age", "integer", minimum=0)
            a.remove("tags")
            a.rename("address", to="home")

    migrate_up(adapter, 2, alter_users)
    after = arango_db.collection("users").properties()["schema"]
    assert set(after["rule"]["properties"]) == {"email", "home", "age", "inserted_at", "updated_at"}
    assert after["rule"]["properties"]["age"] == {"type": ["integer", "null"], "minimum": 0}
    assert after["level"] == "moderate" and after["message"] == "bad user"
    with pytest.raises(ax.DocumentInsertError):
        arango_db.collection("users").insert({"email": "a@b", "age": -1})
    kept = [d for d in arango_db.collection(SOURCE).all() if d["version"] == 2]
    assert list(kept[0][CAPTURED].values()) == [before]

    migrate_down(adapter, 2, alter_users)
    assert arango_db.collection("users").properties()["schema"] == before
    assert adapter.applied_versions(None, SOURCE) == [1]


def test_alter_without_captured_rule_cannot_be_rolled_back(adapter: ArangoAdapter) -> None:
    def alter_users() -> None:
        with a.alter(a.collection("users")):
            a.add("age", "integer")

    adapter.run_commands(record(create_users))
    adapter.run_commands(record(alter_users))  # no version row: nothing kept
    adapter.captured.clear()
    with pytest.raises(IrreversibleMigrationError, match="not recorded"):
        adapter.run_commands(reverse_all(record(alter_users)))


def test_alter_of_a_missing_field_fails_before_changing_anything(
    adapter: ArangoAdapter, arango_db: Any
) -> None:
    adapter.run_commands(record(create_users))
    before = arango_db.collection("users").properties()["schema"]

    def bad() -> None:
        with a.alter(a.collection("users")):
            a.remove("nickname")

    with pytest.raises(MigrationFailedError, match="no field 'nickname'"):
        adapter.run_commands(record(bad))
    assert arango_db.collection("users").properties()["schema"] == before


def test_rename_and_drop_collection(adapter: ArangoAdapter, arango_db: Any) -> None:
    def change() -> None:
        a.create(a.collection("posts"))
        a.rename(a.collection("posts"), to=a.collection("articles"))

    migrate_up(adapter, 1, change)
    assert arango_db.has_collection("articles") and not arango_db.has_collection("posts")
    migrate_down(adapter, 1, change)
    assert not arango_db.has_collection("articles") and not arango_db.has_collection("posts")
    adapter.run_commands(record(lambda: a.drop_if_exists(a.collection("never"))))


# --- indexes ---------------------------------------------------------------------------


def test_indexes_create_and_drop_by_name(adapter: ArangoAdapter, arango_db: Any) -> None:
    def change() -> None:
        a.create(a.collection("users"))
        a.create(a.index("users", ["email"], unique=True, sparse=True, in_background=True))
        a.create(a.index("users", ["seen_at"], type="ttl", expire_after=3600))
        a.create(a.index("users", ["location"], type="geo", geo_json=True))
        a.create(a.index("users", ["name"], type="inverted", name="users_inv"))
        a.create(a.index("users", ["x", "y"], type="mdi", field_value_types="double"))
        a.create_if_not_exists(a.index("users", ["email"], unique=True, sparse=True))

    migrate_up(adapter, 1, change)
    names = {i["name"] for i in arango_db.collection("users").indexes()}
    expected = {"users_email_index", "users_seen_at_index", "users_location_index", "users_inv"}
    assert expected | {"users_x_y_index"} <= names
    users = arango_db.collection("users")
    users.insert({"email": "a"})
    with pytest.raises(ax.DocumentInsertError) as err:
        users.insert({"email": "a"})
    assert err.value.error_code == 1210

    adapter.run_commands(record(lambda: a.drop(a.index("users", ["email"]))))
    assert "users_email_index" not in {i["name"] for i in users.indexes()}
    users.insert({"email": "a"})  # no longer unique
    adapter.run_commands(record(lambda: a.drop_if_exists(a.index("users", ["email"]))))
    with pytest.raises(MigrationFailedError, match="no index named 'users_email_index'"):
        adapter.run_commands(record(lambda: a.drop(a.index("users", ["email"]))))


def test_unknown_index_type_from_the_server_is_reported(adapter: ArangoAdapter) -> None:
    from whimbrel.dsl.arango_objects import ArangoIndex, CreateArangoIndex, CreateCollection

    # The DSL refuses unknown types; a hand-made command shows the server's own answer.
    commands = [
        CreateCollection(a.collection("users")),
        CreateArangoIndex(ArangoIndex("users", ("x",), "btree", "users_x")),
    ]
    with pytest.raises(MigrationFailedError) as err:
        adapter.run_commands(commands)
    assert "[HTTP 400][ERR 10]" in str(err.value)
    assert err.value.statements_run == [
        'POST /_api/collection  # create document collection "users"'
    ]
    assert err.value.rolled_back is False


# --- views and analyzers ------------------------------------------------------------------


def test_views_and_analyzers_round_trip(adapter: ArangoAdapter, arango_db: Any) -> None:
    def change() -> None:
        a.create(a.collection("posts"))
        a.create(a.index("posts", ["title"], type="inverted", name="posts_inv"))
        a.create(a.analyzer("csv", "delimiter", {"delimiter": ","}, ["frequency"]))
        links = {"posts": {"fields": {"tags": {"analyzers": ["csv"]}}}}
        a.create(a.view("posts_search", links=links))
        a.create(a.view("posts_alias", type="search-alias", indexes=[("posts", "posts_inv")]))
        a.rename(a.view("posts_search"), to="finder")

    migrate_up(adapter, 1, change)
    views = {v["name"]: v["type"] for v in arango_db.views()}
    assert views == {"finder": "arangosearch", "posts_alias": "search-alias"}
    assert arango_db.view("finder")["links"]["posts"]["fields"]["tags"]["analyzers"] == ["csv"]
    assert arango_db.analyzer("csv")["properties"] == {"delimiter": ","}
    same = a.analyzer("csv", "delimiter", {"delimiter": ","}, ["frequency"])
    adapter.run_commands(record(lambda: a.create_if_not_exists(same)))
    other = a.analyzer("csv", "delimiter", {"delimiter": ";"}, ["frequency"])
    adapter.run_commands(record(lambda: a.create_if_not_exists(other)))  # exists: left as it is
    assert arango_db.analyzer("csv")["properties"] == {"delimiter": ","}

    migrate_down(adapter, 1, change)
    assert arango_db.views() == []
    with pytest.raises(ax.AnalyzerGetError):
        arango_db.analyzer("csv")


def test_alter_view_updates_links(adapter: ArangoAdapter, arango_db: Any) -> None:
    def change() -> None:
        a.create(a.collection("posts"))
        a.create(a.collection("pages"))
        a.create(a.view("search", links={"posts": {}}))
        a.alter(a.view("search", links={"pages": {}}))

    adapter.run_commands(record(change))
    assert set(arango_db.view("search")["links"]) == {"posts", "pages"}


# --- AQL and failures ----------------------------------------------------------------------


def test_execute_aql_with_bind_vars(adapter: ArangoAdapter, arango_db: Any) -> None:
    def change() -> None:
        a.create(a.collection("settings"))
        a.execute("INSERT @doc INTO settings", bind_vars={"doc": {"_key": "theme", "v": 1}})

    adapter.run_commands(record(change))
    assert arango_db.collection("settings").get("theme")["v"] == 1


def test_aql_error_names_the_command_and_what_completed(adapter: ArangoAdapter) -> None:
    def change() -> None:
        a.create(a.collection("a1"))
        a.execute("FOR d IN missing_collection RETURN d")
        a.create(a.collection("a2"))

    with pytest.raises(MigrationFailedError) as err:
        adapter.run_commands(record(change), version=7)
    message = str(err.value)
    assert "execute('FOR d IN missing_collection RETURN d') failed" in message
    assert "[ERR 1203]" in message and "completed before it: 1 operation(s)" in message
    assert err.value.version == 7 and len(err.value.statements_run) == 1
    assert not adapter.table_exists("a2")  # nothing after the failure ran


def test_duplicate_collection_fails_and_create_if_not_exists_does_not(
    adapter: ArangoAdapter,
) -> None:
    adapter.run_commands(record(lambda: a.create(a.collection("posts"))))
    adapter.run_commands(record(lambda: a.create_if_not_exists(a.collection("posts"))))
    with pytest.raises(MigrationFailedError, match=r'create\(collection\("posts"\)\).*ERR 1207'):
        adapter.run_commands(record(lambda: a.create(a.collection("posts"))))


# --- the versions collection and the lock ------------------------------------------------------


def test_versions_collection_in_arangoxecto_layout(adapter: ArangoAdapter, arango_db: Any) -> None:
    migrate_up(adapter, 20240101120000, lambda: a.create(a.collection("posts")))
    props = arango_db.collection(SOURCE).properties()
    assert props["system"] is True
    assert set(props["schema"]["rule"]["properties"]) == {"version", "inserted_at"}
    [doc] = list(arango_db.collection(SOURCE).all())
    assert doc["version"] == 20240101120000
    assert len(doc["inserted_at"]) == 19 and doc["inserted_at"][10] == "T"
    assert CAPTURED not in doc  # only written when an alter captured a rule


def test_a_database_migrated_by_arangoxecto_is_taken_over(
    adapter: ArangoAdapter, arango_db: Any
) -> None:
    # What ArangoXEcto leaves: server-generated keys, integer versions, naive datetimes.
    arango_db.create_collection(SOURCE, system=True)
    for version in (20240101120000, 20240202120000):
        arango_db.collection(SOURCE).insert(
            {"version": version, "inserted_at": "2024-01-01T12:00:00"}
        )
    assert adapter.applied_versions(None, SOURCE) == [20240101120000, 20240202120000]
    assert migrate_up(adapter, 20240101120000, create_users) == []  # already applied: not re-run
    assert not adapter.table_exists("users")
    adapter.acquire_lock(None, SOURCE)
    adapter.delete_version(20240202120000, SOURCE)
    adapter.release_lock(None, SOURCE)
    assert [d["version"] for d in arango_db.collection(SOURCE).all()] == [20240101120000]


def test_second_migrator_waits_for_the_lock_and_times_out(arango_url: str) -> None:
    with ArangoAdapter(arango_url, Settings(lock_wait=10)) as first:
        first.acquire_lock(None, SOURCE)
        with ArangoAdapter(arango_url, Settings(lock_wait=1.5, lock_poll_interval=0.05)) as second:
            with pytest.raises(LockTimeoutError, match="still held"):
                second.acquire_lock(None, SOURCE)
        first.release_lock(None, SOURCE)
        with ArangoAdapter(arango_url, Settings(lock_wait=5)) as third:
            third.acquire_lock(None, SOURCE)
            third.release_lock(None, SOURCE)


def test_concurrent_migrators_apply_a_version_exactly_once(arango_url: str, arango_db: Any) -> None:
    errors: list[BaseException] = []
    ran: list[int] = []

    def worker(n: int) -> None:
        try:
            with ArangoAdapter(arango_url, Settings(lock_wait=60, lock_poll_interval=0.05)) as ad:
                if migrate_up(ad, 1, lambda: a.create(a.collection("posts"))):
                    ran.append(n)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and len(ran) == 1
    assert [d["version"] for d in arango_db.collection(SOURCE).all()] == [1]


def test_version_writes_without_the_lock_go_to_the_collection(adapter: ArangoAdapter) -> None:
    # migration_lock = false: no exclusive transaction, the main connection writes.
    adapter.ensure_versions(SOURCE)
    adapter.insert_version(1, SOURCE)
    assert adapter.applied_versions(None, SOURCE) == [1]
    adapter.delete_version(1, SOURCE)
    assert adapter.applied_versions(None, SOURCE) == []


# --- URLs and connection --------------------------------------------------------------------


def test_urls() -> None:
    assert http_url("arangodbs://u:p%40ss@h:9000/app") == ("https://h:9000", "app", "u", "p@ss")
    assert http_url("arangodb://h") == ("http://h:8529", "_system", "root", "")
    with pytest.raises(ConfigError, match="arangodb://user:pass@host:8529/database"):
        http_url("arango://h/db")


def test_unreachable_server_is_a_connection_error(arango_server: Any) -> None:
    url = arango_server.whimbrel_url("whimbrel_no_such_db")
    with pytest.raises(DatabaseConnectionError, match="cannot reach ArangoDB"):
        ArangoAdapter(url).connect()


# --- resuming a failed migration ------------------------------------------------------------


def test_a_failed_migration_resumes_after_what_completed(
    adapter: ArangoAdapter, arango_db: Any
) -> None:
    def broken() -> None:
        a.create(a.collection("a1"))
        a.execute("FOR d IN missing_collection RETURN d")

    def fixed() -> None:
        a.create(a.collection("a1"))
        a.execute("RETURN 1")
        a.create(a.collection("a2"))

    with pytest.raises(MigrationFailedError):
        adapter.run_commands(record(broken), 5, adapter.journal(5, "up"))
    done = adapter.run_commands(record(fixed), 5, adapter.journal(5, "up"))
    assert done == [
        "POST /_api/cursor  # run AQL: RETURN 1",
        'POST /_api/collection  # create document collection "a2"',
    ]  # create a1 was skipped: a plain re-run would have failed with 1207
    assert adapter.table_exists("a1") and adapter.table_exists("a2")
    adapter.journal(5, "up").clear()
    assert adapter.journal(5, "up").done == []


def test_resume_refuses_a_changed_earlier_operation(adapter: ArangoAdapter) -> None:
    def broken() -> None:
        a.create(a.collection("a1"))
        a.execute("FOR d IN missing_collection RETURN d")

    with pytest.raises(MigrationFailedError):
        adapter.run_commands(record(broken), 6, adapter.journal(6, "up"))

    def edited() -> None:
        a.create(a.collection("a1", wait_for_sync=True))

    with pytest.raises(MigrationFailedError, match="operation 1 ran as"):
        adapter.run_commands(record(edited), 6, adapter.journal(6, "up"))


def test_the_lock_transaction_is_kept_alive(adapter: ArangoAdapter, arango_db: Any) -> None:
    import time

    from whimbrel.adapters.arangodb_versions import VersionsLock

    adapter.ensure_versions(SOURCE)
    lock = VersionsLock(adapter._open(), adapter.versions(SOURCE), heartbeat=0.1)
    assert lock.try_acquire()
    time.sleep(0.6)
    assert lock.beats >= 2  # counts posted into the transaction reset its idle timeout
    lock.insert(3)
    lock.commit()
    assert lock.held is False
    assert [d["version"] for d in arango_db.collection(SOURCE).all()] == [3]
