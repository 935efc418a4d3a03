"""An index built without blocking writes: CREATE INDEX CONCURRENTLY."""

from whimbrel.migration import *

# PostgreSQL cannot build an index concurrently inside a transaction.
# Keep the migration lock: whimbrel's PostgreSQL lock is a polled session lock
# that the concurrent build does not wait for, and it stops two deploying
# processes from building the same index at once.
disable_ddl_transaction = True


def change():
    create(index("posts", ["published_at"], concurrently=True))
