"""Foreign keys: every references() option, alter add/modify/remove of references, rollback.

MySQL/MariaDB report the actions of a foreign key without one as RESTRICT
(MariaDB) or NO ACTION (MySQL 8; read as None); InnoDB treats both alike.
On MySQL/MariaDB every foreign key also gets an index of its name when no
index covers its columns, so those appear in the catalog too.
"""

from __future__ import annotations

import pytest
from catalog_harness import RoundTrip, column_type

from whimbrel.inspect import Catalog, ForeignKey

USERS = """
with create(table("users")):
    add("uuid", "uuid", null=False)
    add("org_id", "bigint", null=False, default=0)
create(unique_index("users", ["uuid"]))
create(unique_index("users", ["id", "org_id"]))
"""


def fk(rt: RoundTrip, name: str, columns: tuple[str, ...], **options: object) -> ForeignKey:
    """The foreign key the case asked for, with the database's word for "no action"."""
    implicit = rt.pick(mariadb="RESTRICT", default=None)
    values: dict[str, object] = {"on_delete": implicit, "on_update": implicit}
    values.update(options)
    return ForeignKey(
        name,
        columns,
        values.pop("ref_table", "users"),  # type: ignore[arg-type]
        values.pop("ref_columns", ("id",)),  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )


def test_every_portable_action_and_the_column_type_name_and_with_options(rt: RoundTrip) -> None:
    rt.setup(USERS)

    def check(db: Catalog) -> None:
        posts = db.table("posts")
        assert posts.foreign_keys == (
            fk(rt, "posts_a_id_fkey", ("a_id",)),
            fk(rt, "posts_b_id_fkey", ("b_id",), on_delete="CASCADE"),
            fk(rt, "posts_c_id_fkey", ("c_id",), on_delete="SET NULL"),
            fk(rt, "posts_f_id_fkey", ("f_id",), on_delete="RESTRICT"),
            fk(rt, "posts_g_id_fkey", ("g_id",), on_update="CASCADE"),
            fk(rt, "posts_h_id_fkey", ("h_id",), on_update="SET NULL"),
            fk(rt, "posts_i_id_fkey", ("i_id",), on_update="RESTRICT"),
            fk(rt, "posts_owner_id_fkey", ("owner_id", "org_id"), ref_columns=("id", "org_id")),
            fk(rt, "written_by", ("author_uuid",), ref_columns=("uuid",)),
        )
        # A reference takes the type of the key it points at (a serial key: an integer).
        assert column_type(db, "posts", "a_id") == rt.pick(
            postgres="bigint", sqlite="INTEGER", mysql="bigint unsigned"
        )
        assert column_type(db, "posts", "author_uuid") == column_type(db, "users", "uuid")
        implicit_indexes = {fk.name for fk in posts.foreign_keys}
        assert {i.name for i in posts.indexes} == rt.pick(mysql=implicit_indexes, default=set())

    rt.run(
        """
        with create(table("posts")):
            add("a_id", references("users", on_delete="nothing"))
            add("b_id", references("users", on_delete="delete_all"))
            add("c_id", references("users", on_delete="nilify_all"))
            add("f_id", references("users", on_delete="restrict"))
            add("g_id", references("users", on_update="update_all"))
            add("h_id", references("users", on_update="nilify_all"))
            add("i_id", references("users", on_update="restrict"))
            add("author_uuid", references("users", column="uuid", type="uuid", name="written_by"))
            add("org_id", "bigint")
            add("owner_id", references("users", with_={"org_id": "org_id"}))
        """,
        check=check,
    )


NOT_ON_MYSQL = [
    pytest.param('on_delete="default_all"', {"on_delete": "SET DEFAULT"}, id="default_all"),
    pytest.param('match="full"', {"match": "FULL"}, id="match-full"),
    pytest.param(
        'on_delete=("nilify", ["d_id"])', {"on_delete": "SET NULL (d_id)"}, id="nilify-columns"
    ),
]


@pytest.mark.parametrize(("option", "expected"), NOT_ON_MYSQL)
def test_options_innodb_lacks(rt: RoundTrip, option: str, expected: dict[str, str]) -> None:
    rt.setup(USERS)
    body = f"""
        with create(table("posts")):
            add("d_id", references("users", {option}))
        """
    if rt.backend == "mysql":
        rt.refused(body, says=option.split("=")[0] + "=")
        return
    # SQLite parses MATCH and ignores it, and has no SET NULL column list: refused there too.
    if rt.backend == "sqlite" and ("match" in option or "nilify" in option):
        message = rt.refused(body, says=option.split("=")[0] + "=")
        assert ("nilify_all" in message) == ("nilify" in option), message
        return
    rt.run(
        body,
        check=lambda db: (
            db.table("posts").foreign_keys == (fk(rt, "posts_d_id_fkey", ("d_id",), **expected),)
        ),
    )


def test_alter_add_and_remove_reference_columns(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("editor_id", references("users", on_delete="nilify_all"))
"""
    )

    def check(db: Catalog) -> None:
        posts = db.table("posts")
        assert posts.column_names == ["id", "author_id"]
        assert posts.foreign_keys == (
            fk(rt, "posts_author_id_fkey", ("author_id",), on_delete="CASCADE"),
        )

    rt.run(
        """
        with alter(table("posts")):
            add("author_id", references("users", on_delete="delete_all"))
            remove("editor_id", references("users", on_delete="nilify_all"))
        """,
        check=check,
    )


def test_modify_a_column_into_a_reference(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", "bigint")
"""
    )
    key_type = "bigint" if rt.backend != "mysql" else "bigint unsigned"
    rt.run(
        f"""
        with alter(table("posts")):
            modify("author_id", references("users", on_delete="restrict", type="{key_type}"),
                   from_="bigint")
        """,
        check=lambda db: (
            db.table("posts").foreign_keys
            == (fk(rt, "posts_author_id_fkey", ("author_id",), on_delete="RESTRICT"),)
        ),
    )


def test_modify_a_reference_changes_its_action_and_nullability(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", references("users"))
"""
    )

    def check(db: Catalog) -> None:
        posts = db.table("posts")
        assert posts.foreign_keys == (
            fk(rt, "posts_author_id_fkey", ("author_id",), on_delete="CASCADE"),
        )
        assert not posts.column("author_id").nullable

    rt.run(
        """
        with alter(table("posts")):
            modify("author_id", references("users", on_delete="delete_all"), null=False,
                   from_=(references("users"), {"null": True}))
        """,
        check=check,
    )


def test_a_foreign_key_added_not_valid(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", "bigint")
"""
    )
    body = """
        with alter(table("posts")):
            modify("author_id", references("users", validate=False), from_="bigint")
        """
    if rt.backend != "postgres":
        rt.refused(body, says="validate=False")
        return
    rt.run(
        body,
        check=lambda db: (
            db.table("posts").foreign_keys
            == (fk(rt, "posts_author_id_fkey", ("author_id",), validated=False),)
        ),
    )
