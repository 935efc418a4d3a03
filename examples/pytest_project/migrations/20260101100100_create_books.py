from whimbrel.migration import *


def change():
    with create(table("books")):
        add("title", "string", null=False)
        add("author_id", references("authors", on_delete="delete_all"), null=False)
        timestamps()
    create(index("books", ["title"]))
