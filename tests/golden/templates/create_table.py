from whimbrel.migration import add, create, table, timestamps


def change():
    with create(table("posts")):
        add("name", "string", null=False)
        timestamps()
