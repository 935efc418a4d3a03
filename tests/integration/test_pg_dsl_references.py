"""Foreign keys on a real PostgreSQL: every references() option, up and down.

Each case checks the exact SQL the migrator plans, the constraint as
PostgreSQL reports it (``pg_get_constraintdef``, validity), and that rolling
back restores the schema exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import write_change
from test_pg_dsl_catalog import ConstraintInfo, PgSchema, RoundTrip, planned_sql


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> RoundTrip:
    return RoundTrip(tmp_path, pg_url, {})


USERS = """
with create(table("users")):
    add("uuid", "uuid", null=False)
    add("org_id", "bigint", null=False, default=0)
create(unique_index("users", ["uuid"]))
create(unique_index("users", ["id", "org_id"]))
"""


def fk(db: PgSchema, name: str, table: str = "posts") -> str:
    return db.constraint(table, name).definition


def test_every_on_delete_and_on_update_action(rt: RoundTrip) -> None:
    rt.setup(USERS)
    expected = {
        "a_id": "FOREIGN KEY (a_id) REFERENCES users(id)",
        "b_id": "FOREIGN KEY (b_id) REFERENCES users(id) ON DELETE CASCADE",
        "c_id": "FOREIGN KEY (c_id) REFERENCES users(id) ON DELETE SET NULL",
        "d_id": "FOREIGN KEY (d_id) REFERENCES users(id) ON DELETE SET NULL (d_id)",
        "e_id": "FOREIGN KEY (e_id) REFERENCES users(id) ON DELETE SET DEFAULT",
        "f_id": "FOREIGN KEY (f_id) REFERENCES users(id) ON DELETE RESTRICT",
        "g_id": "FOREIGN KEY (g_id) REFERENCES users(id) ON UPDATE CASCADE",
        "h_id": "FOREIGN KEY (h_id) REFERENCES users(id) ON UPDATE SET NULL",
        "i_id": "FOREIGN KEY (i_id) REFERENCES users(id) ON UPDATE RESTRICT",
        "j_id": "FOREIGN KEY (j_id) REFERENCES users(id) MATCH FULL",
    }

    def check(db: PgSchema) -> None:
        assert {col: fk(db, f"posts_{col}_fkey") for col in expected} == expected

    rt.run(
        """
        with create(table("posts")):
            add("a_id", references("users", on_delete="nothing"))
            add("b_id", references("users", on_delete="delete_all"))
            add("c_id", references("users", on_delete="nilify_all"))
            add("d_id", references("users", on_delete=("nilify", ["d_id"])))
            add("e_id", references("users", on_delete="default_all"))
            add("f_id", references("users", on_delete="restrict"))
            add("g_id", references("users", on_update="update_all"))
            add("h_id", references("users", on_update="nilify_all"))
            add("i_id", references("users", on_update="restrict"))
            add("j_id", references("users", match="full"))
        """,
        up_sql=[
            'CREATE TABLE "posts" ("id" bigserial, '
            '"a_id" bigint CONSTRAINT "posts_a_id_fkey" REFERENCES "users"("id"), '
            '"b_id" bigint CONSTRAINT "posts_b_id_fkey" REFERENCES "users"("id") '
            "ON DELETE CASCADE, "
            '"c_id" bigint CONSTRAINT "posts_c_id_fkey" REFERENCES "users"("id") '
            "ON DELETE SET NULL, "
            '"d_id" bigint CONSTRAINT "posts_d_id_fkey" REFERENCES "users"("id") '
            'ON DELETE SET NULL ("d_id"), '
            '"e_id" bigint CONSTRAINT "posts_e_id_fkey" REFERENCES "users"("id") '
            "ON DELETE SET DEFAULT, "
            '"f_id" bigint CONSTRAINT "posts_f_id_fkey" REFERENCES "users"("id") '
            "ON DELETE RESTRICT, "
            '"g_id" bigint CONSTRAINT "posts_g_id_fkey" REFERENCES "users"("id") '
            "ON UPDATE CASCADE, "
            '"h_id" bigint CONSTRAINT "posts_h_id_fkey" REFERENCES "users"("id") '
            "ON UPDATE SET NULL, "
            '"i_id" bigint CONSTRAINT "posts_i_id_fkey" REFERENCES "users"("id") '
            "ON UPDATE RESTRICT, "
            '"j_id" bigint CONSTRAINT "posts_j_id_fkey" REFERENCES "users"("id") MATCH FULL, '
            'PRIMARY KEY ("id"))'
        ],
        down_sql=['DROP TABLE "posts"'],
        check=check,
    )


def test_column_type_and_name_options(rt: RoundTrip) -> None:
    rt.setup(USERS)

    def check(db: PgSchema) -> None:
        assert db.columns("posts")["author_uuid"].type == "uuid"
        assert fk(db, "written_by") == "FOREIGN KEY (author_uuid) REFERENCES users(uuid)"

    rt.run(
        """
        with create(table("posts")):
            add("author_uuid", references("users", column="uuid", type="uuid", name="written_by"))
        """,
        up_sql=[
            'CREATE TABLE "posts" ("id" bigserial, "author_uuid" uuid CONSTRAINT "written_by" '
            'REFERENCES "users"("uuid"), PRIMARY KEY ("id"))'
        ],
        check=check,
    )


def test_composite_reference_with(rt: RoundTrip) -> None:
    rt.setup(USERS)
    rt.run(
        """
        with create(table("posts")):
            add("org_id", "bigint")
            add("author_id", references("users", with_={"org_id": "org_id"}, match="full"))
        """,
        up_sql=[
            'CREATE TABLE "posts" ("id" bigserial, "org_id" bigint, "author_id" bigint, '
            'PRIMARY KEY ("id"), CONSTRAINT "posts_author_id_fkey" FOREIGN KEY '
            '("author_id", "org_id") REFERENCES "users"("id", "org_id") MATCH FULL)'
        ],
        check=lambda db: (
            fk(db, "posts_author_id_fkey")
            == "FOREIGN KEY (author_id, org_id) REFERENCES users(id, org_id) MATCH FULL"
        ),
    )


def test_reference_to_another_schema(rt: RoundTrip) -> None:
    rt.setup(
        """
        execute("CREATE SCHEMA accounts", "DROP SCHEMA accounts")
        create(table("users", prefix="accounts"))
        """
    )
    rt.run(
        """
        with create(table("posts")):
            add("author_id", references("users", prefix="accounts"))
        """,
        up_sql=[
            'CREATE TABLE "posts" ("id" bigserial, "author_id" bigint CONSTRAINT '
            '"posts_author_id_fkey" REFERENCES "accounts"."users"("id"), PRIMARY KEY ("id"))'
        ],
        check=lambda db: (
            fk(db, "posts_author_id_fkey")
            == "FOREIGN KEY (author_id) REFERENCES accounts.users(id)"
        ),
    )


def test_a_foreign_key_added_not_valid_then_validated(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", "bigint")
execute("INSERT INTO posts (author_id) VALUES (42)", "DELETE FROM posts")
"""
    )

    # The row pointing at no user does not stop a NOT VALID foreign key.
    rt.run(
        """
        with alter(table("posts")):
            modify("author_id", references("users", validate=False), from_="bigint")
        """,
        up_sql=[
            'ALTER TABLE "posts" ALTER COLUMN "author_id" TYPE bigint, ADD CONSTRAINT '
            '"posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") NOT VALID'
        ],
        down_sql=[
            'ALTER TABLE "posts" DROP CONSTRAINT "posts_author_id_fkey", '
            'ALTER COLUMN "author_id" TYPE bigint'
        ],
        check=lambda db: (
            db.constraint("posts", "posts_author_id_fkey")
            == ConstraintInfo("f", "FOREIGN KEY (author_id) REFERENCES users(id) NOT VALID", False)
        ),
    )


def test_validate_constraint_validates_a_foreign_key(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", "bigint")
with alter(table("posts")):
    modify("author_id", references("users", validate=False), from_="bigint")
"""
    )
    write_change(rt.project, 2, "validate", 'validate_constraint("posts", "posts_author_id_fkey")')
    with rt.migrator() as m:
        assert planned_sql(m, "up") == [
            'ALTER TABLE "posts" VALIDATE CONSTRAINT "posts_author_id_fkey"'
        ]
        assert m.run("up", step=1) == [2]
        assert rt.schema.constraint("posts", "posts_author_id_fkey").validated
        # Rolling back runs nothing: the constraint stays validated, which is harmless.
        assert planned_sql(m, "down") == []
        assert m.run("down", step=1) == [2]
        assert rt.schema.constraint("posts", "posts_author_id_fkey").validated
        assert rt.schema.rows("SELECT version FROM schema_migrations") == [(1,)]


def test_modify_from_a_reference_drops_and_adds_the_foreign_key(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", references("users"))
"""
    )
    rt.run(
        """
        with alter(table("posts")):
            modify("author_id", references("users", on_delete="delete_all"), null=False,
                   from_=(references("users"), {"null": True}))
        """,
        up_sql=[
            'ALTER TABLE "posts" DROP CONSTRAINT "posts_author_id_fkey", '
            'ALTER COLUMN "author_id" TYPE bigint, ALTER COLUMN "author_id" SET NOT NULL, '
            'ADD CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") '
            'REFERENCES "users"("id") ON DELETE CASCADE'
        ],
        down_sql=[
            'ALTER TABLE "posts" DROP CONSTRAINT "posts_author_id_fkey", '
            'ALTER COLUMN "author_id" TYPE bigint, ALTER COLUMN "author_id" DROP NOT NULL, '
            'ADD CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") '
            'REFERENCES "users"("id")'
        ],
        check=lambda db: (
            fk(db, "posts_author_id_fkey")
            == "FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE CASCADE"
            and db.columns("posts")["author_id"].not_null
        ),
    )


def test_add_and_remove_reference_columns(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("editor_id", references("users", on_delete="nilify_all"))
"""
    )

    def check(db: PgSchema) -> None:
        assert set(db.columns("posts")) == {"id", "author_id"}
        assert fk(db, "posts_author_id_fkey") == (
            "FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE CASCADE"
        )
        assert ("public", "posts", "posts_editor_id_fkey") not in db.constraints()

    rt.run(
        """
        with alter(table("posts")):
            add("author_id", references("users", on_delete="delete_all"))
            remove("editor_id", references("users", on_delete="nilify_all"))
        """,
        up_sql=[
            'ALTER TABLE "posts" ADD COLUMN "author_id" bigint, ADD CONSTRAINT '
            '"posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id") '
            'ON DELETE CASCADE, DROP CONSTRAINT "posts_editor_id_fkey", DROP COLUMN "editor_id"'
        ],
        down_sql=[
            'ALTER TABLE "posts" ADD COLUMN "editor_id" bigint, ADD CONSTRAINT '
            '"posts_editor_id_fkey" FOREIGN KEY ("editor_id") REFERENCES "users"("id") '
            'ON DELETE SET NULL, DROP CONSTRAINT "posts_author_id_fkey", DROP COLUMN "author_id"'
        ],
        check=check,
    )


def test_a_foreign_key_on_an_existing_column(rt: RoundTrip) -> None:
    rt.setup(
        USERS
        + """
with create(table("posts")):
    add("author_id", "bigint")
"""
    )
    rt.run(
        """
        with alter(table("posts")):
            modify("author_id", references("users", on_delete="restrict"), from_="bigint")
        """,
        check=lambda db: (
            fk(db, "posts_author_id_fkey")
            == "FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE RESTRICT"
        ),
    )
