from whimbrel.migration import add, create, fragment, index, table, timestamps


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

    # The relay polls the oldest pending messages; only those are indexed.
    create(
        index(
            "outbox_messages",
            ["relayed_at", "inserted_at"],
            where="relayed_at IS NULL AND failed_at IS NULL",
            name="outbox_messages_pending_idx",
        ),
    )
    # Dead-letter monitoring: the few messages the relay gave up on.
    create(
        index(
            "outbox_messages",
            ["failed_at"],
            where="failed_at IS NOT NULL",
            name="outbox_messages_failed_idx",
        ),
    )
