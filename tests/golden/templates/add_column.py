from whimbrel.migration import add, alter, table


def change():
    with alter(table("posts")):
        add("summary", "string")
