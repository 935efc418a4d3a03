"""ArangoDB DSL calls -> recorded command data, bad input refused, and the reversal table.

No server: migration code runs under a ``Recorder`` as the migrator runs it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from whimbrel.dsl import arango as a
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
    ModifyField,
    RemoveField,
    RenameCollection,
    RenameField,
    RenameView,
    RestoreSchema,
    View,
)
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.dsl.reverse import reverse_all
from whimbrel.errors import IrreversibleMigrationError, MigrationDefinitionError


def record(fn: Callable[[], None]) -> list[object]:
    rec = Recorder()
    with recording(rec):
        fn()
    return rec.take()


def fails(fn: Callable[[], None], *fragments: str) -> None:
    with pytest.raises(MigrationDefinitionError) as err:
        record(fn)
    for fragment in fragments:
        assert fragment in str(err.value), str(err.value)


# --- collections and their fields -------------------------------------------------------


def test_create_collection_with_fields() -> None:
    def change() -> None:
        with a.create(a.collection("users", key_options={"type": "uuid"}, level="moderate")):
            a.add("email", "string", null=False, required=True, format="email")
            a.add("age", "integer", minimum=0)
            a.add("tags", a.array("string"), unique_items=True)

    [cmd] = record(change)
    assert cmd == CreateCollection(
        Collection("users", key_options={"type": "uuid"}, level="moderate"),
        (
            Field("email", "string", (("format", "email"),), null=False, required=True),
            Field("age", "integer", (("minimum", 0),)),
            Field("tags", ArrayOf("string"), (("uniqueItems", True),)),
        ),
    )


def test_nested_object_fields() -> None:
    def change() -> None:
        with a.create(a.collection("people")):
            with a.add("address", "object", required=True, additional_properties=False):
                a.add("city", "string", null=False, required=True)
                with a.add("geo", "map"):
                    a.add("lat", "number")
            a.timestamps(updated_at=None)

    [cmd] = record(change)
    assert isinstance(cmd, CreateCollection)
    address, inserted = cmd.fields
    assert address.type == "object" and address.required
    assert address.rules == (("additionalProperties", False),)
    city, geo = address.fields
    assert city == Field("city", "string", null=False, required=True)
    assert geo.fields == (Field("lat", "number"),)
    assert inserted == Field("inserted_at", "naive_datetime")


def test_create_without_block_and_edge_collection_options() -> None:
    def change() -> None:
        a.create(
            a.collection(
                "follows",
                type="edge",
                wait_for_sync=True,
                number_of_shards=3,
                shard_keys=["_from"],
                replication_factor=2,
                write_concern=1,
            )
        )
        a.create_if_not_exists(a.collection("_jobs"))

    follows, jobs = record(change)
    assert follows == CreateCollection(
        Collection("follows", "edge", None, True, 3, ("_from",), 2, 1), ()
    )
    assert jobs == CreateCollection(Collection("_jobs", is_system=True), (), if_not_exists=True)


def test_alter_collection_records_field_changes_in_order() -> None:
    def change() -> None:
        with a.alter(a.collection("users", message="bad user")):
            a.add("nick", "string")
            a.modify("age", "number", from_=("integer", {"minimum": 0}))
            a.remove("legacy", "boolean")
            a.rename("nick", to="nickname")

    [cmd] = record(change)
    assert cmd == AlterCollection(
        Collection("users", message="bad user"),
        (
            AddField(Field("nick", "string")),
            ModifyField(Field("age", "number"), Field("age", "integer", (("minimum", 0),))),
            RemoveField("legacy", Field("legacy", "boolean")),
            RenameField("nick", "nickname"),
        ),
    )


def test_index_view_analyzer_commands() -> None:
    def change() -> None:
        a.create(a.index("users", ["email"], unique=True, sparse=True, in_background=True))
        a.create(a.index("sessions", "expires_at", type="ttl", expire_after=3600, name="ttl"))
        a.create(a.index("places", ["x", "y"], type="mdi", field_value_types="double"))
        a.create(a.analyzer("csv", "delimiter", {"delimiter": ","}, ["frequency"]))
        a.create(a.view("search", links={"users": {"fields": {"email": {}}}}))
        a.create(a.view("alias", type="search-alias", indexes=[("users", "inv")]))
        a.alter(a.view("search", links={"users": None}))
        a.rename(a.view("search"), to="finder")
        a.rename(a.collection("users"), to=a.collection("people"))
        a.drop(a.analyzer("csv"), force=True)
        a.drop_if_exists(a.index("users", ["email"]))
        a.drop(a.view("alias"))
        a.drop_if_exists(a.collection("old"))
        a.execute("FOR u IN users RETURN u", "RETURN 1", bind_vars={"x": 1})

    cmds = record(change)
    assert cmds[0] == CreateArangoIndex(
        ArangoIndex("users", ("email",), "persistent", "users_email_index", True, True, None, True)
    )
    assert cmds[1] == CreateArangoIndex(
        ArangoIndex("sessions", ("expires_at",), "ttl", "ttl", expire_after=3600)
    )
    assert cmds[2].index.options == {"fieldValueTypes": "double"}  # type: ignore[attr-defined]
    assert cmds[3] == CreateAnalyzer(
        Analyzer("csv", "delimiter", {"delimiter": ","}, ("frequency",))
    )
    assert cmds[4] == CreateView(View("search", links={"users": {"fields": {"email": {}}}}))
    assert cmds[5] == CreateView(View("alias", "search-alias", indexes=(("users", "inv"),)))
    assert cmds[6] == AlterView(View("search", links={"users": None}))
    assert cmds[7] == RenameView(View("search"), "finder")
    assert cmds[8] == RenameCollection(Collection("users"), "people")
    assert cmds[9] == DropAnalyzer(Analyzer("csv"), force=True)
    assert cmds[10] == DropArangoIndex(
        ArangoIndex("users", ("email",), name="users_email_index"), if_exists=True
    )
    assert cmds[11] == DropView(View("alias"))
    assert cmds[12] == DropCollection(Collection("old"), if_exists=True)
    assert cmds[13] == ExecuteAql("FOR u IN users RETURN u", "RETURN 1", {"x": 1})


# --- bad input, refused while recording ---------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "fragments"),
    [
        (
            lambda: a.index("users", ["x"], type="btree"),
            ["unknown index type 'btree'", "persistent"],
        ),
        (lambda: a.index("users", ["x"], type="persistant"), ['did you mean "persistent"']),
        (lambda: a.index("s", ["at"], type="ttl"), ["ttl index needs one field and expire_after"]),
        (lambda: a.index("p", ["x"], type="mdi"), ['field_value_types="double"']),
        (lambda: a.index("p", ["x"], type="geo", unique=True), ["geo indexes cannot be unique"]),
        (lambda: a.index("p", ["x"], min_length=2), ["'min_length' does not apply to persistent"]),
        (lambda: a.index("p", []), ["give the fields to index"]),
        (lambda: a.collection("1users"), ["not a valid ArangoDB name"]),
        (lambda: a.collection("users", type="graph"), ["unknown type 'graph'", "document, edge"]),
        (lambda: a.collection("u", level="lenient"), ["unknown level", "moderate"]),
        (lambda: a.collection("u", key_options={"type": "uuid", "offset": 1}), ["autoincrement"]),
        (lambda: a.view("v", type="search-alias", links={}), ["take indexes=, not links="]),
        (lambda: a.analyzer("x", "text", features=["speed"]), ["unknown feature"]),
    ],
)
def test_bad_objects_are_refused(fn: Callable[[], object], fragments: tuple[str, ...]) -> None:
    fails(lambda: (fn(), None)[1], *fragments)


def test_bad_fields_are_refused() -> None:
    def unknown_type() -> None:
        with a.create(a.collection("u")):
            a.add("name", "strng")

    def rule_for_wrong_type() -> None:
        with a.create(a.collection("u")):
            a.add("age", "integer", max_length=3)

    def invalid_rule() -> None:
        with a.create(a.collection("u")):
            a.add("name", "string", min_length="3")

    def bad_pattern() -> None:
        with a.create(a.collection("u")):
            a.add("name", "string", pattern="([a-z")

    def enum_without_values() -> None:
        with a.create(a.collection("u")):
            a.add("role", "enum")

    fails(unknown_type, 'add("name")', "unknown field type 'strng'", 'did you mean "string"')
    fails(rule_for_wrong_type, "'max_length' does not apply to integer", "minimum")
    fails(invalid_rule, "minLength must be a whole number", "1621")
    fails(bad_pattern, "pattern", "not a regular expression")
    fails(enum_without_values, "needs values=[...]")


def test_block_misuse_is_refused() -> None:
    def add_outside() -> None:
        a.add("x", "string")

    def modify_in_create() -> None:
        with a.create(a.collection("u")):
            a.modify("x", "string")

    def command_in_block() -> None:
        with a.create(a.collection("u")):
            a.create(a.index("u", ["x"]))

    def nested_scalar() -> None:
        with a.create(a.collection("u")):
            with a.add("x", "string"):
                a.add("y", "string")

    fails(add_outside, "add() can only be used inside a block")
    fails(modify_in_create, 'modify() cannot be used inside create(collection("u"))')
    fails(command_in_block, "cannot run create() inside", "move it after the block")
    fails(nested_scalar, "cannot hold fields", '"object"')


def test_create_analyzer_needs_a_type() -> None:
    fails(lambda: a.create(a.analyzer("x")), "give the type")


# --- reversal ----------------------------------------------------------------------------


def test_reversal_table() -> None:
    users = Collection("users")
    index = ArangoIndex("users", ("email",), name="users_email_index")
    alter = AlterCollection(users, (AddField(Field("nick", "string")),))
    assert (CreateCollection(users)).reverse() == DropCollection(users)
    assert (RenameCollection(users, "people")).reverse() == RenameCollection(
        Collection("people"), "users"
    )
    assert (CreateArangoIndex(index)).reverse() == DropArangoIndex(index)
    assert (DropArangoIndex(index)).reverse() == CreateArangoIndex(index)
    assert (alter).reverse() == RestoreSchema(users, alter.capture_key, alter)
    assert (RestoreSchema(users, alter.capture_key, alter)).reverse() == alter
    assert (RenameView(View("a"), "b")).reverse() == RenameView(View("b"), "a")
    assert (ExecuteAql("up", "down")).reverse() == ExecuteAql("down", "up")
    assert (DropCollection(users)).reverse() is None
    assert (DropView(View("v"))).reverse() is None
    assert (DropAnalyzer(Analyzer("a"))).reverse() is None
    assert (DropAnalyzer(Analyzer("a", "text"))).reverse() == CreateAnalyzer(Analyzer("a", "text"))
    assert (ExecuteAql("up")).reverse() is None


def test_capture_keys_differ_between_alters() -> None:
    one = AlterCollection(Collection("u"), (AddField(Field("a", "string")),))
    two = AlterCollection(Collection("u"), (AddField(Field("b", "string")),))
    assert one.capture_key != two.capture_key and one.capture_key.startswith("schema:u:")


def test_reverse_all_reverses_order_and_names_the_irreversible_command() -> None:
    users = Collection("users")
    cmds = [CreateCollection(users), CreateView(View("v", links={"users": {}}))]
    assert reverse_all(cmds) == [
        DropView(View("v", links={"users": {}})),
        DropCollection(users),
    ]
    with pytest.raises(IrreversibleMigrationError) as err:
        reverse_all([CreateCollection(users), DropCollection(Collection("old"))])
    assert 'drop(collection("old"))' in str(err.value) and "up() and down()" in str(err.value)
