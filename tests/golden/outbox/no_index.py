from whimbrel.migration import add, create, fragment, table, timestamps


# The transactional outbox: write a row here in the same transaction as the
# change it announces; a relay publishes pending rows and sets relayed_at.
def change():
    with create(table("outbox_messages", primary_key=False)):
        add("id", "binary_id", primary_key=True, default=fragment("gen_random_uuid()"))
        add("topic", "string", null=False)
        add("payload", "map", null=False)
        add("headers", "map", null=False, default={})
        add("attempt", "integer", null=False, default=1)
        # Set when the message has been published to the broker.
        add("relayed_at", "utc_datetime_usec")
        # Set when the relay gives up on the message: it is dead.
        add("failed_at", "utc_datetime_usec")
        add("last_error", "text")
        timestamps(type="utc_datetime_usec")
