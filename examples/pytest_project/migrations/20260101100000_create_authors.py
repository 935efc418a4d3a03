from whimbrel.migration import *


def change():
    with create(table("authors")):
        add("name", "string", null=False)
        timestamps()
    create(unique_index("authors", ["name"]))
