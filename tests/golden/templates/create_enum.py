from whimbrel.migration import add, alter, execute, table


# Values can be added later (ALTER TYPE ... ADD VALUE) but not removed:
# removing one means creating a new type and converting the column.
def change():
    execute(
        """CREATE TYPE "post_status" AS ENUM ('pending', 'active', 'archived')""",
        'DROP TYPE "post_status"',
    )
    with alter(table("posts")):
        add("status", "post_status", null=False, default="pending")
