"""DSL calls → recorded command data (Ecto's recording test adapter, without a database).

Every test runs migration code under a `Recorder`, as the migrator does, and
compares what was queued with the command dataclasses it should have built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    CreateConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    Execute,
    ExecuteCallable,
    ExecuteFile,
    ModifyColumn,
    RemoveColumn,
    RenameColumn,
    RenameIndex,
    RenameTable,
    ValidateConstraint,
)
from whimbrel.dsl.objects import (
    ArrayType,
    ColumnOpts,
    Constraint,
    Fragment,
    Index,
    IndexColumn,
    PrimaryKey,
    Reference,
    Table,
)
from whimbrel.dsl.recorder import DslDefaults, Recorder, recording
from whimbrel.errors import MigrationDefinitionError, MigrationFileError
from whimbrel.migration import (
    add,
    add_if_not_exists,
    alter,
    array,
    asc,
    asc_nulls_first,
    asc_nulls_last,
    constraint,
    create,
    create_if_not_exists,
    desc,
    desc_nulls_first,
    desc_nulls_last,
    direction,
    drop,
    drop_if_exists,
    execute,
    execute_file,
    flush,
    fragment,
    index,
    modify,
    prefix,
    references,
    remove,
    remove_if_exists,
    rename,
    repo,
    table,
    timestamps,
    unique_index,
    validate_constraint,
)

KEY = AddColumn("id", "bigserial", ColumnOpts(primary_key=True))
NOT_NULL = ColumnOpts(null=False)


def record(migration: Callable[[], Any], **recorder_options: Any) -> list[object]:
    """Run ``migration`` as the migrator would and return what it queued."""
    recorder = Recorder(**recorder_options)
    with recording(recorder):
        migration()
    return recorder.take()


# --- create -------------------------------------------------------------------------


def test_create_with_block_records_the_key_then_the_columns() -> None:
    def migration() -> None:
        with create(table("posts")):
            add("title", "string", null=False)
            add("body", "text")

    assert record(migration) == [
        CreateTable(
            Table("posts"),
            (KEY, AddColumn("title", "string", NOT_NULL), AddColumn("body", "text")),
        )
    ]


def test_create_without_block_makes_a_table_with_only_its_key() -> None:
    assert record(lambda: create(table("posts"))) == [CreateTable(Table("posts"), (KEY,))]


def test_create_if_not_exists_records_the_flag() -> None:
    def migration() -> None:
        with create_if_not_exists(table("posts")):
            add("title", "text")

    assert record(migration) == [
        CreateTable(Table("posts"), (KEY, AddColumn("title", "text")), if_not_exists=True)
    ]


def test_create_if_not_exists_for_an_index() -> None:
    recorded = record(lambda: create_if_not_exists(index("posts", ["title"])))
    assert recorded == [CreateIndex(index("posts", ["title"]), if_not_exists=True)]


def test_primary_key_false_leaves_the_key_out() -> None:
    def migration() -> None:
        with create(table("tags", primary_key=False)):
            add("name", "text", primary_key=True)

    assert record(migration) == [
        CreateTable(
            Table("tags", primary_key=False),
            (AddColumn("name", "text", ColumnOpts(primary_key=True)),),
        )
    ]


def test_primary_key_dict_names_and_types_the_key() -> None:
    spec = {"name": "uuid", "type": "binary_id", "comment": "the key"}
    key_opts = ColumnOpts(primary_key=True, comment="the key")

    [command] = record(lambda: create(table("users", primary_key=spec)))

    assert command == CreateTable(
        Table("users", primary_key=PrimaryKey("uuid", "binary_id", key_opts)),
        (AddColumn("uuid", "binary_id", key_opts),),
    )


def test_project_primary_key_replaces_the_default_key() -> None:
    identity = PrimaryKey("id", "identity", ColumnOpts(primary_key=True, start_value=1000))
    defaults = DslDefaults(primary_key=identity)

    recorded = record(lambda: create(table("posts")), defaults=defaults)

    assert recorded == [CreateTable(Table("posts"), (AddColumn("id", "identity", identity.opts),))]


def test_table_options_are_kept_on_the_table() -> None:
    t = table(
        "events",
        prefix="audit",
        comment="What happened",
        options="PARTITION BY RANGE (at)",
        modifiers="UNLOGGED",
    )
    assert t == Table(
        "events",
        prefix="audit",
        comment="What happened",
        options="PARTITION BY RANGE (at)",
        modifiers="UNLOGGED",
    )


def test_column_options_are_recorded() -> None:
    def migration() -> None:
        with create(table("items", primary_key=False)):
            add("price", "decimal", precision=10, scale=2, default=Decimal("0.00"))
            add("tags", array("text"), default=[])
            add("code", "string", size=8, collation="C", comment="SKU")
            add("total", "integer", generated="ALWAYS AS (1) STORED")
            add("created", "utc_datetime", default=fragment("now()"))

    [command] = record(migration)
    assert isinstance(command, CreateTable)
    assert command.columns == (
        AddColumn("price", "decimal", ColumnOpts(precision=10, scale=2, default=Decimal("0.00"))),
        AddColumn("tags", ArrayType("text"), ColumnOpts(default=[])),
        AddColumn("code", "string", ColumnOpts(size=8, collation="C", comment="SKU")),
        AddColumn("total", "integer", ColumnOpts(generated="ALWAYS AS (1) STORED")),
        AddColumn("created", "utc_datetime", ColumnOpts(default=Fragment("now()"))),
    )


def test_default_none_is_recorded_apart_from_no_default() -> None:
    def migration() -> None:
        with create(table("t", primary_key=False)):
            add("a", "text", default=None)
            add("b", "text")

    [command] = record(migration)
    assert isinstance(command, CreateTable)
    a, b = command.columns
    assert (a.opts.has_default, a.opts.default) == (True, None)
    assert b.opts.has_default is False


# --- alter, drop, rename ---------------------------------------------------------------


def test_alter_records_add_modify_and_remove_in_order() -> None:
    def migration() -> None:
        with alter(table("posts")):
            add("views", "integer", default=0)
            modify("title", "text", from_="string")
            modify("body", "text", null=False, from_=("string", {"null": True}))
            remove("legacy", "boolean", default=False)
            remove("scratch")

    assert record(migration) == [
        AlterTable(
            Table("posts"),
            (
                AddColumn("views", "integer", ColumnOpts(default=0)),
                ModifyColumn("title", "text", ColumnOpts(), ("string", ColumnOpts())),
                ModifyColumn("body", "text", NOT_NULL, ("string", ColumnOpts(null=True))),
                RemoveColumn("legacy", "boolean", ColumnOpts(default=False)),
                RemoveColumn("scratch"),
            ),
        )
    ]


def test_alter_records_the_if_exists_variants() -> None:
    def migration() -> None:
        with alter(table("posts")):
            add_if_not_exists("slug", "text")
            remove_if_exists("old_slug", "text")

    assert record(migration) == [
        AlterTable(
            Table("posts"),
            (
                AddColumn("slug", "text", if_not_exists=True),
                RemoveColumn("old_slug", "text", if_exists=True),
            ),
        )
    ]


def test_modify_without_from_records_no_previous_type() -> None:
    def migration() -> None:
        with alter(table("posts")):
            modify("title", "text")

    assert record(migration) == [
        AlterTable(Table("posts"), (ModifyColumn("title", "text", ColumnOpts(), None),))
    ]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (table("posts"), DropTable(Table("posts"))),
        (index("posts", ["title"]), DropIndex(index("posts", ["title"]))),
        (
            constraint("posts", "c", check="true"),
            DropConstraint(Constraint("posts", "c", check="true")),
        ),
    ],
    ids=["table", "index", "constraint"],
)
@pytest.mark.parametrize("mode", ["restrict", "cascade"])
def test_drop_records_object_and_mode(obj: Any, expected: Any, mode: str) -> None:
    assert record(lambda: drop(obj, mode=mode)) == [replace(expected, mode=mode)]
    assert record(lambda: drop_if_exists(obj, mode=mode)) == [
        replace(expected, mode=mode, if_exists=True)
    ]


def test_drop_defaults_to_restrict() -> None:
    assert record(lambda: drop(table("posts"))) == [DropTable(Table("posts"), "restrict")]


def test_rename_table_column_and_index() -> None:
    def migration() -> None:
        rename(table("posts"), to=table("articles"))
        rename(table("articles"), "title", to="subject")
        rename(index("articles", name="posts_title_index"), to="articles_subject_index")

    assert record(migration) == [
        RenameTable(Table("posts"), Table("articles")),
        RenameColumn(Table("articles"), "title", "subject"),
        RenameIndex(Index("articles", (), "posts_title_index"), "articles_subject_index"),
    ]


# --- execute ---------------------------------------------------------------------------


def test_execute_records_sql_pairs_callables_and_files(tmp_path: Path) -> None:
    def backfill() -> None: ...

    (tmp_path / "sql").mkdir()
    (tmp_path / "sql/up.sql").write_text("CREATE TABLE t (a int);")
    (tmp_path / "sql/down.sql").write_text("DROP TABLE t;")

    def migration() -> None:
        execute("CREATE EXTENSION citext")
        execute("CREATE EXTENSION hstore", "DROP EXTENSION hstore")
        execute(backfill)
        execute_file("sql/up.sql")
        execute_file("sql/up.sql", "sql/down.sql")

    # The files are read while recording, relative to the migration file.
    assert record(migration, source=tmp_path / "20260101000000_m.py") == [
        Execute("CREATE EXTENSION citext"),
        Execute("CREATE EXTENSION hstore", "DROP EXTENSION hstore"),
        ExecuteCallable(backfill),
        ExecuteFile("sql/up.sql", None, "CREATE TABLE t (a int);"),
        ExecuteFile("sql/up.sql", "sql/down.sql", "CREATE TABLE t (a int);", "DROP TABLE t;"),
    ]


def test_execute_file_of_a_missing_file_fails_while_recording(tmp_path: Path) -> None:
    def migration() -> None:
        execute_file("sql/missing.sql")

    with pytest.raises(MigrationFileError) as err:
        record(migration, source=tmp_path / "20260101000000_m.py")
    assert "execute_file('sql/missing.sql'): cannot read" in str(err.value)
    assert "paths are relative to the migration file" in str(err.value)


# --- timestamps ----------------------------------------------------------------------


def _timestamps_in_alter(**options: Any) -> tuple[object, ...]:
    def migration() -> None:
        with alter(table("posts")):
            timestamps(**options)

    [command] = record(migration)
    assert isinstance(command, AlterTable)
    return command.changes


def test_timestamps_defaults_are_two_not_null_naive_datetimes() -> None:
    assert _timestamps_in_alter() == (
        AddColumn("inserted_at", "naive_datetime", NOT_NULL),
        AddColumn("updated_at", "naive_datetime", NOT_NULL),
    )


def test_timestamps_overrides() -> None:
    opts = ColumnOpts(null=True, default=Fragment("now()"))
    changes = _timestamps_in_alter(
        inserted_at="created_at", type="utc_datetime_usec", default=fragment("now()"), null=True
    )
    assert changes == (
        AddColumn("created_at", "utc_datetime_usec", opts),
        AddColumn("updated_at", "utc_datetime_usec", opts),
    )


def test_timestamps_can_skip_one_column() -> None:
    assert _timestamps_in_alter(inserted_at=False) == (
        AddColumn("updated_at", "naive_datetime", NOT_NULL),
    )
    assert _timestamps_in_alter(updated_at=False) == (
        AddColumn("inserted_at", "naive_datetime", NOT_NULL),
    )


def test_timestamps_follow_the_project_setting_and_calls_override_it() -> None:
    defaults = DslDefaults(timestamps={"type": "utc_datetime", "inserted_at": "created_at"})

    def migration() -> None:
        with create(table("posts", primary_key=False)):
            timestamps(updated_at="changed_at")

    [command] = record(migration, defaults=defaults)
    assert isinstance(command, CreateTable)
    assert command.columns == (
        AddColumn("created_at", "utc_datetime", NOT_NULL),
        AddColumn("changed_at", "utc_datetime", NOT_NULL),
    )


# --- references, indexes, constraints ----------------------------------------------------


def test_references_defaults() -> None:
    assert references("users") == Reference("users", "id", "bigserial")


def test_references_type_follows_the_project_primary_key() -> None:
    defaults = DslDefaults(primary_key=PrimaryKey("id", "binary_id"))
    seen: list[Reference] = []
    record(lambda: seen.append(references("users")), defaults=defaults)
    assert seen == [Reference("users", "id", "binary_id")]


def test_references_follow_the_project_foreign_key_setting() -> None:
    defaults = DslDefaults(foreign_key_type="uuid", foreign_key_column="uuid")
    seen: list[Reference] = []
    record(lambda: seen.append(references("users")), defaults=defaults)
    assert seen == [Reference("users", "uuid", "uuid")]


def test_references_options() -> None:
    ref = references(
        "users",
        column="uuid",
        type="binary_id",
        name="posts_author_fk",
        on_delete=("nilify", ["author_id"]),
        on_update="update_all",
        validate=False,
        with_={"org_id": "org_id"},
        match="full",
        prefix="accounts",
    )
    assert ref == Reference(
        "users",
        "uuid",
        "binary_id",
        "posts_author_fk",
        ("nilify", ("author_id",)),
        "update_all",
        False,
        (("org_id", "org_id"),),
        "full",
        "accounts",
    )


def test_references_as_column_type_in_a_block() -> None:
    def migration() -> None:
        with create(table("posts", primary_key=False)):
            add("author_id", references("users", on_delete="delete_all"), null=False)

    [command] = record(migration)
    assert isinstance(command, CreateTable)
    assert command.columns == (
        AddColumn("author_id", Reference("users", on_delete="delete_all"), NOT_NULL),
    )


def test_index_defaults_and_name() -> None:
    assert index("posts", ["author_id", "lower(title)"]) == Index(
        "posts", ("author_id", "lower(title)"), "posts_author_id_lower_title_index"
    )
    assert index("posts", "title").columns == ("title",)
    assert unique_index("posts", ["slug"], name="slug_key") == Index(
        "posts", ("slug",), "slug_key", unique=True
    )


def test_index_options() -> None:
    i = unique_index(
        "posts",
        ["title"],
        concurrently=True,
        using="btree",
        where="deleted_at IS NULL",
        include=["id"],
        nulls_distinct=False,
        only=True,
        prefix="blog",
        comment="titles",
        options="WITH (fillfactor = 70)",
    )
    assert i == Index(
        "posts",
        ("title",),
        "posts_title_index",
        unique=True,
        concurrently=True,
        using="btree",
        where="deleted_at IS NULL",
        include=("id",),
        nulls_distinct=False,
        only=True,
        prefix="blog",
        comment="titles",
        options="WITH (fillfactor = 70)",
    )


def test_index_column_directions() -> None:
    columns = [
        asc("a"),
        desc("b"),
        asc_nulls_first("c"),
        asc_nulls_last("d"),
        desc_nulls_first("e"),
        desc_nulls_last("f"),
    ]
    assert index("t", columns).columns == (
        IndexColumn("a", "ASC"),
        IndexColumn("b", "DESC"),
        IndexColumn("c", "ASC", "FIRST"),
        IndexColumn("d", "ASC", "LAST"),
        IndexColumn("e", "DESC", "FIRST"),
        IndexColumn("f", "DESC", "LAST"),
    )
    assert index("t", [desc("inserted_at")]).name == "t_inserted_at_index"


def test_create_constraint_and_index() -> None:
    def migration() -> None:
        create(constraint("products", "price_positive", check="price > 0", validate=False))
        create(index("products", ["sku"]))

    assert record(migration) == [
        CreateConstraint(Constraint("products", "price_positive", "price > 0", validate=False)),
        CreateIndex(Index("products", ("sku",), "products_sku_index")),
    ]


# --- flush and context ----------------------------------------------------------------


def test_flush_hands_over_what_was_queued_and_starts_a_new_queue() -> None:
    flushed: list[list[object]] = []

    def migration() -> None:
        create(table("a"))
        execute("SELECT 1", "SELECT 2")
        flush()
        flush()  # nothing queued: on_flush is not called again
        create(table("b"))

    rest = record(migration, on_flush=flushed.append)

    assert flushed == [[CreateTable(Table("a"), (KEY,)), Execute("SELECT 1", "SELECT 2")]]
    assert rest == [CreateTable(Table("b"), (KEY,))]


def test_flush_inside_change_rollback_is_refused() -> None:
    with pytest.raises(MigrationDefinitionError) as err:
        record(flush, backward=True)
    assert "flush()" in str(err.value)
    assert "define up() and down()" in str(err.value)


def test_flush_inside_a_block_is_refused() -> None:
    def migration() -> None:
        with create(table("posts")):
            add("title", "text")
            flush()

    with pytest.raises(MigrationDefinitionError) as err:
        record(migration, on_flush=lambda _: None)
    assert 'cannot run flush() inside create(table("posts"))' in str(err.value)
    assert "move the command after the block" in str(err.value)


def test_direction_prefix_and_repo_come_from_the_recorder() -> None:
    handle = object()
    seen: list[object] = []
    record(
        lambda: seen.extend([direction(), prefix(), repo()]),
        direction="down",
        prefix="tenant_a",
        repo=handle,
    )
    assert seen == ["down", "tenant_a", handle]


def test_direction_and_prefix_defaults() -> None:
    seen: list[object] = []
    record(lambda: seen.extend([direction(), prefix()]))
    assert seen == ["up", None]


def test_a_failed_block_leaves_the_recorder_usable() -> None:
    recorder = Recorder()
    with recording(recorder):
        with pytest.raises(MigrationDefinitionError):
            with create(table("a")):
                add("x", "datetime")
        create(table("b"))  # would fail as "inside a block" if the block were still open
    assert recorder.block is None
    assert recorder.take()[-1] == CreateTable(Table("b"), (KEY,))


# --- validation: message names the problem and the fix -------------------------------------


def _in_create(*calls: Callable[[], object]) -> Callable[[], None]:
    def migration() -> None:
        with create(table("posts")):
            for call in calls:
                call()

    return migration


def _in_alter(*calls: Callable[[], object]) -> Callable[[], None]:
    def migration() -> None:
        with alter(table("posts")):
            for call in calls:
                call()

    return migration


def _nested_blocks() -> None:
    with create(table("a")):
        with alter(table("b")):
            add("x", "text")


INVALID: list[Any] = [
    pytest.param(
        _in_create(lambda: add("title", "string", nul=False)),
        ["add(\"title\"): unknown option 'nul'", "did you mean 'null'?", "column options are:"],
        id="unknown-add-option",
    ),
    pytest.param(
        lambda: index("posts", ["title"], uniq=True),
        ["index(): unknown option 'uniq'", "did you mean 'unique'?", "accepted: table, columns"],
        id="unknown-index-kwarg",
    ),
    pytest.param(
        lambda: unique_index("posts", ["title"], wher="x"),
        ["index(): unknown option 'wher'", "did you mean 'where'?"],
        id="unknown-unique-index-kwarg",
    ),
    pytest.param(
        lambda: table("posts", primay_key=False),
        ["table(): unknown option 'primay_key'", "did you mean 'primary_key'?", "accepted: name"],
        id="unknown-table-kwarg",
    ),
    pytest.param(
        lambda: references("users", on_delet="delete_all"),
        ["references(): unknown option 'on_delet'", "did you mean 'on_delete'?"],
        id="unknown-references-kwarg",
    ),
    pytest.param(
        lambda: table(),
        ["table(): missing 1 required positional argument: 'name'", "accepted: name"],
        id="missing-table-name",
    ),
    pytest.param(
        _in_create(lambda: add("price", "decimal", scale=2)),
        ['add("price"): scale=2 needs precision=', "add precision=<digits>"],
        id="scale-without-precision",
    ),
    pytest.param(
        lambda: index("posts", ["title"], nulls_distinct=False),
        ["nulls_distinct only applies to unique indexes", "unique=True", "unique_index()"],
        id="nulls-distinct-without-unique",
    ),
    pytest.param(
        lambda: index("posts"),
        ['index("posts"): give the columns, or name='],
        id="index-without-columns-or-name",
    ),
    pytest.param(
        lambda: add("title", "text"),
        ["add() can only be used inside a block", 'with alter(table("...")):'],
        id="add-outside-block",
    ),
    pytest.param(
        lambda: modify("title", "text"),
        ["modify() can only be used inside a block", 'with alter(table("...")):'],
        id="modify-outside-block",
    ),
    pytest.param(
        lambda: remove("title"),
        ["remove() can only be used inside a block"],
        id="remove-outside-block",
    ),
    pytest.param(
        lambda: add_if_not_exists("title", "text"),
        ["add_if_not_exists() can only be used inside a block"],
        id="add-if-not-exists-outside-block",
    ),
    pytest.param(
        lambda: remove_if_exists("title"),
        ["remove_if_exists() can only be used inside a block"],
        id="remove-if-exists-outside-block",
    ),
    pytest.param(
        timestamps,
        ["timestamps() can only be used inside a block", 'with create(table("...")):'],
        id="timestamps-outside-block",
    ),
    pytest.param(
        _in_create(lambda: modify("title", "text")),
        ['modify() cannot be used inside create(table("posts"))', "with alter(table(...)):"],
        id="modify-in-create",
    ),
    pytest.param(
        _in_create(lambda: remove("title")),
        ['remove() cannot be used inside create(table("posts"))'],
        id="remove-in-create",
    ),
    pytest.param(
        _in_create(lambda: add_if_not_exists("title", "text")),
        ['add_if_not_exists() cannot be used inside create(table("posts"))'],
        id="add-if-not-exists-in-create",
    ),
    pytest.param(
        _in_create(lambda: create(index("posts", ["title"]))),
        [
            'cannot run create(index("posts", name="posts_title_index")) '
            'inside create(table("posts"))',
            "move the command after the block",
        ],
        id="create-index-in-create-block",
    ),
    pytest.param(
        _in_alter(lambda: execute("SELECT 1")),
        ["cannot run execute('SELECT 1') inside alter(table(\"posts\"))", "after the block"],
        id="execute-in-alter-block",
    ),
    pytest.param(
        _in_alter(lambda: drop(table("comments"))),
        ['cannot run drop(table("comments")) inside alter(table("posts"))'],
        id="drop-in-alter-block",
    ),
    pytest.param(
        _in_alter(lambda: rename(table("posts"), "a", to="b")),
        ['cannot run rename(table("posts"), "a", to="b") inside alter(table("posts"))'],
        id="rename-in-alter-block",
    ),
    pytest.param(
        _nested_blocks,
        ['cannot run alter(table("b")) inside create(table("a"))', "after the block"],
        id="nested-blocks",
    ),
    pytest.param(
        lambda: constraint("products", "c", check="price > 0", exclude="gist (a WITH =)"),
        ['constraint("products", "c"): give check= or exclude=, not both', "split it"],
        id="check-and-exclude",
    ),
    pytest.param(
        lambda: create(constraint("products", "c")),
        ['create(constraint("products", "c")): give check="..." or exclude="..."'],
        id="constraint-without-check-or-exclude",
    ),
    pytest.param(
        lambda: references("users", on_delete="cascade"),
        ["unknown on_delete 'cascade'", "use one of: nothing, delete_all, nilify_all"],
        id="unknown-on-delete",
    ),
    pytest.param(
        lambda: references("users", on_delete="delete_al"),
        ["unknown on_delete 'delete_al'", "did you mean 'delete_all'?"],
        id="misspelt-on-delete",
    ),
    pytest.param(
        lambda: references("users", on_delete=("nullify", ["a"])),
        ["unknown on_delete ('nullify', ['a'])", '("nilify", [columns])'],
        id="unknown-on-delete-with-columns",
    ),
    pytest.param(
        lambda: references("users", on_update="cascade"),
        ["unknown on_update 'cascade'", "update_all"],
        id="unknown-on-update",
    ),
    pytest.param(
        lambda: references("users", match="fully"),
        ["unknown match 'fully'", "did you mean 'full'?"],
        id="unknown-match",
    ),
    pytest.param(
        _in_create(lambda: add("at", "datetime")),
        ['add("at"): the type "datetime" is ambiguous', '"utc_datetime" or "naive_datetime"'],
        id="datetime-type",
    ),
    pytest.param(
        _in_create(lambda: add("n", 5)),
        ['add("n"): column type must be a type name such as "string"', "got 5"],
        id="non-string-type",
    ),
    pytest.param(
        _in_create(lambda: add("n", "text", default=object())),
        ["is not a SQL value", 'fragment("sql")'],
        id="default-not-a-value",
    ),
    pytest.param(
        lambda: drop(table("posts"), mode="cascde"),
        ["drop(): unknown mode 'cascde'", "did you mean 'cascade'?"],
        id="unknown-drop-mode",
    ),
    pytest.param(
        lambda: create("posts"),
        ["create() takes table(...), index(...), constraint(...) or enum(...)", "'posts'"],
        id="create-a-string",
    ),
    pytest.param(
        lambda: create_if_not_exists(constraint("t", "c", check="true")),
        ["create_if_not_exists() takes table(...) or index(...)", "no IF NOT EXISTS"],
        id="create-if-not-exists-constraint",
    ),
    pytest.param(
        lambda: rename(table("posts"), to="articles"),
        ["rename() takes rename(table(old), to=table(new))"],
        id="rename-table-to-a-string",
    ),
    pytest.param(
        lambda: execute(42),
        ["execute() takes SQL text or a function, got 42"],
        id="execute-non-sql",
    ),
    pytest.param(
        _in_create(lambda: add("total", "integer", generated=True)),
        ['add("total"): generated= takes SQL text such as "ALWAYS AS', "got True"],
        id="generated-not-sql",
    ),
    pytest.param(
        lambda: rename(table("posts"), to=table("posts", prefix="archive")),
        ['a rename cannot move a table to schema "archive"', "SET SCHEMA"],
        id="rename-table-to-another-schema",
    ),
    pytest.param(
        lambda: validate_constraint("products"),
        ["validate_constraint(): missing 1 required positional argument: 'name'"],
        id="validate-constraint-without-name",
    ),
    pytest.param(
        lambda: validate_constraint("products", ""),
        ['validate_constraint("products", ""): name must be a non-empty string'],
        id="validate-constraint-empty-name",
    ),
]


@pytest.mark.parametrize(("migration", "message_parts"), INVALID)
def test_invalid_migration_code_is_refused_with_the_fix(
    migration: Callable[[], Any], message_parts: list[str]
) -> None:
    with pytest.raises(MigrationDefinitionError) as err:
        record(migration)
    for part in message_parts:
        assert part in str(err.value)


# Under --prefix, an object naming another schema would write outside the tenant (as Ecto).
PREFIX_CONFLICTS: list[Any] = [
    pytest.param(lambda: create(table("posts", prefix="public")), 'create(table("posts"))'),
    pytest.param(lambda: alter(table("posts", prefix="public")), 'alter(table("posts"))'),
    pytest.param(lambda: drop(table("posts", prefix="public")), 'drop(table("posts"))'),
    pytest.param(
        lambda: create_if_not_exists(table("posts", prefix="public")),
        'create_if_not_exists(table("posts"))',
    ),
    pytest.param(
        lambda: create(index("posts", ["a"], prefix="public")),
        'create(index("posts", name="posts_a_index"))',
    ),
    pytest.param(
        lambda: drop_if_exists(index("posts", ["a"], prefix="public")),
        'drop_if_exists(index("posts", name="posts_a_index"))',
    ),
    pytest.param(
        lambda: create(constraint("posts", "c", check="true", prefix="public")),
        'create(constraint("posts", "c"))',
    ),
    pytest.param(
        lambda: rename(table("posts", prefix="public"), "a", to="b"), 'rename(table("posts"))'
    ),
    pytest.param(
        lambda: validate_constraint("posts", "c", prefix="public"),
        'validate_constraint("posts", "c")',
    ),
]


@pytest.mark.parametrize(("migration", "command"), PREFIX_CONFLICTS)
def test_a_prefix_other_than_the_migrations_is_refused(
    migration: Callable[[], None], command: str
) -> None:
    with pytest.raises(MigrationDefinitionError) as err:
        record(migration, prefix="tenant_a")
    message = str(err.value)
    assert f'{command}: prefix="public" does not match the prefix this migration runs in' in message
    assert '"tenant_a"' in message
    assert "leave prefix= out (or use prefix=prefix())" in message


def test_the_migrations_own_prefix_and_references_elsewhere_are_accepted() -> None:
    def migration() -> None:
        with create(table("orders", prefix="tenant_a")):
            add("account_id", references("accounts", prefix="public"))
        create(index("orders", ["account_id"], prefix=prefix()))

    commands = record(migration, prefix="tenant_a")
    assert [type(c) for c in commands] == [CreateTable, CreateIndex]


def test_without_a_migration_prefix_any_schema_may_be_named() -> None:
    assert record(lambda: drop(table("posts", prefix="archive"))) == [
        DropTable(Table("posts", prefix="archive"))
    ]


def test_renaming_a_table_within_the_migrations_prefix_is_accepted() -> None:
    commands = record(
        lambda: rename(table("posts"), to=table("articles", prefix="tenant_a")),
        prefix="tenant_a",
    )
    assert commands == [RenameTable(Table("posts"), Table("articles", prefix="tenant_a"))]


def test_validate_constraint_records_the_constraint() -> None:
    assert record(lambda: validate_constraint("products", "price_positive", prefix="shop")) == [
        ValidateConstraint(Constraint("products", "price_positive", prefix="shop"))
    ]


def test_alter_without_a_with_block_is_refused_when_the_queue_is_taken() -> None:
    recorder = Recorder()
    with recording(recorder):
        alter(table("posts"))
    with pytest.raises(MigrationDefinitionError) as err:
        recorder.take()
    assert 'alter(table("posts")) needs a block' in str(err.value)
    assert 'write `with alter(table("posts")):`' in str(err.value)


def test_unknown_project_timestamp_keys_are_refused() -> None:
    defaults = DslDefaults(timestamps={"kind": "utc_datetime"})
    with pytest.raises(
        MigrationDefinitionError, match=r"migration_timestamps: unknown keys \['kind'\]"
    ):
        record(_in_alter(timestamps), defaults=defaults)


@pytest.mark.parametrize(
    "call",
    [
        lambda: create(table("posts")),
        lambda: execute("SELECT 1"),
        lambda: drop(table("posts")),
        flush,
        direction,
    ],
    ids=["create", "execute", "drop", "flush", "direction"],
)
def test_dsl_outside_a_migration_is_refused(call: Callable[[], object]) -> None:
    with pytest.raises(MigrationDefinitionError) as err:
        call()
    assert "can only be called while whimbrel runs a migration" in str(err.value)
    assert "call them from change(), up() or down()" in str(err.value)


def test_constructors_work_outside_a_migration() -> None:
    # Building objects runs nothing, so migration modules may build them at import time.
    assert table("posts") == Table("posts")
    assert references("users").type == "bigserial"


def test_checked_does_not_hide_type_errors_raised_inside_the_function() -> None:
    # index() turns its columns into a tuple; an int fails there, not in the call's arguments.
    with pytest.raises(TypeError):
        index("posts", 5)  # type: ignore[arg-type]
