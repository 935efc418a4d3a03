from whimbrel.migration import add, alter, create, enum, table


# Values can be added later (ALTER TYPE ... ADD VALUE) but not removed:
# removing one means creating a new type and converting the column.
# Enum types are PostgreSQL-only: on SQLite use a "text" column, on MySQL/MariaDB
# a column declared as "enum('pending','active','archived')".
def change():
    create(enum("post_status", ["pending", "active", "archived"]))
    with alter(table("posts")):
        add("status", "post_status", null=False, default="pending")
