"""A foreign key on a column that already exists, added without a long lock."""

from whimbrel.migration import *


def change():
    # validate=False adds the constraint NOT VALID: new rows are checked at once,
    # existing rows are not scanned now (see the validate migration that follows).
    with alter(table("posts")):
        modify(
            "editor_id",
            references("users", type="binary_id", on_delete="nilify_all", validate=False),
            from_="binary_id",
        )
    create(index("posts", ["editor_id"]))
