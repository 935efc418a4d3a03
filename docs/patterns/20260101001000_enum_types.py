"""A PostgreSQL enum type and a column of it."""

from whimbrel.migration import *


def change():
    create(enum("post_status", ["draft", "published", "archived"]))
    with alter(table("posts")):
        # A column of the type names it like any other type.
        add("status", "post_status", default="draft", null=False)
    create(index("posts", ["status"]))
