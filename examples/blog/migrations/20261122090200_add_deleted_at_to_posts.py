from whimbrel.migration import *


def change():
    with alter(table("posts")):
        add("deleted_at", "utc_datetime")
    create(index("posts", ["deleted_at"], where="deleted_at IS NULL", name="posts_live_index"))
    rename(table("posts"), "body", to="content")
