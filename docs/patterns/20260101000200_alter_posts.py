"""Changing a table: add, modify and remove columns, reversibly."""

from whimbrel.migration import *


def change():
    with alter(table("posts")):
        add("slug", "string", size=160)
        add("metadata", "map", default={}, null=False)
        add("tags", array("text"), default=[], null=False)
        add("published_at", "utc_datetime")
        add("editor_id", "binary_id")
        # from_= is what the column was, so a rollback can put it back.
        modify("title", "text", null=False, from_=("string", {"null": False}))
        # With its type (and options), a removed column can be added back on rollback.
        remove("legacy_id", "integer")
