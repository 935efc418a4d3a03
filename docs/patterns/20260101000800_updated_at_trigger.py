"""Keep updated_at current on every UPDATE, whoever writes the row."""

from whimbrel.migration import *


def change():
    # execute(up, down): each statement with the one that undoes it.
    # Rolled back in reverse order, so the trigger goes before its function.
    execute(
        """
        CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- utc_datetime columns hold UTC without a time zone
            NEW.updated_at := now() AT TIME ZONE 'utc';
            RETURN NEW;
        END;
        $$
        """,
        "DROP FUNCTION set_updated_at()",
    )
    for name in ("users", "posts"):
        execute(
            f"CREATE TRIGGER {name}_set_updated_at BEFORE UPDATE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
            f"DROP TRIGGER {name}_set_updated_at ON {name}",
        )
