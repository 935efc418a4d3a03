from whimbrel.migration import execute


# Keeps "posts".updated_at current on every UPDATE, whoever writes the row.
# The column holds UTC without a time zone (utc_datetime), so now() is converted
# to UTC instead of being stored in the session's time zone.
def change():
    execute(
        """
        CREATE FUNCTION "posts_set_updated_at"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now() AT TIME ZONE 'utc';
            RETURN NEW;
        END;
        $$
        """,
        'DROP FUNCTION "posts_set_updated_at"()',
    )
    execute(
        """
        CREATE TRIGGER "posts_set_updated_at" BEFORE UPDATE ON "posts"
        FOR EACH ROW EXECUTE FUNCTION "posts_set_updated_at"()
        """,
        'DROP TRIGGER "posts_set_updated_at" ON "posts"',
    )
