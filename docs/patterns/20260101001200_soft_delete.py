"""Soft delete: rows are marked deleted instead of removed."""

from whimbrel.migration import *


def change():
    with alter(table("posts")):
        add("deleted_at", "utc_datetime")

    # Uniqueness applies to live rows only: a deleted post frees its slug.
    drop(unique_index("posts", ["slug"], where="published_at IS NOT NULL"))
    create(
        unique_index(
            "posts",
            ["slug"],
            where="published_at IS NOT NULL AND deleted_at IS NULL",
            name="posts_live_slug_index",
        )
    )
    # Most reads want live rows; a partial index serves them and skips the rest.
    create(
        index(
            "posts",
            [desc("published_at")],
            where="deleted_at IS NULL",
            name="posts_live_published_index",
        )
    )
    execute(
        "CREATE VIEW live_posts AS SELECT * FROM posts WHERE deleted_at IS NULL",
        "DROP VIEW live_posts",
    )
