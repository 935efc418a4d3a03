"""Indexes: each index() option, drop and rename, up and down on every database.

An option a database cannot express is refused before anything runs; the
reason is in the refusal message and in docs/databases.md.
"""

from __future__ import annotations

import pytest
from catalog_harness import RoundTrip

from whimbrel.inspect import Catalog, Index

POSTS = """
with create(table("posts")):
    add("title", "string")
    add("slug", "string")
    add("author_id", "bigint")
    add("body", "text")
    add("tags", "map")
    add("inserted_at", "naive_datetime")
    add("deleted_at", "naive_datetime")
"""


@pytest.fixture
def posts(rt: RoundTrip) -> RoundTrip:
    rt.setup(POSTS)
    return rt


def method(rt: RoundTrip) -> str | None:
    """How the catalog names the default index method (SQLite names none)."""
    return rt.pick(postgres="btree", sqlite=None, mysql="BTREE")


def indexes(db: Catalog, table: str = "posts") -> dict[str, Index]:
    return {i.name: i for i in db.table(table).indexes}


def test_names_uniqueness_directions_and_comments(posts: RoundTrip) -> None:
    rt = posts
    comment = rt.pick(sqlite=None, default="For the feed")  # SQLite keeps no comments

    def check(db: Catalog) -> None:
        assert indexes(db) == {
            "posts_author_id_inserted_at_index": Index(
                "posts_author_id_inserted_at_index", ("author_id", "inserted_at"), method=method(rt)
            ),
            "posts_slug": Index("posts_slug", ("slug",), unique=True, method=method(rt)),
            "posts_feed": Index(
                "posts_feed",
                ("inserted_at DESC", "author_id"),
                method=method(rt),
                comment=comment,
            ),
        }

    rt.run(
        """
        create(index("posts", ["author_id", "inserted_at"]))
        create(unique_index("posts", ["slug"], name="posts_slug"))
        create(index("posts", [desc("inserted_at"), asc("author_id")], name="posts_feed",
                     comment="For the feed"))
        """,
        check=check,
    )


def test_create_if_not_exists_twice(posts: RoundTrip) -> None:
    rt = posts
    body = """
        create_if_not_exists(index("posts", ["title"]))
        create_if_not_exists(index("posts", ["title"]))
        """
    if rt.flavor == "mysql":
        rt.refused(body, says="only MariaDB has this IF [NOT] EXISTS form")
        return
    rt.run(body, changes=['table "posts": + index "posts_title_index"'])


def test_partial_index(posts: RoundTrip) -> None:
    rt = posts
    body = 'create(unique_index("posts", ["slug"], where="deleted_at IS NULL"))'
    if rt.backend == "mysql":
        rt.refused(body, says="where= (partial indexes)")
        return
    rt.run(
        body,
        check=lambda db: (
            indexes(db)["posts_slug_index"]
            == Index(
                "posts_slug_index",
                ("slug",),
                unique=True,
                where=rt.pick(postgres="deleted_at IS NULL", sqlite="deleted_at IS NULL"),
                method=method(rt),
            )
        ),
    )


def test_expression_columns(posts: RoundTrip) -> None:
    rt = posts
    body = 'create(unique_index("posts", ["lower(title)"], name="posts_title_ci"))'
    if rt.flavor == "mariadb":
        rt.refused(body, says="MariaDB has no functional index parts")
        return
    rt.run(
        body,
        check=lambda db: (
            indexes(db)["posts_title_ci"].columns
            == (
                rt.pick(
                    postgres="lower(title::text)", sqlite="lower(title)", mysql="(lower(`title`))"
                ),
            )
        ),
    )


def test_nulls_first_and_last(posts: RoundTrip) -> None:
    rt = posts
    body = """
        create(index("posts", [desc_nulls_last("inserted_at"), asc_nulls_first("title")],
                     name="posts_by_date"))
        """
    if rt.backend != "postgres":
        # SQLite takes NULLS FIRST/LAST in ORDER BY only; MySQL has no such clause.
        assert "use asc() or desc()" in rt.refused(body, says="NULLS LAST")
        return
    rt.run(
        body,
        check=lambda db: (
            indexes(db)["posts_by_date"].columns
            == ("inserted_at DESC NULLS LAST", "title NULLS FIRST")
        ),
    )


USING = {
    "postgres": [("tags", "gin"), ("inserted_at", "brin"), ("slug", "hash")],
    "mysql": [("title", "btree")],
}


def test_index_methods(posts: RoundTrip) -> None:
    rt = posts
    if rt.backend == "sqlite":
        rt.refused('create(index("posts", ["slug"], using="hash"))', says="using=")
        return
    if rt.backend == "mysql":
        # InnoDB accepts USING HASH and builds a B-tree: refused rather than silently changed.
        rt.refused('create(index("posts", ["slug"], using="hash"))', says="using='hash'")
        next(rt.project.joinpath("migrations").glob(f"{rt._next_version - 1}_*.py")).unlink()
    if rt.backend == "postgres":
        rt.setup('execute("ALTER TABLE posts ALTER COLUMN tags TYPE jsonb", "SELECT 1")')
    wanted = USING[rt.backend]
    rt.run(
        "\n".join(f'create(index("posts", ["{col}"], using="{using}"))' for col, using in wanted),
        check=lambda db: (
            {i.columns[0]: i.method for i in db.table("posts").indexes}
            == {col: using if rt.backend == "postgres" else using.upper() for col, using in wanted}
        ),
    )


def test_postgres_only_options(posts: RoundTrip) -> None:
    rt = posts
    body = """
        create(index("posts", ["author_id"], include=["title"]))
        create(unique_index("posts", ["slug"], nulls_distinct=False))
        create(index("posts", ["title"], options="fillfactor = 70"))
        """
    if rt.backend != "postgres":
        rt.refused(body, says="include=")
        return
    rt.run(
        body,
        check=lambda db: (
            indexes(db)["posts_author_id_index"].include == ("title",)
            and indexes(db)["posts_slug_index"].nulls_distinct is False
            and "posts_title_index" in indexes(db)
        ),
    )


def test_prefix_length_on_mysql(posts: RoundTrip) -> None:
    rt = posts
    if rt.backend != "mysql":
        pytest.skip(f"{rt.backend}: an index prefix length is a MySQL/MariaDB form")
    rt.run(
        'create(index("posts", ["body(10)"]))',
        check=lambda db: indexes(db)["posts_body_10_index"].columns == ("body(10)",),
    )


def test_concurrently(posts: RoundTrip) -> None:
    rt = posts
    rt.run(
        'create(index("posts", ["author_id"], concurrently=True))',
        flags="disable_ddl_transaction = True\n",
        changes=['table "posts": + index "posts_author_id_index"'],
    )


def test_drop_index_is_reversed_by_creating_it_as_it_was(rt: RoundTrip) -> None:
    where = ', where="deleted_at IS NULL"' if rt.backend != "mysql" else ""
    spec = f'unique_index("posts", ["slug"]{where})'
    before = rt.setup(POSTS + f"create({spec})")
    dropped = indexes(before)["posts_slug_index"]
    rt.run(
        f"drop({spec})",
        changes=['table "posts": - index "posts_slug_index"'],
    )
    assert dropped.unique


def test_rename_index(rt: RoundTrip) -> None:
    rt.setup(POSTS + 'create(index("posts", ["title"]))')
    rt.run(
        'rename(index("posts", ["title"]), to="posts_by_title")',
        changes=[
            'table "posts": + index "posts_by_title"',
            'table "posts": - index "posts_title_index"',
        ],
    )


def test_index_on_a_foreign_key_column(rt: RoundTrip) -> None:
    # On MySQL the foreign key then uses this index, so it must not vanish under it.
    rt.setup(
        """
        create(table("users"))
        with create(table("posts")):
            add("author_id", references("users"))
        """
    )
    rt.run(
        'create(index("posts", ["author_id"]))',
        check=lambda db: "posts_author_id_index" in indexes(db),
    )
