from whimbrel.migration import *


def change():
    with create(table("users", comment="People who write posts")):
        add("email", "string", null=False)
        add("name", "string")
        timestamps()
    create(unique_index("users", ["email"]))
