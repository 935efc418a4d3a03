"""Validate the NOT VALID constraints of earlier migrations."""

from whimbrel.migration import *


# VALIDATE CONSTRAINT scans the table but lets reads and writes go on.
# Rolling this back does nothing: a constraint cannot be made NOT VALID again,
# and there is no need to.
def change():
    validate_constraint("posts", "posts_editor_id_fkey")
    validate_constraint("users", "users_email_has_at")
