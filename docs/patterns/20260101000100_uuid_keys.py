"""Tables with UUID keys, and foreign keys between them."""

from whimbrel.migration import *

# gen_random_uuid() is built into PostgreSQL 13+ (before that: the pgcrypto extension).
# Setting migration_primary_key = {type = "binary_id", ...} in the configuration
# would make this the default key of every table instead.
UUID_KEY = {"name": "id", "type": "binary_id", "default": fragment("gen_random_uuid()")}


def change():
    with create(table("users", primary_key=UUID_KEY)):
        add("email", "string", null=False)
        add("name", "string")
        timestamps(type="utc_datetime")
    # Unique regardless of case: an expression index.
    create(unique_index("users", ["lower(email)"], name="users_email_index"))

    with create(table("posts", primary_key=UUID_KEY)):
        # references() follows the key it points at: type="binary_id" makes it a uuid.
        add("author_id", references("users", type="binary_id", on_delete="delete_all"), null=False)
        add("title", "string", null=False)
        add("body", "text")
        add("legacy_id", "integer")
        timestamps(type="utc_datetime")
    # PostgreSQL does not index foreign keys by itself; joins and ON DELETE need one.
    create(index("posts", ["author_id"]))
