from whimbrel.migration import *


def up():
    with alter(table("books")):
        add("pages", "integer", default=0, null=False)


def down():
    with alter(table("books")):
        remove("pages")
