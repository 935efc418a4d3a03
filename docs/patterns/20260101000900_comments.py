"""Comments on tables and columns: documentation kept in the database."""

from whimbrel.migration import *


def change():
    # A new table: comments are options of table() and add(), undone with the table.
    with create(table("tags", comment="Labels authors put on posts")):
        add("name", "string", null=False, comment="Lower case, unique")
    create(unique_index("tags", ["name"]))

    # An existing table: the old comment is not known to whimbrel, so say how to
    # undo it (alter(table(..., comment=)) in change() is refused at rollback).
    execute(
        "COMMENT ON TABLE posts IS 'Blog posts, one row per article'",
        "COMMENT ON TABLE posts IS NULL",
    )
    execute(
        "COMMENT ON COLUMN posts.slug IS 'URL path segment, unique once published'",
        "COMMENT ON COLUMN posts.slug IS NULL",
    )
