"""Indexes on a real PostgreSQL: every index() option, up and down.

Each case checks the exact SQL the migrator plans, the index as PostgreSQL
reports it (``pg_get_indexdef``), and that rolling back restores the schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pg_dsl_catalog import IndexInfo, PgSchema, RoundTrip

POSTS = """
with create(table("posts")):
    add("title", "text")
    add("slug", "text")
    add("author_id", "bigint")
    add("tags", array("text"))
    add("meta", "map")
    add("body", "text")
    add("during", "tsrange")
    add("inserted_at", "naive_datetime")
    add("deleted_at", "naive_datetime")
"""


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> RoundTrip:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(POSTS)
    return rt


def definition(name: str) -> object:
    return lambda db: db.index(name).definition


CASES = [
    pytest.param(
        'create(index("posts", ["author_id", "inserted_at"]))',
        'CREATE INDEX "posts_author_id_inserted_at_index" ON "posts" ("author_id", "inserted_at")',
        "posts_author_id_inserted_at_index",
        "CREATE INDEX posts_author_id_inserted_at_index ON public.posts "
        "USING btree (author_id, inserted_at)",
        id="default-name-composite",
    ),
    pytest.param(
        'create(unique_index("posts", ["slug"], name="posts_slug"))',
        'CREATE UNIQUE INDEX "posts_slug" ON "posts" ("slug")',
        "posts_slug",
        "CREATE UNIQUE INDEX posts_slug ON public.posts USING btree (slug)",
        id="unique-named",
    ),
    pytest.param(
        'create(index("posts", ["tags"], using="gin"))',
        'CREATE INDEX "posts_tags_index" ON "posts" USING gin ("tags")',
        "posts_tags_index",
        "CREATE INDEX posts_tags_index ON public.posts USING gin (tags)",
        id="gin",
    ),
    pytest.param(
        'create(index("posts", ["meta jsonb_path_ops"], using="gin", name="posts_meta"))',
        'CREATE INDEX "posts_meta" ON "posts" USING gin (meta jsonb_path_ops)',
        "posts_meta",
        "CREATE INDEX posts_meta ON public.posts USING gin (meta jsonb_path_ops)",
        id="gin-jsonb-opclass",
    ),
    pytest.param(
        'create(index("posts", ["to_tsvector(\'english\', body)"], using="gist", '
        'name="posts_search"))',
        'CREATE INDEX "posts_search" ON "posts" USING gist (to_tsvector(\'english\', body))',
        "posts_search",
        "CREATE INDEX posts_search ON public.posts "
        "USING gist (to_tsvector('english'::regconfig, body))",
        id="gist-expression",
    ),
    pytest.param(
        'create(index("posts", ["during"], using="gist"))',
        'CREATE INDEX "posts_during_index" ON "posts" USING gist ("during")',
        "posts_during_index",
        "CREATE INDEX posts_during_index ON public.posts USING gist (during)",
        id="gist-range",
    ),
    pytest.param(
        'create(index("posts", ["inserted_at"], using="brin"))',
        'CREATE INDEX "posts_inserted_at_index" ON "posts" USING brin ("inserted_at")',
        "posts_inserted_at_index",
        "CREATE INDEX posts_inserted_at_index ON public.posts USING brin (inserted_at)",
        id="brin",
    ),
    pytest.param(
        'create(index("posts", ["slug"], using="hash"))',
        'CREATE INDEX "posts_slug_index" ON "posts" USING hash ("slug")',
        "posts_slug_index",
        "CREATE INDEX posts_slug_index ON public.posts USING hash (slug)",
        id="hash",
    ),
    pytest.param(
        'create(unique_index("posts", ["slug"], where="deleted_at IS NULL"))',
        'CREATE UNIQUE INDEX "posts_slug_index" ON "posts" ("slug") WHERE deleted_at IS NULL',
        "posts_slug_index",
        "CREATE UNIQUE INDEX posts_slug_index ON public.posts USING btree (slug) "
        "WHERE (deleted_at IS NULL)",
        id="partial",
    ),
    pytest.param(
        'create(index("posts", ["author_id"], include=["title"]))',
        'CREATE INDEX "posts_author_id_index" ON "posts" ("author_id") INCLUDE ("title")',
        "posts_author_id_index",
        "CREATE INDEX posts_author_id_index ON public.posts USING btree (author_id) "
        "INCLUDE (title)",
        id="include",
    ),
    pytest.param(
        'create(unique_index("posts", ["slug"], nulls_distinct=False))',
        'CREATE UNIQUE INDEX "posts_slug_index" ON "posts" ("slug") NULLS NOT DISTINCT',
        "posts_slug_index",
        "CREATE UNIQUE INDEX posts_slug_index ON public.posts USING btree (slug) "
        "NULLS NOT DISTINCT",
        id="nulls-not-distinct",
    ),
    pytest.param(
        'create(index("posts", ["title"], options="fillfactor = 70"))',
        'CREATE INDEX "posts_title_index" ON "posts" ("title") WITH (fillfactor = 70)',
        "posts_title_index",
        "CREATE INDEX posts_title_index ON public.posts USING btree (title) WITH (fillfactor='70')",
        id="options-ecto-style",
    ),
    pytest.param(
        'create(index("posts", ["title"], options="WITH (fillfactor = 70)"))',
        'CREATE INDEX "posts_title_index" ON "posts" ("title") WITH (fillfactor = 70)',
        "posts_title_index",
        "CREATE INDEX posts_title_index ON public.posts USING btree (title) WITH (fillfactor='70')",
        id="options-with-clause",
    ),
    pytest.param(
        'create(index("posts", [desc_nulls_last("inserted_at"), asc_nulls_first("title"), '
        'desc("author_id"), asc("id")], name="posts_feed"))',
        'CREATE INDEX "posts_feed" ON "posts" ("inserted_at" DESC NULLS LAST, '
        '"title" ASC NULLS FIRST, "author_id" DESC, "id" ASC)',
        "posts_feed",
        "CREATE INDEX posts_feed ON public.posts USING btree "
        "(inserted_at DESC NULLS LAST, title NULLS FIRST, author_id DESC, id)",
        id="directions",
    ),
    pytest.param(
        'create(unique_index("posts", ["lower(title)", desc("(author_id + 1)")]))',
        # The default name is Ecto's: every non-word character becomes "_".
        'CREATE UNIQUE INDEX "posts_lower_title__author_id___1_index" ON "posts" '
        "(lower(title), (author_id + 1) DESC)",
        "posts_lower_title__author_id___1_index",
        "CREATE UNIQUE INDEX posts_lower_title__author_id___1_index ON public.posts "
        "USING btree (lower(title), ((author_id + 1)) DESC)",
        id="expressions",
    ),
]


@pytest.mark.parametrize(("body", "sql", "name", "indexdef"), CASES)
def test_create_index(rt: RoundTrip, body: str, sql: str, name: str, indexdef: str) -> None:
    rt.run(
        body,
        up_sql=[sql],
        down_sql=[f'DROP INDEX "{name}"'],
        check=lambda db: db.index(name).definition == indexdef,
    )


def test_index_comment_and_if_not_exists(rt: RoundTrip) -> None:
    rt.run(
        """
        create_if_not_exists(index("posts", ["title"], comment="For search"))
        create_if_not_exists(index("posts", ["title"]))
        """,
        up_sql=[
            'CREATE INDEX IF NOT EXISTS "posts_title_index" ON "posts" ("title")',
            "COMMENT ON INDEX \"posts_title_index\" IS 'For search'",
            'CREATE INDEX IF NOT EXISTS "posts_title_index" ON "posts" ("title")',
        ],
        down_sql=[
            'DROP INDEX IF EXISTS "posts_title_index"',
            'DROP INDEX IF EXISTS "posts_title_index"',
        ],
        check=lambda db: db.index("posts_title_index").comment == "For search",
    )


def test_concurrent_index_outside_a_transaction(rt: RoundTrip) -> None:
    rt.run(
        'create(index("posts", ["author_id"], concurrently=True))',
        flags="disable_ddl_transaction = True\n",
        up_sql=['CREATE INDEX CONCURRENTLY "posts_author_id_index" ON "posts" ("author_id")'],
        down_sql=['DROP INDEX CONCURRENTLY "posts_author_id_index"'],
        check=lambda db: db.index("posts_author_id_index").valid,
    )


def test_drop_index_is_reversed_by_creating_it_as_it_was(tmp_path: Path, pg_url: str) -> None:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(
        POSTS
        + """create(unique_index("posts", ["slug"], where="deleted_at IS NULL", comment="c"))"""
    )
    rt.run(
        'drop(unique_index("posts", ["slug"], where="deleted_at IS NULL", comment="c"))',
        up_sql=['DROP INDEX "posts_slug_index"'],
        down_sql=[
            'CREATE UNIQUE INDEX "posts_slug_index" ON "posts" ("slug") WHERE deleted_at IS NULL',
            "COMMENT ON INDEX \"posts_slug_index\" IS 'c'",
        ],
        check=lambda db: ("public", "posts_slug_index") not in db.indexes(),
    )


def test_rename_index(tmp_path: Path, pg_url: str) -> None:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(POSTS + 'create(index("posts", ["title"]))')
    rt.run(
        'rename(index("posts", ["title"]), to="posts_by_title")',
        up_sql=['ALTER INDEX "posts_title_index" RENAME TO "posts_by_title"'],
        down_sql=['ALTER INDEX "posts_by_title" RENAME TO "posts_title_index"'],
        check=lambda db: db.index("posts_by_title").table == "posts",
    )


def test_index_in_a_schema_with_a_comment(tmp_path: Path, pg_url: str) -> None:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(
        """
        execute("CREATE SCHEMA blog", "DROP SCHEMA blog")
        with create(table("posts", prefix="blog")):
            add("title", "text")
        """
    )
    rt.run(
        'create(index("posts", ["title"], prefix="blog", comment="For search"))',
        up_sql=[
            'CREATE INDEX "posts_title_index" ON "blog"."posts" ("title")',
            'COMMENT ON INDEX "blog"."posts_title_index" IS \'For search\'',
        ],
        down_sql=['DROP INDEX "blog"."posts_title_index"'],
        check=lambda db: (
            db.index("posts_title_index", "blog")
            == IndexInfo(
                "posts",
                "CREATE INDEX posts_title_index ON blog.posts USING btree (title)",
                True,
                "For search",
            )
        ),
    )


def test_only_on_a_partitioned_table(tmp_path: Path, pg_url: str) -> None:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(
        """
        with create(table("events", primary_key=False, options="PARTITION BY RANGE (at)")):
            add("at", "date", null=False)
        execute(
            "CREATE TABLE events_2026 PARTITION OF events "
            "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
            "DROP TABLE events_2026",
        )
        """
    )

    def check(db: PgSchema) -> None:
        # ONLY: the index is made on the parent alone (invalid until partitions attach one).
        assert db.index("events_at_index").definition == (
            "CREATE INDEX events_at_index ON ONLY public.events USING btree (at)"
        )
        assert not [k for k, i in db.indexes().items() if i.table == "events_2026"]

    rt.run(
        'create(index("events", ["at"], only=True))',
        up_sql=['CREATE INDEX "events_at_index" ON ONLY "events" ("at")'],
        check=check,
    )
