"""Check constraints: validated at once, or NOT VALID first for big tables."""

from whimbrel.migration import *


def change():
    create(constraint("posts", "posts_title_not_blank", check="btrim(title) <> ''"))
    create(
        constraint(
            "users",
            "users_email_has_at",
            check="position('@' in email) > 1",
            validate=False,  # only new and updated rows are checked until it is validated
            comment="Cheap sanity check; the application validates addresses",
        )
    )
