"""A polymorphic association: comments on posts or on photos, with real foreign keys."""

from whimbrel.migration import *

UUID_KEY = {"name": "id", "type": "binary_id", "default": fragment("gen_random_uuid()")}


def change():
    with create(table("photos", primary_key=UUID_KEY)):
        add("url", "text", null=False)
        timestamps(type="utc_datetime")

    # One nullable foreign key per kind of parent, and a check that exactly one is
    # set (an "exclusive arc"). Unlike commentable_type + commentable_id columns,
    # the database guarantees every comment points at a row that exists.
    with create(table("comments", primary_key=UUID_KEY)):
        add("post_id", references("posts", type="binary_id", on_delete="delete_all"))
        add("photo_id", references("photos", type="binary_id", on_delete="delete_all"))
        add("body", "text", null=False)
        timestamps(type="utc_datetime")
    create(
        constraint(
            "comments", "comments_exactly_one_parent", check="num_nonnulls(post_id, photo_id) = 1"
        )
    )
    create(index("comments", ["post_id"], where="post_id IS NOT NULL"))
    create(index("comments", ["photo_id"], where="photo_id IS NOT NULL"))
