"""alter (add, modify, remove), renames, execute(up, down) and enum types, up and down."""

from __future__ import annotations

import pytest
from catalog_harness import RoundTrip, column_type, columns
from migration_helpers import write

from whimbrel.inspect import Catalog


def test_add_modify_remove_is_undone_in_reverse_order(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("posts")):
            add("title", "string", null=False)
            add("legacy", "boolean", default=False, null=False, comment="old flag")
        """
    )

    def check(db: Catalog) -> None:
        assert db.table("posts").column_names == ["id", "title", "views"]
        assert columns(db, "posts", "type", "nullable", "default")["views"] == rt.pick(
            postgres=("integer", False, "0"),
            sqlite=("INTEGER", False, "0"),
            mysql=("int", False, "0"),
        )
        assert columns(db, "posts", "type", "nullable", "comment")["title"] == rt.pick(
            postgres=("text", True, "Headline"),
            sqlite=("TEXT", True, None),
            mysql=("text", True, "Headline"),
        )

    rt.run(
        """
        with alter(table("posts")):
            add("views", "integer", default=0, null=False)
            modify("title", "text", null=True, comment="Headline",
                   from_=("string", {"null": False, "comment": ""}))
            remove("legacy", "boolean", default=False, null=False, comment="old flag")
        """,
        check=check,
    )


def test_modify_type_default_and_size(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("t")):
            add("code", "string", size=8)
            add("n", "integer", default=1)
        """
    )
    rt.run(
        """
        with alter(table("t")):
            modify("code", "string", size=40, from_=("string", {"size": 8}))
            modify("n", "bigint", default=2, from_=("integer", {"default": 1}))
        """,
        check=lambda db: (
            (column_type(db, "t", "code"), column_type(db, "t", "n"))
            == rt.pick(
                postgres=("character varying(40)", "bigint"),
                sqlite=("TEXT(40)", "INTEGER"),
                mysql=("varchar(40)", "bigint"),
            )
            and db.table("t").column("n").default == rt.pick(postgres="2", default="2")
        ),
    )


def test_add_if_not_exists_and_remove_if_exists(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("posts")):
            add("body", "text")
        """
    )
    up = """
        with alter(table("posts")):
            add_if_not_exists("slug", "text")
        with alter(table("posts")):
            add_if_not_exists("slug", "text")
        with alter(table("posts")):
            remove_if_exists("body")
        with alter(table("posts")):
            remove_if_exists("body")
        """
    if rt.flavor == "mysql":
        rt.refused(up, says="IF [NOT] EXISTS")
        return
    rt.run(
        up=up,
        down="""
        with alter(table("posts")):
            remove("slug")
            add("body", "text")
        """,
        check=lambda db: db.table("posts").column_names == ["id", "slug"],
    )


def test_remove_an_indexed_column_with_its_type(rt: RoundTrip) -> None:
    # The rollback of remove(col, type) re-adds only the column, so a change() that would
    # take the column's index with it is refused when it runs; dropping the index first in
    # the same change() makes the rollback recreate it, and the round trip is exact.
    rt.setup(
        """
        with create(table("posts")):
            add("slug", "string")
        create(unique_index("posts", ["slug"]))
        """
    )
    refused = """
        with alter(table("posts")):
            remove("slug", "string")
        """
    message = rt.refused_when_run(refused, says='would drop index "posts_slug_index"')
    assert 'drop(index("posts", ["slug"]))' in message
    rt.run(
        """
        drop(unique_index("posts", ["slug"]))
        with alter(table("posts")):
            remove("slug", "string")
        """,
        changes=['table "posts": - column "slug"', 'table "posts": - index "posts_slug_index"'],
    )


def test_remove_a_column_in_up_drops_its_indexes(rt: RoundTrip) -> None:
    # In up()/down() the author states the rollback, so nothing is refused.
    rt.setup(
        """
        with create(table("posts")):
            add("slug", "string")
        create(index("posts", ["slug"]))
        """
    )
    rt.run(
        up="""
        with alter(table("posts")):
            remove("slug", "string")
        """,
        down="""
        with alter(table("posts")):
            add("slug", "string")
        create(index("posts", ["slug"]))
        """,
        changes=['table "posts": - column "slug"', 'table "posts": - index "posts_slug_index"'],
    )


def test_rename_table_and_column(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("posts")):
            add("title", "string")
        create(index("posts", ["title"]))
        """
    )
    rt.run(
        """
        rename(table("posts"), "title", to="headline")
        rename(table("posts"), to=table("articles"))
        """,
        check=lambda db: (
            db.table("articles").column_names == ["id", "headline"]
            and [i.columns for i in db.table("articles").indexes] == [("headline",)]
        ),
        changes=['+ table "articles"', '- table "posts"'],
    )


def test_execute_up_and_down(rt: RoundTrip) -> None:
    rt.run(
        """
        execute("CREATE TABLE raw_things (n integer NOT NULL)", "DROP TABLE raw_things")
        execute("CREATE VIEW big_things AS SELECT n FROM raw_things WHERE n > 10",
                "DROP VIEW big_things")
        """,
        check=lambda db: (
            db.table("raw_things").column("n").nullable is False
            and db.view("big_things").definition != ""
        ),
        changes=['+ table "raw_things"', '+ view "big_things"'],
    )


def test_enum_types(rt: RoundTrip) -> None:
    body = """
        create(enum("mood", ["happy", "sad"], comment="Feel"))
        with create(table("people")):
            add("mood", "mood", default="happy")
        """
    if rt.backend != "postgres":
        rt.refused(body, says="enum", cli=True)
        return
    rt.run(
        body,
        check=lambda db: (
            db.enum("mood").labels == ("happy", "sad")
            and db.enum("mood").comment == "Feel"
            and db.table("people").column("mood").default == "'happy'::mood"
        ),
    )


def test_rename_enum_and_value(rt: RoundTrip) -> None:
    if rt.backend != "postgres":
        pytest.skip(f"{rt.backend}: enum types are PostgreSQL's (refusal: test_enum_types)")
    rt.setup('create(enum("mood", ["happy", "sad"]))')
    rt.run(
        """
        rename_enum_value("mood", "sad", to="blue")
        rename(enum("mood"), to="feeling")
        """,
        check=lambda db: (
            [e.labels for e in db.enums] == [("happy", "blue")]
            and db.enum("feeling").name == "feeling"
        ),
    )


def test_table_comment_in_alter(rt: RoundTrip) -> None:
    rt.setup('create(table("posts"))')
    comment = rt.pick(sqlite=None, default="Blog posts")
    rt.run(
        up="""
        with alter(table("posts", comment="Blog posts")):
            add("views", "integer", comment="Hits")
        """,
        down="""
        with alter(table("posts", comment="")):
            remove("views")
        """,
        check=lambda db: (
            (db.table("posts").comment, db.table("posts").column("views").comment)
            == (comment, comment and "Hits")
        ),
    )


def test_execute_file_up_and_down(rt: RoundTrip) -> None:
    write(rt.project / "migrations" / "sql", "up.sql", "CREATE TABLE filed (n integer);\n")
    write(rt.project / "migrations" / "sql", "down.sql", "DROP TABLE filed;\n")
    rt.run('execute_file("sql/up.sql", "sql/down.sql")', changes=['+ table "filed"'])


def test_add_after_a_column(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("posts")):
            add("title", "text")
            add("body", "text")
        """
    )
    body = """
        with alter(table("posts")):
            add("slug", "text", after="title")
        """
    # Only MySQL/MariaDB can place a column; elsewhere after= is documented as MySQL's.
    order = rt.pick(mysql=["id", "title", "slug", "body"], default=["id", "title", "body", "slug"])
    rt.run(body, check=lambda db: db.table("posts").column_names == order)
