from whimbrel.migration import add, alter, table


def change():
    with alter(table("posts")):
        add("new_column", "string")
        # Other reversible changes name what they undo to:
        #   modify("title", "text", from_="string")
        #   remove("legacy", "string")
