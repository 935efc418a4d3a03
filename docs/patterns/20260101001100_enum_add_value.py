"""Adding a value to an enum type; removing one means rebuilding the type."""

from whimbrel.migration import *


# PostgreSQL cannot drop a value from an enum, so change() would be refused at
# rollback: up() and down() say both ways.
def up():
    # Runs inside the migration's transaction (PostgreSQL 12+), but the new value
    # cannot be used until that transaction commits: use it in a later migration.
    add_enum_value("post_status", "scheduled", before="published")


def down():
    execute("UPDATE posts SET status = 'draft' WHERE status = 'scheduled'")
    rename(enum("post_status"), to="post_status_old")
    create(enum("post_status", ["draft", "published", "archived"]))
    execute("ALTER TABLE posts ALTER COLUMN status DROP DEFAULT")
    execute(
        "ALTER TABLE posts ALTER COLUMN status TYPE post_status USING status::text::post_status"
    )
    execute("ALTER TABLE posts ALTER COLUMN status SET DEFAULT 'draft'")
    drop(enum("post_status_old"))
