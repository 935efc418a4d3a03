from whimbrel.migration import add, alter, create, index, references, table


# on_delete: "nothing" (the default), "delete_all", "nilify_all" or "restrict".
def change():
    with alter(table("posts")):
        add("author_id", references("authors", on_delete="nothing"))
    create(index("posts", ["author_id"]))
