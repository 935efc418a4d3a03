from whimbrel.migration import *


def change():
    with create(table("posts")):
        add("title", "string", null=False)
        add("body", "text")
        add("author_id", references("users", on_delete="delete_all"), null=False)
        add("published", "boolean", default=False, null=False)
        timestamps()
    create(index("posts", ["author_id"]))
    create(index("posts", [desc("inserted_at")], name="posts_recent_index"))
