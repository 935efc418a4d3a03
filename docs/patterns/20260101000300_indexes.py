"""Composite, partial, GIN and GiST indexes."""

from whimbrel.migration import *


def change():
    # Composite, in the order the query uses it: WHERE author_id = $1 ORDER BY inserted_at DESC.
    create(index("posts", ["author_id", desc("inserted_at")], name="posts_author_feed_index"))

    # Partial: slugs must be unique among published posts only, and the index stays small.
    create(unique_index("posts", ["slug"], where="published_at IS NOT NULL"))

    # GIN on jsonb, for containment: WHERE metadata @> '{"featured": true}'.
    # jsonb_path_ops makes a smaller, faster index that supports only @>.
    create(index("posts", ["metadata jsonb_path_ops"], using="gin", name="posts_metadata_index"))

    # GIN on an array: WHERE tags @> ARRAY['python'].
    create(index("posts", ["tags"], using="gin"))

    # GiST full-text search over an expression; queries must use the same expression:
    # WHERE to_tsvector('english', title || ' ' || coalesce(body, '')) @@ plainto_tsquery(...)
    create(
        index(
            "posts",
            ["to_tsvector('english', title || ' ' || coalesce(body, ''))"],
            using="gist",
            name="posts_search_index",
        )
    )
